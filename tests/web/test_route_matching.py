"""Route matching passes over a router none of whose paths can match (web/routing.py), and
answers every request as before: the same route, 405 for a known path with another method,
404 for no path; a router whose routes have no path pattern of their own is always walked."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from continuum.web.routing import PathFilteredRouter, path_filtered
from tests.conftest import Web


def _app() -> tuple[FastAPI, APIRouter, APIRouter]:
    items = APIRouter(prefix="/api/v1")

    @items.get("/items/{item_id}")
    def item(item_id: int) -> dict[str, int]:
        return {"item": item_id}

    @items.post("/items")
    def add() -> dict[str, str]:
        return {"added": "yes"}

    beds = APIRouter()

    @beds.get("/beds/{bed}/board")
    def board(bed: str) -> dict[str, str]:
        return {"board": bed}

    app = FastAPI()
    app.include_router(path_filtered(items))
    app.include_router(path_filtered(beds))
    return app, items, beds


@pytest.fixture
def walked(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The path of every route tried (FastAPI tries the one that answers more than once)."""
    tried: list[str] = []
    original = APIRoute.matches

    def spy(self: APIRoute, scope):  # type: ignore[no-untyped-def]
        tried.append(self.path)
        return original(self, scope)

    monkeypatch.setattr(APIRoute, "matches", spy)
    yield tried
    PathFilteredRouter.filtering = True


def test_a_router_that_cannot_match_is_passed_over(walked: list[str]) -> None:
    app, _, _ = _app()
    client = TestClient(app)
    assert client.get("/beds/4/board").json() == {"board": "4"}
    assert set(walked) == {"/beds/{bed}/board"}  # the items router was not walked
    walked.clear()
    assert client.get("/api/v1/items/7").json() == {"item": 7}
    assert set(walked) == {"/api/v1/items/{item_id}"}


def test_without_the_filter_every_route_before_the_answer_is_tried(walked: list[str]) -> None:
    """What the filter saves: the same request walks the routers in front of its own."""
    PathFilteredRouter.filtering = False
    app, _, _ = _app()
    assert TestClient(app).get("/beds/4/board").status_code == 200
    assert set(walked) == {"/api/v1/items/{item_id}", "/api/v1/items", "/beds/{bed}/board"}


def test_known_path_other_method_is_405_and_unknown_path_is_404(walked: list[str]) -> None:
    app, _, _ = _app()
    client = TestClient(app)
    refused = client.get("/api/v1/items")
    assert refused.status_code == 405
    assert refused.headers["allow"] == "POST"
    assert client.get("/beds").status_code == 404
    assert client.get("/api/v1/items/7/extra").status_code == 404
    assert client.post("/api/v1/items").json() == {"added": "yes"}


def test_a_router_holding_routers_is_always_walked() -> None:
    """An included router has no path pattern of its own: no filter, nothing lost."""
    inner = APIRouter()

    @inner.get("/deep/{x}")
    def deep(x: str) -> dict[str, str]:
        return {"deep": x}

    holder = APIRouter()
    holder.include_router(inner, prefix="/nested")
    filtered = path_filtered(holder)
    app = FastAPI()
    app.include_router(filtered)
    assert filtered.pattern() is None
    assert TestClient(app).get("/nested/deep/1").json() == {"deep": "1"}


def test_a_route_added_later_is_matched() -> None:
    app, items, _ = _app()
    client = TestClient(app)
    assert client.get("/api/v1/items/1").status_code == 200  # the expression is built

    @items.get("/late")
    def late() -> dict[str, str]:
        return {"late": "yes"}

    assert client.get("/api/v1/late").json() == {"late": "yes"}


def test_the_app_walks_only_the_routers_that_can_answer(web: Web, walked: list[str]) -> None:
    """In the real app (about 380 routes), /healthz, the last route, and a path no route
    has are found without trying the domains' routes one by one."""
    assert web.client.get("/healthz").status_code == 200
    assert web.client.get("/no/such/page").status_code == 404
    assert len(walked) < 20, walked
    walked.clear()
    PathFilteredRouter.filtering = False
    assert web.client.get("/healthz").status_code == 200
    assert len(walked) > 300  # what the filter saves
