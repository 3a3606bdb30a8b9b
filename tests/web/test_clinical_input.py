"""Clinical times that cannot be true are refused with the reason, and a request that
names nothing changes nothing: no future run end, no run before birth, no check dated next
year, no end before a start; empty candidacy / plan / circuit-check bodies wipe nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from continuum.core.schemas import FUTURE_SLACK
from continuum.rounds.schemas import INSPECTION_SITES
from tests.conftest import Web, if_match
from tests.seed import RUN_START

RUN = "/api/v1/runs/1"


def api(web: Web, role: str = "physician") -> dict[str, str]:
    web.login(role)
    return {"X-CSRF-Token": web.csrf("/login")}


def refused(response: Any, field: str) -> str:
    assert response.status_code == 422, response.text
    body = response.json()
    assert field in [f["field"] for f in body["fields"]], body
    return str(body["message"])


def test_a_run_cannot_end_in_the_future_or_before_it_began(web_any: Web) -> None:
    headers = api(web_any)
    client = web_any.client
    end = {"outcome": "weaned_recovered", "stop_reason": "recovered"}
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    message = refused(
        client.post(f"{RUN}/end", json={**end, "ended_at": tomorrow}, headers=headers), "ended_at"
    )
    assert "future" in message
    before = (RUN_START - timedelta(hours=1)).isoformat()
    message = refused(
        client.post(f"{RUN}/end", json={**end, "ended_at": before}, headers=headers), "ended_at"
    )
    assert "before the run started" in message
    assert client.get(RUN).json()["status"] != "ended"  # surveillance goes on
    within_skew = (datetime.now(UTC) + FUTURE_SLACK / 2).isoformat()
    response = client.post(f"{RUN}/end", json={**end, "ended_at": within_skew}, headers=headers)
    assert response.status_code == 200, response.text


def test_a_run_cannot_end_inside_its_own_mode_history(web_any: Web) -> None:
    headers = api(web_any)
    client = web_any.client
    changed = RUN_START + timedelta(hours=10)
    response = client.post(
        f"{RUN}/modes",
        json={"mode": "VA", "at": changed.isoformat(), "reason": "cardiac failure"},
        headers=headers,
    )
    assert response.status_code == 201, response.text
    inside = (changed - timedelta(hours=2)).isoformat()
    response = client.post(
        f"{RUN}/end",
        json={"outcome": "died_on_ecmo", "stop_reason": "withdrawal", "ended_at": inside},
        headers=headers,
    )
    assert "mode VA began" in refused(response, "ended_at")
    assert client.get(RUN).json()["status"] != "ended"


def test_a_run_cannot_start_before_the_patient_was_born(web_any: Web) -> None:
    headers = api(web_any)
    run = {"patient_id": 2, "support_type": "cardiac", "mode": "VA"}
    response = web_any.client.post(
        "/api/v1/runs", json={**run, "started_at": "1960-01-01T10:00:00+00:00"}, headers=headers
    )
    message = refused(response, "started_at")
    assert "birth" in message and "1966" not in message  # the date itself stays private
    response = web_any.client.post("/api/v1/runs", json=run, headers=headers)
    assert response.status_code == 201, response.text


def full_inspection(**grades: str) -> dict[str, str]:
    return {**dict.fromkeys(INSPECTION_SITES, "none"), **grades}


def test_a_circuit_check_needs_every_site_and_a_believable_time(web_any: Web) -> None:
    headers = api(web_any, "perfusionist")
    client = web_any.client
    checks = f"{RUN}/circuit-checks"
    response = client.post(checks, json={}, headers=headers)
    assert response.status_code == 422
    missing = {f["field"] for f in response.json()["fields"]}
    assert missing == {f"inspection.{site}" for site in INSPECTION_SITES}
    partial = {"inspection": {"ml_inlet": "fibrin"}}
    missing = {
        f["field"] for f in client.post(checks, json=partial, headers=headers).json()["fields"]
    }
    assert missing == {f"inspection.{s}" for s in INSPECTION_SITES if s != "ml_inlet"}
    next_year = (datetime.now(UTC) + timedelta(days=365)).isoformat()
    body = {"inspection": full_inspection(), "checked_at": next_year}
    assert "future" in refused(client.post(checks, json=body, headers=headers), "checked_at")
    body["checked_at"] = (RUN_START - timedelta(days=1)).isoformat()
    assert "before the run" in refused(
        client.post(checks, json=body, headers=headers), "checked_at"
    )
    assert client.get(checks).json()["checks"] == []  # nothing signed so far
    body = {"inspection": full_inspection(ml_inlet="fibrin")}
    assert client.post(checks, json=body, headers=headers).status_code == 201
    (stored,) = client.get(checks).json()["checks"]
    assert stored["inspection"] == full_inspection(ml_inlet="fibrin")


REFERRAL = "/api/v1/referrals/1"


def test_candidacy_changes_only_what_the_request_names(web_any: Web) -> None:
    headers = api(web_any)
    client = web_any.client
    first = {
        "checked": ["pulmonary.hypoxaemia"],
        "note": "P/F 55 on FiO2 1.0",
        "scores": {"murray": {"cxr_quadrants": 4, "pao2_mmhg": 55, "fio2": 1.0}},
    }
    response = client.post(
        f"{REFERRAL}/candidacy",
        json=first,
        headers=if_match(client, f"{REFERRAL}/candidacy", headers),
    )
    assert response.status_code == 200, response.text
    before = client.get(REFERRAL).json()["candidacy"]
    assert before["note"] == "P/F 55 on FiO2 1.0" and before["checked"]
    refused(
        client.post(
            f"{REFERRAL}/candidacy",
            json={},
            headers=if_match(client, f"{REFERRAL}/candidacy", headers),
        ),
        "body",
    )
    assert client.get(REFERRAL).json()["candidacy"] == before  # the empty body wiped nothing
    response = client.post(
        f"{REFERRAL}/candidacy",
        json={"note": "PEEP 14"},
        headers=if_match(client, f"{REFERRAL}/candidacy", headers),
    )
    assert response.status_code == 200, response.text
    after = client.get(REFERRAL).json()["candidacy"]
    assert after["note"] == "PEEP 14"
    assert after["checked"] == before["checked"] and after["scores"] == before["scores"]


def test_plan_changes_only_what_the_request_names(web_any: Web) -> None:
    headers = api(web_any, "perfusionist")
    client = web_any.client
    first = {"membrane_lung_make": "Getinge", "flow_goal_low": 4, "flow_goal_high": 5}
    response = client.post(
        f"{REFERRAL}/plan", json=first, headers=if_match(client, f"{REFERRAL}/plan", headers)
    )
    assert response.status_code == 200, response.text
    refused(
        client.post(
            f"{REFERRAL}/plan", json={}, headers=if_match(client, f"{REFERRAL}/plan", headers)
        ),
        "body",
    )
    plan = client.get(REFERRAL).json()["configuration_plan"]["plan"]
    assert plan["membrane_lung_make"] == "Getinge" and plan["flow_goal_low"] == 4
    response = client.post(
        f"{REFERRAL}/plan",
        json={"flow_goal_high": 6},
        headers=if_match(client, f"{REFERRAL}/plan", headers),
    )
    assert response.status_code == 200, response.text
    plan = client.get(REFERRAL).json()["configuration_plan"]["plan"]
    assert plan["flow_goal_high"] == 6
    assert plan["membrane_lung_make"] == "Getinge" and plan["flow_goal_low"] == 4
    response = client.post(
        f"{REFERRAL}/plan",
        json={"flow_goal_low": 7},
        headers=if_match(client, f"{REFERRAL}/plan", headers),
    )
    refused(response, "flow_goal_low")  # checked against the stored high goal
