"""The whole JSON API, fuzzed from its own OpenAPI document: no input gives a 500.

schemathesis generates requests (valid ones and deliberately invalid ones) for every
operation and sends them to the ASGI app with a bearer token for every role, on SQLite
and PostgreSQL. Examples are bounded and derandomized so the run is repeatable and short;
they are generated once and the same requests are sent to each database.
Also: every operation declares each error status it can return (401/403/404/409/422/503).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from sqlalchemy import select

from continuum.app import create_app
from continuum.core import accounts
from continuum.core.people import Staff
from continuum.core.roles import Actor
from continuum.core.vocab import ROLES
from continuum.db import make_sessionmaker, unit_of_work
from tests import conftest

# Examples per operation and generation mode; CONTINUUM_FUZZ_EXAMPLES raises it locally.
EXAMPLES = int(os.environ.get("CONTINUUM_FUZZ_EXAMPLES", "4"))
ERRORS = {"401", "403", "404", "409", "422", "503"}


def role_tokens(app) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """One token per role: a person issues their own; IT issues the service account's."""
    admin = Actor(staff_id=None, name="test setup", role="admin")
    with unit_of_work(make_sessionmaker(app.state.engine)) as db:
        staff = {s.role: s for s in db.scalars(select(Staff))}
        tokens = {}
        for role in ROLES:
            person = staff[role]
            issuer = admin if person.is_service_account else accounts.actor_for(person, "test")
            tokens[role] = accounts.issue_token(db, issuer, person.id, "fuzz")
        return tokens


@dataclass
class Fuzz:
    document: dict[str, Any]
    operations: list[Any]
    cases: list[tuple[schemathesis.Case, str]]  # each generated request and the role sending it


@pytest.fixture(scope="module")
def fuzz(sqlite_template, tmp_path_factory):  # type: ignore[no-untyped-def]
    """The app's OpenAPI document and every generated request, built once for the module and
    sent to each database: generation costs more than sending (and building the document
    1.6 s of CPU), and derandomized generation draws the same requests for either database."""
    url = conftest._sqlite_copy(sqlite_template, tmp_path_factory.mktemp("fuzz"))
    app = create_app(conftest.test_settings(url))
    document = app.openapi()  # the app's own document
    schema = schemathesis.openapi.from_dict(document)
    schema.app, schema.location = app, "/api/openapi.json"  # what from_asgi sets
    operations = [result.ok() for result in schema.get_all_operations()]
    cases: list[tuple[schemathesis.Case, str]] = []
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=operation.as_strategy(generation_mode=mode), role=st.sampled_from(ROLES))
            @settings(
                max_examples=EXAMPLES,
                derandomize=True,
                deadline=None,
                database=None,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            def draw(case: schemathesis.Case, role: str) -> None:
                cases.append((case, role))

            try:
                draw()
            except Unsatisfiable:
                assert mode == GenerationMode.NEGATIVE  # nothing to get wrong (no inputs)
    yield Fuzz(document, operations, cases)
    app.state.engine.dispose()


@pytest.fixture
def api(db_url: str) -> Iterator[tuple[FastAPI, dict[str, str]]]:
    app = create_app(conftest.test_settings(db_url))
    yield app, role_tokens(app)
    app.state.engine.dispose()


def test_every_operation_declares_its_error_statuses(fuzz: Fuzz) -> None:
    spec = fuzz.document
    operations = [(p, m, op) for p, ops in spec["paths"].items() for m, op in ops.items()]
    assert len(operations) > 50
    for path, method, op in operations:
        assert set(op["responses"]) >= ERRORS, f"{method.upper()} {path}"
        assert op["responses"]["422"]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/ErrorOut"
        }


STREAM = "/api/v1/alerts/stream"  # server-sent events: open up to max_seconds (default 300)


@pytest.mark.slow
def test_no_request_gives_a_server_error(fuzz: Fuzz, api) -> None:  # type: ignore[no-untyped-def]
    app, tokens = api
    failures: list[str] = []
    assert len(fuzz.operations) > 50
    assert len(fuzz.cases) > 5 * len(fuzz.operations)
    for case, role in fuzz.cases:
        bearer = {"Authorization": f"Bearer {tokens[role]}"}
        if case.path == STREAM:  # a live stream: answer at once, not after minutes
            case.query = {**(case.query or {}), "max_seconds": 0}
        response = case.call(app=app, headers=bearer, timeout=120)
        if response.status_code >= 500:  # schemathesis' not_a_server_error check
            failures.append(
                f"{role}: {case.method} {case.formatted_path} {case.query} "
                f"{str(case.body)[:200]} → {response.status_code} {response.text[:200]}"
            )
    assert not failures, "\n".join(failures[:20])
