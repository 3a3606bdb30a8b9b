"""Transport pages and API: a mission started by API, refusals (422 naming the field, nothing
saved), the page with its intervals and checklist, the run page's "arrived on ECMO" note and
the run timeline."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.conftest import Web

NOW = datetime.now(UTC).replace(microsecond=0)
TICKED = {
    k: True
    for k in (
        "hand_crank",
        "clamps",
        "cannula_securement",
        "blood_products",
        "power_compatibility",
        "transport_ventilator",
    )
}
CHECKLIST = {
    "cylinder_volume_l": 10,
    "cylinder_pressure_bar": 200,
    "sweep_l_min": 4,
    "ventilator_l_min": 6,
    "console_battery_min": 200,
    "pump_battery_min": 200,
    "expected_min": 90,
    "ticked": TICKED,
}


def _iso(minutes_ago: float) -> str:
    return (NOW - timedelta(minutes=minutes_ago)).isoformat()


def _headers(web: Web) -> dict[str, str]:
    return {"X-CSRF-Token": web.csrf("/transport")}


def _fields(r) -> set[str]:  # type: ignore[no-untyped-def]
    return {f["field"].split(".")[-1] for f in r.json()["fields"]}


def test_a_secondary_transfer_through_the_api_and_onto_the_run_page(web_any: Web) -> None:
    web = web_any  # SQLite and PostgreSQL
    web.login("perfusionist")
    h = _headers(web)
    r = web.client.post(
        "/api/v1/transport",
        json={
            "mission_type": "secondary",
            "vehicle": "fixed_wing",
            "run_id": 1,
            "referring_hospital": "Northern Isles Hospital",
            "expected_min": 120,
            "call_at": _iso(300),
        },
        headers=h,
    )
    assert r.status_code == 201, r.text
    body = r.json()
    number = body["id"]
    assert body["arrived_on_ecmo"] is True and body["milestones"][0]["milestone"] == "call"
    for key, ago in (
        ("activation", 290),
        ("team_departure", 260),
        ("arrival_referring", 200),
        ("departure_patient", 120),
        ("arrival_base", 20),
    ):
        r = web.client.post(
            f"/api/v1/transport/{number}/milestones",
            json={"milestone": key, "at": _iso(ago)},
            headers=h,
        )
        assert r.status_code == 200, r.text
    intervals = {i["key"]: i for i in r.json()["intervals"]}
    assert intervals["bedside"]["minutes"] == 80.0 and intervals["bedside"]["shown"] == "1 h 20 min"
    assert intervals["transit"]["minutes"] == 100.0
    r = web.client.post(f"/api/v1/transport/{number}/checklist", json=CHECKLIST, headers=h)
    assert r.status_code == 200, r.text
    cl = r.json()["checklist"]
    # 10 L × 200 bar / (4 + 6) L/min = 200 min ≥ 90 min × safety factor 2
    assert cl["all_passed"] is True
    assert (cl["oxygen_min"], cl["needed_min"]) == (200.0, 180.0)


def test_refusals_name_the_field_and_save_nothing(web_any: Web) -> None:
    web = web_any  # SQLite and PostgreSQL
    web.login("coordinator")
    h = _headers(web)
    for body, field in (
        ({"mission_type": "primary", "vehicle": "boat", "referral_id": 1}, "vehicle"),
        ({"mission_type": "tertiary", "vehicle": "road", "referral_id": 1}, "mission_type"),
        ({"mission_type": "primary", "vehicle": "road", "referral_id": 10**12}, "referral_id"),
        ({"mission_type": "primary", "vehicle": "road", "referral_id": 999}, "referral_id"),
        ({"mission_type": "primary", "vehicle": "road"}, "referral_id"),
    ):
        r = web.client.post("/api/v1/transport", json=body, headers=h)
        assert r.status_code == 422, (body, r.text)
        assert field in _fields(r), (body, r.json())
    # mission 1 (seed): call 3 h ago; an activation before it is out of order
    r = web.client.post(
        "/api/v1/transport/1/milestones",
        json={"milestone": "activation", "at": _iso(200)},
        headers=h,
    )
    assert r.status_code == 422
    message = r.json()["fields"][0]["message"]
    assert "Team activated" in message and "Call received" in message
    r = web.client.post(
        "/api/v1/transport/1/checklist",
        json={**CHECKLIST, "cylinder_pressure_bar": -5},
        headers=h,
    )
    assert r.status_code == 422 and "cylinder_pressure_bar" in _fields(r)
    r = web.client.post(
        "/api/v1/transport/1/checklist",
        json={**CHECKLIST, "ticked": TICKED | {"hand_crank": False}},
        headers=h,
    )
    assert r.status_code == 422 and _fields(r) == {"reason_hand_crank"}
    assert "Hand crank" in r.json()["fields"][0]["message"]
    r = web.client.post(
        "/api/v1/transport/1/events", json={"at": _iso(10), "kind": "meteor"}, headers=h
    )
    assert r.status_code == 422 and "kind" in _fields(r)
    r = web.client.post(
        "/api/v1/transport/1/handover",
        json={"at": _iso(10), "to_name": "Dr A", "to_discipline": "astrology", "summary": "ok"},
        headers=h,
    )
    assert r.status_code == 422 and "to_discipline" in _fields(r)
    assert "intensive_care" in r.json()["fields"][0]["message"]
    mission = web.client.get("/api/v1/transport/1").json()
    assert mission["checklist"] is None and mission["events"] == []
    assert [m["milestone"] for m in mission["milestones"]] == ["call"]
    assert mission["version"] == 1


def test_the_page_signs_a_checklist_and_refuses_a_failed_item_without_reason(web: Web) -> None:
    web.login("nurse")
    assert "Pre-departure checklist not signed" in web.client.get("/transport/1").text
    form = {
        "cylinder_volume_l": "10",
        "cylinder_pressure_bar": "200",
        "cylinders": "2",
        "sweep_l_min": "4",
        "ventilator_l_min": "0",
        "console_battery_min": "180",
        "pump_battery_min": "180",
        "expected_min": "60",
        **{f"tick_{k}": "pass" for k in TICKED},
    }
    r = web.post_form("/transport/1/checklist", form | {"tick_clamps": "fail"}, "/transport/1")
    assert r.status_code == 422
    assert "Tubing clamps (at least two) at hand" in r.text and "give the reason" in r.text
    r = web.post_form(
        "/transport/1/checklist",
        form | {"tick_clamps": "fail", "reason_clamps": "clamps from the referring theatre"},
        "/transport/1",
    )
    assert r.status_code == 303
    page = web.client.get("/transport/1")
    assert page.status_code == 200
    assert "Pre-departure checklist not signed" not in page.text
    assert (
        "signed with failed items" in page.text and "clamps from the referring theatre" in page.text
    )
    assert "4000 L" in page.text or "4000" in page.text  # 2 × 10 L × 200 bar
    # the seeded call time (the test template is built once per session, minutes earlier)
    mission = web.client.get("/api/v1/transport/1").json()
    call = next(m["at"] for m in mission["milestones"] if m["milestone"] == "call")
    activation = (datetime.fromisoformat(call) + timedelta(minutes=10)).isoformat()
    r = web.post_form(
        "/transport/1/milestone", {"milestone": "activation", "at": activation}, "/transport/1"
    )
    assert r.status_code == 303
    page = web.client.get("/transport/1").text
    assert 'data-interval="activation"' in page and "10 min" in page


def test_the_run_page_says_the_run_arrived_on_ecmo(web: Web) -> None:
    web.login("physician")
    h = _headers(web)
    r = web.client.post(
        "/api/v1/transport",
        json={
            "mission_type": "secondary",
            "vehicle": "road",
            "run_id": 1,
            "referring_hospital": "Lakeside General",
            "call_at": _iso(90),
        },
        headers=h,
    )
    number = r.json()["id"]
    page = web.client.get("/runs/1").text
    assert "Arrived on ECMO from Lakeside General" in page
    assert f"/transport/{number}" in page
    record = web.client.get("/api/v1/research/registry/runs/1").json()
    flag = next(f for f in record["fields"] if f["field"] == "run.arrived_on_ecmo")
    assert (
        flag["value"] in ("True", "true", "yes", "1")
        and flag["source"] == f"transport mission {number} (secondary)"
    )
    timeline = web.client.get("/runs/1/timeline").text
    assert "Lakeside General" in timeline and "Transport" in timeline
    web.client.cookies.clear()
    web.login("researcher")
    page = web.client.get("/runs/1").text
    assert "Arrived on ECMO from another centre" in page and "Lakeside" not in page
    listing = web.client.get("/transport").text
    assert "Lakeside" not in listing
