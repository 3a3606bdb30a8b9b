"""An alert's state at a glance, decided once (core.alert_state) and shown the same way on the
run page, the board, the alert list and the rounds sheet; history in clinical time with
sentences; resolving a critical alert needs a perfusionist or a physician."""

from __future__ import annotations

from datetime import timedelta

import pytest

from continuum.alerts import lifecycle
from continuum.alerts.models import CircuitAlert
from continuum.core.alert_state import display_state, present_counts, summary_badges
from continuum.core.run_record import Run
from continuum.db import make_engine, make_sessionmaker, unit_of_work
from tests.conftest import Web
from tests.seed import RUN_START


@pytest.mark.parametrize(
    ("status", "cleared", "key", "words", "present"),
    [
        ("open", False, "active", "active", True),
        ("open", True, "cleared", "cleared — awaiting review", False),
        ("acknowledged", False, "acknowledged", "acknowledged · still present", True),
        ("acknowledged", True, "acknowledged", "acknowledged · cleared", False),
        ("resolved", False, "resolved", "resolved", False),
        ("resolved", True, "resolved", "resolved", False),
    ],
)
def test_one_decision_for_every_page(
    status: str, cleared: bool, key: str, words: str, present: bool
) -> None:
    state = display_state(status, cleared)
    assert (state.key, state.words, state.present) == (key, words, present)


def test_only_present_conditions_count() -> None:
    alerts = [
        {"severity": "critical", "status": "open", "cleared_at": "2026-12-03T16:41:00Z"},
        {"severity": "warning", "status": "open", "cleared_at": "2026-12-03T20:24:00Z"},
        {"severity": "warning", "status": "acknowledged", "cleared_at": None},
    ]
    assert present_counts(alerts) == {"critical": 0, "warning": 1, "info": 0}
    assert [w for _, w in summary_badges(alerts)] == [
        "1 warning · acknowledged",
        "2 cleared — awaiting review",
    ]


def _clear_alert_1(web: Web, hours: float = 3.0) -> None:
    """The seeded haemolysis alert (1) cleared by the data ``hours`` after the run started."""
    engine = make_engine(web.url)
    with unit_of_work(make_sessionmaker(engine)) as db:
        alert = db.get_one(CircuitAlert, 1)
        run = db.get_one(Run, alert.run_id)
        lifecycle.clear_alert(db, run, alert, RUN_START + timedelta(hours=hours), "back to normal")
    engine.dispose()


def test_pages_show_a_cleared_alert_as_awaiting_review_not_as_a_current_finding(
    web: Web,
) -> None:
    _clear_alert_1(web)
    web.login("nurse")
    run_page = web.client.get("/runs/1").text
    assert 'data-state="cleared"' in run_page and "cleared — awaiting review" in run_page
    assert 'data-state="active"' in run_page  # alert 2 (anticoagulation) is still present
    assert "1 cleared — awaiting review" in run_page
    board = web.client.get("/rounds").text
    assert "1 cleared — awaiting review" in board and "1 warning · active" in board
    listed = web.client.get("/alerts").text
    assert 'data-alert="1" data-state="cleared"' in listed
    assert 'data-alert="2" data-state="active"' in listed
    sheet = web.client.get("/rounds/sheet").text
    assert "cleared — awaiting review" in sheet
    api = web.client.get("/api/v1/alerts/1").json()
    assert (api["state"], api["state_words"]) == ("cleared", "cleared — awaiting review")
    board_json = web.client.get("/api/v1/rounds/board").json()
    row = next(r for r in board_json["runs"] if r["run_id"] == 1)
    assert row["alert_counts"]["warning"] == 1  # the cleared haemolysis is not counted
    assert row["alert_states"]["cleared"] == 1


def test_history_is_in_clinical_time_with_sentences(web: Web) -> None:
    _clear_alert_1(web, hours=3.0)
    web.login("nurse")
    page = web.client.get("/runs/1/alerts").text
    assert "{'because'" not in page and "{&#39;because&#39;" not in page
    assert "Condition cleared: values back within the thresholds" in page
    cleared_at = (RUN_START + timedelta(hours=3)).strftime("%Y-%m-%d %H:%M")  # one format
    assert cleared_at in page  # the data's time (programme zone UTC in tests) …
    assert "recorded " in page  # … and, as it differs, when the row was written
    assert "Warning raised" in page


def _make_critical(web: Web) -> None:
    web.login("perfusionist")
    r = web.client.post(
        "/api/v1/runs/1/observations",
        json={
            "observations": [
                {"code": "pfhb", "value": 150, "time": (RUN_START + timedelta(hours=4)).isoformat()}
            ]
        },
        headers={"X-CSRF-Token": web.csrf()},
    )
    assert r.status_code == 201, r.text
    assert web.client.get("/api/v1/alerts/1").json()["peak_severity"] == "critical"
    web.client.post("/logout", data={"csrf_token": web.csrf()})


