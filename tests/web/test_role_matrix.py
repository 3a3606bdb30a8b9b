"""Every page and endpoint, for anonymous visitors and for every role:
anonymous → 401 (API) or a redirect to the login page; wrong role → 403; right role → success."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.routing import APIRoute, iter_route_contexts
from starlette.routing import Route

from continuum.core.roles import ROLE_PERMISSIONS, Permission
from continuum.core.vocab import ROLES
from tests.conftest import VERSIONED, Web, _sqlite_copy, make_web
from tests.seed import password_for
from tests.web.routes_table import ANY, CASES, PUBLIC, Case

DOC_ROUTES = {"/api/openapi.json"}


def allowed(role: str, case: Case) -> bool:
    if case.needs in (PUBLIC, ANY):
        return True
    needed = case.needs if isinstance(case.needs, tuple) else (case.needs,)
    return any(p in ROLE_PERMISSIONS[role] for p in needed if isinstance(p, Permission))


def send(web: Web, case: Case, csrf: str | None, role: str = ""):  # type: ignore[no-untyped-def]
    client = web.client
    if case.method == "GET":
        return client.get(case.url, params=case.params, follow_redirects=False)
    if case.json is not None:
        headers = {"X-CSRF-Token": csrf} if csrf else {}
        if case.method == "POST" and VERSIONED.match(case.url):
            reading = client.get(VERSIONED.match(case.url).group(1))  # type: ignore[union-attr]
            if reading.status_code == 200:  # edits name the version they were made on
                headers["If-Match"] = str(reading.json()["decision"]["version"])
        return client.request(
            case.method, case.url, json=case.json, headers=headers, follow_redirects=False
        )
    form = {
        k: str(v).replace("{password}", password_for(role)).replace("{role}", role)
        for k, v in (case.form or {}).items()
    }
    if csrf:
        form["csrf_token"] = csrf
    return client.post(case.url, data=form, follow_redirects=False)


def test_every_route_is_in_the_table(sqlite_url: str) -> None:
    listed = {(c.method, c.template) for c in CASES}
    seen = 0
    for web in make_web(sqlite_url):
        # Routers included into the app are nested (FastAPI ≥ 0.16x): walk them all.
        for route in iter_route_contexts(web.client.app.routes):  # type: ignore[attr-defined]
            original = route.original_route
            if not isinstance(original, APIRoute | Route) or route.path in DOC_ROUTES:
                continue
            for method in (route.methods or set()) - {"HEAD", "OPTIONS"}:
                seen += 1
                assert (method, route.path) in listed, f"{method} {route.path} has no access rule"
    assert seen > 150, f"only {seen} routes walked: the walk misses included routers"


@pytest.fixture(scope="module")
def anonymous(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Web]:
    """One app for every anonymous request: each is refused before it reads or writes
    anything, so they can share a database (a fresh app per case cost more than the case)."""
    url = _sqlite_copy(sqlite_template, tmp_path_factory.mktemp("anonymous"))
    yield from make_web(url)


@pytest.mark.parametrize(
    "case", [c for c in CASES if c.needs != PUBLIC], ids=lambda c: f"{c.method} {c.template}"
)
def test_anonymous_is_sent_to_log_in(anonymous: Web, case: Case) -> None:
    anonymous.client.cookies.clear()
    response = send(anonymous, case, csrf=None)
    if case.is_api:
        assert response.status_code == 401
        assert response.json()["error"] == "not_authenticated"
    else:
        assert response.status_code == 303
        assert response.headers["location"].startswith("/login")


@pytest.mark.parametrize("role", ROLES)
def test_each_role_gets_exactly_what_it_may(sqlite_url: str, role: str) -> None:
    for web in make_web(sqlite_url):
        web.login(role)
        csrf = web.csrf("/login")
        for case in sorted(CASES, key=lambda c: c.order):
            response = send(web, case, csrf, role)
            where = f"{role}: {case.method} {case.url} → {response.status_code}"
            if case.needs == PUBLIC:
                assert response.status_code < 500, where
            elif allowed(role, case):
                assert response.status_code in (200, 201, 303), f"{where} {response.text[:300]}"
                if response.status_code == 303 and case.method == "POST":
                    assert "/login" not in response.headers["location"] or case.url == "/logout"
            else:
                assert response.status_code == 403, where


def test_csrf_token_is_required_on_forms(web: Web) -> None:
    web.login("perfusionist")
    response = web.client.post(
        "/runs/1/observations", data={"code": "hb", "value": "9"}, follow_redirects=False
    )
    assert response.status_code == 403
    assert "CSRF" in response.text
    response = web.client.post(
        "/api/v1/runs/1/observations", json={"observations": []}, follow_redirects=False
    )
    assert response.status_code == 403  # cookie-authenticated API calls need the header too


def test_page_403_says_what_the_role_may_not_do(web: Web) -> None:
    web.login("researcher")
    response = web.client.get("/runs/new")
    assert response.status_code == 403
    assert re.search(r"researcher role may not manage run", response.text)
