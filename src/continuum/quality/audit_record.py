"""Clinical audits: the table of audit definitions (criterion, standard, period, title).

Compliance is not stored: it is computed from the record each time the audit is opened
(``quality.audits``), so a late correction to the record shows in the result. A re-audit is
a second audit of the same criterion for a later period; the audit page sets it beside the
previous one.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import CheckConstraint, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from continuum.core.vocab import sql_in
from continuum.db import Base, UTCDateTime, utcnow

# The criteria the record can answer (quality.audits.CRITERIA describes each).
CRITERIA: tuple[str, ...] = (
    "anticoagulation_in_range",
    "circuit_check_every_shift",
    "perfusion_at_rounds",
    "decannulation_checklist",
    "ml_changes_planned",
)


class ClinicalAudit(Base):
    __tablename__ = "quality_audit"
    __table_args__ = (
        CheckConstraint(sql_in("criterion", CRITERIA), name="criterion"),
        CheckConstraint("standard_pct >= 0 AND standard_pct <= 100", name="standard_pct"),
        CheckConstraint("period_end > period_start", name="period_order"),
        Index("ix_quality_audit_criterion_period", "criterion", "period_start"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    criterion: Mapped[str] = mapped_column(String(48))
    standard_pct: Mapped[float] = mapped_column(Float)
    period_start: Mapped[datetime] = mapped_column(UTCDateTime)
    period_end: Mapped[datetime] = mapped_column(UTCDateTime)
    note: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def last_moment(self) -> datetime:
        """Just before the (exclusive) end: shown as the period's last day, included."""
        return self.period_end - timedelta(minutes=1)