@pytest.mark.parametrize("role", ["coordinator", "nurse"])
def test_a_critical_alert_is_not_resolved_by_the_coordinator_or_a_nurse_alone(
    web: Web, role: str
) -> None:
    _make_critical(web)
    web.login(role)
    page = web.client.get("/runs/1/alerts").text
    assert "resolving it needs a perfusionist or a physician" in page
    refused = web.client.post(
        "/api/v1/alerts/1/resolve",
        json={"note": "looks fine"},
        headers={"X-CSRF-Token": web.csrf()},
    )
    assert refused.status_code == 403
    assert "needs a perfusionist or a physician" in refused.text
    assert web.client.get("/api/v1/alerts/1").json()["status"] != "resolved"
    # they may still acknowledge it, and resolve a warning (alert 2)
    ack = web.post_form("/alerts/1/acknowledge", {"comment": "perfusionist called"})
    assert ack.status_code == 303
    ok = web.client.post(
        "/api/v1/alerts/2/resolve",
        json={"note": "anti-Xa repeated: in range"},
        headers={"X-CSRF-Token": web.csrf()},
    )
    assert ok.status_code == 200 and ok.json()["state"] == "resolved"


def test_a_perfusionist_resolves_a_critical_alert(web: Web) -> None:
    _make_critical(web)
    web.login("perfusionist")
    done = web.post_form("/alerts/1/resolve", {"note": "pump head changed"})
    assert done.status_code == 303
    assert web.client.get("/api/v1/alerts/1").json()["status"] == "resolved"


def test_replace_a_component_from_the_alert_resolves_it_with_the_link(web: Web) -> None:
    web.login("perfusionist")
    page = web.client.get("/runs/1/alerts").text
    assert "Fix it from here" in page and "Replace and resolve" in page
    missing = web.post_form("/alerts/1/replace-component", {"stop_reason": "haemolysis"})
    assert missing.status_code == 422 and "choose the component this one replaces" in missing.text
    assert web.client.get("/api/v1/alerts/1").json()["status"] == "open"
    done = web.post_form(
        "/alerts/1/replace-component",
        {"replaces_id": 1, "stop_reason": "thrombus", "model": "HLS 7.0", "note": "clot seen"},
    )
    assert done.status_code == 303, done.text[:500]
    alert = web.client.get("/api/v1/alerts/1").json()
    assert alert["status"] == "resolved"
    resolved = alert["events"][-1]
    link = resolved["detail"]["intervention"]
    assert (link["kind"], link["replaced_id"], link["stop_reason"]) == ("component", 1, "thrombus")
    run = web.client.get("/api/v1/runs/1").json()
    old = next(c for c in run["components"] if c["id"] == 1)
    assert old["stop_reason"] == "thrombus" and old["stopped_at"]
    assert any(c["replaces_id"] == 1 for c in run["components"])
    page = web.client.get("/runs/1/alerts").text
    assert "membrane lung #1 replaced by #" in page and "(stop reason: thrombus)" in page


def test_raise_an_action_from_the_alert_links_it(web: Web) -> None:
    web.login("nurse")
    bad = web.post_form("/alerts/2/raise-action", {"text": "Repeat anti-Xa"})
    assert bad.status_code == 422 and "owner discipline" in bad.text
    done = web.post_form(
        "/alerts/2/raise-action",
        {
            "text": "Repeat anti-Xa at 18:00",
            "owner_discipline": "nursing",
            "due_at": "2030-01-01T18:00",
        },
    )
    assert done.status_code == 303, done.text[:500]
    alert = web.client.get("/api/v1/alerts/2").json()
    assert alert["status"] == "open"  # a plan, not a fix
    link = alert["events"][-1]["detail"]["intervention"]
    assert link["kind"] == "action" and link["href"] == "/runs/1/rounds#actions"
    rounds = web.client.get("/runs/1/rounds").text
    assert "Repeat anti-Xa at 18:00" in rounds
    assert "action raised: Repeat anti-Xa at 18:00" in web.client.get("/runs/1/alerts").text


def test_a_circuit_check_links_to_a_ready_replacement_form(web: Web) -> None:
    web.login("perfusionist")
    check = web.client.get("/runs/1/circuit-check").text
    assert 'href="/runs/1?replace=1#circuit"' in check
    page = web.client.get("/runs/1", params={"replace": 1}).text
    form = page[page.index("Add or replace a component") - 200 :]
    assert "<details open" in form.replace("<details  open", "<details open")
    assert '<option value="1" selected>' in form
