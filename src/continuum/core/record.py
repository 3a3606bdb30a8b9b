"""Observations (with amendments), participation, audit log, settings."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from continuum.core.vocab import (
    OBSERVATION_SOURCES,
    OBSERVATION_STATUSES,
    PARTICIPATION_HOW,
    sql_in,
)
from continuum.db import Base, UTCDateTime, utcnow

BigId = BigInteger().with_variant(Integer, "sqlite")
_ENTERED = "entered_unit IS NOT NULL"
_CORRECTIONS = "source = 'manual' OR status <> 'final' OR amends_id IS NOT NULL"


class Observation(Base):
    """One value of one code at one time, in the vocabulary's unit.

    Never overwritten: an amendment inserts a new row (``amends_id``) and marks the
    original ``superseded``; the original value, who entered it and when stay.
    Indexed for "latest per code" and "time range per code" on millions of rows.

    ``run_id``, ``entered_by`` and ``amends_id`` refer to run, staff and observation, but
    not as per-row foreign keys: migration 0010 checks them with triggers, once per
    statement on PostgreSQL (a console import's COPY would otherwise pay a look-up per row).
    """

    __tablename__ = "observation"
    __table_args__ = (
        CheckConstraint(sql_in("source", OBSERVATION_SOURCES), name="source"),
        CheckConstraint(sql_in("status", OBSERVATION_STATUSES), name="status"),
        # Final values only on PostgreSQL (every read asks for them; migration 0012),
        # covering value, unit and source there: index-only scans (migration 0042); values
        # of one time in id order, as every series read asks (migration 0043).
        Index(
            "ix_observation_run_code_time",
            "run_id",
            "code",
            "time",
            "id",
            postgresql_where=text("status = 'final'"),
            # A chart's 24 h and the research export read it alone (migration 0042).
            postgresql_include=["value", "unit", "source"],
        ),
        # Values entered in another unit, which charts read as entered (migration 0042).
        Index(
            "ix_observation_entered",
            "run_id",
            "code",
            "time",
            postgresql_where=text(_ENTERED),
            sqlite_where=text(_ENTERED),
        ),
        Index(
            "ix_observation_corrections",
            "run_id",
            postgresql_where=text(_CORRECTIONS),
            sqlite_where=text(_CORRECTIONS),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    run_id: Mapped[int] = mapped_column(Integer)  # run.id (checked by trigger)
    code: Mapped[str] = mapped_column(String(32))
    time: Mapped[datetime] = mapped_column(UTCDateTime)
    value: Mapped[float] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="final")
    entered_by: Mapped[int | None] = mapped_column(Integer)  # staff.id (checked by trigger)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    amends_id: Mapped[int | None] = mapped_column(BigId)  # observation.id (trigger)
    ingest_ref: Mapped[str | None] = mapped_column(String(128))
    # A device feed's result status as received (HL7 OBX-11: F, R, P, S, U, C); None when
    # not sent or not from a device feed. Which value counts is ``status`` (final). Deferred:
    # the readers that judge values never load it.
    result_status: Mapped[str | None] = mapped_column(String(1), deferred=True)
    # The value and unit as entered or sent when that unit was not ``unit`` (62 kPa stored
    # as 465 mmHg); both None when it came in the stored unit (``vocabulary.as_entered``).
    entered_value: Mapped[float | None] = mapped_column(Float)
    entered_unit: Mapped[str | None] = mapped_column(String(16))


class ObservationCount(Base):
    """How many final values a run holds of each code, kept by database triggers in the
    statement that writes the values (migration 0042): an insert adds, a value superseded
    or entered in error (an amendment's UPDATE of its status) or deleted takes away. The run
    page reads the counts here instead of counting the run's rows on every view (a device
    feed adds tens of thousands an hour). Never written by the application."""

    __tablename__ = "observation_count"

    run_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    n: Mapped[int] = mapped_column(BigInteger)


class ObservationBin(Base):
    """How many final values a run holds of each code in each 10-minute bin, and their sum,
    kept by database triggers in the statement that writes the values, as the counts are
    (migration 0044): ``bin_start`` is ``date_bin(interval '10 minutes', time,
    '2000-01-01 UTC')``. The rounds board's 24 h means read these (about 144 rows per run and
    code) instead of every value of a device feed. ``total`` is a running float sum: after
    values are taken away it can differ from summing the rows in the last bits. Never written
    by the application."""

    __tablename__ = "observation_bin"

    run_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    bin_start: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    n: Mapped[int] = mapped_column(Integer)
    total: Mapped[float] = mapped_column(Float)


class ObservationAmendment(Base):
    """Why and by whom an observation was corrected."""

    __tablename__ = "observation_amendment"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    original_id: Mapped[int] = mapped_column(ForeignKey("observation.id"), index=True)
    replacement_id: Mapped[int | None] = mapped_column(ForeignKey("observation.id"))
    reason: Mapped[str] = mapped_column(Text)
    amended_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    amended_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Participation(Base):
    """Who took part in any clinical record (decision, round, review, event …) and how."""

    __tablename__ = "participation"
    __table_args__ = (
        CheckConstraint(sql_in("how", PARTICIPATION_HOW), name="how"),
        Index("ix_participation_record", "record_type", "record_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    record_type: Mapped[str] = mapped_column(String(32))
    record_id: Mapped[int] = mapped_column(Integer)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("run.id"), index=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), index=True)
    discipline: Mapped[str] = mapped_column(String(32))
    how: Mapped[str] = mapped_column(String(16))
    contribution: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Who entered it: the signer for a signature, else whoever recorded someone's presence.
    entered_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))


class AuditEntry(Base):
    """Append-only: the database refuses UPDATE and DELETE on this table."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_at", "at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(Integer)
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(48))
    entity: Mapped[str | None] = mapped_column(String(48))
    entity_id: Mapped[str | None] = mapped_column(String(64))
    patient_id: Mapped[int | None] = mapped_column(Integer, index=True)
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    client: Mapped[str | None] = mapped_column(String(64))


class ProgrammeSetting(Base):
    """A programme's override of a published default (thresholds, targets …)."""

    __tablename__ = "programme_setting"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON)
    note: Mapped[str | None] = mapped_column(Text)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RunTarget(Base):
    """A target range for one observation code on one run (e.g. anti-Xa 0.3–0.5 IU/mL,
    blood flow ≥ 4.5 L/min), set by a decision, a round or a plan. New rows supersede
    older ones for the same code; history is kept."""

    __tablename__ = "run_target"
    __table_args__ = (
        CheckConstraint("low IS NOT NULL OR high IS NOT NULL", name="bound"),
        CheckConstraint("low IS NULL OR high IS NULL OR low <= high", name="order"),
        Index("ix_run_target_run_code", "run_id", "code", "set_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("run.id"))
    code: Mapped[str] = mapped_column(String(32))
    low: Mapped[float | None] = mapped_column(Float)
    high: Mapped[float | None] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(16))
    set_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    set_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    source: Mapped[str | None] = mapped_column(String(64))  # e.g. "round:12", "plan:3"
