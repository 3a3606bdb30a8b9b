"""Alert pages, forms, API and stream as a clinician meets them."""

from __future__ import annotations

import json

from tests.conftest import Web
from tests.seed import SECRET_NAMES


def test_run_alerts_page_explains_each_alert(web: Web) -> None:
    web.login("nurse")
    page = web.client.get("/runs/1/alerts").text
    assert "hemolysis" in page and "anticoagulation out of range" in page
    assert "pfhb_warning" in page and "Omar HR 2015" in page  # threshold and its source
    assert "latest pfHb" in page  # the rule
    assert 'class="tchart"' in page and '<script src="/static/vendor/plotly' not in page
    assert "Acknowledge" in page and "Resolve" in page
    assert 'href="/runs/1/alerts"' in web.client.get("/runs/1").text  # run link


def test_the_list_shows_labels_to_researchers_and_no_buttons(web: Web) -> None:
    web.login("researcher")
    page = web.client.get("/alerts").text
    assert "P-0001" in page and SECRET_NAMES[0] not in page
    assert "Acknowledge" not in web.client.get("/runs/1/alerts").text


def test_acknowledge_form_needs_a_comment(web: Web) -> None:
    web.login("nurse")
    refused = web.post_form("/alerts/1/acknowledge", {"comment": ""})
    assert refused.status_code == 422
    assert "comment is required" in refused.text
    assert web.client.get("/api/v1/alerts/1").json()["status"] == "open"
    done = web.post_form("/alerts/1/acknowledge", {"comment": "pump head inspected"})
    assert done.status_code == 303
    alert = web.client.get("/api/v1/alerts/1").json()
    assert alert["status"] == "acknowledged"
    assert alert["acknowledge_comment"] == "pump head inspected"
    assert [e["kind"] for e in alert["events"]] == ["raised", "acknowledged"]
    assert alert["events"][-1]["by"] == "Test nurse"


def test_api_lists_most_severe_first(web: Web) -> None:
    web.login("perfusionist")
    csrf = web.csrf()
    r = web.client.post(
        "/api/v1/runs/1/observations",
        json={"observations": [{"code": "pfhb", "value": 150, "time": _later()}]},
        headers={"X-CSRF-Token": csrf},
    )
    assert r.status_code == 201, r.text
    listed = web.client.get("/api/v1/alerts").json()
    assert (listed[0]["detector"], listed[0]["severity"]) == ("hemolysis", "critical")
    assert listed[0]["peak_severity"] == "critical"


def test_stream_sends_alert_events_after_the_cursor(web: Web) -> None:
    web.login("nurse")
    r = web.client.get("/api/v1/alerts/stream", params={"after": 0, "max_seconds": 0})
    assert r.headers["content-type"].startswith("text/event-stream")
    events = [json.loads(line[6:]) for line in r.text.splitlines() if line.startswith("data: {")]
    alerts = [e for e in events if "alert" in e]
    assert {e["alert"]["detector"] for e in alerts} == {"hemolysis", "anticoagulation_out_of_range"}
    last = alerts[-1]["id"]
    r = web.client.get("/api/v1/alerts/stream", params={"after": last, "max_seconds": 0})
    assert "event: alert" not in r.text
    r = web.client.get(
        "/api/v1/alerts/stream", params={"max_seconds": 0}, headers={"Last-Event-ID": "0"}
    )
    assert r.text.count("event: alert") == len(alerts)


def test_thresholds_page_validates_and_saves(web: Web) -> None:
    web.login("qa_lead")
    page = web.client.get("/settings/surveillance").text
    assert "pfhb_warning" in page and "Omar HR 2015" in page
    bad = web.post_form("/settings/surveillance", {"t_pfhb_warning": "abc"})
    assert bad.status_code == 422
    said = "plasma free Hb warning (pfhb_warning): &#39;abc&#39; is not a number"
    assert f"{said}; allowed 0–500 mg/dL" in bad.text
    ok = web.post_form("/settings/surveillance", {"t_pfhb_warning": "40", "note": "QA"})
    assert ok.status_code == 303
    answer = web.client.get("/api/v1/surveillance/thresholds").json()
    rows = {t["key"]: t for t in answer["settings"]}
    assert rows["pfhb_warning"]["value"] == 40.0 and rows["pfhb_warning"]["default"] == 50


def _later() -> str:
    from datetime import timedelta

    from tests.seed import RUN_START

    return (RUN_START + timedelta(hours=4)).isoformat()
