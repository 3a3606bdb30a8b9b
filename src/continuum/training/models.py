"""Live simulation training: a session streams a simulated run into the ordinary pages.

Everything the stepper needs lives here, so a restarted server goes on where it stopped:
the session (its run, scenario, seed, acceleration and the last simulated minute written)
and the faults the instructor injected (with the simulated minute of onset and, once the
trainees did the right thing, the minute it was put right).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from continuum.core.vocab import sql_in
from continuum.db import Base, UTCDateTime, utcnow

STATUSES = ("running", "ended")


class TrainingSession(Base):
    __tablename__ = "training_session"
    __table_args__ = (
        CheckConstraint(sql_in("status", STATUSES), name="status"),
        CheckConstraint("acceleration >= 1 AND acceleration <= 600", name="acceleration"),
        CheckConstraint("sim_minutes >= 1", name="sim_minutes"),
        CheckConstraint("(status = 'ended') = (ended_at IS NOT NULL)", name="ended"),
        Index("ix_training_session_status", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("run.id"), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    scenario: Mapped[str] = mapped_column(String(64))
    mode: Mapped[str] = mapped_column(String(8))
    seed: Mapped[int] = mapped_column(Integer)
    acceleration: Mapped[float] = mapped_column(Float)
    sim_minutes: Mapped[int] = mapped_column(Integer)
    fault_ramp_minutes: Mapped[int] = mapped_column(Integer)
    lead_in_minutes: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_minute: Mapped[int] = mapped_column(Integer, default=-1)
    stepped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16), default="running")
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    instructor_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    trainee_ids: Mapped[list[Any]] = mapped_column(JSON, default=list)
    debrief_note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TrainingFault(Base):
    """One fault the instructor injected (a scenario of the simulator's library)."""

    __tablename__ = "training_fault"
    __table_args__ = (
        CheckConstraint("onset_minute >= 0", name="onset"),
        CheckConstraint(
            "resolved_minute IS NULL OR resolved_minute >= onset_minute", name="resolved_after"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("training_session.id"), index=True)
    scenario: Mapped[str] = mapped_column(String(64))
    fault: Mapped[str] = mapped_column(String(40))
    onset_minute: Mapped[int] = mapped_column(Integer)
    injected_at: Mapped[datetime] = mapped_column(UTCDateTime)
    injected_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    resolved_minute: Mapped[int | None] = mapped_column(Integer)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_by_event: Mapped[int | None] = mapped_column(Integer)
