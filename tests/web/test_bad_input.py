"""Bad input never reaches a 500: ids beyond any INTEGER column, NUL characters, NaN.

The id test walks every route of the app that has an id in its path (the role-matrix table
holds a valid request for each, so the id is the only thing wrong) and calls it with ids
of 2**31 and 2**63 as every role that may reach it, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from fastapi.routing import APIRoute, iter_route_contexts

from continuum.core.vocab import ROLES
from tests.conftest import Web, make_web
from tests.seed import RUN_START
from tests.web.routes_table import CASES, PUBLIC
from tests.web.test_role_matrix import allowed, send

ID_PARAM = re.compile(r"\{(\w*id)\}")
HUGE_IDS = (2**31, 2**63, 10**30)
CHECK_FORM = next(
    c.form for c in CASES if (c.method, c.template) == ("POST", "/runs/{run_id}/circuit-check")
)


def id_routes(web: Web) -> set[tuple[str, str]]:
    found = set()
    for route in iter_route_contexts(web.client.app.routes):  # type: ignore[attr-defined]
        if isinstance(route.original_route, APIRoute) and ID_PARAM.search(route.path or ""):
            for method in (route.methods or set()) - {"HEAD", "OPTIONS"}:
                found.add((method, str(route.path)))
    return found


@pytest.mark.slow
def test_every_id_route_refuses_ids_out_of_range(db_url: str) -> None:
    for web in make_web(db_url):
        routes = id_routes(web)
        assert len(routes) > 80  # every domain's id routes are walked
        cases = [c for c in CASES if (c.method, c.template) in routes]
        assert {(c.method, c.template) for c in cases} == routes
        for role in ROLES:
            web.client.cookies.clear()
            web.login(role)
            csrf = web.csrf("/login")
            for case in cases:
                if case.needs != PUBLIC and not allowed(role, case):
                    continue
                for huge in HUGE_IDS:
                    url = ID_PARAM.sub(str(huge), case.template)
                    response = send(web, type(case)(**{**case.__dict__, "path": url}), csrf)
                    where = f"{role}: {case.method} {url} → {response.status_code}"
                    assert response.status_code in (404, 422), f"{where} {response.text[:300]}"


@pytest.mark.parametrize("field", ["username", "password", "next"])
def test_nul_in_the_login_form_is_refused_before_authentication(web_any: Web, field: str) -> None:
    token = web_any.csrf("/login")
    form = {"username": "perfusionist", "password": "x", "next": "/runs", "csrf_token": token}
    form[field] = "a\x00b"
    response = web_any.client.post("/login", data=form, follow_redirects=False)
    assert response.status_code == 422
    assert field in response.text


def test_nul_anywhere_in_a_json_body_or_query_is_a_422_naming_the_field(web_any: Web) -> None:
    web_any.login("perfusionist")
    headers = {"X-CSRF-Token": web_any.csrf("/login")}
    client = web_any.client
    response = client.post(
        "/api/v1/patients",
        json={"mrn": "NUL1", "name": "Ann\x00Smith", "sex": "female"},
        headers=headers,
    )
    assert response.status_code == 422
    assert response.json()["fields"][0]["field"] == "name"
    response = client.post(
        "/api/v1/runs/1/observations",
        json={"observations": [{"code": "hb\x00", "value": 9, "source": "manual"}]},
        headers=headers,
    )
    assert response.status_code == 422
    assert response.json()["fields"][0]["field"] == "observations.0.code"
    response = client.get("/api/v1/patients", params={"q": "x\x00"})
    assert response.status_code == 422
    assert response.json()["fields"][0]["field"] == "q"
    assert client.get("/api/v1/patients").status_code == 200  # nothing stored


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_in_json_are_refused(web_any: Web, number: str) -> None:
    web_any.login("perfusionist")
    headers = {"X-CSRF-Token": web_any.csrf("/login"), "Content-Type": "application/json"}
    time = (RUN_START + timedelta(hours=5)).isoformat()
    body = f'{{"observations": [{{"code": "hb", "value": {number}, "time": "{time}"}}]}}'
    response = web_any.client.post("/api/v1/runs/1/observations", content=body, headers=headers)
    assert response.status_code == 422, response.text
    assert response.json()["fields"][0]["field"] == "observations.0.value"


@pytest.mark.parametrize("number", ["nan", "inf", "-Infinity"])
def test_nan_typed_into_a_form_is_refused(web_any: Web, number: str) -> None:
    web_any.login("perfusionist")
    form = {**CHECK_FORM, "reading.blood_flow": number}
    response = web_any.post_form("/runs/1/circuit-check", form, page="/runs/1/circuit-check")
    assert response.status_code == 422, response.text[:300]
    assert "readings.blood_flow" in response.text
    assert web_any.client.get("/api/v1/runs/1/circuit-checks").json()["checks"] == []


def test_ids_out_of_range_in_a_query_a_body_or_a_form_are_a_422_naming_them(
    web_any: Web,
) -> None:
    web_any.login("physician")
    headers = {"X-CSRF-Token": web_any.csrf("/login")}
    client = web_any.client
    huge = 2**63
    response = client.post(
        "/api/v1/runs/1/participants",
        params={"record_id": huge},
        json={"staff_id": 2, "how": "present"},
        headers=headers,
    )
    assert response.status_code == 422, response.text
    assert [f["field"] for f in response.json()["fields"]] == ["record_id"]
    response = client.post(
        "/api/v1/runs/1/participants", json={"staff_id": huge, "how": "present"}, headers=headers
    )
    assert response.status_code == 422, response.text
    assert [f["field"] for f in response.json()["fields"]] == ["staff_id"]
    response = web_any.post_form(
        "/runs/new", {"patient_id": huge, "support_type": "cardiac", "mode": "VA"}
    )
    assert response.status_code == 422
    assert "patient_id" in response.text
    assert len(client.get("/api/v1/runs").json()) == 1  # nothing was started


def test_an_id_written_with_a_decimal_point_is_checked_like_any_other(web_any: Web) -> None:
    """The routes read "12.0" as the id 12, so the guard does too: an out-of-range id so
    written was once passed on and gave a 500 on PostgreSQL (found by the fuzz test)."""
    web_any.login("physician")
    client = web_any.client
    response = client.get(
        "/api/v1/alerts/stream", params={"run_id": "-2227462693128588.0", "max_seconds": 0}
    )
    assert response.status_code == 422, response.text
    assert [f["field"] for f in response.json()["fields"]] == ["run_id"]
    assert client.get("/api/v1/runs/4294967296.00").status_code == 404
    assert client.get("/api/v1/runs/1.0").status_code == 200  # in range: read as run 1


def test_a_page_with_a_value_it_cannot_read_answers_with_a_page_not_json(web: Web) -> None:
    """A page's address or form with a value of the wrong type: a 422 page that names the
    parameter, what is allowed and the value given, with the navigation; the API keeps its
    JSON body."""
    web.login("perfusionist")
    page = web.client.get("/runs/new", params={"patient_id": "abc"})
    assert page.status_code == 422
    assert page.headers["content-type"].startswith("text/html")
    assert "This address cannot be read" in page.text
    assert "patient_id" in page.text and "integer" in page.text and "abc" in page.text
    assert 'id="start-page"' in page.text  # the navigation stays
    path = web.client.get("/runs/not-a-number")
    assert path.status_code == 422 and path.headers["content-type"].startswith("text/html")
    assert "run_id" in path.text
    api = web.client.get("/api/v1/runs/not-a-number")
    assert api.status_code == 422
    assert api.json()["error"] == "validation_failed"
    assert api.json()["fields"][0]["field"] == "path.run_id"


def test_a_form_with_a_value_it_cannot_read_says_nothing_was_saved(web: Web) -> None:
    token = web.csrf("/login")
    form = {"username": "perfusionist", "password": "x", "next": "/runs", "csrf_token": token}
    form["username"] = "a\x00b"
    response = web.client.post("/login", data=form, follow_redirects=False)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("text/html")
    assert "Nothing was saved" in response.text and "username" in response.text
    assert "a\x00b" not in response.text and "a\\0b" not in response.text  # never echoed
