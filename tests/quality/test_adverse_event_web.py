"""Adverse events over HTTP: the API (record, read with mapping and history, amend with
If-Match, stale → 409), the form pre-filled from a record, refused forms, the register,
the possible-events page, the offers on other pages, free text hidden for researchers."""

from __future__ import annotations

import re
from datetime import timedelta

from continuum.db import make_engine, make_sessionmaker, unit_of_work
from continuum.rounds.transfusion import Transfusion
from tests.conftest import Web
from tests.seed import RUN_START

AT = (RUN_START + timedelta(hours=3)).isoformat()
EVENT = {
    "code": "mech_pump_clot",
    "event_class": "incident",
    "harm": "mild",
    "occurred_at": AT,
    "detected_by": "circuit_check",
    "component_id": 1,
    "description": "Clot on the pump head, seen by Zelda's perfusionist",
    "immediate_actions": "Pump head changed",
}


def csrf(web: Web) -> dict[str, str]:
    return {"X-CSRF-Token": web.csrf("/runs")}


def test_api_record_read_amend_and_stale(web_any: Web) -> None:
    web = web_any
    web.login("perfusionist")
    h = csrf(web)
    r = web.client.post("/api/v1/runs/1/adverse-events", json=EVENT, headers=h)
    assert r.status_code == 201, r.text
    e = r.json()
    assert e["category"] == "mechanical" and e["code_label"] == "Pump-head thrombosis"
    assert e["elso_code"] == 116 and e["ecls_cdm_concept"] == 36717833
    assert e["mapping"] == "mapped" and e["version"] == 1
    assert e["component"]["kind"] == "membrane_lung"  # component 1 of the seed
    eid = e["id"]
    # Unmapped is said, never guessed.
    r = web.client.post(
        "/api/v1/runs/1/adverse-events",
        json=EVENT | {"code": "haem_major_other", "component_id": None},
        headers=h,
    )
    assert r.json()["elso_code"] is None and r.json()["mapping"] == "unmapped in ELSO and ECLS-CDM"
    # An amendment names the version it read.
    body = {"harm": "moderate", "reason": "pfHb 120 the next morning"}
    r = web.client.post(f"/api/v1/adverse-events/{eid}/amendments", json=body, headers=h)
    assert r.status_code == 422 and r.json()["fields"][0]["field"] == "version"
    r = web.client.post(
        f"/api/v1/adverse-events/{eid}/amendments", json=body, headers=h | {"If-Match": '"1"'}
    )
    assert r.status_code == 201, r.text
    got = r.json()
    assert got["harm"] == "moderate" and got["version"] == 2
    assert got["history"][0]["old"] == "mild" and got["history"][0]["new"] == "moderate"
    assert got["history"][0]["by_name"] == "Test perfusionist"
    r = web.client.post(
        f"/api/v1/adverse-events/{eid}/amendments",
        json={"harm": "severe", "reason": "late save"},
        headers=h | {"If-Match": "1"},
    )
    assert r.status_code == 409 and r.json()["current_version"] == 2
    assert web.client.get(f"/api/v1/adverse-events/{eid}").json()["harm"] == "moderate"
    # Consensus needs REVIEW_CASES (a perfusionist has not).
    r = web.client.post(
        f"/api/v1/adverse-events/{eid}/amendments",
        json={"harm": "severe", "kind": "consensus", "reason": "agreed", "version": 2},
        headers=h,
    )
    assert r.status_code == 403
    # Lists: per run and programme-wide with filters on the values in force.
    run = web.client.get("/api/v1/runs/1/adverse-events").json()["events"]
    assert {x["id"] for x in run} >= {1, eid}
    moderate = web.client.get("/api/v1/adverse-events", params={"harm": "moderate"}).json()
    assert [x["id"] for x in moderate["events"]] == [eid]
    r = web.client.get("/api/v1/adverse-events", params={"category": "plumbing"})
    assert r.status_code == 422


