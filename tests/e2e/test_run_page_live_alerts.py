"""A nurse has a run's page open; a device interface posts an observation batch for that run
through the API; the alert it raises appears in the run page's alerts card without a reload
(Server-Sent Events, the same stream and script as the alert list)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from playwright.sync_api import Page, expect

from tests.client import http_client
from tests.e2e.conftest import login
from tests.e2e.test_alerts_live_in_the_browser import _integration_token
from tests.seed import SECRET_MRNS


def test_an_api_batch_alert_appears_on_the_open_run_page(
    page: Page, server: str, sqlite_url: str
) -> None:
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

    login(page, "nurse", then=f"/runs/{run_id}")
    alerts = page.locator("#alerts")
    expect(alerts).to_be_hidden()
    expect(page.locator("#alerts[data-live=ready]")).to_have_count(1)
    page.evaluate("window.__notReloaded = true")

    batch = api.post(
        f"/api/v1/runs/{run_id}/observations",
        json={
            "observations": [
                {"code": "pfhb", "value": 140, "time": (started + timedelta(hours=2)).isoformat()}
            ]
        },
    )
    assert batch.status_code == 201, batch.text

    expect(alerts).to_be_visible()
    expect(alerts).to_contain_text("Alerts not yet resolved")
    expect(alerts).to_contain_text(re.compile("hemolysis", re.I))  # its clinical name
    expect(alerts).to_contain_text("critical")
    assert page.evaluate("window.__notReloaded") is True
