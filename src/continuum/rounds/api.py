"""JSON API of the rounds domain (/api/v1). Roles declared on routes and checked in services."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse

from continuum.core import concurrency, free_text, run_service
from continuum.core.roles import Actor
from continuum.core.roles import Permission as P
from continuum.db import utcnow
from continuum.rounds import actions, board, circuit_check, round_record
from continuum.rounds.models import CircuitCheck, RoundRecord
from continuum.rounds.schemas import (
    ActionIn,
    ActionOut,
    AmendmentIn,
    BoardOut,
    CircuitCheckIn,
    CircuitCheckOut,
    CircuitChecksOut,
    CompleteIn,
    RoundAmendmentOut,
    RoundIn,
    RoundOut,
    RoundsOut,
)
from continuum.web.deps import CurrentActor, DbSession, get_actor, require

router = APIRouter(prefix="/api/v1", dependencies=[Depends(get_actor)], tags=["rounds"])


def round_json(row: RoundRecord, people: dict[int, dict[str, Any]]) -> dict[str, Any]:
    return {
        "id": row.id,
        "run_id": row.run_id,
        "round_date": str(row.round_date),
        "held_at": row.held_at.isoformat(),
        "status": row.status,
        "version": row.version,
        "signed_at": row.signed_at.isoformat() if row.signed_at else None,
        "attendance": list(people.values()),
        "perfusion_present": "perfusion" in round_record.disciplines_present(people),
        "problems": row.problems,
        "alerts_reviewed": row.alerts_reviewed,
        "therapy_review": row.therapy_review,
        "goals": row.goals,
    }


def check_json(row: CircuitCheck) -> dict[str, Any]:
    return {
        "id": row.id,
        "run_id": row.run_id,
        "checked_at": row.checked_at.isoformat(),
        "shift": row.shift,
        "inspection": row.inspection,
        "readings": row.readings,
        "o2_transfer": row.o2_transfer,
        "heater": row.heater,
        "transfusions": row.transfusions,
        "findings": row.findings,
    }


# The board is encoded directly (no response validation: 40 rows of trends); its shape is
# declared for the document, and tests check real boards against it.
@router.get(
    "/rounds/board",
    response_class=JSONResponse,
    responses={200: {"model": BoardOut, "description": "The rounds board"}},
    dependencies=[require(P.VIEW_IDENTIFIERS)],
)
def get_board(
    request: Request, db: DbSession, actor: CurrentActor, day: date | None = None
) -> JSONResponse:
    """Every active run, most urgent first (encoded directly: 40 rows of trends), and every
    run's open follow-up items after decannulation, oldest due first."""
    when = board.board_when(day, request.app.state.settings.zone, utcnow())
    rows = board.board(db, actor, when)
    follow_ups = board.follow_ups(db, actor, when)
    return JSONResponse(
        jsonable_encoder(
            {
                "day": str(when.day),
                "as_of": when.as_of.isoformat(),
                "runs": [board.row_json(r) for r in rows],
                "follow_ups": [board.follow_up_json(f) for f in follow_ups],
            }
        )
    )


@router.get(
    "/runs/{run_id}/rounds",
    response_model=RoundsOut,
    response_model_exclude_unset=True,
    dependencies=[require(P.VIEW_CLINICAL)],
)
def list_rounds(run_id: int, db: DbSession, actor: CurrentActor) -> dict[str, Any]:
    run = run_service.get_run(db, actor, run_id)
    rounds = round_record.rounds_for_run(db, run.id)
    people = round_record.attendance(db, [r.id for r in rounds])
    return {
        "rounds": [_round_read(actor, round_json(r, people.get(r.id, {}))) for r in rounds],
        "actions": [_action_read(actor, board.action_json(a))
                    for a in actions.run_actions(db, run.id)],
    }  # fmt: skip


def _round_read(actor: Actor, out: dict[str, Any]) -> dict[str, Any]:
    """A round as a reader may see it: its typed words (problems, therapy review, the
    notes on reviewed alerts) null for a role without identifiers (core.free_text)."""
    free_text.hide_fields(actor, out, ("problems",))
    if not free_text.readable(actor):
        out["therapy_review"] = {k: free_text.for_api(actor, v)
                                 for k, v in (out["therapy_review"] or {}).items()}  # fmt: skip
        out["alerts_reviewed"] = [
            free_text.hide_fields(actor, dict(a), ("note",)) for a in out["alerts_reviewed"] or []
        ]
    return out


