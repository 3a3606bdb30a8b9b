"""Staff accounts: argon2 passwords, login throttling (kept in the database), API tokens."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from continuum.core import audit
from continuum.core.people import ApiToken, LoginAttempt, Staff
from continuum.core.roles import Actor, Permission
from continuum.core.vocab import DISCIPLINES, ROLES
from continuum.db import utcnow
from continuum.errors import Conflict, ContinuumError, NotAuthenticated, NotFound, ValidationFailed

_hasher = PasswordHasher()
MIN_PASSWORD = 10


class TooManyAttempts(ContinuumError):
    status_code = 429
    name = "too_many_attempts"


class StaffCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    name: str = Field(min_length=2, max_length=200)
    discipline: str
    role: str
    username: str | None = Field(
        default=None, min_length=3, max_length=64, pattern=r"^[a-z0-9._-]+$"
    )
    password: str | None = Field(default=None, min_length=MIN_PASSWORD, max_length=200)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def actor_for(staff: Staff, client: str = "web") -> Actor:
    return Actor(
        staff_id=staff.id,
        name=staff.name,
        role=staff.role,
        discipline=staff.discipline,
        client=client,
    )


def create_staff(session: Session, actor: Actor, data: StaffCreate) -> Staff:
    actor.require(Permission.MANAGE_USERS)
    if data.role not in ROLES:
        raise ValidationFailed(f"role '{data.role}' is not one of {', '.join(ROLES)}", "role")
    if data.discipline not in DISCIPLINES:
        raise ValidationFailed(
            f"discipline '{data.discipline}' is not one of {', '.join(DISCIPLINES)}", "discipline"
        )
    if data.username and session.scalar(select(Staff).where(Staff.username == data.username)):
        raise Conflict(f"username {data.username} is taken")
    if bool(data.username) != bool(data.password):
        raise ValidationFailed("a login needs both a username and a password", "password")
    staff = Staff(
        name=data.name,
        discipline=data.discipline,
        role=data.role,
        username=data.username,
        password_hash=hash_password(data.password) if data.password else None,
    )
    session.add(staff)
    session.flush()
    audit.record(
        session,
        actor,
        "create",
        "staff",
        staff.id,
        None,
        {"role": data.role, "username": data.username},
    )
    return staff


def authenticate(
    session: Session,
    username: str,
    password: str,
    client: str,
    max_failures: int = 5,
    window_minutes: int = 15,
) -> Staff:
    """Check a password; refuses after too many recent failures for that username or client."""
    since = utcnow() - timedelta(minutes=window_minutes)
    failures = session.scalar(
        select(func.count())
        .select_from(LoginAttempt)
        .where(
            LoginAttempt.at >= since,
            LoginAttempt.success.is_(False),
            (LoginAttempt.username == username) | (LoginAttempt.client == client),
        )
    )
    if (failures or 0) >= max_failures:
        raise TooManyAttempts(
            f"too many failed logins: wait {window_minutes} minutes or ask an administrator"
        )
    staff = session.scalar(select(Staff).where(Staff.username == username, Staff.active))
    ok = (
        staff is not None
        and staff.password_hash is not None
        and _verify(staff.password_hash, password)
    )
    session.add(LoginAttempt(username=username[:64], client=client[:64], success=ok))
    if not ok or staff is None:
        audit.record(
            session,
            Actor(None, username[:60], "unknown", client=client),
            "login_failed",
            "staff",
            None,
        )
        raise NotAuthenticated("username or password is wrong")
    if _hasher.check_needs_rehash(staff.password_hash or ""):
        staff.password_hash = hash_password(password)
    audit.record(session, actor_for(staff, client), "login", "staff", staff.id)
    return staff


def _verify(hashed: str, password: str) -> bool:
    try:
        return _hasher.verify(hashed, password)
    except (VerificationError, InvalidHashError):
        return False


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(session: Session, actor: Actor, staff_id: int, label: str) -> str:
    """Create an API token for a staff member; the plain token is shown once, only its hash kept."""
    actor.require(Permission.MANAGE_USERS)
    staff = session.get(Staff, staff_id)
    if staff is None or not staff.active:
        raise NotFound(f"staff member {staff_id} not found or inactive")
    token = "ect_" + secrets.token_urlsafe(32)
    row = ApiToken(
        staff_id=staff.id,
        label=label[:200] or "API token",
        token_hash=_token_hash(token),
        created_by=actor.staff_id,
    )
    session.add(row)
    session.flush()
    audit.record(session, actor, "token_issued", "api_token", row.id, None, {"for": staff.id})
    return token


def revoke_token(session: Session, actor: Actor, token_id: int) -> None:
    actor.require(Permission.MANAGE_USERS)
    row = session.get(ApiToken, token_id)
    if row is None:
        raise NotFound(f"API token {token_id} not found")
    row.revoked_at = row.revoked_at or utcnow()
    audit.record(session, actor, "token_revoked", "api_token", row.id)


def staff_for_token(session: Session, token: str) -> Staff:
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == _token_hash(token)))
    if row is None or row.revoked_at is not None or not row.staff.active:
        raise NotAuthenticated("API token is unknown or revoked")
    return row.staff


def list_staff(session: Session) -> list[Staff]:
    return list(session.scalars(select(Staff).order_by(Staff.discipline, Staff.name)))


def list_tokens(session: Session) -> list[ApiToken]:
    return list(session.scalars(select(ApiToken).order_by(ApiToken.created_at.desc())))
