"""Participation: who took part in any clinical record, in which discipline, and how."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import select
from sqlalchemy.orm import Session

from continuum.core import audit
from continuum.core.people import Staff
from continuum.core.record import Participation
from continuum.core.roles import Actor, Permission
from continuum.core.schemas import ParticipantIn
from continuum.errors import NotFound


def add_participant(
    session: Session,
    actor: Actor,
    record_type: str,
    record_id: int,
    data: ParticipantIn,
    run_id: int | None = None,
) -> Participation:
    actor.require(Permission.RECORD_PARTICIPATION)
    staff = session.get(Staff, data.staff_id)
    if staff is None:
        raise NotFound(f"staff member {data.staff_id} not found")
    row = Participation(
        record_type=record_type,
        record_id=record_id,
        run_id=run_id,
        staff_id=staff.id,
        discipline=staff.discipline,
        how=data.how,
        contribution=data.contribution,
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor,
        "create",
        "participation",
        row.id,
        None,
        {"record": f"{record_type}:{record_id}", "staff": staff.id},
    )
    return row


def for_run(session: Session, run_id: int) -> list[tuple[Participation, Staff]]:
    stmt = (
        select(Participation, Staff)
        .join(Staff, Staff.id == Participation.staff_id)
        .where(Participation.run_id == run_id)
        .order_by(Participation.at.desc())
    )
    return [(p, s) for p, s in session.execute(stmt)]


def disciplines_involved(rows: list[tuple[Participation, Staff]]) -> Counter[str]:
    return Counter(p.discipline for p, _ in rows)
