"""The hospital-outcome and ECPR-times pages and API: the run page's link, recording and
correcting through the form, bad input refused with the field named (never a 500, nothing
saved), typed notes hidden from the researcher."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.conftest import Web


def _end_run_1(web: Web) -> None:
    csrf = web.csrf("/runs/1")
    r = web.client.post(
        "/runs/1/end",
        data={"outcome": "weaned_recovered", "stop_reason": "trial passed", "csrf_token": csrf},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text[:300]


def test_bad_input_is_refused_with_the_field_named(web: Web) -> None:
    web.login("physician")
    csrf = web.csrf("/runs/1")
    headers = {"X-CSRF-Token": csrf}
    api = "/api/v1/runs/1/hospital-outcome"
    active = web.client.post(api, json={"status": "in_hospital"}, headers=headers)
    assert active.status_code == 409 and "still active" in active.json()["message"]
    _end_run_1(web)
    for body, field in (
        ({"status": "alive"}, "status"),
        ({"status": "discharged_alive", "destination": "moon"}, "destination"),
        ({"status": "in_hospital", "at": "yesterday"}, "at"),
        ({"status": "in_hospital", "at": "2001-01-01T00:00:00Z"}, "at"),
        ({"status": "in_hospital", "corrects_id": 10**12, "reason": "x y z"}, "corrects_id"),
        ({"status": "in_hospital", "extra": 1}, "extra"),
        ({"status": "discharged_alive"}, "destination"),
    ):
        r = web.client.post(api, json=body, headers=headers)
        assert r.status_code == 422, (body, r.status_code, r.text[:300])
        assert field in {f["field"].split(".")[-1] for f in r.json()["fields"]}, (body, r.json())
    assert web.client.post("/api/v1/runs/999/hospital-outcome", json={"status": "in_hospital"},
                           headers=headers).status_code == 404  # fmt: skip
    assert web.client.get(api).json()["history"] == []  # nothing was saved
    ecpr = web.client.post(
        "/api/v1/runs/1/ecpr-times",
        json={"cpr_started_at": "2030-01-01T00:00:00Z", "full_flow_at": "nope"},
        headers=headers,
    )
    assert ecpr.status_code == 422
    pulmonary = web.client.post(
        "/api/v1/runs/1/ecpr-times",
        json={
            "cpr_started_at": (datetime.now(UTC) - timedelta(days=2, minutes=30)).isoformat(),
            "full_flow_at": (datetime.now(UTC) - timedelta(days=2)).isoformat(),
        },
        headers=headers,
    )
    assert pulmonary.status_code == 422
    assert pulmonary.json()["fields"][0]["field"] == "support_type"


def test_run_page_link_form_correction_and_researcher(web: Web) -> None:
    web.login("physician")
    _end_run_1(web)
    run_page = web.client.get("/runs/1").text
    assert 'id="hospital-outcome"' in run_page and "not recorded yet" in run_page
    assert 'href="/runs/1/hospital-outcome"' in run_page
    csrf = web.csrf("/runs/1/hospital-outcome")
    bad = web.client.post(
        "/runs/1/hospital-outcome",
        data={"status": "discharged_alive", "csrf_token": csrf},
        follow_redirects=False,
    )
    assert bad.status_code == 422 and 'data-field="destination"' in bad.text
    ok = web.client.post(
        "/runs/1/hospital-outcome",
        data={"status": "discharged_alive", "destination": "home", "note": "SECRET-NOTE-1",
              "csrf_token": csrf},
        follow_redirects=False,
    )  # fmt: skip
    assert ok.status_code == 303
    page = web.client.get("/runs/1/hospital-outcome").text
    assert "Correct the hospital outcome" in page and "SECRET-NOTE-1" in page
    first = web.client.get("/api/v1/runs/1/hospital-outcome").json()["in_force"]["id"]
    fixed = web.client.post(
        "/runs/1/hospital-outcome",
        data={"status": "transferred_alive", "destination": "another_hospital",
              "corrects_id": str(first), "reason": "SECRET-REASON-2", "csrf_token": csrf},
        follow_redirects=False,
    )  # fmt: skip
    assert fixed.status_code == 303
    view = web.client.get("/api/v1/runs/1/hospital-outcome").json()
    assert view["in_force"]["status"] == "transferred_alive"
    assert [h["id"] for h in view["history"]] == [view["in_force"]["id"], first]
    assert "Transferred to another hospital alive" in web.client.get("/runs/1").text
    timeline = web.client.get("/runs/1/timeline?kind=discharge").text
    assert "Hospital outcome corrected" in timeline
    web.client.post("/logout", data={"csrf_token": web.csrf("/runs")})
    web.login("researcher")
    hidden = web.client.get("/api/v1/runs/1/hospital-outcome").json()
    assert hidden["in_force"]["reason"] is None and hidden["history"][1]["note"] is None
    text = web.client.get("/runs/1/hospital-outcome").text
    assert "SECRET-NOTE-1" not in text and "SECRET-REASON-2" not in text
    assert "hidden for your role" in text
    assert "Correct the hospital outcome" not in text  # a reader, not a recorder
