"""ECMO staff competencies: which skills the programme assesses, who achieved each, when,
assessed by whom, and until when it is valid.

The list of competencies is a lookup (``COMPETENCIES``); how long each stays valid is a
programme setting (``/settings/competencies``, default 12 months [U]). A training record is
append-only: a renewal is a new row; a correction is a new row naming the row it corrects
(``corrects_id``) with its reason. The row in force for a person and competency is the
latest achievement that no later row corrects.

Other domains (transport, ambulation, simulation training) ask
:func:`team_current` whether a team was current for a competency at a time.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import Field
from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Integer, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from continuum.core import audit, settings_service
from continuum.core.people import Staff
from continuum.core.roles import Actor, Permission
from continuum.core.schemas import Out, RecordId, Strict, UtcTime
from continuum.core.settings_service import Setting, SettingGroup
from continuum.core.vocab import sql_in
from continuum.db import Base, UTCDateTime, utcnow
from continuum.errors import FieldProblem, Forbidden, NotFound, ValidationFailed

# The programme's ECMO competencies (code -> label). Emergency procedures are one competency
# each, so a person can be current for air in the circuit but not for a pump failure.
COMPETENCIES: dict[str, str] = {
    "circuit_change": "Circuit / membrane-lung change",
    "priming": "Circuit priming",
    "emergency_air": "Emergency: air in the circuit",
    "emergency_pump_failure": "Emergency: pump or power failure (hand crank)",
    "emergency_decannulation": "Emergency: accidental decannulation",
    "cannulation_assist": "Cannulation assist",
    "transport": "Intra- and inter-hospital transport",
    "ambulation": "Ambulation / mobilisation on ECMO",
    "simulation_response": "Simulated circuit emergency (live simulation)",
}
EVIDENCE_KINDS = ("assessment", "training_session", "course", "other")
STATES = ("current", "expiring", "expired", "none")
STATE_LABELS = {
    "current": "current",
    "expiring": "expires soon",
    "expired": "expired",
    "none": "never achieved",
}

GROUP = "competencies"
_U = "[U] programme policy: no published ECMO competency validity period (docs/training.md)"
SETTINGS = SettingGroup(
    name=GROUP,
    title="ECMO competencies",
    description=(
        "How long each ECMO competency stays valid after it was achieved, and how many days "
        "ahead the coordinator's page warns that one expires. A new record uses the validity "
        "in force when it is recorded; records already made keep theirs."
    ),
    change=Permission.MANAGE_CLINICAL_SETTINGS,
    view=(Permission.VIEW_CLINICAL,),
    settings=(
        *(
            Setting(f"valid_{code}", f"{label}: valid for", 12, 1, 60, "months", _U, "integer")
            for code, label in COMPETENCIES.items()
        ),
        Setting(
            "expiring_within_days", "Warn when expiring within", 60, 7, 365, "days", _U, "integer"
        ),
    ),
    after_save="New competency records use the new validity; the coordinator page at once.",
    order=200,
)


class CompetencyRecord(Base):
    """One achievement (or correction) of a competency by a member of staff. Append-only."""

    __tablename__ = "competency_record"
    __table_args__ = (
        CheckConstraint(sql_in("competency", tuple(COMPETENCIES)), name="competency"),
        CheckConstraint(sql_in("evidence_kind", EVIDENCE_KINDS), name="evidence_kind"),
        CheckConstraint("valid_months >= 1 AND valid_months <= 60", name="valid_months"),
        CheckConstraint("expires_on > achieved_on", name="expires_after"),
        CheckConstraint("(corrects_id IS NULL) = (reason IS NULL)", name="correction_reason"),
        Index("ix_competency_record_staff", "staff_id", "competency"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    competency: Mapped[str] = mapped_column(String(40))
    achieved_on: Mapped[date] = mapped_column(Date)
    valid_months: Mapped[int] = mapped_column(Integer)
    expires_on: Mapped[date] = mapped_column(Date)
    assessor_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    evidence_kind: Mapped[str] = mapped_column(String(24))
    evidence_id: Mapped[int | None] = mapped_column(Integer)
    note: Mapped[str | None] = mapped_column(Text)
    corrects_id: Mapped[int | None] = mapped_column(ForeignKey("competency_record.id"))
    reason: Mapped[str | None] = mapped_column(Text)
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


Competency = Literal[
    "circuit_change",
    "priming",
    "emergency_air",
    "emergency_pump_failure",
    "emergency_decannulation",
    "cannulation_assist",
    "transport",
    "ambulation",
    "simulation_response",
]
EvidenceKind = Literal["assessment", "training_session", "course", "other"]


class CompetencyIn(Strict):
    competency: Competency
    achieved_on: date
    assessor_id: RecordId | None = Field(default=None, description="staff id of the assessor")
    evidence_kind: EvidenceKind = "assessment"
    evidence_id: RecordId | None = Field(default=None, description="e.g. the training session id")
    note: Annotated[str | None, Field(default=None, max_length=2000)] = None
    corrects_id: RecordId | None = Field(default=None, description="the row this one corrects")
    reason: Annotated[str | None, Field(default=None, min_length=3, max_length=2000)] = None


class CompetencyOut(Out):
    id: int
    staff_id: int
    staff_name: str
    competency: str
    competency_label: str
    achieved_on: date
    valid_months: int = Field(description="validity, months")
    expires_on: date = Field(description="first day it is no longer valid")
    assessor_id: int | None
    assessor_name: str | None
    evidence_kind: str
    evidence_id: int | None
    note: str | None
    corrects_id: int | None
    reason: str | None
    recorded_at: UtcTime


class CompetencyStatusOut(Out):
    staff_id: int
    staff_name: str
    competency: str
    state: str = Field(description="current, expiring, expired or none")
    expires_on: date | None
    days_left: int | None = Field(description="days until it expires (negative: expired), days")
    record_id: int | None


class CompetencyBoardOut(Out):
    on: date
    expiring_within_days: int
    competencies: dict[str, str]
    rows: list[CompetencyStatusOut]


class TeamCurrentOut(Out):
    competency: str
    on: date = Field(description="the day asked about")
    all_current: bool
    current: list[int]
    not_current: list[int]


def add_months(d: date, months: int) -> date:
    """``d`` plus ``months`` calendar months (31 Jan + 1 month = 28/29 Feb)."""
    y, m = divmod(d.month - 1 + months, 12)
    year, month = d.year + y, m + 1
    return date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


def validity_months(session: Session, competency: str) -> int:
    return int(settings_service.values(session, GROUP)[f"valid_{competency}"])


def expiring_days(session: Session) -> int:
    return int(settings_service.values(session, GROUP)["expiring_within_days"])


def _staff(session: Session, staff_id: int, field: str) -> Staff:
    staff = session.get(Staff, staff_id)
    if staff is None or staff.is_service_account:
        raise ValidationFailed([FieldProblem(field, f"no member of staff {staff_id}", staff_id)])
    return staff


def record(
    session: Session, actor: Actor, staff_id: int, data: CompetencyIn, today: date | None = None
) -> CompetencyRecord:
    """Add an achievement (or a correction) for ``staff_id``; flushed, never committed."""
    actor.require(Permission.MANAGE_COMPETENCIES)
    today = today or utcnow().date()
    _staff(session, staff_id, "staff_id")
    problems: list[FieldProblem] = []
    if data.achieved_on > today:
        problems.append(
            FieldProblem(
                "achieved_on",
                f"{data.achieved_on} is in the future (today is {today})",
                data.achieved_on.isoformat(),
            )
        )
    if data.assessor_id is not None:
        try:
            _staff(session, data.assessor_id, "assessor_id")
        except ValidationFailed as exc:
            problems += exc.problems
    if (data.corrects_id is None) != (data.reason is None):
        text = "a correction needs the row it corrects and a reason"
        problems.append(FieldProblem("reason", text, data.reason))
    if data.corrects_id is not None:
        old = session.get(CompetencyRecord, data.corrects_id)
        if old is None or old.staff_id != staff_id:
            text = f"no record {data.corrects_id} for this person"
            problems.append(FieldProblem("corrects_id", text, data.corrects_id))
    if problems:
        raise ValidationFailed(problems)
    months = validity_months(session, data.competency)
    row = CompetencyRecord(
        staff_id=staff_id,
        competency=data.competency,
        achieved_on=data.achieved_on,
        valid_months=months,
        expires_on=add_months(data.achieved_on, months),
        assessor_id=data.assessor_id,
        evidence_kind=data.evidence_kind,
        evidence_id=data.evidence_id,
        note=data.note,
        corrects_id=data.corrects_id,
        reason=data.reason,
        recorded_by=actor.staff_id,
        recorded_at=utcnow(),
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor,
        "create",
        "competency_record",
        row.id,
        None,
        {
            "staff_id": staff_id,
            "competency": data.competency,
            "achieved_on": data.achieved_on.isoformat(),
            "expires_on": row.expires_on.isoformat(),
            "evidence": data.evidence_kind,
            "corrects_id": data.corrects_id,
        },
    )
    return row


def history(session: Session, staff_id: int) -> list[CompetencyRecord]:
    stmt = (
        select(CompetencyRecord)
        .where(CompetencyRecord.staff_id == staff_id)
        .order_by(CompetencyRecord.recorded_at.desc(), CompetencyRecord.id.desc())
    )
    return list(session.scalars(stmt))


def in_force(rows: list[CompetencyRecord]) -> dict[tuple[int, str], CompetencyRecord]:
    """Per (person, competency): the latest achievement no later row corrects."""
    corrected = {r.corrects_id for r in rows if r.corrects_id is not None}
    out: dict[tuple[int, str], CompetencyRecord] = {}
    for r in sorted(rows, key=lambda r: (r.achieved_on, r.id)):
        if r.id in corrected:
            continue
        out[(r.staff_id, r.competency)] = r
    return out


def state_of(row: CompetencyRecord | None, on: date, warn_days: int) -> str:
    """current / expiring (within ``warn_days``) / expired / none, on the date ``on``."""
    if row is None or row.achieved_on > on:
        return "none"
    left = (row.expires_on - on).days
    if left <= 0:
        return "expired"
    return "expiring" if left <= warn_days else "current"


def _rows_for(session: Session, staff_ids: list[int] | None) -> list[CompetencyRecord]:
    stmt = select(CompetencyRecord)
    if staff_ids is not None:
        stmt = stmt.where(CompetencyRecord.staff_id.in_(staff_ids))
    return list(session.scalars(stmt))


@dataclass(frozen=True)
class TeamCurrent:
    competency: str
    at: date
    current: list[int]
    not_current: list[int]

    @property
    def all_current(self) -> bool:
        return not self.not_current


def team_current(
    session: Session, people_ids: list[int], competency: str, at: date | datetime
) -> TeamCurrent:
    """Which of ``people_ids`` held ``competency`` valid on ``at`` (achieved on or before
    it, not yet expired). For other domains: a transport mission or an ambulation session
    notes whether its team was current."""
    if competency not in COMPETENCIES:
        allowed = ", ".join(COMPETENCIES)
        text = f"unknown competency '{competency}'; allowed: {allowed}"
        raise ValidationFailed([FieldProblem("competency", text, competency)])
    on = at.date() if isinstance(at, datetime) else at
    held = in_force(_rows_for(session, list(people_ids)))
    current, missing = [], []
    for pid in dict.fromkeys(people_ids):
        ok = state_of(held.get((pid, competency)), on, 0) in ("current", "expiring")
        (current if ok else missing).append(pid)
    return TeamCurrent(competency, on, current, missing)


def out(session: Session, row: CompetencyRecord) -> CompetencyOut:
    staff = session.get(Staff, row.staff_id)
    assessor = session.get(Staff, row.assessor_id) if row.assessor_id else None
    return CompetencyOut(
        id=row.id,
        staff_id=row.staff_id,
        staff_name=staff.name if staff else "?",
        competency=row.competency,
        competency_label=COMPETENCIES[row.competency],
        achieved_on=row.achieved_on,
        valid_months=row.valid_months,
        expires_on=row.expires_on,
        assessor_id=row.assessor_id,
        assessor_name=assessor.name if assessor else None,
        evidence_kind=row.evidence_kind,
        evidence_id=row.evidence_id,
        note=row.note,
        corrects_id=row.corrects_id,
        reason=row.reason,
        recorded_at=row.recorded_at,
    )


def clinical_staff(session: Session) -> list[Staff]:
    """People who can hold a competency: active, not service accounts, not IT or research."""
    stmt = (
        select(Staff)
        .where(Staff.active.is_(True), Staff.role.notin_(("integration", "admin", "researcher")))
        .order_by(Staff.name)
    )
    return list(session.scalars(stmt))


def board(session: Session, actor: Actor, on: date | None = None) -> CompetencyBoardOut:
    """Every clinical member of staff × every competency with its state on ``on``."""
    actor.require(Permission.MANAGE_COMPETENCIES)
    on = on or utcnow().date()
    warn = expiring_days(session)
    staff = clinical_staff(session)
    held = in_force(_rows_for(session, [s.id for s in staff]))
    rows = []
    for s in staff:
        for code in COMPETENCIES:
            r = held.get((s.id, code))
            state = state_of(r, on, warn)
            rows.append(
                CompetencyStatusOut(
                    staff_id=s.id,
                    staff_name=s.name,
                    competency=code,
                    state=state,
                    expires_on=r.expires_on if r and state != "none" else None,
                    days_left=(r.expires_on - on).days if r and state != "none" else None,
                    record_id=r.id if r else None,
                )
            )
    return CompetencyBoardOut(
        on=on, expiring_within_days=warn, competencies=dict(COMPETENCIES), rows=rows
    )


def mine(session: Session, actor: Actor, on: date | None = None) -> list[CompetencyStatusOut]:
    """The actor's own competencies (any clinical member of staff sees their own)."""
    if actor.staff_id is None:
        raise Forbidden("competencies belong to a member of staff")
    on = on or utcnow().date()
    warn = expiring_days(session)
    staff = session.get(Staff, actor.staff_id)
    if staff is None:
        raise NotFound(f"staff {actor.staff_id} not found")
    held = in_force(_rows_for(session, [staff.id]))
    result = []
    for code in COMPETENCIES:
        r = held.get((staff.id, code))
        state = state_of(r, on, warn)
        result.append(
            CompetencyStatusOut(
                staff_id=staff.id,
                staff_name=staff.name,
                competency=code,
                state=state,
                expires_on=r.expires_on if r and state != "none" else None,
                days_left=(r.expires_on - on).days if r and state != "none" else None,
                record_id=r.id if r else None,
            )
        )
    return result
