"""Device records beside the circuit and their checks.

``mcs_device`` is append-only: a correction, a removal or any change is a new row naming
the row it follows (``follows_id``) with its reason; ``device_id`` is the first row's id
(the device's number) on every row of one device, and the row no later row follows is the
device in force. ``mcs_check`` rows (position, IABP timing) are append-only too: a
correction is a new row naming the check it corrects (``corrects_id``) with its reason.
Readings are observations (``continuum.vocabulary`` group ``mcs``), not rows here.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from continuum.core.vocab import sql_in
from continuum.db import Base, UTCDateTime, utcnow
from continuum.surveillance.impella_levels import MODELS as IMPELLA_MODELS

KIND_LABELS: dict[str, str] = {
    "iabp": "Intra-aortic balloon pump (IABP)",
    "impella": "Impella (microaxial pump)",
    "temporary_vad": "Temporary VAD",
    "durable_vad": "Durable VAD",
}
KINDS: tuple[str, ...] = tuple(KIND_LABELS)
SIDES: tuple[str, ...] = ("left", "right")
SIDE_LABELS = {"left": "left ventricle (LVAD)", "right": "right ventricle (RVAD)"}
CHECK_KINDS: tuple[str, ...] = ("position", "timing")
METHOD_LABELS: dict[str, str] = {
    "echo": "Echocardiography",
    "fluoroscopy": "Fluoroscopy",
    "chest_xray": "Chest X-ray",
    "placement_signal": "Controller placement signal",
    "waveform_1_2": "Arterial waveform at 1:2 assist",
}
METHODS: tuple[str, ...] = tuple(METHOD_LABELS)
RESULT_LABELS: dict[str, str] = {
    "correct": "Correct",
    "too_deep": "Too deep (in the ventricle)",
    "too_shallow": "Too shallow (towards the aorta)",
    "malpositioned": "Malpositioned (other)",
    "early_inflation": "Early inflation",
    "late_inflation": "Late inflation",
    "early_deflation": "Early deflation",
    "late_deflation": "Late deflation",
}
POSITION_RESULTS: tuple[str, ...] = ("correct", "too_deep", "too_shallow", "malpositioned")
TIMING_RESULTS: tuple[str, ...] = (
    "correct",
    "early_inflation",
    "late_inflation",
    "early_deflation",
    "late_deflation",
)
RESULTS: tuple[str, ...] = tuple(RESULT_LABELS)
# IABP assist ratio as entered → as stored (vocabulary ``iabp_ratio``: beats assisted per beat)
IABP_RATIOS: dict[str, float] = {"1:1": 1.0, "1:2": 0.5, "1:3": round(1 / 3, 4)}


class McsDevice(Base):
    __tablename__ = "mcs_device"
    __table_args__ = (
        CheckConstraint(sql_in("kind", KINDS), name="kind"),
        CheckConstraint(sql_in("side", SIDES), name="side"),
        CheckConstraint("removed_at IS NULL OR removed_at > inserted_at", name="removed_after"),
        CheckConstraint("follows_id IS NULL OR reason IS NOT NULL", name="change_reason"),
        Index("ix_mcs_device_run", "run_id", "device_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    device_id: Mapped[int | None] = mapped_column(Integer, index=True)
    follows_id: Mapped[int | None] = mapped_column(ForeignKey("mcs_device.id"))
    run_id: Mapped[int] = mapped_column(ForeignKey("run.id"))
    kind: Mapped[str] = mapped_column(String(16))
    model: Mapped[str] = mapped_column(String(60))
    side: Mapped[str] = mapped_column(String(8))
    site: Mapped[str | None] = mapped_column(String(80))
    inserted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    removal_reason: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(Text)
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def number(self) -> int:
        return self.device_id or self.id

    @property
    def group(self) -> str:
        """The CLIF mcs_group of the device (docs/clinical/mcs.md §1)."""
        if self.kind == "iabp":
            return "iabp"
        if self.kind == "impella":
            return "temporary_rvad" if self.side == "right" else "impella_lvad"
        if self.kind == "temporary_vad":
            return "temporary_rvad" if self.side == "right" else "temporary_lvad"
        return "durable_lvad"

    @property
    def name(self) -> str:
        if self.kind == "impella":
            return f"Impella {self.model}"
        if self.kind == "iabp":
            return f"IABP ({self.model})"
        return f"{self.model} ({'RVAD' if self.side == 'right' else 'LVAD'})"


class McsCheck(Base):
    __tablename__ = "mcs_check"
    __table_args__ = (
        CheckConstraint(sql_in("kind", CHECK_KINDS), name="kind"),
        CheckConstraint(sql_in("method", METHODS), name="method"),
        CheckConstraint(sql_in("result", RESULTS), name="result"),
        CheckConstraint("corrects_id IS NULL OR reason IS NOT NULL", name="correction_reason"),
        Index("ix_mcs_check_device", "device_id", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("mcs_device.id"))
    run_id: Mapped[int] = mapped_column(ForeignKey("run.id"))
    kind: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    method: Mapped[str] = mapped_column(String(24))
    result: Mapped[str] = mapped_column(String(24))
    note: Mapped[str | None] = mapped_column(Text)
    corrects_id: Mapped[int | None] = mapped_column(ForeignKey("mcs_check.id"))
    reason: Mapped[str | None] = mapped_column(Text)
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


__all__ = ["IMPELLA_MODELS", "McsCheck", "McsDevice"]
