"""Rounds pages: the board, a run's rounds (record, sign, amend, actions), the circuit check
and the printable sheet. The JSON API is in api.py."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from continuum.core import accounts, concurrency, patient_service, run_service, run_view, targets
from continuum.core.roles import Actor
from continuum.core.roles import Permission as P
from continuum.core.run_record import Run
from continuum.core.run_view import RunLink, add_run_link
from continuum.core.vocab import DISCIPLINES
from continuum.db import utcnow
from continuum.errors import Conflict, ValidationFailed
from continuum.rounds import actions, board, circuit_check, forms, round_record
from continuum.rounds import settings as rounds_settings
from continuum.rounds.api import router as api_router
from continuum.rounds.models import RoundRecord
from continuum.rounds.schemas import (
    FLUID_BALANCE,
    GOAL_CODES,
    GRADES,
    INSPECTION_SITES,
    OPTIONAL_SITES,
    PRODUCTS,
    SITE_LABELS,
    THERAPY_SECTIONS,
    ActionIn,
    AmendmentIn,
    CircuitCheckIn,
    CompleteIn,
    RoundIn,
)
from continuum.web.deps import CurrentActor, DbSession, form_of, get_actor, require
from continuum.web.form_post import attempt, posted_values
from continuum.web.pages import (
    NavLink,
    add_nav_link,
    add_template_dir,
    parse_form,
    redirect,
    render,
)

add_template_dir(Path(__file__).parent / "templates")
add_nav_link(NavLink("Rounds board", "/rounds", P.VIEW_IDENTIFIERS, 15))
add_run_link(RunLink("Rounds", "/runs/{run_id}/rounds", P.VIEW_CLINICAL, 20))
add_run_link(RunLink("Circuit check", "/runs/{run_id}/circuit-check", P.CIRCUIT_CHECK, 21))

pages = APIRouter(include_in_schema=False, dependencies=[Depends(get_actor)])
routers = [pages, api_router]


def _zone(request: Request) -> Any:
    return request.app.state.settings.zone


def _board(request: Request, db: DbSession, actor: Actor, day: date | None) -> dict[str, Any]:
    when = board.board_when(day, _zone(request), utcnow())
    return {"rows": board.board(db, actor, when), "when": when, "codes": board.SPARK_CODES}


@pages.get("/rounds", dependencies=[require(P.VIEW_IDENTIFIERS)])
def board_page(
    request: Request, db: DbSession, actor: CurrentActor, day: date | None = None
) -> Response:
    data = _board(request, db, actor, day)
    follow_ups = board.follow_ups(db, actor, data["when"])
    return render(request, "rounds_board.html", actor, follow_ups=follow_ups, **data)


@pages.get("/rounds/rows", dependencies=[require(P.VIEW_IDENTIFIERS)])
def board_rows(
    request: Request, db: DbSession, actor: CurrentActor, day: date | None = None
) -> Response:
    """The board's rows alone, fetched every 60 s and swapped in place."""
    return render(request, "rounds_rows.html", actor, **_board(request, db, actor, day))


@pages.get("/rounds/sheet", dependencies=[require(P.VIEW_IDENTIFIERS)])
def sheet_page(
    request: Request,
    db: DbSession,
    actor: CurrentActor,
    day: date | None = None,
    run_id: int | None = None,
) -> Response:
    """Printable rounds sheet: one page per run, then (for the whole board) the follow-ups
    still open after decannulation."""
    when = board.board_when(day, _zone(request), utcnow())
    rows = board.board(db, actor, when, [run_id] if run_id else None)
    follow_ups = board.follow_ups(db, actor, when) if run_id is None else []
    rounds = {r.run.id: round_record.find_round(db, r.run.id, when.day) for r in rows}
    ids = [x.id for x in rounds.values() if x]
    return render(
        request,
        "rounds_sheet.html",
        actor,
        rows=rows,
        when=when,
        rounds=rounds,
        people=round_record.attendance(db, ids),
        goal_codes=(*GOAL_CODES, FLUID_BALANCE),
        therapy_sections=THERAPY_SECTIONS,
        follow_ups=follow_ups,
    )


def _is_stale(error: object, draft: RoundRecord | None) -> bool:
    return draft is not None and isinstance(
        error, concurrency.StaleRecord | concurrency.AlreadyDone
    )


def _stale_rows(draft: RoundRecord | None, values: dict[str, Any]) -> list[tuple[str, str, str]]:
    """The clinician's entries beside the draft a colleague saved meanwhile."""
    if draft is None:
        return []
    keys = ("problems", "therapy.", "goal.")
    yours = {k: v for k, v in values.items() if k.startswith(keys) and isinstance(v, str)}
    saved = {"problems": draft.problems, "therapy": draft.therapy_review, "goal": draft.goals}
    return concurrency.side_by_side(yours, saved)


