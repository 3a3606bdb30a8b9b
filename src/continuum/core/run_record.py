"""The ECMO run and its circuit, shaped like ECLS-CDM: run → circuits → mode segments
and time-bounded components; cannulas belong to the run and survive a circuit change."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    Select,
    String,
    Text,
    false,
    select,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.sql.elements import ColumnElement

from continuum.core.people import Patient
from continuum.core.vocab import (
    CANNULA_ROLES,
    COMPONENT_KINDS,
    MODES,
    OUTCOMES,
    RUN_STATUSES,
    SIDES,
    SUPPORT_TYPES,
    sql_in,
)
from continuum.db import Base, UTCDateTime, utcnow


class Run(Base):
    """One continuous period of ECMO support, from first flow to the last cannula out."""

    __tablename__ = "run"
    __table_args__ = (
        CheckConstraint(sql_in("support_type", SUPPORT_TYPES), name="support_type"),
        CheckConstraint(sql_in("status", RUN_STATUSES), name="status"),
        CheckConstraint(f"outcome IS NULL OR {sql_in('outcome', OUTCOMES)}", name="outcome"),
        CheckConstraint("ended_at IS NULL OR ended_at >= started_at", name="end_after_start"),
        CheckConstraint(
            "(status = 'ended') = (ended_at IS NOT NULL AND outcome IS NOT NULL)", name="ended"
        ),
        Index("ix_run_status_started", "status", "started_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), index=True)
    support_type: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="active")
    indication: Mapped[str | None] = mapped_column(Text)
    diagnosis: Mapped[str | None] = mapped_column(Text)
    location: Mapped[str | None] = mapped_column(String(100))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[str | None] = mapped_column(String(32))
    stop_reason: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # A simulation-training run (continuum.training): a simulated patient, shown marked
    # "TRAINING" everywhere and left out of every metric, chart, export and registry.
    is_training: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    patient: Mapped[Patient] = relationship()
    circuits: Mapped[list[Circuit]] = relationship(
        back_populates="run", order_by="Circuit.started_at"
    )
    modes: Mapped[list[ModeSegment]] = relationship(order_by="ModeSegment.started_at")
    cannulas: Mapped[list[Cannula]] = relationship(order_by="Cannula.inserted_at")
    components: Mapped[list[Component]] = relationship(order_by="Component.started_at")


class Circuit(Base):
    __tablename__ = "circuit"
    __table_args__ = (
        CheckConstraint("ended_at IS NULL OR ended_at >= started_at", name="end_after_start"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("run.id"), index=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    tubing_size_in: Mapped[float | None] = mapped_column(Float)
    priming_solution: Mapped[str | None] = mapped_column(String(32))
    stop_reason: Mapped[str | None] = mapped_column(String(64))
    run: Mapped[Run] = relationship(back_populates="circuits")


class ModeSegment(Base):
    """A period in one mode; on a switch the old segment's end equals the new one's start."""

    __tablename__ = "mode_segment"
    __table_args__ = (
        CheckConstraint(sql_in("mode", MODES), name="mode"),
        CheckConstraint("ended_at IS NULL OR ended_at >= started_at", name="end_after_start"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("run.id"), index=True)
    circuit_id: Mapped[int | None] = mapped_column(ForeignKey("circuit.id"))
    mode: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reason: Mapped[str | None] = mapped_column(Text)
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))


class Cannula(Base):
    __tablename__ = "cannula"
    __table_args__ = (
        CheckConstraint(sql_in("role", CANNULA_ROLES), name="role"),
        CheckConstraint(f"side IS NULL OR {sql_in('side', SIDES)}", name="side"),
        CheckConstraint("french IS NULL OR (french >= 6 AND french <= 40)", name="french"),
        CheckConstraint("removed_at IS NULL OR removed_at >= inserted_at", name="removed_after"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("run.id"), index=True)
    role: Mapped[str] = mapped_column(String(32))
    site: Mapped[str] = mapped_column(String(64))
    side: Mapped[str | None] = mapped_column(String(16))
    french: Mapped[int | None] = mapped_column(Integer)
    length_cm: Mapped[float | None] = mapped_column(Float)
    insertion_depth_cm: Mapped[float | None] = mapped_column(Float)
    tip_position: Mapped[str | None] = mapped_column(String(64))
    make: Mapped[str | None] = mapped_column(String(100))
    model: Mapped[str | None] = mapped_column(String(100))
    serial: Mapped[str | None] = mapped_column(String(100))
    lot: Mapped[str | None] = mapped_column(String(100))
    udi: Mapped[str | None] = mapped_column(String(255))
    inserted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    stop_reason: Mapped[str | None] = mapped_column(String(64))
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))


class Component(Base):
    """A circuit part (console, pump, membrane lung, heater, tubing set) in service for a time."""

    __tablename__ = "component"
    __table_args__ = (
        CheckConstraint(sql_in("kind", COMPONENT_KINDS), name="kind"),
        CheckConstraint("stopped_at IS NULL OR stopped_at >= started_at", name="stop_after"),
        CheckConstraint("(stopped_at IS NULL) = (stop_reason IS NULL)", name="stop_needs_reason"),
        Index("ix_component_run_kind", "run_id", "kind", "started_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("run.id"))
    circuit_id: Mapped[int] = mapped_column(ForeignKey("circuit.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    make: Mapped[str | None] = mapped_column(String(100))
    model: Mapped[str | None] = mapped_column(String(100))
    serial: Mapped[str | None] = mapped_column(String(100))
    lot: Mapped[str | None] = mapped_column(String(100))
    udi: Mapped[str | None] = mapped_column(String(255))
    rated_flow_l_min: Mapped[float | None] = mapped_column(Float)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    stop_reason: Mapped[str | None] = mapped_column(String(64))
    stop_note: Mapped[str | None] = mapped_column(Text)
    replaces_id: Mapped[int | None] = mapped_column(ForeignKey("component.id"))
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))


def not_training() -> ColumnElement[bool]:
    """The condition that keeps simulation-training runs out of a query over runs: every
    metric, chart, export, registry, cohort, screen and board count uses it."""
    return Run.is_training.is_(False)


def clinical_run_ids() -> Select[tuple[int]]:
    """The ids of runs on real patients, for queries over tables keyed by ``run_id``."""
    return select(Run.id).where(not_training())
