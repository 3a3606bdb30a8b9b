"""Adverse events: the register's tables.

``adverse_event`` keeps the report as it was first entered, never changed. Every later
correction, and the harm and preventability agreed at review, is an
``adverse_event_amendment`` row (field, new value, reason, who, when; ``kind`` says whether it
was a correction or a review consensus). The values in force are the report with its
amendments applied in order (``quality.adverse_events.in_force``), so the history of harm and
preventability is always there to read. ``version`` counts the amendments: a writer names
the version it opened (If-Match) and a stale one is refused.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from continuum.core.vocab import sql_in
from continuum.db import Base, UTCDateTime, utcnow
from continuum.quality.taxonomy import (
    CATEGORIES,
    CODE_NAMES,
    DETECTIONS,
    EVENT_CLASSES,
    HARMS,
    PREVENTABILITIES,
    SOURCES,
)

# The fields an amendment may change (the report's own fields; run and patient never).
AMENDABLE_FIELDS: tuple[str, ...] = (
    "code",
    "event_class",
    "harm",
    "preventability",
    "occurred_at",
    "time_estimated",
    "component_id",
    "cannula_id",
    "detected_by",
    "description",
    "immediate_actions",
    # Agreed at M&M review only (the report has none): patient's disease, management,
    # technical, misadventure.
    "cause_class",
)
AMENDMENT_KINDS: tuple[str, ...] = ("correction", "consensus")


class AdverseEvent(Base):
    __tablename__ = "adverse_event"
    __table_args__ = (
        CheckConstraint(sql_in("code", CODE_NAMES), name="code"),
        CheckConstraint(sql_in("category", CATEGORIES), name="category"),
        CheckConstraint(sql_in("event_class", EVENT_CLASSES), name="event_class"),
        CheckConstraint(sql_in("harm", HARMS), name="harm"),
        CheckConstraint(
            f"preventability IS NULL OR {sql_in('preventability', PREVENTABILITIES)}",
            name="preventability",
        ),
        CheckConstraint(sql_in("detected_by", DETECTIONS), name="detected_by"),
        CheckConstraint(
            f"source_type IS NULL OR {sql_in('source_type', SOURCES)}", name="source_type"
        ),
        CheckConstraint("(source_type IS NULL) = (source_id IS NULL)", name="source_pair"),
        CheckConstraint("version >= 1", name="version"),
        Index("ix_adverse_event_run_time", "run_id", "occurred_at"),
        Index("ix_adverse_event_source", "source_type", "source_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("run.id"))
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), index=True)
    code: Mapped[str] = mapped_column(String(48))
    category: Mapped[str] = mapped_column(String(24))
    event_class: Mapped[str] = mapped_column(String(24))
    harm: Mapped[str] = mapped_column(String(24))
    preventability: Mapped[str | None] = mapped_column(String(24))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    time_estimated: Mapped[bool] = mapped_column(Boolean, default=False)
    component_id: Mapped[int | None] = mapped_column(ForeignKey("component.id"))
    cannula_id: Mapped[int | None] = mapped_column(ForeignKey("cannula.id"))
    detected_by: Mapped[str] = mapped_column(String(24))
    source_type: Mapped[str | None] = mapped_column(String(24))
    source_id: Mapped[int | None] = mapped_column(Integer)
    description: Mapped[str] = mapped_column(Text)
    immediate_actions: Mapped[str | None] = mapped_column(Text)
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)


class AdverseEventAmendment(Base):
    """One change to one field of a report: a correction, or the harm/preventability agreed
    at review (``review_id`` names the review; it is not a foreign key so the register does
    not depend on the review tables)."""

    __tablename__ = "adverse_event_amendment"
    __table_args__ = (
        CheckConstraint(sql_in("field", AMENDABLE_FIELDS), name="field"),
        CheckConstraint(sql_in("kind", AMENDMENT_KINDS), name="kind"),
        Index("ix_adverse_event_amendment_event", "event_id", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("adverse_event.id"))
    field: Mapped[str] = mapped_column(String(32))
    # The new value as text (ISO time, id, true/false or the text); NULL clears it.
    value: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(16), default="correction")
    review_id: Mapped[int | None] = mapped_column(Integer)
    by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
