"""ECPR times of a run started during cardiopulmonary resuscitation: when the arrest and
CPR began and when full ECMO flow was reached. The low-flow time (CPR start → full flow) is
the programme's ECPR figure (docs/quality-metrics.md); the decision's candidacy holds only
the CPR minutes at assessment.

Append-only like the hospital outcome: a correction is a new row naming the row in force
(``corrects_id``) with its reason. Entered on runs whose support is ECPR or cardiac (VA
started during CPR); by whoever manages the run (``MANAGE_RUN``). Audited and on the
clinical timeline (``ecpr.times_recorded``).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, Field
from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, Text
from sqlalchemy.orm import Mapped, Session, mapped_column

from continuum.core import appended_rows, audit
from continuum.core.clinical_event import record_event
from continuum.core.roles import Actor, Permission
from continuum.core.run_record import Run
from continuum.core.schemas import RecordId, Strict, not_future
from continuum.db import Base, UTCDateTime, utcnow
from continuum.errors import Conflict, FieldProblem, ValidationFailed

SUPPORTS = ("ecpr", "cardiac")
MAX_LOW_FLOW_MIN = 300  # 5 h of CPR before full flow: beyond it, a typing error
# Full flow is reached around the run's first flow (its start): from 30 min before (the
# start was charted late) to 6 h after (flow was raised slowly).
FLOW_BEFORE_START = timedelta(minutes=30)
FLOW_AFTER_START = timedelta(hours=6)


class EcprTimes(Base):
    __tablename__ = "ecpr_times"
    __table_args__ = (
        CheckConstraint("full_flow_at > cpr_started_at", name="order"),
        CheckConstraint("corrects_id IS NULL OR reason IS NOT NULL", name="correction_reason"),
        Index("ix_ecpr_times_run", "run_id", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("run.id"))
    cpr_started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    full_flow_at: Mapped[datetime] = mapped_column(UTCDateTime)
    corrects_id: Mapped[int | None] = mapped_column(ForeignKey("ecpr_times.id"))
    reason: Mapped[str | None] = mapped_column(Text)
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def low_flow_min(self) -> float:
        return (self.full_flow_at - self.cpr_started_at).total_seconds() / 60


class EcprTimesIn(Strict):
    cpr_started_at: Annotated[AwareDatetime, AfterValidator(not_future)] = Field(
        description="arrest / start of CPR"
    )
    full_flow_at: Annotated[AwareDatetime, AfterValidator(not_future)] = Field(
        description="full ECMO flow reached"
    )
    corrects_id: RecordId | None = None
    reason: Annotated[str | None, Field(min_length=3, max_length=2000)] = None


class EcprTimesOut(Strict):
    id: int
    run_id: int
    cpr_started_at: datetime
    full_flow_at: datetime
    low_flow_min: float
    corrects_id: int | None
    reason: str | None
    recorded_by: int | None
    recorded_at: datetime


class EcprTimesView(Strict):
    run_id: int
    support_type: str
    run_started_at: datetime
    in_force: EcprTimesOut | None
    history: list[EcprTimesOut] = Field(description="every row, newest first")


def history(session: Session, run_id: int) -> list[EcprTimes]:
    """Every row of the run, newest first (the first one is in force)."""
    return appended_rows.history(session, EcprTimes, run_id)


def in_force(session: Session, run_id: int) -> EcprTimes | None:
    return appended_rows.in_force(session, EcprTimes, run_id)


def in_force_for_runs(session: Session, run_ids: Iterable[int]) -> dict[int, EcprTimes]:
    """The value in force of each run that has one (the latest row)."""
    return appended_rows.in_force_for_runs(session, EcprTimes, run_ids)


def summary_text(low_flow_min: float, corrected: bool, reason: str | None) -> str:
    text = f"ECPR low-flow time {low_flow_min:.0f} min (CPR start → full ECMO flow)"
    return f"{text} — corrected: {reason}" if corrected else text


def _check(session: Session, run: Run, data: EcprTimesIn) -> None:
    if run.support_type not in SUPPORTS:
        raise ValidationFailed(
            [
                FieldProblem(
                    "support_type",
                    f"ECPR times belong to a run started during CPR (support "
                    f"{' or '.join(SUPPORTS)}); run {run.id} is {run.support_type}",
                    run.support_type,
                )
            ]
        )
    problems: list[FieldProblem] = []
    low = (data.full_flow_at - data.cpr_started_at).total_seconds() / 60
    if low <= 0:
        problems.append(
            FieldProblem(
                "full_flow_at",
                f"after the start of CPR ({data.cpr_started_at.isoformat()})",
                data.full_flow_at.isoformat(),
            )
        )
    elif low > MAX_LOW_FLOW_MIN:
        problems.append(
            FieldProblem(
                "cpr_started_at",
                f"at most {MAX_LOW_FLOW_MIN} min before full flow (this gives {low:.0f} min of "
                "low flow)",
                data.cpr_started_at.isoformat(),
            )
        )
    earliest = run.started_at - FLOW_BEFORE_START
    latest = run.started_at + FLOW_AFTER_START
    if not earliest <= data.full_flow_at <= latest:
        problems.append(
            FieldProblem(
                "full_flow_at",
                f"between {earliest.isoformat()} and {latest.isoformat()} (30 min before to "
                f"6 h after the run's start, {run.started_at.isoformat()})",
                data.full_flow_at.isoformat(),
            )
        )
    if data.corrects_id is not None and not data.reason:
        problems.append(
            FieldProblem("reason", "a correction needs its reason (3–2000 characters)", None)
        )
    if data.corrects_id is None and data.reason:
        problems.append(
            FieldProblem(
                "reason", "only a correction has a reason: give corrects_id too", data.reason
            )
        )
    if problems:
        raise ValidationFailed(problems)
    current = in_force(session, run.id)
    if data.corrects_id is None and current is not None:
        raise Conflict(
            f"run {run.id} already has ECPR times (#{current.id}): correct them "
            f"(corrects_id {current.id}) with a reason"
        )
    if data.corrects_id is not None and (current is None or current.id != data.corrects_id):
        force = f"#{current.id}" if current is not None else "none recorded"
        raise Conflict(
            f"corrects_id {data.corrects_id} is not the run's ECPR times in force ({force})"
        )


def record(session: Session, actor: Actor, run: Run, data: EcprTimesIn) -> EcprTimes:
    """Record (or correct) when CPR started and when full ECMO flow was reached."""
    actor.require(Permission.MANAGE_RUN)
    _check(session, run, data)
    row = EcprTimes(
        run_id=run.id,
        cpr_started_at=data.cpr_started_at,
        full_flow_at=data.full_flow_at,
        corrects_id=data.corrects_id,
        reason=data.reason,
        recorded_by=actor.staff_id,
        recorded_at=utcnow(),
    )
    session.add(row)
    session.flush()
    detail = {
        "cpr_started_at": data.cpr_started_at.isoformat(),
        "full_flow_at": data.full_flow_at.isoformat(),
        "corrects_id": data.corrects_id,
    }
    action = "create" if data.corrects_id is None else "correct"
    audit.record(session, actor, action, "ecpr_times", row.id, run.patient_id, detail)
    record_event(
        session,
        actor,
        "ecpr.times_recorded",
        data.full_flow_at,
        summary_text(row.low_flow_min, data.corrects_id is not None, data.reason),
        ("ecpr_times", row.id),
        run,
        details={"low_flow_min": round(row.low_flow_min, 1)},
    )
    return row


def out(row: EcprTimes) -> EcprTimesOut:
    return EcprTimesOut(
        id=row.id,
        run_id=row.run_id,
        cpr_started_at=row.cpr_started_at,
        full_flow_at=row.full_flow_at,
        low_flow_min=round(row.low_flow_min, 1),
        corrects_id=row.corrects_id,
        reason=row.reason,
        recorded_by=row.recorded_by,
        recorded_at=row.recorded_at,
    )
