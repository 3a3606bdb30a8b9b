"""The registry review's tables. The run record itself is built from the captured record
each time it is read (``registry_build``); only what a reviewer adds is stored here, and
never overwritten:

* ``registry_amendment``: one row per confirmation or correction of one field (field, the
  value shown before, the new value, reason, who, when). The latest row of a field is in
  force; earlier ones stay as its history.
* ``registry_submission``: the run marked ready for submission (who, when, completeness at
  that moment). A later correction does not remove it; the page says it came after.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from continuum.core.vocab import sql_in
from continuum.db import Base, UTCDateTime, utcnow

ACTIONS: tuple[str, ...] = ("confirm", "correct")


class RegistryAmendment(Base):
    __tablename__ = "registry_amendment"
    __table_args__ = (
        CheckConstraint(sql_in("action", ACTIONS), name="action"),
        Index("ix_registry_amendment_run_field", "run_id", "field", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("run.id"))
    field: Mapped[str] = mapped_column(String(120))  # "<table>.<row>.<name>"
    action: Mapped[str] = mapped_column(String(16))
    old_value: Mapped[str | None] = mapped_column(Text)
    new_value: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(Text)
    by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    by_name: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RegistrySubmission(Base):
    __tablename__ = "registry_submission"
    __table_args__ = (Index("ix_registry_submission_run", "run_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("run.id"))
    completeness_pct: Mapped[float] = mapped_column(Float)
    by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    by_name: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
