"""Research tables: saved cohorts (name, definition, who, when) and export jobs.

A saved cohort keeps its definition as JSON (``research.cohort.CohortDefinition``); the runs
it holds are found from the record each time, so a late correction shows in the next count
or export. An export job is a database row, not process memory: the page started in one app
process can be followed from another, and a job whose process died stays visible as such.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from continuum.core.vocab import sql_in
from continuum.db import Base, UTCDateTime, utcnow

EXPORT_FORMATS: tuple[str, ...] = ("csv", "parquet", "redcap", "fhir", "omop", "clif")
EXPORT_STATUSES: tuple[str, ...] = ("queued", "running", "done", "failed")


class SavedCohort(Base):
    __tablename__ = "research_cohort"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ExportJob(Base):
    """One export of a cohort (or of every run): what was asked, by whom, why, its progress
    and, when done, its manifest (files, row counts, checksums)."""

    __tablename__ = "research_export"
    __table_args__ = (
        CheckConstraint(sql_in("format", EXPORT_FORMATS), name="format"),
        CheckConstraint(sql_in("status", EXPORT_STATUSES), name="status"),
        CheckConstraint("NOT identified OR purpose IS NOT NULL", name="identified_purpose"),
        Index("ix_research_export_requested", "requested_by", "requested_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cohort_id: Mapped[int | None] = mapped_column(ForeignKey("research_cohort.id"))
    cohort_name: Mapped[str] = mapped_column(String(120))
    format: Mapped[str] = mapped_column(String(16))
    identified: Mapped[bool] = mapped_column(Boolean, default=False)
    purpose: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    runs_total: Mapped[int] = mapped_column(Integer, default=0)
    runs_done: Mapped[int] = mapped_column(Integer, default=0)
    directory: Mapped[str | None] = mapped_column(Text)
    manifest: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    requested_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # when the writing process last reported progress (an interrupted export goes stale)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


# Free-text run fields a reviewer may release into a cohort's de-identified exports.
RELEASABLE_TEXT: tuple[str, ...] = ("indication", "diagnosis", "stop_reason", "location")


class TextRelease(Base):
    """A reviewer's decision on one free-text field of one saved cohort, appended (the latest
    row per cohort and field is in force): released (the reviewer read every value and found
    no identifier) or withdrawn. ``values_sha256`` fingerprints the values the reviewer read:
    once the cohort's values differ (a new run, a corrected text), the release no longer
    applies until the field is reviewed again."""

    __tablename__ = "research_text_release"
    __table_args__ = (
        CheckConstraint(sql_in("field", RELEASABLE_TEXT), name="field"),
        Index("ix_research_text_release_cohort", "cohort_id", "field", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("research_cohort.id"))
    field: Mapped[str] = mapped_column(String(32))
    released: Mapped[bool] = mapped_column(Boolean)
    values_sha256: Mapped[str] = mapped_column(String(64))
    value_count: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text)
    by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    by_name: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
