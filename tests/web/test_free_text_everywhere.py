"""Researchers read no typed free text in any answer (issue #16), checked structurally:
every write listed in the role-matrix table (tests/web/routes_*.py) is sent once with a
marker appended to every text it carries — a field that refuses the marker (a code, a
choice, an id) is named in the 422 and sent plain — and then every GET of the table the
researcher may open (each JSON endpoint, and each page) is read: the marker appears in
none of them. A new endpoint or a new free-text field is walked with no change here. An
identifier-reading role reads the same answers and does see the marker (the writes
landed)."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

import pytest

from continuum.core.roles import ROLE_PERMISSIONS, Permission
from tests.conftest import Web, make_web
from tests.web.routes_table import ANY, CASES, PUBLIC, Case
from tests.web.test_role_matrix import allowed, send

MARKER = "ZQX-TYPED-BY-A-CLINICIAN"
# Who sends each write: the first role allowed, clinicians first (their ids are seeded).
WRITERS = (
    "physician_lead", "physician", "perfusionist", "nurse", "coordinator", "qa_lead",
    "integration",
)  # fmt: skip
# Typed fields that are the run's structure, not prose: the cannula's anatomical site and
# the device's make, model, serial, lot and UDI (registry data a researcher reads).
# Device and cannula data are registry data, not prose; the title of a programme-level record
# (an audit, an M&M meeting) names the work, never a patient.
STRUCTURE = frozenset({"site", "make", "model", "serial", "lot", "udi", "title"})
FIELD = re.compile(r'data-field="([^"]+)"')
OK = (200, 201, 303)


def _leaves(value: Any, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Paths of the text leaves of a form or JSON body."""
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _leaves(v, (*path, str(k)))]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _leaves(v, (*path, str(i)))]
    text = isinstance(value, str) and not value.startswith("{")  # "{password}": filled in
    return [path] if text and path and path[-1] not in STRUCTURE else []


def _marked(value: Any, paths: set[tuple[str, ...]], path: tuple[str, ...] = ()) -> Any:
    if isinstance(value, dict):
        return {k: _marked(v, paths, (*path, str(k))) for k, v in value.items()}
    if isinstance(value, list):
        return [_marked(v, paths, (*path, str(i))) for i, v in enumerate(value)]
    return f"{value} {MARKER}" if path in paths else value


def _refused_fields(response: Any) -> set[str]:
    """The last part of each field a 422 names (JSON ``fields`` or a form's summary)."""
    if response.headers.get("content-type", "").startswith("application/json"):
        names = [str(p.get("field", "")) for p in response.json().get("fields", [])]
    else:
        names = FIELD.findall(response.text)
    return {re.split(r"[.\[\]]+", n.strip(".[]"))[-1] for n in names if n}


def _write_with_marker(web: Web, case: Case, csrf: str, role: str) -> bool:
    """Send the case with the marker in every text leaf that takes it; True if it landed."""
    body = case.json if case.json is not None else case.form
    paths = set(_leaves(body))
    for _ in range(4):
        if not paths:
            break
        if case.json is not None:
            attempt = replace(case, json=_marked(case.json, paths))
        else:
            attempt = replace(case, form=_marked(case.form, paths))
        response = send(web, attempt, csrf, role)
        if response.status_code in OK:
            return True
        refused = _refused_fields(response) if response.status_code == 422 else set()
        kept = {p for p in paths if p[-1] not in refused}
        if not refused or kept == paths:
            break
        paths = kept
    send(web, case, csrf, role)  # plain, so that later writes find what they build on
    return False


def _writer(case: Case) -> str | None:
    return next((r for r in WRITERS if allowed(r, case)), None)


def _readable(role: str) -> list[Case]:
    return [c for c in CASES if c.method == "GET" and c.needs != PUBLIC and allowed(role, c)]


@pytest.mark.slow
def test_no_free_text_reaches_a_researcher_in_any_answer(sqlite_url: str) -> None:
    assert Permission.VIEW_IDENTIFIERS not in ROLE_PERMISSIONS["researcher"]
    writes = [
        c
        for c in sorted(CASES, key=lambda c: c.order)
        if c.method in ("POST", "PUT", "PATCH")
        and c.needs not in (PUBLIC, ANY, Permission.MANAGE_USERS)
        and (c.form or c.json)
    ]
    for web in make_web(sqlite_url):
        landed = 0
        current = ""
        csrf = ""
        for case in writes:
            role = _writer(case)
            if role is None:
                continue
            if role != current:
                web.client.cookies.clear()
                web.login(role)
                csrf, current = web.csrf("/login"), role
            landed += _write_with_marker(web, case, csrf, role)
        assert landed >= 20, f"only {landed} writes carried the marker"

        web.client.cookies.clear()
        web.login("physician_lead")  # reads identifiers: the marker is there to be hidden
        seen = [c.url for c in _readable("physician_lead") if MARKER in _get(web, c)]
        assert len(seen) >= 5, f"the marker reached only {seen}"

        web.client.cookies.clear()
        web.login("researcher")
        read = _readable("researcher")
        assert sum(c.is_api for c in read) >= 10, [c.url for c in read]
        leaks = {c.url: _around(_get(web, c)) for c in read if MARKER in _get(web, c)}
        assert not leaks, f"a researcher reads typed free text: {leaks}"


def _get(web: Web, case: Case) -> str:
    response = web.client.get(case.url, params=case.params)
    assert response.status_code == 200, f"{case.url} → {response.status_code}"
    return response.text


def _around(text: str) -> list[str]:
    """Each place the marker appears, with the key before it (names the field)."""
    return [text[max(0, m.start() - 80) : m.end()] for m in re.finditer(MARKER, text)][:5]
