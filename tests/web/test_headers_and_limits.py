"""Security headers on every response (500s included), no inline script in any template,
request size limits (413, never echoing the body), clipped 422 values, 405 with Allow."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

import continuum
from continuum.app import create_app
from tests.conftest import Web
from tests.conftest import test_settings as settings_for
from tests.seed import RUN_START

KB = 1024
MIB = 1024 * KB


def _app_with_a_failing_route(url: str, **update: object):  # type: ignore[no-untyped-def]
    app = create_app(settings_for(url).model_copy(update=update))

    @app.get("/boom", include_in_schema=False)
    def boom() -> None:
        raise RuntimeError("a defect")

    @app.get("/api/v1/boom", include_in_schema=False)
    def api_boom() -> None:
        raise RuntimeError("a defect")

    return app


@pytest.fixture
def client(sqlite_url: str) -> Iterator[TestClient]:
    app = _app_with_a_failing_route(sqlite_url)
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c
    app.state.engine.dispose()


def _assert_security_headers(r, hsts: bool = False) -> None:  # type: ignore[no-untyped-def]
    csp = r.headers.get("content-security-policy", "")
    directives = dict([*d.split(" ", 1), ""][:2] for d in (x.strip() for x in csp.split(";")) if d)
    assert directives.get("script-src") == "'self'", csp
    assert "unsafe" not in directives["script-src"]
    assert directives.get("frame-ancestors") == "'none'", csp
    assert "'unsafe-eval'" not in csp
    assert r.headers.get("x-content-type-options") == "nosniff"
    assert r.headers.get("referrer-policy") == "same-origin"
    assert ("strict-transport-security" in r.headers) is hsts


def test_every_response_carries_the_security_headers(client: TestClient) -> None:
    responses = {
        "login page": client.get("/login"),
        "api 401": client.get("/api/v1/me"),
        "page 404": client.get("/no-such-page"),
        "api 404": client.get("/api/v1/no-such-thing"),
        "static": client.get("/static/continuum.css"),
        "health": client.get("/healthz"),
        "health HEAD": client.head("/healthz"),
        "page 500": client.get("/boom"),
        "api 500": client.get("/api/v1/boom"),
    }
    assert responses["page 500"].status_code == 500
    assert responses["api 500"].status_code == 500
    for name, r in responses.items():
        try:
            _assert_security_headers(r)
        except AssertionError as exc:
            raise AssertionError(f"{name} ({r.status_code}): {exc}") from exc


def test_health_answers_head_as_get_without_a_body(client: TestClient) -> None:
    """Uptime monitors and load balancers often check with HEAD."""
    got, head = client.get("/healthz"), client.head("/healthz")
    assert (got.status_code, head.status_code) == (200, 200)
    assert got.json()["status"] == "ok"
    assert head.content == b""
    assert head.headers["content-type"] == got.headers["content-type"]


def test_hsts_only_when_secure_cookies_are_on(sqlite_url: str) -> None:
    app = _app_with_a_failing_route(sqlite_url, secure_cookies=True)
    with TestClient(app, base_url="https://testserver", raise_server_exceptions=False) as c:
        for r in (c.get("/login"), c.get("/boom"), c.get("/api/v1/me")):
            _assert_security_headers(r, hsts=True)
            assert "max-age=" in r.headers["strict-transport-security"]
    app.state.engine.dispose()


TEMPLATES = sorted(Path(continuum.__file__).parent.rglob("templates/*.html"))
INLINE = [
    (re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I),
     "inline <script>"),
    (re.compile(r"\son[a-z]+\s*=", re.I), "inline event handler"),
    (re.compile(r"javascript:", re.I), "javascript: URL"),
]  # fmt: skip


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: f"{p.parent.parent.name}/{p.name}")
def test_no_template_has_inline_script(template: Path) -> None:
    text = template.read_text()
    for pattern, what in INLINE:
        found = pattern.search(text)
        assert not found, f"{what} in {template.name}: {found.group(0) if found else ''}"


def test_templates_were_found() -> None:
    assert len(TEMPLATES) > 20


# --- request size --------------------------------------------------------------------------


def _token(web: Web) -> dict[str, str]:
    web.login("nurse")
    return {"X-CSRF-Token": web.csrf("/runs")}


def test_an_oversized_body_gets_413_without_the_body(web: Web) -> None:
    headers = _token(web)
    marker = "Z" * (2 * MIB)
    r = web.client.post(
        "/api/v1/runs/1/observations",
        json={"observations": [{"code": marker, "value": 1, "time": RUN_START.isoformat()}]},
        headers=headers,
    )
    assert r.status_code == 413
    assert r.json()["error"] == "payload_too_large" and "1 MiB" in r.json()["message"]
    assert "ZZZZ" not in r.text and len(r.content) < 2 * KB
    form = web.client.post(
        "/runs/1/observations",
        data={"code": "hb", "value": marker, "csrf_token": headers["X-CSRF-Token"]},
    )
    assert form.status_code == 413 and "ZZZZ" not in form.text and "1 MiB" in form.text


def test_a_chunked_body_over_the_limit_is_cut_off_with_413(web: Web) -> None:
    headers = {**_token(web), "Content-Type": "application/json"}

    def chunks() -> Iterator[bytes]:  # no Content-Length: the count decides
        yield b'{"observations": [{"code": "'
        for _ in range(40):
            yield b"Y" * (64 * KB)
        yield b'", "value": 1}]}'

    r = web.client.post("/api/v1/runs/1/observations", content=chunks(), headers=headers)
    assert r.status_code == 413, r.text[:300]
    assert "YYYY" not in r.text


def test_console_csv_upload_keeps_its_larger_limit(web: Web) -> None:
    web.login("perfusionist")
    start = RUN_START + timedelta(hours=1)
    rows = [f"{(start + timedelta(seconds=i)).isoformat()},4.2" for i in range(36_000)]
    csv = ("time,blood_flow\n" + "\n".join(rows) + "\n").encode()
    assert len(csv) > MIB
    r = web.client.post(
        "/runs/1/ingest",
        data={"csv_text": "", "csrf_token": web.csrf("/runs/1/ingest")},
        files={"file": ("console.csv", csv, "text/csv")},
    )
    assert r.status_code == 200, r.text[:500]
    assert "Observations stored" in r.text


def test_a_422_clips_the_value_it_echoes(web: Web) -> None:
    headers = _token(web)
    long_code = "Q" * (600 * KB)
    r = web.client.post(
        "/api/v1/runs/1/observations",
        json={"observations": [{"code": long_code, "value": 1, "time": RUN_START.isoformat()}]},
        headers=headers,
    )
    assert r.status_code == 422
    [problem] = [f for f in r.json()["fields"] if "code" in f["field"]]
    assert problem["value"] == "Q" * 200 + "…"
    assert len(r.content) < 4 * KB


# --- methods -------------------------------------------------------------------------------


def test_undeclared_methods_get_405_with_allow(web: Web) -> None:
    headers = _token(web)
    api = web.client.delete("/api/v1/runs", headers=headers)
    assert api.status_code == 405
    assert api.json()["error"] == "method_not_allowed"
    assert set(api.headers["allow"].split(", ")) >= {"GET", "POST"}
    page = web.client.put("/runs", headers=headers)
    assert page.status_code == 405
    assert "GET" in page.headers["allow"].split(", ")
    assert "PUT" not in page.headers["allow"]
    assert "Method not allowed" in page.text
    _assert_security_headers(page)
