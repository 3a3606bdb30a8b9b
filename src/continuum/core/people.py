"""Patients (clinical data apart from identifiers), staff and their credentials."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Integer,
    String,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from continuum.core.vocab import DISCIPLINES, ROLES, SEXES, sql_in
from continuum.db import Base, UTCDateTime, utcnow

# Roles of service accounts (device gateways, EHR interfaces): never a person, never a signer.
SERVICE_ROLES = frozenset({"integration"})


TEMPORARY_MRN_PREFIX = "TMP-"


class Patient(Base):
    """Clinical facts about a patient. Identifiers live in PatientIdentity."""

    __tablename__ = "patient"
    __table_args__ = (
        CheckConstraint(sql_in("sex", SEXES), name="sex"),
        CheckConstraint("height_cm IS NULL OR (height_cm > 20 AND height_cm < 260)", name="height"),
        CheckConstraint(
            "weight_kg IS NULL OR (weight_kg > 0.3 AND weight_kg < 400)", name="weight"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sex: Mapped[str] = mapped_column(String(16))
    height_cm: Mapped[float | None] = mapped_column(Float)
    weight_kg: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    identity: Mapped[PatientIdentity] = relationship(
        back_populates="patient", uselist=False, lazy="raise"
    )

    @property
    def label(self) -> str:
        """A pseudonymous label safe for any role."""
        return f"P-{self.id:04d}"


class PatientIdentity(Base):
    """Identifying data, read only by roles that need it; every read is audited."""

    __tablename__ = "patient_identity"

    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), primary_key=True)
    mrn: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    birth_date: Mapped[date | None] = mapped_column(Date)
    patient: Mapped[Patient] = relationship(back_populates="identity")

    @property
    def mrn_is_temporary(self) -> bool:
        """An outside patient's temporary identifier (``TMP-<id>``, a prefix no hospital MRN
        may take) until the real MRN replaces it (an audited amendment)."""
        return self.mrn.startswith(TEMPORARY_MRN_PREFIX)


class Staff(Base):
    """A member of the ECMO team; may log in when a username and password are set."""

    __tablename__ = "staff"
    __table_args__ = (
        CheckConstraint(sql_in("role", ROLES), name="role"),
        CheckConstraint(sql_in("discipline", DISCIPLINES), name="discipline"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    discipline: Mapped[str] = mapped_column(String(32))
    role: Mapped[str] = mapped_column(String(32))
    username: Mapped[str | None] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Raised by logout-everywhere, password change or reset, deactivation and role change:
    # a session cookie carries the epoch it was issued in and stops working when it moves.
    session_epoch: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Set by an administrator's password reset: the user can only change the password.
    must_change_password: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )

    @property
    def is_service_account(self) -> bool:
        """Integrations (devices, EHR interfaces): tokens issued by IT, never sign."""
        return self.role in SERVICE_ROLES


class StaffSession(Base):
    """One browser session; the signed cookie names it, logout ends it on the server."""

    __tablename__ = "staff_session"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    client: Mapped[str] = mapped_column(String(64))


class LoginThrottle(Base):
    """Failed-login counters, one per account (keyed hash of the username) and one per
    source address; incremented with one UPDATE … RETURNING so concurrent attempts count."""

    __tablename__ = "login_throttle"

    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime)
    failures: Mapped[int] = mapped_column(Integer, default=0)


class ApiToken(Base):
    """An API token: a person's own, or a service account's issued by IT; only its SHA-256
    is stored."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), index=True)
    label: Mapped[str] = mapped_column(String(200))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    staff: Mapped[Staff] = relationship(foreign_keys=[staff_id])


class LoginAttempt(Base):
    """Login attempts, kept in the database so throttling holds across processes."""

    __tablename__ = "login_attempt"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), index=True)  # keyed hash, not the text
    client: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    success: Mapped[bool] = mapped_column(Boolean)
