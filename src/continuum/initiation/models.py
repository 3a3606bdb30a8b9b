"""Referrals and the initiation decision record (candidacy, modality, plan, decision)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from continuum.core.people import Patient
from continuum.core.vocab import MODES, SUPPORT_TYPES, sql_in
from continuum.db import Base, UTCDateTime, utcnow

REFERRAL_STATUSES = ("new", "under_assessment", "accepted", "declined", "deferred", "withdrawn")
URGENCIES = ("emergency", "urgent", "routine")
OUTCOMES = ("accept", "decline", "defer")


class Referral(Base):
    """A request from a referring team to consider ECMO for a patient (no run yet)."""

    __tablename__ = "referral"
    __table_args__ = (
        CheckConstraint(sql_in("status", REFERRAL_STATUSES), name="status"),
        CheckConstraint(sql_in("support_type", SUPPORT_TYPES), name="support_type"),
        CheckConstraint(sql_in("urgency", URGENCIES), name="urgency"),
        Index("ix_referral_status_time", "status", "referred_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), index=True)
    referring_hospital: Mapped[str] = mapped_column(String(200))
    referring_clinician: Mapped[str] = mapped_column(String(200))
    contact: Mapped[str | None] = mapped_column(String(200))
    referred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    support_type: Mapped[str] = mapped_column(String(16))
    urgency: Mapped[str] = mapped_column(String(16), default="urgent")
    clinical_picture: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(24), default="new")
    created_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    patient: Mapped[Patient] = relationship()
    changes: Mapped[list[ReferralStatusChange]] = relationship(
        order_by="ReferralStatusChange.at", back_populates="referral"
    )
    decisions: Mapped[list[InitiationDecision]] = relationship(
        back_populates="referral", order_by="InitiationDecision.sequence"
    )

    @property
    def decision(self) -> InitiationDecision | None:
        """The current decision record: the newest one (earlier ones are history)."""
        return self.decisions[-1] if self.decisions else None

    @property
    def earlier_decisions(self) -> list[InitiationDecision]:
        """Decisions replaced by a reassessment, oldest first (read-only history)."""
        return self.decisions[:-1]


class ReferralStatusChange(Base):
    __tablename__ = "referral_status_change"
    __table_args__ = (CheckConstraint(sql_in("to_status", REFERRAL_STATUSES), name="to_status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("referral.id"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(24))
    to_status: Mapped[str] = mapped_column(String(24))
    reason: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    changed_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    referral: Mapped[Referral] = relationship(back_populates="changes")


class InitiationDecision(Base):
    """A shared decision record of a referral. Immutable once signed: amendments only.

    A referral normally has one; reassessing a signed deferral opens the next one
    (``sequence`` 2, 3 …, ``supersedes_id`` pointing at the previous record), which starts
    as a copy of the previous record. The newest is the current decision.
    """

    __tablename__ = "initiation_decision"
    __table_args__ = (
        CheckConstraint(f"outcome IS NULL OR {sql_in('outcome', OUTCOMES)}", name="outcome"),
        CheckConstraint(
            f"chosen_mode IS NULL OR {sql_in('chosen_mode', MODES)}", name="chosen_mode"
        ),
        UniqueConstraint(
            "referral_id", "sequence", name="uq_initiation_decision_referral_sequence"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("referral.id"))
    sequence: Mapped[int] = mapped_column(Integer, default=1)
    supersedes_id: Mapped[int | None] = mapped_column(
        ForeignKey("initiation_decision.id"), unique=True
    )
    reassessment_reason: Mapped[str | None] = mapped_column(Text)
    checklist: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    checklist_note: Mapped[str | None] = mapped_column(Text)
    score_inputs: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    trial_inputs: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    score_reason: Mapped[str | None] = mapped_column(Text)
    physiology: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    recommended_mode: Mapped[str | None] = mapped_column(String(16))
    chosen_mode: Mapped[str | None] = mapped_column(String(16))
    choice_reason: Mapped[str | None] = mapped_column(Text)
    plan: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    plan_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    plan_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[str | None] = mapped_column(String(16))
    reasons: Mapped[str | None] = mapped_column(Text)
    override_reason: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    physician_signed_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    physician_signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    perfusionist_signed_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    perfusionist_signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    missing_signoff_reason: Mapped[str | None] = mapped_column(Text)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("run.id"), unique=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Optimistic concurrency (core.concurrency.claim_version): every edit and signature
    # names the version it was made on; one made on an older version is refused.
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))

    referral: Mapped[Referral] = relationship(back_populates="decisions")
    amendments: Mapped[list[InitiationAmendment]] = relationship(order_by="InitiationAmendment.at")

    @property
    def signed(self) -> bool:
        return self.physician_signed_at is not None or self.perfusionist_signed_at is not None


class InitiationAmendment(Base):
    """A note added to a signed decision record (the record itself never changes)."""

    __tablename__ = "initiation_amendment"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    decision_id: Mapped[int] = mapped_column(ForeignKey("initiation_decision.id"), index=True)
    note: Mapped[str] = mapped_column(Text)
    by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
