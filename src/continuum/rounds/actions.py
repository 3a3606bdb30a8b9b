"""Round actions: a task with an owner discipline and a due time, carried forward until done."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from continuum.core import audit, concurrency
from continuum.core import clinical_backfill as texts
from continuum.core.clinical_event import record_event
from continuum.core.roles import Actor, Permission
from continuum.core.run_record import Run
from continuum.core.vocab import DISCIPLINES
from continuum.db import utcnow
from continuum.errors import Conflict, NotFound, ProblemCollector
from continuum.rounds.models import CircuitCheck, RoundAction, RoundRecord
from continuum.rounds.schemas import ActionIn, CompleteIn


def check_action(problems: ProblemCollector, prefix: str, data: ActionIn) -> None:
    """An action needs an owner discipline and a due time; name what is missing."""
    if not data.owner_discipline:
        problems.add(
            f"{prefix}.owner_discipline",
            "an action needs an owner discipline (one of " + ", ".join(DISCIPLINES) + ")",
        )
    elif data.owner_discipline not in DISCIPLINES:
        problems.add(
            f"{prefix}.owner_discipline",
            f"'{data.owner_discipline}' is not a discipline (one of "
            + ", ".join(DISCIPLINES)
            + ")",
            data.owner_discipline,
        )
    if data.due_at is None:
        problems.add(f"{prefix}.due_at", "an action needs a due date and time")


def add_action(
    session: Session,
    actor: Actor,
    run: Run,
    data: ActionIn,
    round_id: int | None = None,
    circuit_check_id: int | None = None,
    checked: bool = False,
) -> RoundAction:
    if not checked:
        actor.require(Permission.RECORD_ROUND)
        if run.status == "ended":
            raise Conflict(f"run {run.id} has ended; no new actions")
        problems = ProblemCollector()
        check_action(problems, "action", data)
        problems.raise_if_any()
    assert data.owner_discipline and data.due_at
    row = RoundAction(
        run_id=run.id,
        round_id=round_id,
        circuit_check_id=circuit_check_id,
        text=data.text,
        owner_discipline=data.owner_discipline,
        due_at=data.due_at,
        created_by=actor.staff_id,
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor,
        "create",
        "round_action",
        row.id,
        run.patient_id,
        {"run_id": run.id, "owner": row.owner_discipline, "due_at": row.due_at.isoformat()},
    )
    record_event(
        session,
        actor,
        "action.raised",
        _raised_at(session, row),
        texts.action_text(row.text, row.owner_discipline),
        ("round_action", row.id),
        run,
        details={"due_at": row.due_at.isoformat()},
    )
    return row


def _raised_at(session: Session, row: RoundAction) -> datetime | None:
    """When the action was raised clinically: at its round or circuit check (else now)."""
    if row.round_id is not None:
        return session.get_one(RoundRecord, row.round_id).held_at
    if row.circuit_check_id is not None:
        return session.get_one(CircuitCheck, row.circuit_check_id).checked_at
    return None


def complete_action(
    session: Session, actor: Actor, action_id: int, data: CompleteIn
) -> RoundAction:
    actor.require(Permission.RECORD_ROUND)
    row = session.get(RoundAction, action_id)
    if row is None:
        raise NotFound(f"action {action_id} not found")
    won = row.completed_at is None and concurrency.transition(
        session,
        row,
        RoundAction.completed_at.is_(None),
        {"completed_at": utcnow(), "completed_by": actor.staff_id, "completion_note": data.note},
    )
    if not won:
        by = concurrency.who(session, row.completed_by)
        raise concurrency.AlreadyDone(
            f"action {action_id} was already completed by {by} at "
            f"{concurrency.stamp(row.completed_at)}",
            by,
            row.completed_at,
        )
    session.flush()
    run = session.get_one(Run, row.run_id)
    audit.record(
        session, actor, "complete", "round_action", row.id, run.patient_id, {"note": data.note}
    )
    record_event(
        session,
        actor,
        "action.completed",
        row.completed_at,
        f"Action done: {row.text}" + (f" — {data.note}" if data.note else ""),
        ("round_action", row.id),
        run,
    )
    return row


def open_actions(session: Session, run_ids: Iterable[int]) -> dict[int, list[RoundAction]]:
    """Actions not yet done, per run, soonest due first (they carry forward day to day)."""
    ids = list(run_ids)
    out: dict[int, list[RoundAction]] = defaultdict(list)
    if not ids:
        return out
    stmt = (
        select(RoundAction)
        .where(RoundAction.run_id.in_(ids), RoundAction.completed_at.is_(None))
        .order_by(RoundAction.due_at, RoundAction.id)
    )
    for row in session.scalars(stmt):
        out[row.run_id].append(row)
    return out


def run_actions(session: Session, run_id: int) -> list[RoundAction]:
    stmt = (
        select(RoundAction)
        .where(RoundAction.run_id == run_id)
        .order_by(RoundAction.created_at, RoundAction.id)
    )
    return list(session.scalars(stmt))


def is_overdue(action: RoundAction, at: datetime) -> bool:
    return action.completed_at is None and action.due_at < at
