"""The suite's apps share the first app's routes (tests/conftest.py ``routes_once``): each
later app gets the same route objects in a list of its own, answers from its own database,
and keeps a route a test adds to it to itself."""

from __future__ import annotations

from pathlib import Path

import pytest

import continuum.app as app_module
from continuum.app import create_app
from tests import conftest
from tests.client import FastClient
from tests.conftest import BUILD_ROUTES, Web, routes_once


def _app(sqlite_url: str):  # type: ignore[no-untyped-def]
    return create_app(conftest.test_settings(sqlite_url))


def test_every_app_after_the_first_gets_the_same_routes_in_its_own_list(
    sqlite_url: str,
) -> None:
    first, second = _app(sqlite_url), _app(sqlite_url)
    assert len(second.router.routes) > 60  # every domain's router, the mounts, /healthz
    assert [id(r) for r in second.router.routes] == [id(r) for r in first.router.routes]
    assert second.router.routes is not first.router.routes

    @second.get("/only-here", include_in_schema=False)
    def only_here() -> dict[str, str]:
        return {"app": "second"}

    assert len(second.router.routes) == len(first.router.routes) + 1
    with FastClient(second, base_url="http://testserver") as client:
        assert client.get("/only-here").json() == {"app": "second"}
    with FastClient(first, base_url="http://testserver") as client:
        assert client.get("/only-here").status_code == 404
    for app in (first, second):
        app.state.engine.dispose()


def test_apps_sharing_routes_each_answer_from_their_own_database(
    sqlite_url: str, tmp_path: Path
) -> None:
    """A run written through one app is not in the other's database: the shared routes read
    the session and settings through ``request.app``."""
    other_url = f"sqlite:///{tmp_path / 'other.db'}"
    Path(other_url.removeprefix("sqlite:///")).write_bytes(
        Path(sqlite_url.removeprefix("sqlite:///")).read_bytes()
    )
    one, two = _app(sqlite_url), _app(other_url)
    with (
        FastClient(one, base_url="http://testserver") as a,
        FastClient(two, base_url="http://testserver") as b,
    ):
        writer = Web(a, sqlite_url)
        writer.login("physician")
        Web(b, other_url).login("physician")
        before = len(b.get("/api/v1/runs").json())
        created = a.post(
            "/api/v1/runs",
            json={"patient_id": 2, "support_type": "cardiac", "mode": "VA"},
            headers={"X-CSRF-Token": writer.csrf("/login")},
        )
        assert created.status_code == 201, created.text
        assert len(a.get("/api/v1/runs").json()) == before + 1
        assert len(b.get("/api/v1/runs").json()) == before
    for app in (one, two):
        app.state.engine.dispose()


def test_routes_once_builds_for_the_first_app_only() -> None:
    calls: list[object] = []

    def build(app):  # type: ignore[no-untyped-def]
        calls.append(app)
        app.router.routes.append("a route")

    routes = routes_once(build)

    class Router:
        def __init__(self) -> None:
            self.routes: list[object] = []

    class App:
        def __init__(self) -> None:
            self.router = Router()

    first, second = App(), App()
    routes(first)  # type: ignore[arg-type]
    routes(second)  # type: ignore[arg-type]
    assert calls == [first]
    assert second.router.routes == ["a route"]
    assert second.router.routes is not first.router.routes


def test_an_app_built_with_the_apps_own_builder_has_routes_of_its_own(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The way out the conftest names for a test that needs ``dependency_overrides``: an app
    sharing the routes does not see its own overrides (FastAPI reads them from the first
    app), an app built with the app's own builder does."""
    from fastapi import HTTPException

    from continuum.web.deps import get_actor

    def teapot() -> None:
        raise HTTPException(status_code=418)

    first = _app(sqlite_url)  # the process's first app, if no test before built one
    shared = _app(sqlite_url)
    monkeypatch.setattr(app_module, "_routes", BUILD_ROUTES)
    own = _app(sqlite_url)
    assert not {id(r) for r in own.router.routes} & {id(r) for r in shared.router.routes}
    for app in (shared, own):
        app.dependency_overrides[get_actor] = teapot
    with FastClient(own, base_url="http://testserver") as client:
        assert client.get("/api/v1/runs").status_code == 418
    with FastClient(shared, base_url="http://testserver") as client:
        assert client.get("/api/v1/runs").status_code == 401
    for app in (first, shared, own):
        app.state.engine.dispose()


def test_the_suite_installs_it() -> None:
    """The session fixture has put ``routes_once`` in place of the app's own builder."""
    assert app_module._routes.__qualname__ == "routes_once.<locals>.routes"
