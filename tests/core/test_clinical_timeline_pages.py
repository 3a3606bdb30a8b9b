"""The run's clinical timeline page and API: filters by kind, discipline and time window,
times in the programme's zone, links to the source records, refusals that name the field,
and no identifiers for researchers."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from continuum.app import create_app
from tests import conftest
from tests.conftest import Web
from tests.seed import RUN_START, SECRET_MRNS, SECRET_NAMES

ZONE = "Australia/Sydney"


@pytest.fixture
def sydney(db_url: str) -> Iterator[Web]:
    """A web client of a programme in Sydney, on SQLite and on PostgreSQL."""
    settings = conftest.test_settings(db_url).model_copy(update={"timezone": ZONE})
    app = create_app(settings)
    with TestClient(app, base_url="http://testserver") as client:
        yield Web(client, db_url)
    app.state.engine.dispose()


def kinds_on_page(html: str) -> list[str]:
    return re.findall(r'<li class="ev" data-kind="([a-z_.]+)"', html)


def acknowledge_as_nurse(web: Web) -> None:
    csrf = web.csrf("/runs/1")
    r = web.client.post(
        "/api/v1/alerts/2/acknowledge",
        headers={"X-CSRF-Token": csrf},
        json={"comment": "heparin rate reduced"},
    )
    assert r.status_code == 200, r.text


def test_timeline_filters_by_kind_discipline_and_time_window(sydney: Web) -> None:
    web = sydney
    web.login("nurse")
    acknowledge_as_nurse(web)
    everything = web.client.get("/runs/1/timeline")
    assert everything.status_code == 200
    kinds = kinds_on_page(everything.text)
    assert {"run.started", "component.added", "cannula.inserted", "alert.raised"} <= set(kinds)
    assert "alert.acknowledged" in kinds and "observation.entered" in kinds

    alerts = kinds_on_page(web.client.get("/runs/1/timeline", params={"kind": "alert"}).text)
    assert alerts and all(k.startswith("alert.") for k in alerts)
    assert len(alerts) == sum(k.startswith("alert.") for k in kinds)
    exact = web.client.get("/runs/1/timeline", params={"kind": ["run.started", "cannula"]})
    assert sorted(kinds_on_page(exact.text)) == ["cannula.inserted", "run.started"]

    nursing = web.client.get("/runs/1/timeline", params={"discipline": "nursing"}).text
    assert kinds_on_page(nursing) == ["alert.acknowledged"]
    assert "Test nurse (nursing)" in nursing

    # the window is read in the programme's zone: from 30 min after the run started, local
    start = (RUN_START + timedelta(minutes=30)).astimezone(web.client.app.state.settings.zone)  # type: ignore[attr-defined]
    later = web.client.get("/runs/1/timeline", params={"since": start.strftime("%Y-%m-%dT%H:%M")})
    assert "run.started" not in kinds_on_page(later.text)
    assert "observation.entered" in kinds_on_page(later.text)  # entered an hour after the start

    api = web.client.get("/api/v1/runs/1/events", params={"kind": "alert"}).json()
    assert [e["kind"] for e in api["events"]] == alerts and api["count"] == len(alerts)
    until = (RUN_START + timedelta(minutes=30)).isoformat()
    early = web.client.get("/api/v1/runs/1/events", params={"until": until}).json()
    assert {e["kind"] for e in early["events"]} == {
        "run.started",
        "component.added",
        "cannula.inserted",
    }


def test_times_are_shown_in_the_programme_zone(sydney: Web) -> None:
    sydney.login("nurse")
    html = sydney.client.get("/runs/1/timeline").text
    local = RUN_START.astimezone(sydney.client.app.state.settings.zone)  # type: ignore[attr-defined]
    started = re.search(r'<time datetime="[^"]+"[^>]*>(\d\d:\d\d)</time>\s*<span class="kind">'
                        r'<span class="badge k-run">Run started', html)  # fmt: skip
    assert started and started.group(1) == local.strftime("%H:%M")
    assert f"{local:%a %d %b %Y} · ECMO day 1" in html
    assert ZONE in html


def test_each_event_links_to_its_source_record(web: Web) -> None:
    web.login("perfusionist")
    events = web.client.get("/api/v1/runs/1/events").json()["events"]
    assert events
    for event in events:
        assert event["link"], event
        page = web.client.get(event["link"].split("#")[0], follow_redirects=False)
        assert page.status_code == 200, (event["kind"], event["link"], page.status_code)
    alert = next(e for e in events if e["kind"] == "alert.raised")
    assert alert["link"] == f"/runs/1/alerts#alert-{alert['record_id']}"


def test_bad_filters_are_refused_with_the_field_and_value(web: Web) -> None:
    web.login("nurse")
    page = web.client.get("/runs/1/timeline", params={"kind": "gossip"})
    assert page.status_code == 422 and "gossip" not in kinds_on_page(page.text)
    assert "<b>Kind</b>" in page.text and "alert" in page.text  # the field in plain words
    api = web.client.get("/api/v1/runs/1/events", params={"discipline": "astrology"})
    assert api.status_code == 422
    assert api.json()["fields"][0]["field"] == "discipline"
    assert api.json()["fields"][0]["value"] == "astrology"
    window = web.client.get(
        "/runs/1/timeline", params={"since": "2026-12-02T10:00", "until": "2026-12-01T10:00"}
    )
    assert window.status_code == 422 and "<b>Until</b>" in window.text
    assert web.client.get("/runs/1/timeline", params={"since": "yesterday"}).status_code == 422
    naive = web.client.get("/api/v1/runs/1/events", params={"since": "2026-12-01T10:00:00"})
    assert naive.status_code == 422


def test_researcher_sees_the_story_without_identifiers(web: Web) -> None:
    web.login("researcher")
    html = web.client.get("/runs/1/timeline").text
    assert "P-0001" in html and "alert.raised" in html
    assert not [s for s in (*SECRET_NAMES, *SECRET_MRNS) if s in html]
    api = web.client.get("/api/v1/runs/1/events").text
    assert not [s for s in (*SECRET_NAMES, *SECRET_MRNS) if s in api]


def test_run_page_links_to_the_timeline(web: Web) -> None:
    web.login("nurse")
    assert 'href="/runs/1/timeline"' in web.client.get("/runs/1").text
