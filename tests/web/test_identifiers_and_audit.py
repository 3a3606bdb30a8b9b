"""Identifiers reach only the roles that need them, and the audit log sees every read of
identifying data, every change and every login."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from continuum.core.models import AuditEntry
from continuum.db import make_engine, make_sessionmaker, unit_of_work
from tests.conftest import Web
from tests.seed import SECRET_BIRTHS, SECRET_MRNS, SECRET_NAMES
from tests.web.routes_table import CASES, PUBLIC

SECRETS = SECRET_NAMES + SECRET_MRNS + SECRET_BIRTHS
READ_ONLY = [c for c in CASES if c.method == "GET" and c.needs != PUBLIC]


def audit_rows(url: str, action: str | None = None) -> list[AuditEntry]:
    engine = make_engine(url)
    with unit_of_work(make_sessionmaker(engine)) as db:
        stmt = select(AuditEntry).order_by(AuditEntry.id)
        if action:
            stmt = stmt.where(AuditEntry.action == action)
        rows = list(db.scalars(stmt))
    engine.dispose()
    return rows


def test_researcher_never_sees_names_mrns_or_birth_dates(web: Web) -> None:
    web.login("researcher")
    seen = 0
    for case in READ_ONLY:
        response = web.client.get(case.url, params=case.params, follow_redirects=False)
        if response.status_code == 200:
            seen += 1
            leaked = [s for s in SECRETS if s in response.text]
            assert not leaked, f"{case.url} shows {leaked} to a researcher"
    assert seen >= 8  # the researcher really did read runs, patients and the API
    assert "P-0001" in web.client.get("/runs").text  # pseudonymous label instead


def test_clinicians_see_identifiers_and_each_read_is_audited(web_any: Web) -> None:
    web_any.login("nurse")
    page = web_any.client.get("/runs/1").text
    assert SECRET_NAMES[0] in page and SECRET_MRNS[0] in page
    reads = audit_rows(web_any.url, "read_identifiers")
    assert any(
        r.patient_id == 1
        and r.actor == "Test nurse (nurse)"
        and r.detail == {"purpose": "run page"}
        for r in reads
    )


def test_researcher_reads_leave_no_identifier_reads(web: Web) -> None:
    web.login("researcher")
    web.client.get("/runs/1")
    web.client.get("/api/v1/patients")
    assert audit_rows(web.url, "read_identifiers") == []


def test_changes_and_logins_are_audited(web_any: Web) -> None:
    web_any.login("perfusionist")
    csrf = web_any.csrf("/runs/1")
    r = web_any.client.post(
        "/api/v1/runs/1/modes",
        headers={"X-CSRF-Token": csrf},
        json={"mode": "VA", "reason": "refractory shock"},
    )
    assert r.status_code == 201
    actions = [(a.action, a.entity) for a in audit_rows(web_any.url)]
    assert ("login", "staff") in actions and ("create", "mode_segment") in actions


def test_failed_logins_are_audited_and_throttled(web: Web) -> None:
    for _ in range(5):
        token = web.csrf("/login")
        r = web.client.post(
            "/login", data={"username": "nurse", "password": "wrong-password", "csrf_token": token}
        )
        assert r.status_code == 401 and "wrong" in r.text
    token = web.csrf("/login")
    r = web.client.post(
        "/login", data={"username": "nurse", "csrf_token": token, "password": "pw-nurse-0123456789"}
    )
    assert r.status_code == 429 and "too many failed logins" in r.text
    assert len(audit_rows(web.url, "login_failed")) == 5


@pytest.mark.parametrize("path", ["/runs/1", "/api/v1/runs/1"])
def test_a_revoked_session_password_change_logs_out(web: Web, path: str) -> None:
    from continuum.core import accounts
    from continuum.core.people import Staff

    web.login("physician")
    assert web.client.get(path).status_code == 200
    engine = make_engine(web.url)
    with unit_of_work(make_sessionmaker(engine)) as db:
        staff = db.scalars(select(Staff).where(Staff.username == "physician")).one()
        staff.password_hash = accounts.hash_password("a-brand-new-password")
    engine.dispose()
    assert web.client.get(path, follow_redirects=False).status_code in (303, 401)


def test_sessions_expire(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The signed cookie carries its age; past CONTINUUM_SESSION_HOURS it is refused. The
    clock is the signer's own, moved forward, so a slow machine cannot make this flaky."""
    import time

    from fastapi.testclient import TestClient
    from itsdangerous import TimestampSigner

    from continuum.app import create_app
    from tests.conftest import test_settings

    now = [int(time.time())]
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: now[0])
    settings = test_settings(sqlite_url).model_copy(update={"session_hours": 1.0})
    with TestClient(create_app(settings)) as client:
        web = Web(client, sqlite_url)
        web.login("nurse")
        now[0] += 3599  # just inside the hour
        assert client.get("/runs", follow_redirects=False).status_code == 200
        now[0] += 2  # an hour and a second after the cookie was signed
        response = client.get("/runs", follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"].startswith("/login")
