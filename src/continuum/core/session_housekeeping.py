"""Staff browser sessions are kept only as long as they are useful: the daily housekeeping
(``continuum.housekeeping``) deletes sessions that ended (logout, password change, all
sessions ended by an administrator) or expired (older than the cookie lifetime) more than
the programme's retention ago. A session row only lets a cookie be ended on the server;
the audit log keeps every login and logout, so nothing of the record is lost.

The retention is a programme setting (group ``accounts``), changed by the administrator."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import and_, delete, or_
from sqlalchemy.orm import Session

from continuum.config import get_settings
from continuum.core import audit, settings_service
from continuum.core.people import StaffSession
from continuum.core.roles import Actor, Permission
from continuum.core.settings_service import Setting, SettingGroup
from continuum.db import utcnow

GROUP = "accounts"
KEEP_DAYS = "ended_session_days"
KEEP_DEFAULT = 30
SETTINGS = SettingGroup(
    name=GROUP,
    title="Account settings",
    description=(
        "How long ended or expired browser sessions are kept before the daily housekeeping "
        "deletes them. Logins and logouts stay in the audit log."
    ),
    change=Permission.MANAGE_USERS,
    view=(),
    settings=(
        Setting(
            KEEP_DAYS,
            "Keep ended and expired sessions for",
            KEEP_DEFAULT,
            1,
            3650,
            "days",
            "[U] programme default (no published source): a month of sessions to answer "
            "'was this browser still signed in?'; the audit log keeps logins for good",
            kind="integer",
        ),
    ),
    after_save="The next daily housekeeping uses the new retention.",
    order=95,
)
HOUSEKEEPER = Actor(staff_id=None, name="daily housekeeping", role="admin", client="housekeeping")


def keep_days(session: Session) -> int:
    return int(settings_service.values(session, GROUP)[KEEP_DAYS])


def prune_sessions(session: Session, keep: timedelta, lifetime: timedelta) -> int:
    """Delete sessions ended before ``now - keep``, and never-ended ones started before
    ``now - keep - lifetime`` (their cookie expired at least ``keep`` ago)."""
    now = utcnow()
    stmt = delete(StaffSession).where(
        or_(
            and_(StaffSession.ended_at.is_not(None), StaffSession.ended_at < now - keep),
            and_(StaffSession.ended_at.is_(None), StaffSession.created_at < now - keep - lifetime),
        )
    )
    return session.execute(stmt).rowcount or 0


def housekeeping(session: Session) -> str:
    """The daily job: prune staff sessions to the retention (audited as housekeeping)."""
    days = keep_days(session)
    lifetime = timedelta(hours=get_settings().session_hours)
    n = prune_sessions(session, timedelta(days=days), lifetime)
    audit.record(
        session, HOUSEKEEPER, "prune", "staff_session", None, None, {"deleted": n, "days": days}
    )
    return f"deleted {n} staff sessions ended or expired more than {days} days ago"