def _action_read(actor: Actor, out: dict[str, Any]) -> dict[str, Any]:
    """An action's text is typed: "hidden for your role" without identifiers."""
    out["text"] = free_text.for_page(actor, out["text"])
    return out


@router.post(
    "/runs/{run_id}/rounds",
    status_code=201,
    response_model=RoundOut,
    response_model_exclude_unset=True,
    dependencies=[require(P.RECORD_ROUND)],
)
def post_round(
    request: Request,
    run_id: int,
    data: RoundIn,
    db: DbSession,
    actor: CurrentActor,
    if_match: Annotated[str | None, Header(alias="If-Match")] = None,
) -> dict[str, Any]:
    data = concurrency.with_version(data, if_match)
    run = run_service.get_run(db, actor, run_id)
    zone = request.app.state.settings.zone
    today = utcnow().astimezone(zone).date()
    row = round_record.record_round(
        db, actor, run, data, today, run.started_at.astimezone(zone).date()
    )
    return round_json(row, round_record.attendance(db, [row.id]).get(row.id, {}))


@router.post(
    "/rounds/{round_id}/sign",
    response_model=RoundOut,
    response_model_exclude_unset=True,
    dependencies=[require(P.RECORD_ROUND)],
)
def post_sign(round_id: int, db: DbSession, actor: CurrentActor) -> dict[str, Any]:
    row = round_record.sign_round(db, actor, round_id)
    return round_json(row, round_record.attendance(db, [row.id]).get(row.id, {}))


@router.post(
    "/rounds/{round_id}/amendments",
    status_code=201,
    response_model=RoundAmendmentOut,
    dependencies=[require(P.RECORD_ROUND)],
)
def post_amendment(
    round_id: int, data: AmendmentIn, db: DbSession, actor: CurrentActor
) -> dict[str, Any]:
    row = round_record.amend_round(db, actor, round_id, data)
    return {"id": row.id, "round_id": round_id, "section": row.section, "text": row.text}


@router.post(
    "/runs/{run_id}/actions",
    status_code=201,
    response_model=ActionOut,
    dependencies=[require(P.RECORD_ROUND)],
)
def post_action(run_id: int, data: ActionIn, db: DbSession, actor: CurrentActor) -> dict[str, Any]:
    run = run_service.get_run(db, actor, run_id)
    return board.action_json(actions.add_action(db, actor, run, data))


@router.post(
    "/actions/{action_id}/complete",
    response_model=ActionOut,
    dependencies=[require(P.RECORD_ROUND)],
)
def post_complete(
    action_id: int, data: CompleteIn, db: DbSession, actor: CurrentActor
) -> dict[str, Any]:
    return board.action_json(actions.complete_action(db, actor, action_id, data))


@router.get(
    "/runs/{run_id}/circuit-checks",
    response_model=CircuitChecksOut,
    response_model_exclude_unset=True,
    dependencies=[require(P.VIEW_CLINICAL)],
)
def list_checks(run_id: int, db: DbSession, actor: CurrentActor) -> dict[str, Any]:
    run = run_service.get_run(db, actor, run_id)
    return {
        "prefill": circuit_check.prefill(db, run.id),
        "checks": [
            free_text.hide_fields(actor, check_json(c), ("findings",))
            for c in circuit_check.checks_for_run(db, run.id)
        ],
    }


@router.post(
    "/runs/{run_id}/circuit-checks",
    status_code=201,
    response_model=CircuitCheckOut,
    response_model_exclude_unset=True,
    dependencies=[require(P.CIRCUIT_CHECK)],
)
def post_check(
    run_id: int, data: CircuitCheckIn, db: DbSession, actor: CurrentActor
) -> dict[str, Any]:
    run = run_service.get_run(db, actor, run_id)
    return check_json(circuit_check.record_check(db, actor, run, data))
