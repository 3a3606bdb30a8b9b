"""Planned exchanges: a perfusion-led procedure to change a membrane lung, a pump or the
whole circuit at a chosen time, with the team and equipment ready, instead of in a hurry.

Append-only: every change to a plan (marking it done, cancelling it, correcting it) is a
new row naming the row it follows (``follows_id``); the row no later row follows is the
plan in force. ``plan_id`` is the first row's id (the plan's number) and is the same on
every row of one plan. A component change made through a done exchange is "planned"; any
other is "urgent" (quality metrics read ``planned_replaced_ids``).
"""

from __future__ import annotations

from collections.abc import Iterable
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
    select,
)
from sqlalchemy.orm import Mapped, Session, aliased, mapped_column

from continuum.core.vocab import sql_in
from continuum.db import Base, UTCDateTime, utcnow

TARGET_LABELS: dict[str, str] = {
    "membrane_lung": "Membrane lung",
    "pump": "Pump head",
    "circuit": "Whole circuit",
}
# The component the exchange replaces; a whole-circuit change is recorded as the new
# membrane lung (the part the criteria watch), the rest on the circuit page.
TARGET_COMPONENT: dict[str, str] = {
    "membrane_lung": "membrane_lung",
    "pump": "pump",
    "circuit": "membrane_lung",
}
STATUS_LABELS: dict[str, str] = {
    "planned": "Planned",
    "done": "Done",
    "cancelled": "Cancelled",
}
# The checklist: phase → (item key, what is checked).
CHECKLIST: dict[str, tuple[tuple[str, str], ...]] = {
    "before": (
        ("team_briefed", "Team briefed (perfusionist, physician, nurse)"),
        ("circuit_primed", "New part primed and de-aired"),
        ("clamps_ready", "Clamps, connectors and spare tubing at the bedside"),
        ("ventilator_ready", "Ventilator / rescue settings agreed for the clamp time"),
    ),
    "during": (
        ("flow_clamped", "Flow off and lines clamped; clamp time started"),
        ("connections_checked", "Connections checked, no air"),
        ("flow_restored", "Flow restored, sweep gas connected"),
    ),
    "after": (
        ("gases_checked", "Post-oxygenator blood gas checked"),
        ("pressures_checked", "Pressures and flow checked"),
        ("old_part_kept", "Old part labelled and kept for inspection"),
    ),
}
CHECK_ITEMS: tuple[str, ...] = tuple(k for items in CHECKLIST.values() for k, _ in items)
# The values compared before and after: observation code → (label, unit).
VALUE_CODES: dict[str, tuple[str, str]] = {
    "post_oxy_po2": ("Post-oxygenator pO2", "mmHg"),
    "oxy_delta_p": ("ΔP across the membrane lung", "mmHg"),
    "blood_flow": ("Blood flow", "L/min"),
}


class ExchangePlan(Base):
    """One version of a planned exchange (append-only)."""

    __tablename__ = "exchange_plan"
    __table_args__ = (
        CheckConstraint(sql_in("target", tuple(TARGET_LABELS)), name="target"),
        CheckConstraint(sql_in("status", tuple(STATUS_LABELS)), name="status"),
        CheckConstraint("status != 'cancelled' OR reason IS NOT NULL", name="cancel_reason"),
        CheckConstraint("clamp_s IS NULL OR (clamp_s >= 0 AND clamp_s <= 3600)", name="clamp_s"),
        Index("ix_exchange_plan_run", "run_id", "plan_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plan_id: Mapped[int | None] = mapped_column(Integer, index=True)
    follows_id: Mapped[int | None] = mapped_column(ForeignKey("exchange_plan.id"))
    run_id: Mapped[int] = mapped_column(ForeignKey("run.id"))
    target: Mapped[str] = mapped_column(String(24))
    status: Mapped[str] = mapped_column(String(16), default="planned")
    planned_at: Mapped[datetime] = mapped_column(UTCDateTime)
    perfusionist_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    physician_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    equipment_ready: Mapped[bool] = mapped_column(Boolean, default=False)
    prime_ready: Mapped[bool] = mapped_column(Boolean, default=False)
    blood_products: Mapped[str | None] = mapped_column(Text)
    anticoagulation_plan: Mapped[str | None] = mapped_column(Text)
    checklist: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    clamp_s: Mapped[int | None] = mapped_column(Integer)
    values_before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    values_after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    alert_id: Mapped[int | None] = mapped_column(ForeignKey("alert.id"))
    forecast: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    replaced_id: Mapped[int | None] = mapped_column(ForeignKey("component.id"))
    component_id: Mapped[int | None] = mapped_column(ForeignKey("component.id"))
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reason: Mapped[str | None] = mapped_column(Text)
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def number(self) -> int:
        return self.plan_id or self.id


def in_force(session: Session, run_ids: Iterable[int] | None = None) -> list[ExchangePlan]:
    """The version in force of each plan (no later row follows it), oldest plan first."""
    later = aliased(ExchangePlan)
    stmt = select(ExchangePlan).where(
        ~select(later.id).where(later.follows_id == ExchangePlan.id).exists()
    )
    if run_ids is not None:
        stmt = stmt.where(ExchangePlan.run_id.in_(list(run_ids)))
    return list(session.scalars(stmt.order_by(ExchangePlan.plan_id, ExchangePlan.id)))


def planned_replaced_ids(session: Session, run_ids: Iterable[int]) -> set[int]:
    """Components stopped by a done planned exchange (their change counts as planned)."""
    return {
        p.replaced_id
        for p in in_force(session, run_ids)
        if p.status == "done" and p.replaced_id is not None
    }
