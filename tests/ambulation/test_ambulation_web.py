"""Ambulation through the web: the JSON API (response models, 422 naming field, value and
allowed range; nothing written), the pages (form → session page → correction → print),
the run page's summary and link, the timeline entry and the researcher's view."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.conftest import Web
from tests.seed import RUN_START

START = RUN_START + timedelta(hours=26)
SAFE = {
    k: "pass"
    for k in (
        "flow_stable", "cannula_secured", "clamps_at_hand", "tubing_slack", "roles_assigned",
        "stop_criteria",
    )
}  # fmt: skip


def _json(**changes: Any) -> dict[str, Any]:
    return {
        "started_at": START.isoformat(),
        "ended_at": (START + timedelta(minutes=30)).isoformat(),
        "ims_level": 4,
        "safety": SAFE,
        "staff_ids": [1, 3],
        **changes,
    }


def _post(web: Web, path: str, body: dict[str, Any]):  # type: ignore[no-untyped-def]
    return web.client.post(path, json=body, headers={"X-CSRF-Token": web.csrf()})


def _count(web: Web) -> int:
    return len(web.client.get("/api/v1/runs/1/ambulation").json()["sessions"])


def test_api_records_reads_and_corrects_a_session(web_any: Web) -> None:
    web = web_any
    web.login("nurse")
    made = _post(web, "/api/v1/runs/1/ambulation", _json(
        events=[{"kind": "flow_drop", "at": (START + timedelta(minutes=9)).isoformat(),
                 "note": "3.8 to 3.0 L/min"}],
    ))  # fmt: skip
    assert made.status_code == 201, made.text
    body = made.json()
    assert (body["ims_level"], body["ims_label"], body["minutes"]) == (4, "Standing", 30.0)
    assert {s["group"] for s in body["staff"]} == {"Perfusion", "Nursing"}
    assert body["events"][0]["label"] == "Flow drop"
    codes = {v["code"]: v for v in body["circuit_values"]}
    assert codes["blood_flow"]["before"] is None  # nothing charted around this session
    assert body["windows_min"] == {"before": 30, "after": 30}
    number = body["id"]
    fixed = _post(web, f"/api/v1/ambulation/{number}/amendments",
                  {**_json(ims_level=6), "reason": "marched on the spot"})  # fmt: skip
    assert fixed.status_code == 201, fixed.text
    assert (fixed.json()["id"], fixed.json()["ims_level"], fixed.json()["versions"]) == (
        number, 6, 2,
    )  # fmt: skip
    listing = web.client.get("/api/v1/runs/1/ambulation").json()
    assert listing["highest_ims"] == 6
    assert [s["id"] for s in listing["sessions"]] == [1, number]
    timeline = web.client.get("/api/v1/runs/1/timeline").json()
    kinds = [e["kind"] for e in timeline.get("events", timeline)] if isinstance(
        timeline, dict) else [e["kind"] for e in timeline]  # fmt: skip
    assert "ambulation.session_recorded" in kinds and "ambulation.session_amended" in kinds


def test_api_bad_input_names_field_value_and_range_and_writes_nothing(web_any: Web) -> None:
    web = web_any
    web.login("nurse")
    before = _count(web)
    cases = [
        (_json(ims_level=11), "ims_level", 11, "0–10"),
        (_json(safety={**SAFE, "stop_criteria": "fail"}), "safety_reason", None, "Stop criteria"),
        (_json(ended_at=(START - timedelta(minutes=1)).isoformat()), "ended_at", None, "after"),
    ]
    for body, field, value, words in cases:
        r = _post(web, "/api/v1/runs/1/ambulation", body)
        assert r.status_code == 422, r.text
        problems = {p["field"]: p for p in r.json()["fields"]}
        assert field in problems and words in problems[field]["message"], r.text
        if value is not None:
            assert problems[field]["value"] == value
    r = _post(web, "/api/v1/runs/1/ambulation", {**_json(), "ims_level": "high"})
    assert r.status_code == 422 and r.json()["fields"][0]["field"] == "ims_level"
    assert _count(web) == before


def test_pages_record_show_correct_and_print_a_session(web: Web) -> None:
    web.login("nurse")
    page = web.client.get("/runs/1/ambulation/new")
    assert page.status_code == 200 and "Safety check before starting" in page.text
    local = START.strftime("%Y-%m-%dT%H:%M")  # the test programme's zone is UTC
    form = {
        "started_at": local,
        "ended_at": (START + timedelta(minutes=35)).strftime("%Y-%m-%dT%H:%M"),
        "ims_level": "7",
        "staff_id": "1",
        **{f"safety_{k}": v for k, v in SAFE.items()},
        "safety_clamps_at_hand": "fail",
        "event_kind_1": "chattering",
        "event_at_1": (START + timedelta(minutes=5)).strftime("%H:%M"),
    }
    refused = web.post_form("/runs/1/ambulation", form)
    assert refused.status_code == 422
    assert "Clamps at hand" in refused.text and "Nothing was saved" in refused.text
    assert 'value="chattering" selected' in refused.text  # the entries are kept
    form["safety_reason"] = "spare clamps fetched before standing"
    done = web.post_form("/runs/1/ambulation", form)
    assert done.status_code == 303, done.text[:500]
    where = done.headers["location"]
    shown = web.client.get(where)
    assert shown.status_code == 200
    assert "Walking with the help of 2 or more people" in shown.text
    assert "Chattering" in shown.text and "not recorded" in shown.text
    assert "spare clamps fetched" in shown.text
    high = web.post_form("/runs/1/ambulation", {**form, "ims_level": "11"})
    assert high.status_code == 422 and "outside 0–10" in high.text
    amend = web.client.get(f"{where}/amend")
    assert amend.status_code == 200 and 'value="7" checked' in amend.text
    again = web.post_form(f"{where}/amend", {**form, "ims_level": "8", "reason": "one helper"})
    assert again.status_code == 303
    shown = web.client.get(where)
    assert "Walking with the help of 1 person" in shown.text and "one helper" in shown.text
    assert web.client.get(f"{where}/print").status_code == 200
    run_page = web.client.get("/runs/1")
    assert "/runs/1/ambulation" in run_page.text
    assert "highest ICU Mobility Scale 8" in run_page.text
    listing = web.client.get("/runs/1/ambulation")
    assert "IMS 8" in listing.text


def test_a_researcher_reads_without_free_text_and_may_not_record(web: Web) -> None:
    web.login("nurse")
    made = _post(web, "/api/v1/runs/1/ambulation", _json(note="MARKER-FREE-TEXT"))
    assert made.status_code == 201
    web.client.post("/logout", data={"csrf_token": web.csrf()})
    web.login("researcher")
    body = web.client.get(f"/api/v1/ambulation/{made.json()['id']}").json()
    assert body["note"] is None
    page = web.client.get(f"/ambulation/{made.json()['id']}")
    assert page.status_code == 200 and "MARKER-FREE-TEXT" not in page.text
    assert _post(web, "/api/v1/runs/1/ambulation", _json()).status_code == 403
