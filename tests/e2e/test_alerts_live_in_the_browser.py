"""A nurse has the alert list open; a device interface posts an observation batch through
the API; the new alert appears on the open page without a reload (Server-Sent Events)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from playwright.sync_api import Page, expect
from sqlalchemy import select

from continuum.core import accounts
from continuum.core.people import Staff
from continuum.core.roles import SYSTEM
from continuum.db import make_engine, make_sessionmaker, unit_of_work
from tests.client import http_client
from tests.e2e.conftest import login
from tests.seed import SECRET_MRNS, SECRET_NAMES


def _integration_token(url: str) -> str:
    engine = make_engine(url)
    with unit_of_work(make_sessionmaker(engine)) as db:
        staff = db.scalar(select(Staff).where(Staff.username == "integration"))
        assert staff is not None
        token = accounts.issue_token(db, SYSTEM, staff.id, "bedside gateway")
    engine.dispose()
    return token


def test_an_api_batch_alert_appears_on_the_open_list(
    page: Page, server: str, sqlite_url: str
) -> None:
    login(page, "nurse")
    page.click("header >> text=Alerts")
    expect(page.locator("#alert-list")).to_contain_text("hemolysis")
    expect(page.locator("#alert-list")).not_to_contain_text(SECRET_NAMES[1])
    expect(page.locator("#live-state")).to_contain_text("Live")
    page.evaluate("window.__notReloaded = true")

    api = http_client(
        base_url=server, headers={"Authorization": f"Bearer {_integration_token(sqlite_url)}"}
    )
    started = datetime.now(UTC) - timedelta(hours=3)
    run = api.post(
        "/api/v1/runs",
        json={
            "mrn": SECRET_MRNS[1],
            "support_type": "pulmonary",
            "mode": "VV",
            "started_at": started.isoformat(),
        },
    )
    assert run.status_code == 201, run.text
    run_id = run.json()["id"]
    batch = api.post(
        f"/api/v1/runs/{run_id}/observations",
        json={
            "observations": [
                {"code": "pfhb", "value": 140, "time": (started + timedelta(hours=2)).isoformat()}
            ]
        },
    )
    assert batch.status_code == 201, batch.text

    row = page.locator("#alert-list tr", has_text=SECRET_NAMES[1])
    expect(row).to_contain_text("critical")
    expect(row).to_contain_text("hemolysis")
    assert page.evaluate("window.__notReloaded") is True