def test_api_refusals_name_field_value_and_run(web: Web) -> None:
    web.login("nurse")
    h = csrf(web)
    early = (RUN_START - timedelta(hours=2)).isoformat()
    r = web.client.post(
        "/api/v1/runs/1/adverse-events", json=EVENT | {"occurred_at": early}, headers=h
    )
    assert r.status_code == 422
    p = r.json()["fields"][0]
    assert p["field"] == "occurred_at" and "before the run started (run 1:" in p["message"]
    r = web.client.post(
        "/api/v1/runs/1/adverse-events",
        json=EVENT | {"code": "haem_gi", "category": "mechanical"},
        headers=h,
    )
    assert r.json()["fields"][0]["message"] == (
        "code haem_gi is a haemorrhagic code, not mechanical"
    )
    assert (
        web.client.post("/api/v1/runs/99/adverse-events", json=EVENT, headers=h).status_code == 404
    )
    assert len(web.client.get("/api/v1/runs/1/adverse-events").json()["events"]) == 1


def test_form_prefilled_from_an_alert_then_saved(web: Web) -> None:
    web.login("nurse")
    page = web.client.get("/runs/1/adverse-events/new?source=alert&source_id=1")
    assert page.status_code == 200
    html = page.text
    # Alert 1 of the seed is haemolysis at pfHb 60: moderate haemolysis, detected by alert.
    assert re.search(r'<option value="metab_haemolysis_moderate" selected', html)
    assert re.search(r'<option value="alert" selected>Surveillance alert', html)
    assert 'name="source_type" value="alert"' in html and 'name="source_id" value="1"' in html
    assert "From alert 1:" in html
    assert "Membrane lung · Getinge HLS 7.0" in html  # component select shows make/model
    assert re.search(r"<optgroup label=\"Haemorrhagic\">", html)
    local = re.search(r'name="occurred_at" id="occurred_at" required value="([^"]+)"', html)
    assert local
    form: dict[str, object] = {
        "code": "metab_haemolysis_moderate",
        "event_class": "incident",
        "harm": "mild",
        "occurred_at": local.group(1),
        "time_estimated": "on",
        "detected_by": "alert",
        "source_type": "alert",
        "source_id": "1",
        "description": "pfHb 60 mg/dL",
    }
    r = web.post_form("/runs/1/adverse-events/new", form)
    assert r.status_code == 303, r.text[:2000]
    event_page = web.client.get(r.headers["location"]).text
    assert "Moderate haemolysis" in event_page and "(estimated)" in event_page
    assert "from alert 1" in event_page
    # Recorded: the register lists it; the alert's possible-event is closed.
    register = web.client.get("/quality/events", params={"period": "all"}).text
    assert "Moderate haemolysis" in register and "ELSO 822" in register
    # Pre-fill of a record of nothing: a blank form that says so.
    blank = web.client.get("/runs/1/adverse-events/new?source=transfusion&source_id=77").text
    assert "No transfusion 77 on this run." in blank


def test_refused_form_shows_the_problem_and_keeps_values(web: Web) -> None:
    web.login("nurse")
    form: dict[str, object] = {
        "code": "haem_gi",
        "event_class": "incident",
        "harm": "mild",
        "occurred_at": (RUN_START - timedelta(days=1)).isoformat(),
        "detected_by": "bedside",
        "description": "melaena overnight",
    }
    r = web.post_form("/runs/1/adverse-events/new", form)
    assert r.status_code == 422
    assert "is before the run started" in r.text
    assert 'id="error-summary"' in r.text
    assert re.search(r'<option value="haem_gi" selected', r.text)
    assert "melaena overnight" in r.text


def test_event_page_amend_and_stale_form(web: Web) -> None:
    web.login("coordinator")
    page = web.client.get("/quality/events/1").text
    assert "Clot in the membrane lung" in page and "ELSO 116" in page
    assert 'value="consensus"' in page  # the coordinator reviews cases
    form: dict[str, object] = {
        "harm": "moderate",
        "preventability": "possibly",
        "kind": "consensus",
    }
    r = web.post_form("/quality/events/1/amend", form | {"reason": "M&M 3 Dec", "version": 1})
    assert r.status_code == 303
    page = web.client.get("/quality/events/1").text
    assert "review consensus" in page and "M&amp;M 3 Dec" in page
    r = web.post_form(
        "/quality/events/1/amend", {"harm": "severe", "reason": "x y z", "version": 1}
    )
    assert r.status_code == 409 and "after you opened it" in r.text
    r = web.post_form("/quality/events/1/amend", {"harm": "severe", "version": 2})
    assert r.status_code == 422 and "Reason" in r.text


