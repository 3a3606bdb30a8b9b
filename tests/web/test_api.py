"""The JSON API with administrator-issued tokens: the core record end to end, field-level
422s, and tokens that stop working when revoked."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from tests.conftest import Web
from tests.seed import RUN_START


def issue(web: Web, staff_id: int) -> str:
    web.login("admin")
    r = web.client.post(
        "/api/v1/tokens",
        json={"staff_id": staff_id, "label": "gateway"},
        headers={"X-CSRF-Token": web.csrf("/admin/users")},
    )
    assert r.status_code == 201
    web.client.cookies.clear()
    return str(r.json()["token"])


def bearer(client: TestClient, token: str) -> TestClient:
    client.headers["Authorization"] = f"Bearer {token}"
    return client


def test_token_holder_scripts_the_core_record(web_any: Web) -> None:
    api = bearer(web_any.client, issue(web_any, staff_id=8))  # the integration account
    pid = api.post(
        "/api/v1/patients",
        json={
            "mrn": "MRN-API-7",
            "name": "Ana Api",
            "sex": "female",
            "height_cm": 165,
            "weight_kg": 60,
        },
    ).json()["id"]
    start = RUN_START.isoformat()
    run = api.post(
        "/api/v1/runs",
        json={"patient_id": pid, "support_type": "pulmonary", "mode": "VV", "started_at": start},
    )
    assert run.status_code == 201, run.text
    rid = run.json()["id"]
    t = (RUN_START + timedelta(hours=1)).isoformat()
    stored = api.post(
        f"/api/v1/runs/{rid}/observations",
        json={
            "observations": [
                {"code": "blood_flow", "value": 4.2, "time": t, "source": "console"},
                {"code": "pao2", "value": 9.5, "unit": "kPa", "time": t, "source": "lab"},
            ]
        },
    )
    assert stored.json() == {"stored": 2}
    summary = api.get(f"/api/v1/runs/{rid}").json()
    # A service account writes identifiers but does not read them back (issue #15).
    assert summary["mode"] == "VV" and summary["patient"]["mrn"] is None
    assert summary["observations"]["pao2"]["latest"]["value"] == pytest.approx(71.25589)


def test_bad_payload_gets_field_level_messages(web: Web) -> None:
    api = bearer(web.client, issue(web, staff_id=8))
    r = api.post(
        "/api/v1/patients", json={"mrn": "", "name": "X", "sex": "robot", "height_cm": 900}
    )
    assert r.status_code == 422
    fields = {f["field"] for f in r.json()["fields"]}
    assert {"mrn", "sex", "height_cm"} <= fields
    r = api.post(
        "/api/v1/runs/1/observations",
        json={
            "observations": [
                {
                    "code": "blood_flow",
                    "value": 55,
                    "time": (RUN_START + timedelta(hours=1)).isoformat(),
                }
            ]
        },
    )
    assert r.status_code == 422
    assert r.json()["fields"][0] == {
        "field": "observations[0].blood_flow",
        "value": 55.0,
        "message": "ECMO blood flow 55 L/min is outside 0–10 L/min",
    }
    assert api.get("/api/v1/runs/1").json()["observations"]["blood_flow"]["count"] == 3


def test_unknown_and_revoked_tokens_are_refused(web: Web) -> None:
    token = issue(web, staff_id=8)
    client = web.client
    assert bearer(client, "ect_nonsense").get("/api/v1/me").status_code == 401
    assert bearer(client, token).get("/api/v1/me").json()["role"] == "integration"
    del client.headers["Authorization"]
    web.login("admin")
    r = web.post_form("/admin/tokens/1/revoke", {}, page="/admin/users")
    assert r.status_code == 303
    client.cookies.clear()
    assert bearer(client, token).get("/api/v1/me").status_code == 401


def test_openapi_and_docs_are_served_without_a_cdn(web: Web) -> None:
    schema = web.client.get("/api/openapi.json").json()
    assert "/api/v1/runs/{run_id}/observations" in schema["paths"]
    docs = web.client.get("/api/docs").text
    assert "cdn" not in docs.lower() and "/vendor/swagger/swagger-ui-bundle.js" in docs
    assert web.client.get("/vendor/swagger/swagger-ui-bundle.js").status_code == 200
