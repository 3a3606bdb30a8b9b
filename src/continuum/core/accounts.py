"""Staff accounts: argon2 passwords, login throttling (kept in the database), sessions the
server can end, the account lifecycle (password change and reset, deactivation, role
change, unlock) and API tokens (a person's own; service accounts' from IT)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import case, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from continuum.core import audit
from continuum.core.people import ApiToken, LoginAttempt, LoginThrottle, Staff, StaffSession
from continuum.core.roles import Actor, Permission
from continuum.core.vocab import DISCIPLINES, ROLES
from continuum.db import utcnow
from continuum.errors import (
    Conflict,
    ContinuumError,
    Forbidden,
    NotAuthenticated,
    NotFound,
    ValidationFailed,
)

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


def account_key(secret: str, username: str) -> str:
    """A keyed hash of a typed username: throttles and audits without storing the text
    (someone may have typed their password into the username field)."""
    return hmac.new(secret.encode(), username.strip().lower().encode(), "sha256").hexdigest()


_dummy_hash: str | None = None


def _dummy() -> str:
    """A real argon2 hash of nothing anyone knows: unknown usernames cost one verification
    too, so timing does not tell which usernames exist."""
    global _dummy_hash
    if _dummy_hash is None:
        _dummy_hash = _hasher.hash(secrets.token_urlsafe(24))
    return _dummy_hash


def _count_attempt(session: Session, keys: list[str], since: datetime, now: datetime) -> list[int]:
    """Add one attempt to each counter in its own short, committed transaction and return
    the new counts: one UPDATE … RETURNING per counter, so concurrent attempts each see
    the others (no check-then-act gap)."""
    bind = session.get_bind()
    insert = pg_insert if bind.dialect.name == "postgresql" else sqlite_insert
    counts: list[int] = []
    with Session(bind=bind) as own:
        for key in keys:
            own.execute(
                insert(LoginThrottle)
                .values(key=key, window_start=now, failures=0)
                .on_conflict_do_nothing(index_elements=["key"])
            )
            stale = LoginThrottle.window_start < since
            counts.append(
                own.execute(
                    update(LoginThrottle)
                    .where(LoginThrottle.key == key)
                    .values(
                        failures=case((stale, 1), else_=LoginThrottle.failures + 1),
                        window_start=case((stale, now), else_=LoginThrottle.window_start),
                    )
                    .returning(LoginThrottle.failures)
                ).scalar_one()
            )
        own.commit()
    return counts


def _release_attempt(session: Session, account: str, source: str) -> None:
    """A successful login: the account's count starts again; the source's loses this one."""
    session.execute(update(LoginThrottle).where(LoginThrottle.key == account).values(failures=0))
    session.execute(
        update(LoginThrottle)
        .where(LoginThrottle.key == source, LoginThrottle.failures > 0)
        .values(failures=LoginThrottle.failures - 1)
    )


def authenticate(
    session: Session,
    username: str,
    password: str,
    client: str,
    max_failures: int = 5,
    window_minutes: int = 15,
    *,
    secret: str = "",
    max_failures_per_source: int = 50,
) -> Staff:
    """Check a password. Refuses after ``max_failures`` recent failures for the account, or
    ``max_failures_per_source`` from one address (larger: a ward behind one NAT address
    must not be locked out by one person's typos). Counted before the password is checked,
    atomically, so parallel guesses cannot slip past the limit."""
    now = utcnow()
    key = account_key(secret, username)
    account, source = f"acct:{key}", f"src:{client[:70]}"
    acct_count, src_count = _count_attempt(
        session, [account, source], now - timedelta(minutes=window_minutes), now
    )
    if acct_count > max_failures or src_count > max_failures_per_source:
        session.add(LoginAttempt(username=key[:64], client=client[:64], success=False))
        audit.record(
            session,
            Actor(None, "unknown user", "unknown", client=client),
            "login_throttled",
            "staff",
            None,
            None,
            {"account_key": key[:16], "per": "account" if acct_count > max_failures else "source"},
        )
        raise TooManyAttempts(
            f"too many failed logins: wait {window_minutes} minutes or ask an administrator"
        )
    staff = session.scalar(select(Staff).where(Staff.username == username, Staff.active))
    known = staff is not None and staff.password_hash is not None
    # Same cost either way: an unknown user is verified against the dummy hash.
    ok = _verify(staff.password_hash if staff and staff.password_hash else _dummy(), password)
    ok = ok and known
    session.add(LoginAttempt(username=key[:64], client=client[:64], success=ok))
    if not ok or staff is None:
        who = (
            actor_for(staff, client)
            if staff is not None
            else Actor(None, "unknown user", "unknown", client=client)
        )
        audit.record(session, who, "login_failed", "staff", None, None, {"account_key": key[:16]})
        raise NotAuthenticated("username or password is wrong")
    _release_attempt(session, account, source)
    if _hasher.check_needs_rehash(staff.password_hash or ""):
        staff.password_hash = hash_password(password)
    audit.record(session, actor_for(staff, client), "login", "staff", staff.id)
    return staff


def _verify(hashed: str, password: str) -> bool:
    try:
        return _hasher.verify(hashed, password)
    except (VerificationError, InvalidHashError):
        return False


# --- sessions: stateless cookies the server can still end ---------------------------------


def start_session(session: Session, staff: Staff, client: str) -> dict[str, object]:
    """A new browser session; returns what the signed cookie carries."""
    row = StaffSession(id=secrets.token_urlsafe(32), staff_id=staff.id, client=client[:64])
    session.add(row)
    session.flush()
    return {
        "staff_id": staff.id,
        "sid": row.id,
        "epoch": staff.session_epoch,
        "pw": _password_marker(staff),
    }


def _password_marker(staff: Staff) -> str:
    """A changed password hash, however it was changed, ends the session too."""
    return (staff.password_hash or "")[-12:]


def staff_for_session(session: Session, cookie: Mapping[str, object]) -> Staff | None:
    """The staff member a session cookie still speaks for, or None: the account must be
    active, the cookie's epoch current, and its session row not ended (logout)."""
    staff_id, sid = cookie.get("staff_id"), cookie.get("sid")
    if not isinstance(staff_id, int) or not isinstance(sid, str):
        return None
    staff = session.get(Staff, staff_id)
    if staff is None or not staff.active or cookie.get("epoch") != staff.session_epoch:
        return None
    if cookie.get("pw") != _password_marker(staff):
        return None
    row = session.get(StaffSession, sid)
    if row is None or row.staff_id != staff.id or row.ended_at is not None:
        return None
    return staff


def end_session(session: Session, actor: Actor, sid: object) -> None:
    """Logout: this session ends on the server, so a copied cookie stops working too."""
    row = session.get(StaffSession, sid) if isinstance(sid, str) else None
    if row is not None and row.ended_at is None:
        row.ended_at = utcnow()
    audit.record(session, actor, "logout", "staff", actor.staff_id)


def _end_all_sessions(session: Session, staff: Staff) -> None:
    staff.session_epoch = (staff.session_epoch or 0) + 1
    session.execute(
        update(StaffSession)
        .where(StaffSession.staff_id == staff.id, StaffSession.ended_at.is_(None))
        .values(ended_at=utcnow())
    )


class PasswordChangeRequired(Forbidden):
    name = "password_change_required"


# Where someone who must change their password may still go.
PASSWORD_CHANGE_PATHS = frozenset({"/account", "/account/password", "/logout", "/api/v1/me"})


def check_may_act(staff: Staff, path: str) -> None:
    """After an administrator's reset, only the password change (and logout) are open."""
    if staff.must_change_password and path not in PASSWORD_CHANGE_PATHS:
        raise PasswordChangeRequired(
            "your password was reset by an administrator: choose a new one on /account first"
        )


# --- account lifecycle ------------------------------------------------------------------


class PasswordChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    current_password: str = Field(min_length=1, max_length=200)
    new_password: str = Field(min_length=MIN_PASSWORD, max_length=200)


def change_own_password(session: Session, actor: Actor, data: PasswordChange) -> Staff:
    """Needs the current password; ends every session (the caller starts a fresh one)."""
    staff = _staff(session, actor.staff_id)
    if staff.password_hash is None or not _verify(staff.password_hash, data.current_password):
        raise ValidationFailed("the current password is wrong", "current_password")
    if data.new_password == data.current_password:
        raise ValidationFailed("choose a password different from the current one", "new_password")
    staff.password_hash = hash_password(data.new_password)
    staff.must_change_password = False
    _end_all_sessions(session, staff)
    audit.record(session, actor, "password_changed", "staff", staff.id)
    return staff


def reset_password(session: Session, actor: Actor, staff_id: int) -> str:
    """An administrator sets a one-time password (returned, shown once); the user must
    change it at the next login and can do nothing else until then."""
    actor.require(Permission.MANAGE_USERS)
    staff = _staff(session, staff_id)
    if staff.username is None:
        raise ValidationFailed(f"{staff.name} has no login to reset", "staff_id")
    temporary = secrets.token_urlsafe(12)
    staff.password_hash = hash_password(temporary)
    staff.must_change_password = True
    _end_all_sessions(session, staff)
    audit.record(session, actor, "password_reset", "staff", staff.id)
    return temporary


def set_active(session: Session, actor: Actor, staff_id: int, active: bool) -> Staff:
    actor.require(Permission.MANAGE_USERS)
    staff = _staff(session, staff_id)
    if staff.id == actor.staff_id and not active:
        raise ValidationFailed("you cannot deactivate your own account", "staff_id")
    if staff.active != active:
        staff.active = active
        _end_all_sessions(session, staff)
        audit.record(session, actor, "reactivate" if active else "deactivate", "staff", staff.id)
    return staff


def change_role(session: Session, actor: Actor, staff_id: int, role: str) -> Staff:
    actor.require(Permission.MANAGE_USERS)
    if role not in ROLES:
        raise ValidationFailed(f"role '{role}' is not one of {', '.join(ROLES)}", "role")
    staff = _staff(session, staff_id)
    if staff.id == actor.staff_id:
        raise ValidationFailed("another administrator must change your own role", "role")
    if staff.role != role:
        before = staff.role
        staff.role = role
        _end_all_sessions(session, staff)
        audit.record(
            session, actor, "role_changed", "staff", staff.id, None, {"from": before, "to": role}
        )
    return staff


def end_all_sessions(session: Session, actor: Actor, staff_id: int) -> Staff:
    actor.require(Permission.MANAGE_USERS)
    staff = _staff(session, staff_id)
    _end_all_sessions(session, staff)
    audit.record(session, actor, "sessions_ended", "staff", staff.id)
    return staff


def unlock(session: Session, actor: Actor, staff_id: int, secret: str) -> Staff:
    """Clear the failed-login count of an account locked by too many failures."""
    actor.require(Permission.MANAGE_USERS)
    staff = _staff(session, staff_id)
    if staff.username:
        key = f"acct:{account_key(secret, staff.username)}"
        session.execute(update(LoginThrottle).where(LoginThrottle.key == key).values(failures=0))
    audit.record(session, actor, "unlock", "staff", staff.id)
    return staff


def is_locked(session: Session, staff: Staff, secret: str, max_failures: int, window: int) -> bool:
    if not staff.username:
        return False
    row = session.get(LoginThrottle, f"acct:{account_key(secret, staff.username)}")
    return (
        row is not None
        and row.failures >= max_failures
        and row.window_start >= utcnow() - timedelta(minutes=window)
    )


def open_sessions(session: Session, staff_id: int, hours: float = 12.0) -> int:
    """Sessions started within the cookie lifetime and not ended."""
    since = utcnow() - timedelta(hours=hours)
    rows = session.scalars(
        select(StaffSession.id).where(
            StaffSession.staff_id == staff_id,
            StaffSession.ended_at.is_(None),
            StaffSession.created_at >= since,
        )
    )
    return len(rows.all())


def get_staff(session: Session, staff_id: int) -> Staff:
    return _staff(session, staff_id)


def _staff(session: Session, staff_id: int | None) -> Staff:
    staff = session.get(Staff, staff_id) if staff_id is not None else None
    if staff is None:
        raise NotFound(f"staff member {staff_id} not found")
    return staff


# --- API tokens ---------------------------------------------------------------------------


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(session: Session, actor: Actor, staff_id: int | None, label: str) -> str:
    """Create an API token; the plain token is shown once, only its hash kept.

    A person's token is issued only by that person, for themself (their account page);
    an administrator (or the command line) issues tokens only for service accounts
    (integrations), so nobody can act, read or sign as a clinician through a token."""
    staff_id = actor.staff_id if staff_id is None else staff_id
    staff = session.get(Staff, staff_id) if staff_id is not None else None
    if staff is None or not staff.active:
        raise NotFound(f"staff member {staff_id} not found or inactive")
    if staff.id == actor.staff_id and not staff.is_service_account:
        actor.require(Permission.ISSUE_OWN_TOKEN)
    else:
        actor.require(Permission.MANAGE_USERS)
        if not staff.is_service_account:
            raise Forbidden(
                f"{staff.name} is a person: their API tokens are issued only by themself, "
                "on their account page; administrators issue tokens for service accounts"
            )
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
    """The token's owner, or an administrator, may revoke it."""
    row = session.get(ApiToken, token_id)
    if row is None:
        raise NotFound(f"API token {token_id} not found")
    if row.staff_id != actor.staff_id:
        actor.require(Permission.MANAGE_USERS)
    row.revoked_at = row.revoked_at or utcnow()
    audit.record(session, actor, "token_revoked", "api_token", row.id)


def staff_for_token(session: Session, token: str) -> Staff:
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == _token_hash(token)))
    if row is None or row.revoked_at is not None or not row.staff.active:
        raise NotAuthenticated("API token is unknown or revoked")
    return row.staff


def list_staff(session: Session) -> list[Staff]:
    return list(session.scalars(select(Staff).order_by(Staff.discipline, Staff.name)))


def list_tokens(session: Session, staff_id: int | None = None) -> list[ApiToken]:
    stmt = select(ApiToken).order_by(ApiToken.created_at.desc())
    if staff_id is not None:
        stmt = stmt.where(ApiToken.staff_id == staff_id)
    return list(session.scalars(stmt))