def test_researcher_reads_events_counted_never_one_by_one(web: Web) -> None:
    web.login("researcher")
    for url in ("/api/v1/adverse-events/1", "/api/v1/adverse-events", "/quality/events",
                "/quality/events/1", "/api/v1/runs/1/adverse-events"):  # fmt: skip
        r = web.client.get(url)
        assert r.status_code == 403, url
        assert "Clot seen at the membrane-lung inlet" not in r.text
    assert "/quality/events/summary" in web.client.get("/quality/events").text  # where to go
    assert web.client.get("/runs/1/adverse-events/new").status_code == 403
    assert web.client.get("/quality/events/possible").status_code == 403
    assert web.client.get("/quality/runs/1/packet").status_code == 403
    assert web.client.get("/api/v1/quality/reviews/1").status_code in (403, 404)
    alerts = web.client.get("/runs/1/alerts").text
    assert "Record as adverse event" not in alerts
    # Not on the run's timeline either (page, API, the run page's summary).
    timeline = web.client.get("/runs/1/timeline", params={"kind": "adverse_event"}).text
    assert 'data-kind="adverse_event.recorded"' not in timeline
    api = web.client.get("/api/v1/runs/1/events").json()
    assert api["events"] and not [e for e in api["events"] if e["kind"].startswith("adverse")]
    assert "adverse_event" not in str(web.client.get("/api/v1/runs/1/timeline").json())
    # The seeded membrane-lung clot, counted: one event is a small cell.
    counts = web.client.get("/api/v1/quality/adverse-events/summary", params={"periods": 60})
    assert counts.status_code == 200
    body = counts.json()
    assert body["total"] == {"count": None, "shown": "<5"}
    mech = next(x for x in body["tables"][0]["lines"] if x["value"] == "mechanical")
    assert mech["total"]["shown"] == "<5" and mech["total"]["count"] is None
    assert '"run_id"' not in counts.text and '"patient_label"' not in counts.text
    page = web.client.get("/quality/events/summary", params={"periods": 60}).text
    assert "Mechanical" in page and "&lt;5" in page and "membrane-lung inlet" not in page


def test_offers_on_the_record_pages(web: Web) -> None:
    web.login("nurse")
    alerts = web.client.get("/runs/1/alerts").text
    assert "/runs/1/adverse-events/new?source=alert&amp;source_id=1" in alerts
    assert "Record as adverse event" in web.client.get("/alerts").text
    assert "Adverse events" in web.client.get("/runs/1").text  # the run link
    engine = make_engine(web.url)
    with unit_of_work(make_sessionmaker(engine)) as db:
        for i in range(3):
            db.add(
                Transfusion(
                    run_id=1,
                    product="red_cells",
                    units=1,
                    given_at=RUN_START + timedelta(hours=4 + i),
                    reason="oozing",
                )
            )
    engine.dispose()
    page = web.client.get("/runs/1/transfusions").text
    assert page.count("Record as adverse event") == 1
    assert "source=transfusion&amp;source_id=3" in page


def test_possible_events_page_record_and_dismiss(web: Web) -> None:
    web.login("qa_lead")
    engine = make_engine(web.url)
    from continuum.alerts.models import CircuitAlert

    with unit_of_work(make_sessionmaker(engine)) as db:
        db.add(
            CircuitAlert(
                run_id=1,
                detector="pump_thrombosis",
                severity="critical",
                peak_severity="critical",
                status="open",
                raised_at=RUN_START + timedelta(hours=5),
                summary="Power up 25 % at the same speed",
                evidence={},
            )
        )
    engine.dispose()
    page = web.client.get("/quality/events/possible").text
    assert "Power up 25 %" in page and "Pump-head thrombosis" in page
    assert "/runs/1/adverse-events/new?source=alert&amp;source_id=3" in page
    r = web.post_form(
        "/quality/events/possible/dismiss", {"source_type": "alert", "source_id": 3, "reason": ""}
    )
    assert r.status_code == 422 and "Power up 25 %" in r.text
    r = web.post_form(
        "/quality/events/possible/dismiss",
        {"source_type": "alert", "source_id": 3, "reason": "console artefact, flow steady"},
    )
    assert r.status_code == 303
    assert "Power up 25 %" not in web.client.get("/quality/events/possible").text
    audit = web.client.get("/admin/audit").text
    assert "adverse_event_screen" in audit


