"""Transport missions: every table append-only.

* ``transport_mission``: versions of a mission's header (type, vehicle, referring hospital,
  referral, run, expected duration). ``mission_id`` is the first row's id (the mission's
  number) and is the same on every version; ``follows_id`` names the version a row follows;
  the row no later row follows is the one in force.
* ``transport_milestone``: one row per milestone time; a correction is a new row naming the
  row it corrects (``corrects_id``) with a reason. The newest row per milestone is in force.
* ``transport_checklist``: each signing of the pre-departure checklist (inputs, computed and
  ticked items, reasons for failed items); the newest is in force.
* ``transport_event``: events in transit. ``transport_handover``: the handover record (a
  correction names the row it corrects).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from continuum.core.vocab import sql_in
from continuum.db import Base, UTCDateTime, utcnow

MISSION_TYPES: dict[str, str] = {
    "primary": "Primary (cannulation at the referring hospital)",
    "secondary": "Secondary (already on ECMO)",
}
VEHICLES: dict[str, str] = {
    "road": "Road ambulance",
    "rotor": "Helicopter (rotor wing)",
    "fixed_wing": "Aeroplane (fixed wing)",
}
# The milestones in the order they happen; cannulation only on a primary mission.
MILESTONES: dict[str, str] = {
    "call": "Call received",
    "activation": "Team activated",
    "team_departure": "Team departed base",
    "arrival_referring": "Arrived at referring hospital",
    "cannulation": "Cannulation (on ECMO)",
    "departure_patient": "Departed with patient",
    "arrival_base": "Arrived at base",
    "handover": "Handover",
}
PRIMARY_ONLY = ("cannulation",)
EVENT_KINDS: dict[str, str] = {
    "desaturation": "Desaturation",
    "flow_drop": "Flow drop",
    "power_loss": "Power loss",
    "circuit_issue": "Circuit issue",
    "other": "Other",
}
# The checklist: key → label; the first three are computed from the numbers entered.
COMPUTED_ITEMS: dict[str, str] = {
    "oxygen": "Oxygen for the trip (cylinders)",
    "console_battery": "Console battery",
    "pump_battery": "Pump drive battery",
}
TICKED_ITEMS: dict[str, str] = {
    "hand_crank": "Hand crank / emergency drive present",
    "clamps": "Tubing clamps (at least two) at hand",
    "cannula_securement": "Cannulas secured, insertion depth marked",
    "blood_products": "Blood products packed (or not needed)",
    "power_compatibility": "Power compatible with the vehicle inverter / plugs",
    "transport_ventilator": "Transport ventilator checked and set",
}
CHECK_ITEMS: dict[str, str] = {**COMPUTED_ITEMS, **TICKED_ITEMS}


class TransportMission(Base):
    """One version of a transport mission's header (append-only)."""

    __tablename__ = "transport_mission"
    __table_args__ = (
        CheckConstraint(sql_in("mission_type", tuple(MISSION_TYPES)), name="mission_type"),
        CheckConstraint(sql_in("vehicle", tuple(VEHICLES)), name="vehicle"),
        CheckConstraint(
            "expected_min IS NULL OR (expected_min >= 1 AND expected_min <= 1440)",
            name="expected_min",
        ),
        Index("ix_transport_mission_number", "mission_id", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    mission_id: Mapped[int | None] = mapped_column(Integer)
    follows_id: Mapped[int | None] = mapped_column(ForeignKey("transport_mission.id"))
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), index=True)
    referral_id: Mapped[int | None] = mapped_column(ForeignKey("referral.id"))
    run_id: Mapped[int | None] = mapped_column(ForeignKey("run.id"), index=True)
    mission_type: Mapped[str] = mapped_column(String(16))
    vehicle: Mapped[str] = mapped_column(String(16))
    referring_hospital: Mapped[str] = mapped_column(String(200))
    expected_min: Mapped[int | None] = mapped_column(Integer)
    reason: Mapped[str | None] = mapped_column(Text)
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def number(self) -> int:
        return self.mission_id or self.id


class TransportMilestone(Base):
    """One milestone time of a mission; a correction is a new row (append-only)."""

    __tablename__ = "transport_milestone"
    __table_args__ = (
        CheckConstraint(sql_in("milestone", tuple(MILESTONES)), name="milestone"),
        CheckConstraint("corrects_id IS NULL OR reason IS NOT NULL", name="correction_reason"),
        Index("ix_transport_milestone_mission", "mission_id", "milestone"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    mission_id: Mapped[int] = mapped_column(ForeignKey("transport_mission.id"))
    milestone: Mapped[str] = mapped_column(String(24))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    corrects_id: Mapped[int | None] = mapped_column(ForeignKey("transport_milestone.id"))
    reason: Mapped[str | None] = mapped_column(Text)
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TransportChecklist(Base):
    """One signing of the pre-departure checklist (append-only; the newest is in force)."""

    __tablename__ = "transport_checklist"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    mission_id: Mapped[int] = mapped_column(ForeignKey("transport_mission.id"), index=True)
    inputs: Mapped[dict[str, Any]] = mapped_column(JSON)
    items: Mapped[dict[str, Any]] = mapped_column(JSON)
    all_passed: Mapped[bool] = mapped_column(Boolean)
    signed_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TransportEvent(Base):
    """An event in transit (append-only)."""

    __tablename__ = "transport_event"
    __table_args__ = (CheckConstraint(sql_in("kind", tuple(EVENT_KINDS)), name="kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    mission_id: Mapped[int] = mapped_column(ForeignKey("transport_mission.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(String(16))
    text: Mapped[str | None] = mapped_column(Text)
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TransportHandover(Base):
    """The handover at the end of a mission; a correction is a new row (append-only)."""

    __tablename__ = "transport_handover"
    __table_args__ = (
        CheckConstraint("corrects_id IS NULL OR reason IS NOT NULL", name="correction_reason"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    mission_id: Mapped[int] = mapped_column(ForeignKey("transport_mission.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    to_name: Mapped[str] = mapped_column(String(200))
    to_discipline: Mapped[str] = mapped_column(String(32))
    summary: Mapped[str] = mapped_column(Text)
    corrects_id: Mapped[int | None] = mapped_column(ForeignKey("transport_handover.id"))
    reason: Mapped[str | None] = mapped_column(Text)
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
