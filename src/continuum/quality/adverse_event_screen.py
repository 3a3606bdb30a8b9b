"""Possible adverse events set aside: a record found by the screen (a critical alert, a
component changed for a failure, an aborted weaning trial, a transfusion above the
threshold, a circuit check with clot) that a reviewer judged "not an adverse event", with
the reason, who and when. One row per source record; the screen then no longer lists it.
Recording the event instead needs no row here: the register's ``source_type``/``source_id``
already says it was recorded."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from continuum.core.vocab import sql_in
from continuum.db import Base, UTCDateTime, utcnow
from continuum.quality.taxonomy import SOURCES

SCREEN_DECISIONS: tuple[str, ...] = ("dismissed",)


class AdverseEventScreen(Base):
    __tablename__ = "adverse_event_screen"
    __table_args__ = (
        CheckConstraint(sql_in("source_type", SOURCES), name="source_type"),
        CheckConstraint(sql_in("decision", SCREEN_DECISIONS), name="decision"),
        UniqueConstraint("source_type", "source_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("run.id"), index=True)
    source_type: Mapped[str] = mapped_column(String(24))
    source_id: Mapped[int] = mapped_column(Integer)
    decision: Mapped[str] = mapped_column(String(16), default="dismissed")
    reason: Mapped[str] = mapped_column(Text)
    by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
