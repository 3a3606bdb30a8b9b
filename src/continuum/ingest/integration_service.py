"""The integration page's logic: code mappings, console-to-run assignments and the log of
received messages. For administrators, who never see patient identifiers: runs are shown
by id and pseudonymous label (P-0001), and the log holds no MRN."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from continuum.core import audit, settings_service
from continuum.core.people import Patient
from continuum.core.roles import Actor, Permission
from continuum.core.run_record import Run
from continuum.db import utcnow
from continuum.errors import Conflict, FieldProblem, NotFound, ValidationFailed
from continuum.ingest import mapping, retention
from continuum.ingest.models import CodeMapping, ConsoleAssignment, IngestMessage, UnitAlias
from continuum.ingest.retention import (
    RETENTION_DEFAULT,
    RETENTION_HIGH,
    RETENTION_LOW,
    RETENTION_SOURCE,
)
from continuum.ingest.retention import (
    RETENTION_KEY as RETENTION_KEY,
)
from continuum.ingest.schemas import AssignmentIn, MappingIn, UnitAliasIn
from continuum.vocabulary import CODES, known_unit


@dataclass(frozen=True)
class MappingRow:
    system: str
    identifier: str
    code: str
    origin: str  # "default" or "site"
    active: bool
    why: str = ""  # a default's reason (what the code means), or the site's note


def list_mappings(session: Session, actor: Actor) -> list[MappingRow]:
    actor.require(Permission.MANAGE_INTEGRATION)
    site = {(r.system, r.identifier): r for r in session.scalars(select(CodeMapping))}
    rows = [
        MappingRow(s, i, c, "default", True, mapping.DEFAULT_REASONS.get((s, i), ""))
        for (s, i), c in mapping.DEFAULT_MAPPINGS.items()
        if (s, i) not in site
    ]
    rows += [
        MappingRow(r.system, r.identifier, r.code, "site", r.active, r.note or "")
        for r in site.values()
    ]
    return sorted(rows, key=lambda r: (r.origin != "site", r.system, r.identifier))


def save_mapping(session: Session, actor: Actor, data: MappingIn) -> CodeMapping:
    """Add or change the mapping for (system, identifier); ``active=False`` switches it off."""
    actor.require(Permission.MANAGE_INTEGRATION)
    system = mapping.system_of(data.system)
    if system == mapping.CONTINUUM:
        raise ValidationFailed("CONTINUUM codes map to themselves; choose another system", "system")
    if data.code not in CODES:
        raise ValidationFailed(
            [FieldProblem("code", f"'{data.code}' is not a vocabulary code", data.code)]
        )
    row = session.scalar(
        select(CodeMapping).where(
            CodeMapping.system == system, CodeMapping.identifier == data.identifier
        )
    )
    before = {"code": row.code, "active": row.active} if row else None
    if row is None:
        row = CodeMapping(system=system, identifier=data.identifier)
        session.add(row)
    row.code, row.active, row.note = data.code, data.active, data.note
    row.updated_by, row.updated_at = actor.staff_id, utcnow()
    session.flush()
    detail = {"system": system, "identifier": data.identifier, "code": data.code,
              "active": data.active, "before": before}  # fmt: skip
    audit.record(session, actor, "save", "ingest_code_mapping", row.id, None, detail)
    return row


def list_unit_aliases(session: Session, actor: Actor) -> list[UnitAlias]:
    actor.require(Permission.MANAGE_INTEGRATION)
    return list(session.scalars(select(UnitAlias).order_by(UnitAlias.spelling)))


def save_unit_alias(session: Session, actor: Actor, data: UnitAliasIn) -> UnitAlias:
    """Read a site's own unit spelling (e.g. a console's local unit code) as a unit the
    vocabulary converts from; ``active=False`` switches it off. A spelling the platform
    already reads cannot be given another meaning."""
    actor.require(Permission.MANAGE_INTEGRATION)
    spelling = data.spelling.lower()
    if known_unit(spelling) or spelling in mapping.UNIT_ALIASES:
        raise ValidationFailed(
            [FieldProblem("spelling", f"'{data.spelling}' is already read as "
                          f"{mapping.unit_of(data.spelling)}: a built-in unit keeps its meaning",
                          data.spelling)]
        )  # fmt: skip
    if not known_unit(data.unit):
        raise ValidationFailed(
            [FieldProblem("unit", f"'{data.unit}' is not a unit the vocabulary stores or "
                          "converts from (e.g. mmHg, kPa, L/min, mL/min, °C, %, /min)", data.unit)]
        )  # fmt: skip
    row = session.scalar(select(UnitAlias).where(UnitAlias.spelling == spelling))
    before = {"unit": row.unit, "active": row.active} if row else None
    if row is None:
        row = UnitAlias(spelling=spelling)
        session.add(row)
    row.unit, row.active, row.note = data.unit, data.active, data.note
    row.updated_by, row.updated_at = actor.staff_id, utcnow()
    session.flush()
    detail = {"spelling": spelling, "unit": data.unit, "active": data.active, "before": before}
    audit.record(session, actor, "save", "ingest_unit_alias", row.id, None, detail)
    return row


def list_assignments(session: Session, actor: Actor) -> list[dict[str, Any]]:
    actor.require(Permission.MANAGE_INTEGRATION)
    stmt = (
        select(ConsoleAssignment, Run, Patient)
        .join(Run, Run.id == ConsoleAssignment.run_id)
        .join(Patient, Patient.id == Run.patient_id)
        .where(ConsoleAssignment.unassigned_at.is_(None))
        .order_by(ConsoleAssignment.console_id)
    )
    return [
        {
            "id": a.id,
            "console_id": a.console_id,
            "run_id": r.id,
            "label": p.label,
            "run_status": r.status,
            "assigned_at": a.assigned_at,
        }
        for a, r, p in session.execute(stmt)
    ]


def active_runs(session: Session, actor: Actor) -> list[dict[str, Any]]:
    """Runs a console can be assigned to: id and pseudonymous label only."""
    actor.require(Permission.MANAGE_INTEGRATION)
    stmt = select(Run, Patient).join(Patient).where(Run.status != "ended").order_by(Run.id)
    return [{"run_id": r.id, "label": p.label} for r, p in session.execute(stmt)]


def assign_console(session: Session, actor: Actor, data: AssignmentIn) -> ConsoleAssignment:
    """Assign a console to an active run (ending any open assignment of that console)."""
    actor.require(Permission.MANAGE_INTEGRATION)
    run = session.get(Run, data.run_id)
    if run is None:
        raise ValidationFailed([FieldProblem("run_id", f"no run {data.run_id}", data.run_id)])
    if run.status == "ended":
        raise Conflict(f"run {run.id} has ended; a console cannot be assigned to it")
    now = utcnow()
    for old in session.scalars(_open(data.console_id)):
        old.unassigned_at, old.unassigned_by = now, actor.staff_id
    row = ConsoleAssignment(console_id=data.console_id, run_id=run.id, assigned_at=now,
                            assigned_by=actor.staff_id)  # fmt: skip
    session.add(row)
    session.flush()
    detail = {"console_id": data.console_id, "run_id": run.id}
    audit.record(session, actor, "assign", "ingest_console_assignment", row.id, run.patient_id,
                 detail)  # fmt: skip
    return row


def _open(console_id: str):  # type: ignore[no-untyped-def]
    return select(ConsoleAssignment).where(
        ConsoleAssignment.console_id == console_id, ConsoleAssignment.unassigned_at.is_(None)
    )


def unassign_console(session: Session, actor: Actor, assignment_id: int) -> ConsoleAssignment:
    actor.require(Permission.MANAGE_INTEGRATION)
    row = session.get(ConsoleAssignment, assignment_id)
    if row is None:
        raise NotFound(f"console assignment {assignment_id} not found")
    if row.unassigned_at is not None:
        raise Conflict(f"console {row.console_id} was already unassigned")
    row.unassigned_at, row.unassigned_by = utcnow(), actor.staff_id
    run = session.get_one(Run, row.run_id)
    detail = {"console_id": row.console_id, "run_id": row.run_id}
    audit.record(session, actor, "unassign", "ingest_console_assignment", row.id,
                 run.patient_id, detail)  # fmt: skip
    return row


def recent_messages(session: Session, actor: Actor, limit: int = 100) -> list[IngestMessage]:
    actor.require(Permission.MANAGE_INTEGRATION)
    stmt = select(IngestMessage).order_by(IngestMessage.id.desc()).limit(limit)
    return list(session.scalars(stmt))


# --- message-log retention (a setting of the "integration" group) --------------------


@dataclass(frozen=True)
class Retention:
    days: int
    default: int
    overridden: bool
    source: str
    allowed: str = f"{RETENTION_LOW}–{RETENTION_HIGH} days"


def log_retention(session: Session) -> Retention:
    """How many days the message log is kept: the programme's value, else the default."""
    own = settings_service.overrides(session, retention.GROUP).get(retention.RETENTION)
    days = RETENTION_DEFAULT if own is None else int(own)
    return Retention(days, RETENTION_DEFAULT, own is not None, RETENTION_SOURCE)