def _run_rounds(
    request: Request,
    db: DbSession,
    actor: Actor,
    run: Run,
    error: ValidationFailed | Conflict | None = None,
    values: dict[str, Any] | None = None,
    form: str | None = None,
) -> Response:
    zone = _zone(request)
    rounds = round_record.rounds_for_run(db, run.id)
    ids = [r.id for r in rounds]
    all_actions = actions.run_actions(db, run.id)
    ident = patient_service.identities(db, actor, [run.patient_id], "run rounds")
    staff = accounts.list_staff(db)
    now = utcnow()
    chosen = (values or {}).get("round_date") or str(now.astimezone(zone).date())
    draft = next((r for r in rounds if str(r.round_date) == chosen), None)
    return render(
        request,
        "rounds_run.html",
        actor,
        status_code=409 if isinstance(error, Conflict) else 422 if error else 200,
        form_version=draft.version if draft is not None and draft.status == "draft" else "",
        stale_rows=_stale_rows(draft, values or {}) if _is_stale(error, draft) else None,
        run=run,
        identity=ident.get(run.patient_id),
        mode=run_service.current_mode(run),
        ecmo_day=run_view.ecmo_day(run, now),
        next_run_id=board.next_run_id(db, run.id),
        forecasts=_forecasts(db, run.id),
        rounds=rounds,
        people=round_record.attendance(db, ids),
        amendments=round_record.amendments(db, "round", ids),
        actions_by_round=_group(all_actions),
        open_actions=[a for a in all_actions if a.completed_at is None],
        done_actions=[a for a in all_actions if a.completed_at is not None],
        now=now,
        today=now.astimezone(zone).date(),
        staff=staff,
        staff_names={x.id: x.name for x in staff},
        alerts=run_view.open_alerts(db, run.id),
        targets=targets.current_targets(db, run.id),
        goal_codes=GOAL_CODES,
        fluid=FLUID_BALANCE,
        therapy_sections=THERAPY_SECTIONS,
        disciplines=DISCIPLINES,
        sections=round_record.AMEND_SECTIONS,
        dispositions=round_record.DISPOSITION_WORDS,
        error=error,
        values=values or {},
        error_form=form,
        rows=range(forms.FORM_ROWS),
        goal_range=round_record.goal_range,
        present=round_record.disciplines_present,
    )


def _group(rows: list[Any]) -> dict[int | None, list[Any]]:
    out: dict[int | None, list[Any]] = {}
    for row in rows:
        out.setdefault(row.round_id, []).append(row)
    return out


@pages.get("/runs/{run_id}/rounds", dependencies=[require(P.VIEW_CLINICAL)])
def run_rounds_page(request: Request, run_id: int, db: DbSession, actor: CurrentActor) -> Response:
    return _run_rounds(request, db, actor, run_service.get_run(db, actor, run_id))


@pages.post("/runs/{run_id}/rounds", dependencies=[require(P.RECORD_ROUND)])
def record_round(request: Request, run_id: int, db: DbSession, actor: CurrentActor) -> Response:
    run = run_service.get_run(db, actor, run_id)
    raw = form_of(request)
    values: dict[str, Any] = posted_values(request)
    attendees = [str(a) for a in raw.getlist("attendee")]
    zone = _zone(request)

    def record() -> Any:
        data = parse_form(RoundIn, forms.round_from(values, attendees, zone))
        today = utcnow().astimezone(zone).date()
        start = run.started_at.astimezone(zone).date()
        return round_record.record_round(db, actor, run, data, today, start)

    row, problem = attempt(db, record)
    if problem:
        return _run_rounds(
            request, db, actor, run, problem, {**values, "attendee": attendees}, "round"
        )
    return redirect(f"/runs/{run.id}/rounds#round-{row.id}")


@pages.post("/rounds/{round_id}/sign", dependencies=[require(P.RECORD_ROUND)])
def sign_round(round_id: int, db: DbSession, actor: CurrentActor) -> Response:
    row = round_record.sign_round(db, actor, round_id)
    return redirect(f"/runs/{row.run_id}/rounds#round-{row.id}")


