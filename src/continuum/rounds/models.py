"""Rounds records: the daily round per run, its actions, and the perfusion circuit check.

A round is signed once and then immutable; later corrections are amendments. Actions are
separate rows so they carry forward to later rounds until someone completes them.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from continuum.core.vocab import DISCIPLINES, sql_in
from continuum.db import Base, UTCDateTime, utcnow

ROUND_STATUSES = ("draft", "signed")
AMENDABLE = ("round", "circuit_check")


class RoundRecord(Base):
    """One multidisciplinary round for one run on one day (the programme's local date)."""

    __tablename__ = "rounds_round"
    __table_args__ = (
        CheckConstraint(sql_in("status", ROUND_STATUSES), name="status"),
        CheckConstraint("(status = 'signed') = (signed_at IS NOT NULL)", name="signed_has_time"),
        UniqueConstraint("run_id", "round_date", name="uq_rounds_round_run_date"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("run.id"), index=True)
    round_date: Mapped[date] = mapped_column(Date)
    held_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16), default="draft")
    problems: Mapped[str | None] = mapped_column(Text)
    # [{"detector", "severity", "summary", "disposition", "note"}]
    alerts_reviewed: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # {"anticoagulation": text, "ventilation": …, "sedation", "fluids", "blood_products"}
    therapy_review: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # {"blood_flow": {"low", "high"}, …, "fluid_balance_ml": {"low", "high"}}
    goals: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    signed_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Optimistic concurrency (core.concurrency.claim_version): each save names the version
    # it was made on; a save on an older one is refused, never written over a colleague's.
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class RoundAction(Base):
    """A task agreed on a round (or raised by a circuit check): owner discipline, due time."""

    __tablename__ = "rounds_action"
    __table_args__ = (
        CheckConstraint(sql_in("owner_discipline", DISCIPLINES), name="owner_discipline"),
        CheckConstraint(
            "(completed_at IS NULL) = (completed_by IS NULL)", name="completed_has_who"
        ),
        Index("ix_rounds_action_run_open", "run_id", "completed_at", "due_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("run.id"))
    round_id: Mapped[int | None] = mapped_column(ForeignKey("rounds_round.id"))
    circuit_check_id: Mapped[int | None] = mapped_column(ForeignKey("rounds_circuit_check.id"))
    text: Mapped[str] = mapped_column(Text)
    owner_discipline: Mapped[str] = mapped_column(String(32))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    completion_note: Mapped[str | None] = mapped_column(Text)


class CircuitCheck(Base):
    """A perfusionist's structured check of the circuit (per shift or per round)."""

    __tablename__ = "rounds_circuit_check"
    __table_args__ = (Index("ix_rounds_circuit_check_run_time", "run_id", "checked_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("run.id"))
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime)
    shift: Mapped[str] = mapped_column(String(16))
    # {location: grade}
    inspection: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    # {code: {"value", "unit", "time", "entered"}}
    readings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # calculator result JSON (value, unit, formula, inputs, warnings) or {"missing": [...]}
    o2_transfer: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    heater: Mapped[str | None] = mapped_column(Text)
    transfusions: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    findings: Mapped[str | None] = mapped_column(Text)
    checked_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RoundsAmendment(Base):
    """A correction to a signed round or a circuit check: the original stays as it was."""

    __tablename__ = "rounds_amendment"
    __table_args__ = (
        CheckConstraint(sql_in("record_type", AMENDABLE), name="record_type"),
        Index("ix_rounds_amendment_record", "record_type", "record_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    record_type: Mapped[str] = mapped_column(String(32))
    record_id: Mapped[int] = mapped_column(Integer)
    section: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    amended_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    amended_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
