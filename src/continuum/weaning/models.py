"""Weaning records: readiness reviews, trials with their steps, decannulation checklists,
follow-up items."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from continuum.core.vocab import OUTCOMES, sql_in
from continuum.db import Base, UTCDateTime, utcnow

TRIAL_KINDS = ("fdo2_reduction", "sweep_reduction", "sweep_off", "va_flow_reduction")
TRIAL_STATUSES = ("in_progress", "passed", "failed", "aborted")
FAMILIES = ("VV", "VA")


class ReadinessReview(Base):
    """A saved readiness review: every criterion with its value, time, verdict and source."""

    __tablename__ = "weaning_review"
    __table_args__ = (CheckConstraint(sql_in("family", FAMILIES), name="family"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("run.id"), index=True)
    family: Mapped[str] = mapped_column(String(4))
    reviewed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    reviewed_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    reviewer: Mapped[str] = mapped_column(String(120))
    criteria: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    met: Mapped[int] = mapped_column(Integer)
    not_met: Mapped[int] = mapped_column(Integer)
    unknown: Mapped[int] = mapped_column(Integer)
    note: Mapped[str | None] = mapped_column(Text)


class WeaningTrial(Base):
    __tablename__ = "weaning_trial"
    __table_args__ = (
        CheckConstraint(sql_in("kind", TRIAL_KINDS), name="kind"),
        CheckConstraint(sql_in("status", TRIAL_STATUSES), name="status"),
        CheckConstraint(
            "(status = 'in_progress') = (ended_at IS NULL)", name="ended_when_not_in_progress"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("run.id"), index=True)
    kind: Mapped[str] = mapped_column(String(24))
    status: Mapped[str] = mapped_column(String(16), default="in_progress")
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    started_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    planned_minutes: Mapped[int | None] = mapped_column(Integer)
    baseline_flow: Mapped[float | None] = mapped_column(Float)
    outcome_reason: Mapped[str | None] = mapped_column(Text)
    ended_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    # The perfusionist's assessment: circuit safety (minimum flow, anticoagulation at low flow)
    perfusion_assessment: Mapped[str | None] = mapped_column(Text)
    perfusion_flow_safe: Mapped[bool | None] = mapped_column(Boolean)
    perfusion_anticoagulation_ok: Mapped[bool | None] = mapped_column(Boolean)
    perfusion_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    perfusion_name: Mapped[str | None] = mapped_column(String(120))
    perfusion_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    steps: Mapped[list[TrialStep]] = relationship(
        order_by="TrialStep.seq", cascade="all, delete-orphan"
    )


class TrialStep(Base):
    __tablename__ = "weaning_step"
    __table_args__ = (UniqueConstraint("trial_id", "seq", name="uq_weaning_step_seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    trial_id: Mapped[int] = mapped_column(ForeignKey("weaning_trial.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    stage: Mapped[str] = mapped_column(String(24))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    measurements: Mapped[dict[str, float]] = mapped_column(JSON)
    judged: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    note: Mapped[str | None] = mapped_column(Text)
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Decannulation(Base):
    """The structured decannulation checklist; immutable once both parts are signed."""

    __tablename__ = "decannulation"
    __table_args__ = (CheckConstraint(sql_in("outcome", OUTCOMES), name="outcome"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("run.id"), index=True)
    trial_id: Mapped[int | None] = mapped_column(ForeignKey("weaning_trial.id"))
    no_trial_reason: Mapped[str | None] = mapped_column(Text)
    decannulated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    anticoagulation_stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    anticoagulation_note: Mapped[str | None] = mapped_column(Text)
    coagulation: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    blood_products_available: Mapped[bool] = mapped_column(Boolean)
    positioning: Mapped[str] = mapped_column(String(200))
    closure_technique: Mapped[str] = mapped_column(String(200))
    haemostasis_minutes: Mapped[float] = mapped_column(Float)
    limb_perfusion: Mapped[str] = mapped_column(Text)
    doppler: Mapped[str | None] = mapped_column(Text)
    outcome: Mapped[str] = mapped_column(String(32))
    stop_reason: Mapped[str] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    physician_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    physician_name: Mapped[str | None] = mapped_column(String(120))
    physician_signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    perfusionist_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    perfusionist_name: Mapped[str | None] = mapped_column(String(120))
    perfusionist_signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def signed(self) -> bool:
        return self.physician_signed_at is not None and self.perfusionist_signed_at is not None


class FollowUp(Base):
    """An action after decannulation (venous Doppler, ABG at 1 h and 24 h …)."""

    __tablename__ = "weaning_follow_up"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("run.id"), index=True)
    decannulation_id: Mapped[int] = mapped_column(ForeignKey("decannulation.id"), index=True)
    item: Mapped[str] = mapped_column(String(200))
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    done_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    result: Mapped[str | None] = mapped_column(Text)