@pages.post("/rounds/{round_id}/amend", dependencies=[require(P.RECORD_ROUND)])
def amend_round(request: Request, round_id: int, db: DbSession, actor: CurrentActor) -> Response:
    values = {k: v for k, v in (form_of(request)).items() if k != "csrf_token" and v}
    row = round_record.get_round(db, actor, round_id)
    try:
        round_record.amend_round(db, actor, round_id, parse_form(AmendmentIn, values))
    except ValidationFailed as exc:
        db.rollback()
        run = run_service.get_run(db, actor, row.run_id)
        return _run_rounds(request, db, actor, run, exc, values, f"amend-{round_id}")
    return redirect(f"/runs/{row.run_id}/rounds#round-{round_id}")


@pages.post("/runs/{run_id}/actions", dependencies=[require(P.RECORD_ROUND)])
def add_action(request: Request, run_id: int, db: DbSession, actor: CurrentActor) -> Response:
    run = run_service.get_run(db, actor, run_id)
    values = posted_values(request)

    def add() -> Any:
        rows = forms.actions_from(values, _zone(request))
        return actions.add_action(
            db, actor, run, parse_form(ActionIn, rows[0] if rows else {"text": ""})
        )

    _, problem = attempt(db, add, (ValidationFailed,))
    if problem:
        return _run_rounds(request, db, actor, run, problem, values, "action")
    return redirect(f"/runs/{run.id}/rounds#actions")


@pages.post("/rounds/actions/{action_id}/complete", dependencies=[require(P.RECORD_ROUND)])
def complete_action(
    request: Request, action_id: int, db: DbSession, actor: CurrentActor
) -> Response:
    form = form_of(request)
    note = str(form.get("note") or "") or None
    row = actions.complete_action(db, actor, action_id, CompleteIn(note=note))
    back = str(form.get("back") or "")
    return redirect(back if back.startswith("/") else f"/runs/{row.run_id}/rounds#actions")


def _forecasts(db: DbSession, run_id: int) -> list[dict[str, Any]]:
    """The run's exchange forecasts that were made (refusals stay on the run page)."""
    return [f for f in run_view.exchange_forecasts(db, run_id) if f["status"] == "forecast"]


def _check_page(
    request: Request,
    db: DbSession,
    actor: Actor,
    run: Run,
    error: ValidationFailed | None = None,
    values: dict[str, Any] | None = None,
) -> Response:
    now = utcnow()
    checks = circuit_check.checks_for_run(db, run.id)
    latest = circuit_check.prefill(db, run.id)
    previous = checks[0] if checks else None
    ident = patient_service.identities(db, actor, [run.patient_id], "circuit check")
    return render(
        request,
        "circuit_check.html",
        actor,
        status_code=422 if error else 200,
        run=run,
        identity=ident.get(run.patient_id),
        mode=run_service.current_mode(run),
        checks=checks,
        previous=previous,
        latest=latest,
        since=circuit_check.changes(previous, latest, {}) if previous else None,
        hints=circuit_check.last_inspection(previous),
        grades=GRADES,
        optional_sites=OPTIONAL_SITES,
        alerts=run_view.open_alerts(db, run.id),
        forecasts=_forecasts(db, run.id),
        default_shift=rounds_settings.shift_at(db, now, _zone(request)),
        transfer=circuit_check.o2_transfer(latest),
        markers=circuit_check.marker_trends(db, run.id, now),
        groups=circuit_check.READING_GROUPS,
        labels=circuit_check.READING_LABELS,
        sites=INSPECTION_SITES,
        site_labels=SITE_LABELS,
        products=PRODUCTS,
        disciplines=DISCIPLINES,
        error=error,
        values=values or {},
        error_form="check" if error else None,
        now=now,
        parse_time=datetime.fromisoformat,
    )


@pages.get("/runs/{run_id}/circuit-check", dependencies=[require(P.CIRCUIT_CHECK)])
def check_page(request: Request, run_id: int, db: DbSession, actor: CurrentActor) -> Response:
    actor.require(P.CIRCUIT_CHECK)
    return _check_page(request, db, actor, run_service.get_run(db, actor, run_id))


@pages.post("/runs/{run_id}/circuit-check", dependencies=[require(P.CIRCUIT_CHECK)])
def record_check(request: Request, run_id: int, db: DbSession, actor: CurrentActor) -> Response:
    run = run_service.get_run(db, actor, run_id)
    values = posted_values(request)

    def record() -> Any:
        data = parse_form(CircuitCheckIn, forms.check_from(values, _zone(request)))
        return circuit_check.record_check(db, actor, run, data)

    _, problem = attempt(db, record, (ValidationFailed,))
    if problem:
        return _check_page(request, db, actor, run, problem, values)
    return redirect(f"/runs/{run.id}/circuit-check#checks")
