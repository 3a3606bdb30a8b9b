"""Ingest records: the code-mapping table, console-to-run assignments and the message log.

The message log carries the no-duplicate guarantee: ``accepted_key`` is set (to the
message id) only when a message's observations were stored, and is unique per channel,
so a resent HL7 control id / MQTT message_id / FHIR bundle id is stored once.
"""

from __future__ import annotations

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
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from continuum.core.vocab import sql_in
from continuum.db import Base, UTCDateTime, utcnow

CHANNELS = ("hl7", "mqtt", "fhir", "csv")
ACK_CODES = ("AA", "AE", "AR")


class CodeMapping(Base):
    """One device/terminology identifier mapped to a vocabulary code (per-site, editable)."""

    __tablename__ = "ingest_code_mapping"
    __table_args__ = (UniqueConstraint("system", "identifier", name="uq_ingest_mapping"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    system: Mapped[str] = mapped_column(String(32))
    identifier: Mapped[str] = mapped_column(String(128))
    code: Mapped[str] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class UnitAlias(Base):
    """A site's own spelling of a unit (e.g. a console's local unit code) read as a unit the
    vocabulary converts from (per-site, editable on the Integration page, audited)."""

    __tablename__ = "ingest_unit_alias"
    __table_args__ = (UniqueConstraint("spelling", name="uq_ingest_unit_alias"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    spelling: Mapped[str] = mapped_column(String(64))  # lower-cased, as matched
    unit: Mapped[str] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ConsoleAssignment(Base):
    """A console (OBX-18 / MQTT topic id) feeding one run from ``assigned_at`` until unassigned."""

    __tablename__ = "ingest_console_assignment"
    __table_args__ = (Index("ix_ingest_console_open", "console_id", "unassigned_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    console_id: Mapped[str] = mapped_column(String(128))
    run_id: Mapped[int] = mapped_column(ForeignKey("run.id"), index=True)
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    assigned_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    unassigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    unassigned_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))


class IngestMessage(Base):
    """One received message (or file) and what became of it: ACK code, counts, reasons."""

    __tablename__ = "ingest_message"
    __table_args__ = (
        CheckConstraint(sql_in("channel", CHANNELS), name="channel"),
        CheckConstraint(sql_in("ack_code", ACK_CODES), name="ack_code"),
        UniqueConstraint("channel", "accepted_key", name="uq_ingest_message_accepted"),
        Index("ix_ingest_message_received", "received_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(8))
    message_id: Mapped[str] = mapped_column(String(128))
    accepted_key: Mapped[str | None] = mapped_column(String(128))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    processed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ack_code: Mapped[str] = mapped_column(String(2))
    stored: Mapped[int] = mapped_column(Integer, default=0)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("run.id"))
    peer: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class ConsolePreset(Base):
    """A site's console-export import preset (ingest/console_presets.py): added, or
    replacing a shipped preset of the same name. ``definition`` is ``Preset.to_dict()``."""

    __tablename__ = "ingest_console_preset"
    __table_args__ = (UniqueConstraint("name", name="uq_ingest_console_preset_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(40))
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
