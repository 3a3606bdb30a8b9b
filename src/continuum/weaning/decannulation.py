"""Structured decannulation: the checklist, two signatures (physician AND perfusionist),
closing the run through run_service.end_run, and follow-up actions."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from continuum.core import (
    audit,
    concurrency,
    observation_service,
    participation_service,
    run_service,
)
from continuum.core.clinical_event import follow_up_text, record_event
from continuum.core.roles import Actor, Permission
from continuum.core.run_record import Run
from continuum.core.schemas import RunEnd
from continuum.core.vocab import OUTCOME_LABELS
from continuum.db import utcnow
from continuum.errors import Conflict, FieldProblem, Forbidden, NotFound, ValidationFailed
from continuum.weaning.common import not_before, require_open
from continuum.weaning.models import Decannulation, FollowUp, WeaningTrial
from continuum.weaning.readiness import configuration_of
from continuum.weaning.schemas import DecannulationIn, FollowUpDone, SignIn
from continuum.weaning.trials import trials_for

COAGULATION = ("act", "aptt", "anti_xa", "inr", "platelets", "fibrinogen", "hb")
SIGNING_ROLES = ("physician", "perfusionist")


def get(session: Session, actor: Actor, decannulation_id: int) -> Decannulation:
    actor.require(Permission.VIEW_CLINICAL)
    row = session.get(Decannulation, decannulation_id)
    if row is None:
        raise NotFound(f"decannulation checklist {decannulation_id} not found")
    return row


def for_run(session: Session, run_id: int) -> list[Decannulation]:
    stmt = select(Decannulation).where(Decannulation.run_id == run_id)
    return list(session.scalars(stmt.order_by(Decannulation.id)))


def follow_ups(session: Session, run_id: int) -> list[FollowUp]:
    stmt = select(FollowUp).where(FollowUp.run_id == run_id).order_by(FollowUp.id)
    return list(session.scalars(stmt))


def last_passed_trial(session: Session, run_id: int) -> WeaningTrial | None:
    passed = [t for t in trials_for(session, run_id) if t.status == "passed"]
    return passed[-1] if passed else None


def coagulation_snapshot(session: Session, run_id: int) -> list[dict[str, Any]]:
    out = []
    for code in COAGULATION:
        obs = observation_service.latest(session, run_id, code)
        if obs is not None:
            out.append(
                {"code": code, "value": obs.value, "unit": obs.unit, "at": obs.time.isoformat()}
            )
    return out


def create(session: Session, actor: Actor, run: Run, data: DecannulationIn) -> Decannulation:
    """Draft the checklist; a decannulation without a passed trial needs a reason."""
    actor.require(Permission.RUN_WEANING)
    require_open(run)
    if any(not d.signed for d in for_run(session, run.id)):
        raise Conflict("a decannulation checklist for this run is waiting for signatures")
    trial = _trial(session, run, data)
    at = data.decannulated_at or utcnow()
    data = data.model_copy(update={"decannulated_at": at})
    _check(run, data, trial, at)
    row = Decannulation(
        run_id=run.id,
        trial_id=trial.id if trial else None,
        coagulation=coagulation_snapshot(session, run.id),
        created_by=actor.staff_id,
        **data.model_dump(exclude={"trial_id"}),
    )
    session.add(row)
    session.flush()
    _plan_follow_ups(session, run, row)
    audit.record(
        session,
        actor,
        "create",
        "decannulation",
        row.id,
        run.patient_id,
        {"trial": row.trial_id, "no_trial_reason": data.no_trial_reason},
    )
    record_event(
        session,
        actor,
        "decannulation.recorded",
        at,
        f"Decannulation: {OUTCOME_LABELS.get(row.outcome, row.outcome)} — {row.stop_reason}",
        ("decannulation", row.id),
        run,
        details={"outcome": row.outcome},
    )
    return row


def _trial(session: Session, run: Run, data: DecannulationIn) -> WeaningTrial | None:
    if data.trial_id is None:
        return last_passed_trial(session, run.id)
    trial = session.get(WeaningTrial, data.trial_id)
    if trial is None or trial.run_id != run.id:
        raise ValidationFailed(f"trial {data.trial_id} is not a trial of run {run.id}", "trial_id")
    return trial


def _check(run: Run, data: DecannulationIn, trial: WeaningTrial | None, at: datetime) -> None:
    problems = []
    if (trial is None or trial.status != "passed") and not data.no_trial_reason:
        problems.append(
            FieldProblem(
                "no_trial_reason",
                "no passed weaning trial is recorded for this run: give the "
                "reason to decannulate without one (or record the trial first)",
                None,
            )
        )
    if not data.blood_products_available:
        problems.append(
            FieldProblem(
                "blood_products_available",
                "confirm blood products are available before decannulation",
                False,
            )
        )
    stopped = data.anticoagulation_stopped_at
    if stopped is not None and stopped > at:
        problems.append(
            FieldProblem(
                "anticoagulation_stopped_at",
                "anticoagulation is stopped before decannulation, not after",
                stopped.isoformat(),
            )
        )
    if stopped is None and not data.anticoagulation_note:
        problems.append(
            FieldProblem(
                "anticoagulation_stopped_at",
                "give the time heparin was stopped, or say why it was not",
                None,
            )
        )
    if problems:
        raise ValidationFailed(problems)
    not_before(at, run.started_at, "decannulated_at", "the run started")
    if trial is not None and trial.ended_at and at < trial.ended_at:
        not_before(at, trial.ended_at, "decannulated_at", "the trial ended")


def _plan_follow_ups(session: Session, run: Run, row: Decannulation) -> None:
    at = row.decannulated_at
    site = (
        "Venous Doppler of the cannulated vessels"
        if not configuration_of(run).arterial_return
        else "Limb perfusion and arterial site check (Doppler)"
    )
    for item, due in (
        ("Arterial blood gas 1 h after decannulation", at + timedelta(hours=1)),
        ("Arterial blood gas 24 h after decannulation", at + timedelta(hours=24)),
        (site, at + timedelta(hours=24)),
    ):
        session.add(FollowUp(run_id=run.id, decannulation_id=row.id, item=item, due_at=due))
    session.flush()


def sign(session: Session, actor: Actor, row: Decannulation, data: SignIn) -> bool:
    """Sign one part; when both parts are signed the run ends. Returns True when it ended."""
    actor.require(Permission.SIGN_DECANNULATION)
    part = data.part or actor.signing_role
    if part not in SIGNING_ROLES or actor.signing_role != part:
        raise Forbidden(f"the {actor.role} role may not sign the {part}'s part of decannulation")
    run = run_service.get_run(session, actor, row.run_id)
    if getattr(row, f"{part}_signed_at") is None:
        require_open(run)
    signed_at = getattr(Decannulation, f"{part}_signed_at")
    won = getattr(row, f"{part}_signed_at") is None and concurrency.transition(
        session,
        row,
        signed_at.is_(None),
        {f"{part}_id": actor.staff_id, f"{part}_name": actor.name, f"{part}_signed_at": utcnow()},
    )
    if not won:
        at = getattr(row, f"{part}_signed_at")
        raise concurrency.AlreadyDone(
            f"the {part}'s part was signed by {getattr(row, f'{part}_name')} at "
            f"{concurrency.stamp(at)}",
            getattr(row, f"{part}_name"),
            at,
        )
    # The other part may have been signed by a racing request that committed just before
    # this one: read it afresh, so that whichever signature comes second ends the run.
    session.refresh(row)
    if actor.staff_id is not None:
        participation_service.record_signature(
            session, actor, "decannulation", row.id, run.id, f"{part} sign-off"
        )
    audit.record(session, actor, "sign", "decannulation", row.id, run.patient_id, {"part": part})
    record_event(
        session,
        actor,
        "decannulation.signed",
        getattr(row, f"{part}_signed_at"),
        f"Decannulation signed by the {part}",
        ("decannulation", row.id),
        run,
        details={"part": part},
    )
    if not row.signed:
        return False
    end = RunEnd.model_validate(
        {"ended_at": row.decannulated_at, "outcome": row.outcome, "stop_reason": row.stop_reason}
    )
    run_service.end_run(session, actor, run, end)
    return True


def complete_follow_up(
    session: Session, actor: Actor, item_id: int, data: FollowUpDone
) -> FollowUp:
    actor.require(Permission.RUN_WEANING)
    item = session.get(FollowUp, item_id)
    if item is None:
        raise NotFound(f"follow-up item {item_id} not found")
    if item.done_at is not None:
        raise Conflict(f"'{item.item}' was already done at {item.done_at.isoformat()}")
    at = data.at or utcnow()
    row = session.get(Decannulation, item.decannulation_id)
    if row is not None:
        not_before(at, row.decannulated_at, "at", "decannulation")
    item.done_at, item.done_by, item.result = at, actor.staff_id, data.result
    audit.record(
        session, actor, "update", "weaning_follow_up", item.id, None, {"done": at.isoformat()}
    )
    run = session.get_one(Run, item.run_id)
    record_event(
        session,
        actor,
        "follow_up.completed",
        at,
        follow_up_text(item.item, data.result),
        ("weaning_follow_up", item.id),
        run,
        details={"due_at": when(item.due_at) or None},
    )
    return item


def when(dt: datetime | None) -> str:
    return dt.isoformat() if dt else ""
