"""Circuit alerts as stored: one row per alert episode, an append-only history of what
happened to it, and the baselines each component segment established."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from continuum.core.vocab import sql_in
from continuum.db import Base, UTCDateTime, utcnow

SEVERITIES = ("info", "warning", "critical")
STATUSES = ("open", "acknowledged", "resolved")
EVENT_KINDS = ("raised", "escalated", "updated", "acknowledged", "cleared", "resolved")


class CircuitAlert(Base):
    """One alert episode of one detector on one run.

    ``severity`` is the current level, ``peak_severity`` the worst it reached; only a rise
    above the peak re-raises (escalates) it. ``cleared_at``: the condition ended (the alert
    stays on the list until someone resolves it).
    """

    __tablename__ = "alert"
    __table_args__ = (
        CheckConstraint(sql_in("severity", SEVERITIES), name="severity"),
        CheckConstraint(sql_in("peak_severity", SEVERITIES), name="peak_severity"),
        CheckConstraint(sql_in("status", STATUSES), name="status"),
        Index("ix_alert_run_detector_status", "run_id", "detector", "status"),
        Index("ix_alert_status_raised", "status", "raised_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("run.id"))
    detector: Mapped[str] = mapped_column(String(48))
    severity: Mapped[str] = mapped_column(String(16))
    peak_severity: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="open")
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime)
    cleared_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    summary: Mapped[str] = mapped_column(Text)
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    acknowledged_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledge_comment: Mapped[str | None] = mapped_column(Text)
    resolved_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolve_note: Mapped[str | None] = mapped_column(Text)


class AlertEvent(Base):
    """Append-only history of an alert; its id is the cursor the live stream follows."""

    __tablename__ = "alert_event"
    __table_args__ = (CheckConstraint(sql_in("kind", EVENT_KINDS), name="kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alert.id"), index=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("run.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    severity: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    by_name: Mapped[str] = mapped_column(String(100))
    comment: Mapped[str | None] = mapped_column(Text)
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class SurveillanceBaseline(Base):
    """A baseline (e.g. ΔP per L/min of flow) of the component segment starting at
    ``segment_start``: kept so that each batch replays only a recent window."""

    __tablename__ = "surveillance_baseline"

    run_id: Mapped[int] = mapped_column(ForeignKey("run.id"), primary_key=True)
    segment_start: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    key: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[float] = mapped_column(Float)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SurveillanceDue(Base):
    """A run with stored observations that surveillance has not evaluated yet (streaming
    ingest defers evaluation: ``continuum.alerts.due``).

    ``version`` counts the batches marked; an evaluation removes the mark only if no batch
    came in meanwhile. ``codes``: the batches' watched codes, comma-separated (NULL: the
    batches differed, evaluate up to the newest watched value). ``attempts`` and
    ``next_try_at``: back-off after failed evaluations.
    """

    __tablename__ = "surveillance_due"
    __table_args__ = (Index("ix_surveillance_due_next_try", "next_try_at"),)

    run_id: Mapped[int] = mapped_column(ForeignKey("run.id"), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    codes: Mapped[str | None] = mapped_column(Text)
    marked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    next_try_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    # the earliest observation time the marked batches stored or changed (NULL: unknown,
    # the evaluator re-reads the run's window instead of carrying its samples on)
    changed_from: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SurveillanceSample(Base):
    """What the detectors read of a dense signal (console, monitor) in one grid step
    ``[step_start_ms, step_start_ms + step)``: its first and its last final observation
    (of equal times, the one read last), times in ms since 1970 UTC. Kept by the evaluator
    (``continuum.alerts.samples``) from new observations only, so that a pass does not
    read a long window's raw rows again."""

    __tablename__ = "surveillance_sample"

    run_id: Mapped[int] = mapped_column(ForeignKey("run.id"), primary_key=True)
    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    step_start_ms: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    first_ms: Mapped[int] = mapped_column(BigInteger)
    first_value: Mapped[float] = mapped_column(Float)
    last_ms: Mapped[int] = mapped_column(BigInteger)
    last_value: Mapped[float] = mapped_column(Float)


class SurveillanceProgress(Base):
    """A run's samples: made with grid step ``step_ms``, complete from ``covered_from_ms``
    for every observation committed up to the last evaluation (later batches say from when
    they changed the record in ``SurveillanceDue.changed_from``)."""

    __tablename__ = "surveillance_progress"

    run_id: Mapped[int] = mapped_column(ForeignKey("run.id"), primary_key=True)
    step_ms: Mapped[int] = mapped_column(Integer)
    covered_from_ms: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