def save_log_retention(
    session: Session, actor: Actor, days: int | None, note: str | None = None
) -> Retention:
    """Set the retention in days (None or the default: back to the default); audited with
    the old and new value by the settings service."""
    try:
        settings_service.save(session, actor, retention.GROUP, {retention.RETENTION: days}, note)
    except ValidationFailed as exc:
        raise ValidationFailed(
            [FieldProblem("days", p.message, p.value) for p in exc.problems]
        ) from exc
    return log_retention(session)


def message_log_size(session: Session, actor: Actor) -> int:
    actor.require(Permission.MANAGE_INTEGRATION)
    return int(session.scalar(select(func.count()).select_from(IngestMessage)) or 0)


def prune_message_log(
    session: Session, actor: Actor, older_than: timedelta, *, dry_run: bool = False
) -> int:
    """Delete message-log rows received before now − ``older_than``; returns how many
    (``dry_run``: only counts). Observations are never touched. Audited with the count."""
    actor.require(Permission.MANAGE_INTEGRATION)
    if older_than < timedelta(days=RETENTION_LOW):
        raise ValidationFailed(
            [FieldProblem("older_than", f"{older_than} is shorter than {RETENTION_LOW} day: "
                          "recent log rows guard against storing a resent message twice",
                          str(older_than))]
        )  # fmt: skip
    cutoff = utcnow() - older_than
    old = IngestMessage.received_at < cutoff
    if dry_run:
        return int(session.scalar(select(func.count()).select_from(IngestMessage).where(old)) or 0)
    result = session.execute(
        delete(IngestMessage).where(old).execution_options(synchronize_session=False)
    )
    deleted = int(getattr(result, "rowcount", 0) or 0)  # a CursorResult for a DELETE
    detail = {"deleted": deleted, "received_before": cutoff.isoformat(),
              "older_than_days": older_than / timedelta(days=1)}  # fmt: skip
    audit.record(session, actor, "prune", "ingest_message", None, None, detail)
    return int(deleted)


HOUSEKEEPER = Actor(staff_id=None, name="daily housekeeping", role="admin", client="housekeeping")


def housekeeping(session: Session) -> str:
    """The daily job (continuum.housekeeping): prune the message log to the programme's
    retention, as ``continuum ingest prune`` does (audited as the daily housekeeping)."""
    days = log_retention(session).days
    n = prune_message_log(session, HOUSEKEEPER, timedelta(days=days))
    return f"deleted {n} message-log rows received more than {days} days ago"
