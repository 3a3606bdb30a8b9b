"""Daily housekeeping: the registered jobs run in units of work of their own (the ingest
message log pruned to the programme's retention, audited), a failing job does not stop the
others, the thread runs its first pass after the start delay, and the web app starts it
when its setting asks for it (SQLite and PostgreSQL)."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from continuum.app import create_app
from continuum.config import Settings
from continuum.core.record import AuditEntry
from continuum.domains import HOUSEKEEPING_MODULES
from continuum.housekeeping import Housekeeper, registered_jobs, run_jobs
from continuum.ingest.models import IngestMessage
from tests import conftest
from tests.ingest.helpers import count
from tests.ingest.test_message_log_retention import fill


def log_ids(sessions: sessionmaker[Session]) -> list[str]:
    with sessions() as db:
        return sorted(db.scalars(select(IngestMessage.message_id)))


def test_the_ingest_job_prunes_the_log_to_the_retention_and_is_audited(sessions) -> None:  # type: ignore[no-untyped-def]
    assert "continuum.ingest.integration_service" in HOUSEKEEPING_MODULES
    fill(sessions, [120, 91, 30, 0])
    (result,) = [r for r in run_jobs(sessions) if r.module.startswith("continuum.ingest")]
    assert result.ok and "deleted 2 message-log rows" in result.text and "90 days" in result.text
    assert log_ids(sessions) == ["R2", "R3"]
    assert count(sessions, "hl7:R%") == 8  # observations are never pruned
    with sessions() as db:
        entry = db.scalars(
            select(AuditEntry).where(
                AuditEntry.action == "prune", AuditEntry.entity != "staff_session"
            )
        ).one()
    assert (entry.actor, entry.client, entry.detail["deleted"]) == (
        "daily housekeeping (admin)",
        "housekeeping",
        2,
    )


def test_a_failing_job_is_logged_and_the_others_still_run(sessions, caplog) -> None:  # type: ignore[no-untyped-def]
    fill(sessions, [120, 0])

    def broken(db: Session) -> str:
        raise RuntimeError("disk on fire")

    jobs = [("broken", broken), *registered_jobs()]
    results = run_jobs(sessions, jobs)
    assert [(r.module, r.ok) for r in results] == [
        ("broken", False),
        ("continuum.ingest.integration_service", True),
        ("continuum.core.session_housekeeping", True),
        ("continuum.research.export", True),
        ("continuum.alerts.samples", True),
    ]
    assert results[3].text == "no interrupted exports"
    assert results[0].text == "RuntimeError: disk on fire"
    assert "housekeeping job broken failed" in caplog.text
    assert log_ids(sessions) == ["R1"]


def test_the_thread_runs_its_first_pass_after_the_delay_then_waits(sessions) -> None:  # type: ignore[no-untyped-def]
    calls: list[float] = []

    def job(db: Session) -> str:
        calls.append(time.monotonic())
        return "ok"

    keeper = Housekeeper(sessions, interval_h=1, first_delay_s=0.2, jobs=[("job", job)])
    started = time.monotonic()
    keeper.start()
    deadline = time.monotonic() + 10
    while not calls and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)
    keeper.stop()
    assert len(calls) == 1 and calls[0] - started >= 0.2  # then an hour before the next
    assert keeper.passes == 1 and keeper.last[0].text == "ok"
    with pytest.raises(ValueError, match="more than 0 h"):
        Housekeeper(sessions, interval_h=0)


def test_the_web_app_starts_housekeeping_only_when_asked(db_url: str) -> None:
    with TestClient(create_app(conftest.test_settings(db_url))) as client:
        assert client.app.state.housekeeper is None  # type: ignore[attr-defined]
    settings = conftest.test_settings(db_url).model_copy(update={"housekeeping_interval_h": 24.0})
    with TestClient(create_app(settings)) as client:
        keeper = client.app.state.housekeeper  # type: ignore[attr-defined]
        assert isinstance(keeper, Housekeeper) and keeper.interval_s == 24 * 3600
    assert keeper._thread is None  # stopped with the app


def test_the_setting_is_range_checked() -> None:
    with pytest.raises(ValueError, match="outside 0–168 h"):
        Settings(housekeeping_interval_h=-1)


def test_ended_and_expired_staff_sessions_are_pruned_after_the_retention(sessions) -> None:  # type: ignore[no-untyped-def]
    """Sessions ended (logout) or expired (older than the cookie lifetime) more than the
    programme's retention ago are deleted; recent and live ones stay; the retention is a
    setting (default 30 days) and the prune is audited."""
    from datetime import timedelta

    from continuum.core import settings_service
    from continuum.core.people import StaffSession
    from continuum.core.roles import Actor
    from continuum.core.session_housekeeping import GROUP, KEEP_DAYS
    from continuum.db import unit_of_work, utcnow

    now = utcnow()
    rows = {
        "ended-40d": (now - timedelta(days=41), now - timedelta(days=40)),
        "ended-10d": (now - timedelta(days=11), now - timedelta(days=10)),
        "open-40d": (now - timedelta(days=40), None),  # expired long ago, never logged out
        "open-1h": (now - timedelta(hours=1), None),  # in use
    }
    with unit_of_work(sessions) as db:
        for sid, (created, ended) in rows.items():
            db.add(StaffSession(id=sid, staff_id=1, created_at=created, ended_at=ended, client="t"))

    def left() -> list[str]:
        with sessions() as db:
            return sorted(db.scalars(select(StaffSession.id).where(StaffSession.id.in_(rows))))

    (result,) = [r for r in run_jobs(sessions) if r.module == "continuum.core.session_housekeeping"]
    assert result.ok and "deleted 2 staff sessions" in result.text and "30 days" in result.text
    assert left() == ["ended-10d", "open-1h"]
    with sessions() as db:
        entry = db.scalars(select(AuditEntry).where(AuditEntry.entity == "staff_session")).one()
    assert entry.detail == {"deleted": 2, "days": 30}

    admin = Actor(staff_id=None, name="IT", role="admin")
    with unit_of_work(sessions) as db:
        settings_service.save(db, admin, GROUP, {KEEP_DAYS: 7}, "shorter")
    (result,) = [r for r in run_jobs(sessions) if r.module == "continuum.core.session_housekeeping"]
    assert "deleted 1 staff sessions" in result.text and "7 days" in result.text
    assert left() == ["open-1h"]
    with unit_of_work(sessions) as db, pytest.raises(Exception, match="ended_session_days"):
        settings_service.save(db, admin, GROUP, {KEEP_DAYS: 0}, "too short")
