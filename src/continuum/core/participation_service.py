"""Participation: who took part in any clinical record, in which discipline, and how.

Two ways in, deliberately apart:

* ``add_participant`` — anyone with the permission records that a colleague was *present*
  or was *consulted*; the row keeps who entered it (``entered_by``). The record it points
  at is one of a closed set of kinds and must belong to the run.
* ``record_signature`` — called only by the signing services (decision sign-off, round
  record, circuit check, weaning trial and decannulation sign-offs), for the signed-in
  clinician themself. Nothing else writes ``how="signed"``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import get_args

from sqlalchemy import column, func, select, table
from sqlalchemy.orm import Session, aliased

from continuum.core import audit
from continuum.core.people import Staff
from continuum.core.record import Participation
from continuum.core.roles import Actor, Permission
from continuum.core.schemas import ParticipantIn, RecordKind
from continuum.errors import Forbidden, ValidationFailed

RECORD_KINDS: tuple[str, ...] = get_args(RecordKind)
# Where each kind of record lives: its table (each has ``id`` and ``run_id``).
_TABLES = {
    "initiation_decision": "initiation_decision",
    "round": "rounds_round",
    "circuit_check": "rounds_circuit_check",
    "weaning_trial": "weaning_trial",
    "decannulation": "decannulation",
    "ambulation_session": "ambulation_session",  # record_id: the session's number
    "transport_mission": "transport_mission",
}


def record_run(session: Session, record_type: str, record_id: int) -> int | None:
    """The run a record belongs to; 422 naming the field for an unknown kind or record."""
    if record_type not in RECORD_KINDS:
        raise ValidationFailed(
            f"record_type '{record_type}' is not one of {', '.join(RECORD_KINDS)}", "record_type"
        )
    if record_type == "run":
        from continuum.core.run_record import Run

        if session.get(Run, record_id) is None:
            _missing(record_id)
        return record_id
    t = table(_TABLES[record_type], column("id"), column("run_id"))
    found = session.execute(select(t.c.run_id).where(t.c.id == record_id)).first()
    if found is None:
        _missing(record_id, record_type)
    return None if found is None else found[0]


def _missing(record_id: int, record_type: str = "run") -> None:
    raise ValidationFailed(f"there is no {record_type} {record_id}", "record_id")


def add_participant(
    session: Session,
    actor: Actor,
    record_type: str,
    record_id: int,
    data: ParticipantIn,
    run_id: int | None = None,
) -> Participation:
    """Someone was present or consulted (entered by the actor, for anyone)."""
    actor.require(Permission.RECORD_PARTICIPATION)
    if data.how not in ("present", "consulted"):  # the schema refuses it too
        raise ValidationFailed(
            f"how '{data.how}': only present or consulted can be entered for someone; "
            "a signature comes from signing the record itself",
            "how",
        )
    owner = record_run(session, record_type, record_id)
    if run_id is not None and owner != run_id:
        raise ValidationFailed(
            f"{record_type} {record_id} does not belong to run {run_id}", "record_id"
        )
    staff = session.get(Staff, data.staff_id)
    if staff is None or not staff.active:
        raise ValidationFailed(f"there is no active staff member {data.staff_id}", "staff_id")
    return _add(session, actor, record_type, record_id, run_id, staff, data.how, data.contribution)


def record_signature(
    session: Session,
    actor: Actor,
    record_type: str,
    record_id: int,
    run_id: int | None,
    contribution: str | None = None,
) -> Participation | None:
    """The signed-in clinician signed this record: only the signing services call this."""
    if actor.staff_id is None:
        return None  # the command line or a seed script: no person, no participation row
    staff = session.get(Staff, actor.staff_id)
    if staff is None or staff.is_service_account:
        raise Forbidden("only a person can sign a clinical record")
    return _add(session, actor, record_type, record_id, run_id, staff, "signed", contribution)


def _add(
    session: Session,
    actor: Actor,
    record_type: str,
    record_id: int,
    run_id: int | None,
    staff: Staff,
    how: str,
    contribution: str | None,
) -> Participation:
    row = Participation(
        record_type=record_type,
        record_id=record_id,
        run_id=run_id,
        staff_id=staff.id,
        discipline=staff.discipline,
        how=how,
        contribution=contribution,
        entered_by=actor.staff_id,
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor,
        "sign" if how == "signed" else "create",
        "participation",
        row.id,
        None,
        {"record": f"{record_type}:{record_id}", "staff": staff.id, "how": how},
    )
    return row


def for_run(
    session: Session, run_id: int, limit: int | None = None
) -> list[tuple[Participation, Staff]]:
    """The run's contributions, newest first (``limit``: only that many)."""
    stmt = (
        select(Participation, Staff)
        .join(Staff, Staff.id == Participation.staff_id)
        .where(Participation.run_id == run_id)
        .order_by(Participation.at.desc(), Participation.id.desc())
    )
    if limit is not None:
        stmt = stmt.limit(limit)
    return [(p, s) for p, s in session.execute(stmt)]


def count_for_run(session: Session, run_id: int) -> int:
    stmt = select(func.count()).select_from(Participation).where(Participation.run_id == run_id)
    return int(session.scalar(stmt) or 0)


def entered_by_names(
    session: Session, run_id: int, ids: Sequence[int] | None = None
) -> dict[int, str]:
    """Participation id → the name of whoever entered it, where that was someone else
    (``ids``: of these contributions only)."""
    enterer = aliased(Staff)
    stmt = (
        select(Participation.id, enterer.name)
        .join(enterer, enterer.id == Participation.entered_by)
        .where(Participation.run_id == run_id, Participation.entered_by != Participation.staff_id)
    )
    if ids is not None:
        stmt = stmt.where(Participation.id.in_(ids))
    return {pid: name for pid, name in session.execute(stmt)}


def disciplines_involved(rows: list[tuple[Participation, Staff]]) -> Counter[str]:
    return Counter(p.discipline for p, _ in rows)