def test_programme_list_period_needs_a_zone(web: Web) -> None:
    web.login("qa_lead")
    naive = web.client.get("/api/v1/adverse-events", params={"since": "2026-01-01T00:00:00"})
    assert naive.status_code == 422
    since = (RUN_START + timedelta(hours=1)).isoformat()
    found = web.client.get("/api/v1/adverse-events", params={"since": since, "reviewed": False})
    assert [e["id"] for e in found.json()["events"]] == [1]
    assert web.client.get("/quality/events", params={"run_id": 2**40}).status_code == 422


def test_an_untouched_multiline_description_is_not_a_change(web: Web) -> None:
    web.login("nurse")
    h = csrf(web)
    body = EVENT | {"description": "Clot on the pump head.\nSeen at the torch check."}
    eid = web.client.post("/api/v1/runs/1/adverse-events", json=body, headers=h).json()["id"]
    form: dict[str, object] = {
        "description": "Clot on the pump head.\r\nSeen at the torch check.",
        "harm": "moderate",
        "reason": "worse on review",
        "version": 1,
    }
    assert web.post_form(f"/quality/events/{eid}/amend", form).status_code == 303
    history = web.client.get(f"/api/v1/adverse-events/{eid}").json()["history"]
    assert [c["field"] for c in history] == ["harm"]


def test_offers_on_a_failed_component_a_clot_check_and_an_aborted_trial(web: Web) -> None:
    from continuum.core import run_service
    from continuum.core.roles import Actor
    from continuum.core.run_record import Run
    from continuum.core.schemas import ComponentCreate
    from continuum.rounds.models import CircuitCheck
    from continuum.weaning.models import WeaningTrial

    engine = make_engine(web.url)
    with unit_of_work(make_sessionmaker(engine)) as db:
        run = db.get_one(Run, 1)
        run_service.add_component(
            db,
            Actor(staff_id=None, name="t", role="perfusionist"),
            run,
            ComponentCreate(
                kind="membrane_lung",
                replaces_id=1,
                stop_reason="thrombus",
                started_at=RUN_START + timedelta(hours=5),
            ),
        )
        db.add(
            CircuitCheck(
                run_id=1,
                checked_at=RUN_START + timedelta(hours=6),
                shift="day",
                inspection={"pump_head": "large_clot"},
                readings={},
                transfusions={},
            )
        )
        db.add(
            WeaningTrial(
                run_id=1,
                kind="sweep_off",
                status="aborted",
                started_at=RUN_START + timedelta(hours=7),
                ended_at=RUN_START + timedelta(hours=8),
            )
        )
    engine.dispose()
    web.login("perfusionist")
    assert "source=component&amp;source_id=1" in web.client.get("/runs/1").text
    assert "source=circuit_check&amp;source_id=1" in web.client.get("/runs/1/circuit-check").text
    assert "source=weaning_trial&amp;source_id=1" in web.client.get("/runs/1/weaning").text
    trial = web.client.get("/runs/1/weaning/trial?id=1").text
    assert "source=weaning_trial&amp;source_id=1" in trial
    form = web.client.get("/runs/1/adverse-events/new?source=component&source_id=1").text
    assert re.search(r'<option value="mech_ml_clot" selected', form)
    assert re.search(r'<option value="1" selected>Membrane lung · Getinge HLS 7.0', form)
    web.login("researcher")
    assert "Record as adverse event" not in web.client.get("/runs/1").text
