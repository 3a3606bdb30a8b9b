"""The ambulation session record and its closed lists.

Append-only: a correction is a new row naming the row it follows (``follows_id``) with the
reason (``amend_reason``); the row no later row follows is the session in force.
``session_no`` is the first row's id (the session's number), the same on every version.
The circuit values before, during and after a session are not stored: they are read from
the stored observations with the programme's windows (``ambulation.settings``).
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
    Text,
    select,
)
from sqlalchemy.orm import Mapped, Session, aliased, mapped_column

from continuum.db import Base, UTCDateTime, utcnow

# ICU Mobility Scale (Hodgson C et al., Heart Lung 2014;43:19-24), docs/clinical/ims.md [P].
IMS_LABELS: dict[int, str] = {
    0: "Nothing (lying in bed)",
    1: "Sitting in bed, exercises in bed",
    2: "Passively moved to chair (no standing)",
    3: "Sitting over the edge of the bed",
    4: "Standing",
    5: "Transferring bed to chair",
    6: "Marching on the spot at the bedside",
    7: "Walking with the help of 2 or more people",
    8: "Walking with the help of 1 person",
    9: "Walking independently with a gait aid",
    10: "Walking independently without a gait aid",
}
IMS_MIN, IMS_MAX = 0, 10
# The pre-session safety check (docs/ambulation.md; the list is [U]).
SAFETY_ITEMS: dict[str, str] = {
    "flow_stable": "Flow stable without chattering",
    "cannula_secured": "Cannula securement and depth marks checked",
    "clamps_at_hand": "Clamps at hand",
    "tubing_slack": "Tubing slack adequate for the planned move",
    "roles_assigned": "Staff roles assigned (circuit, cannulae, airway, lead)",
    "stop_criteria": "Stop criteria agreed",
}
SAFETY_ANSWERS = ("pass", "fail")
EVENT_LABELS: dict[str, str] = {
    "flow_drop": "Flow drop",
    "desaturation": "Desaturation",
    "cannula_movement": "Cannula movement",
    "chattering": "Chattering (access insufficiency)",
    "fall": "Fall",
    "other": "Other",
}
# Disciplines present, grouped as the session names them (core.vocab.DISCIPLINES).
DISCIPLINE_GROUPS: dict[str, tuple[str, ...]] = {
    "Physiotherapy": ("physiotherapy",),
    "Perfusion": ("perfusion",),
    "Nursing": ("nursing",),
    "Medicine": ("intensive_care", "cardiac_surgery", "cardiology", "anaesthesia"),
    "Other": ("pharmacy", "other"),
}
# Circuit and patient values shown before, during and after: code → what "during" watches
# ("low": the lowest value matters, "high": the highest, "both").
VALUE_CODES: dict[str, str] = {
    "blood_flow": "low",
    "pump_speed": "both",
    "p_access": "low",
    "sweep_flow": "both",
    "spo2": "low",
    "hr": "high",
    "map": "low",
}


class AmbulationSession(Base):
    """One version of a mobilisation session on a run (append-only)."""

    __tablename__ = "ambulation_session"
    __table_args__ = (
        CheckConstraint(f"ims_level >= {IMS_MIN} AND ims_level <= {IMS_MAX}", name="ims_level"),
        CheckConstraint("ended_at > started_at", name="times"),
        CheckConstraint("NOT stopped_early OR stop_reason IS NOT NULL", name="stop_reason"),
        CheckConstraint("follows_id IS NULL OR amend_reason IS NOT NULL", name="amend_reason"),
        Index("ix_ambulation_session_run", "run_id", "session_no"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_no: Mapped[int | None] = mapped_column(Integer, index=True)
    follows_id: Mapped[int | None] = mapped_column(ForeignKey("ambulation_session.id"))
    run_id: Mapped[int] = mapped_column(ForeignKey("run.id"))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ims_level: Mapped[int] = mapped_column(Integer)
    safety: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    safety_reason: Mapped[str | None] = mapped_column(Text)
    events: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    stopped_early: Mapped[bool] = mapped_column(Boolean, default=False)
    stop_reason: Mapped[str | None] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)
    amend_reason: Mapped[str | None] = mapped_column(Text)
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def number(self) -> int:
        return self.session_no or self.id

    @property
    def ims_label(self) -> str:
        return IMS_LABELS.get(self.ims_level, "")

    @property
    def failed_items(self) -> list[str]:
        return [k for k in SAFETY_ITEMS if (self.safety or {}).get(k) == "fail"]

    @property
    def minutes(self) -> float:
        return (self.ended_at - self.started_at).total_seconds() / 60


def in_force(session: Session, run_ids: Iterable[int] | None = None) -> list[AmbulationSession]:
    """The version in force of each session (no later row follows it), by start time."""
    later = aliased(AmbulationSession)
    stmt = select(AmbulationSession).where(
        ~select(later.id).where(later.follows_id == AmbulationSession.id).exists()
    )
    if run_ids is not None:
        stmt = stmt.where(AmbulationSession.run_id.in_(list(run_ids)))
    order = (AmbulationSession.started_at, AmbulationSession.session_no)
    return list(session.scalars(stmt.order_by(*order)))
