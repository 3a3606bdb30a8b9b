"""A busy ICU at shift change: fifty parallel authenticated requests (reads and writes, API
token and session cookies) against the real app under uvicorn. Every one is answered with
a 2xx within a few seconds and the health check stays responsive while they run — the app
froze for minutes when request dependencies blocked the event loop on the database."""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import uvicorn

from continuum.app import create_app
from continuum.core import accounts
from continuum.core.roles import SYSTEM
from continuum.db import make_engine, make_sessionmaker, unit_of_work
from tests.client import http_client
from tests.conftest import test_settings as settings_for
from tests.seed import password_for

PARALLEL = 50
SLOW_S = 10.0  # a freeze detector, not a timing test
HEALTH_S = 8.0  # also a freeze detector: the freeze it guards against lasted minutes, and a
# busy 2-core machine has kept one health check waiting 5.7 s
INTEGRATION_STAFF_ID = 8


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def live(db_url: str) -> Iterator[str]:
    """The real app served by uvicorn on a free port (one process, one event loop)."""
    port = _free_port()
    app = create_app(settings_for(db_url))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(200):
        if server.started:
            break
        time.sleep(0.05)
    assert server.started, "uvicorn did not start"
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=30)
    app.state.engine.dispose()


def _token(db_url: str) -> str:
    engine = make_engine(db_url)
    with unit_of_work(make_sessionmaker(engine)) as db:
        token = accounts.issue_token(db, SYSTEM, INTEGRATION_STAFF_ID, "load test")
    engine.dispose()
    return token


def _nurse_session(base: str) -> tuple[dict[str, str], str]:
    """Session cookies of the logged-in nurse and a CSRF token for her forms."""
    with http_client(base_url=base, timeout=30) as c:
        found = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/login").text)
        assert found
        r = c.post(
            "/login",
            data={
                "username": "nurse",
                "password": password_for("nurse"),
                "csrf_token": found.group(1),
                "next": "/runs",
            },
        )
        assert r.status_code == 303, r.text[:300]
        page = c.get("/runs/1")
        found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert found, "no CSRF token on the run page"
        return dict(c.cookies), found.group(1)


def _requests(token: str, cookies: dict[str, str], csrf: str) -> list[dict[str, Any]]:
    """Reads and writes, by API token and by session cookie, in one shuffled-by-index mix."""
    api = {"Authorization": f"Bearer {token}"}
    at = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    kinds: list[dict[str, Any]] = [
        {"method": "GET", "url": "/api/v1/me", "headers": api},
        {"method": "GET", "url": "/api/v1/runs", "headers": api},
        {
            "method": "POST",
            "url": "/api/v1/runs/1/observations",
            "headers": api,
            "json": {"observations": [{"code": "hb", "value": 10.1, "time": at}]},
        },
        {"method": "GET", "url": "/api/v1/me", "cookies": cookies},
        {"method": "GET", "url": "/runs", "cookies": cookies},
        {
            "method": "POST",
            "url": "/runs/1/observations",
            "cookies": cookies,
            "data": {"code": "blood_flow", "value": "4.4", "csrf_token": csrf},
        },
    ]
    return [kinds[i % len(kinds)] for i in range(PARALLEL)]


def _fire(
    client: httpx.Client, spec: dict[str, Any], start: threading.Barrier
) -> tuple[str, int, float]:
    spec = {k: v for k, v in spec.items() if k != "cookies"}
    start.wait()
    t0 = time.perf_counter()
    try:
        status = client.request(**spec).status_code
    except httpx.TimeoutException:
        status = -2
    except httpx.HTTPError:
        status = -1
    return f"{spec['method']} {spec['url']}", status, time.perf_counter() - t0


def test_fifty_parallel_requests_answer_and_health_stays_responsive(db_url: str, live: str) -> None:
    token = _token(db_url)
    cookies, csrf = _nurse_session(live)
    specs = _requests(token, cookies, csrf)

    health: list[tuple[int, float]] = []
    stop = threading.Event()

    def watch_health() -> None:
        with http_client(base_url=live, timeout=30) as c:
            while not stop.is_set():
                t0 = time.perf_counter()
                try:
                    status = c.get("/healthz").status_code
                except httpx.HTTPError:
                    status = -1
                health.append((status, time.perf_counter() - t0))
                time.sleep(0.1)

    # clients are built first: creating fifty (TLS contexts) is slow client-side work
    clients = [http_client(base_url=live, timeout=30, cookies=s.get("cookies")) for s in specs]
    watcher = threading.Thread(target=watch_health, daemon=True)
    watcher.start()
    start = threading.Barrier(PARALLEL)
    with ThreadPoolExecutor(PARALLEL) as pool:
        pairs = zip(clients, specs, strict=True)
        results = list(pool.map(lambda cs: _fire(cs[0], cs[1], start), pairs))
    stop.set()
    watcher.join(timeout=40)
    for client in clients:
        client.close()

    failed = [r for r in results if not 200 <= r[1] < 400]
    assert not failed, f"{len(failed)} of {PARALLEL} not answered with success: {failed[:5]}"
    slow = [r for r in results if r[2] > SLOW_S]
    assert not slow, f"{len(slow)} requests took over {SLOW_S} s: {slow[:5]}"
    assert health, "the health check was never answered"
    assert all(s == 200 for s, _ in health), health
    worst = max(t for _, t in health)
    assert worst < HEALTH_S, f"health check took {worst:.1f} s under load: {health}"
    # the writes landed: 1 in 6 of the requests posted an observation by token, 1 in 6 by form
    with http_client(base_url=live, timeout=30) as c:
        obs = c.get(
            "/api/v1/runs/1/observations",
            params={"code": "hb"},
            headers={"Authorization": f"Bearer {token}"},
        )
    assert obs.status_code == 200
    stored = [v for _, v in obs.json()["hb"] if v == 10.1]
    assert len(stored) == sum(1 for s in specs if s.get("json"))


ASYNC_ALLOWED = {
    "posted_csrf",  # reads the body before any database work
    "_request_slot",  # awaits a database slot, holding nothing
    "guard_input",  # reads the request (ids, NUL, NaN) before any database work
    "stream",  # the alert stream: polls in a thread, within a slot, sleeps holding nothing
}


def _dependants(dependant: Any) -> Iterator[Any]:
    yield dependant
    for sub in dependant.dependencies:
        yield from _dependants(sub)


def _api_routes(routes: list[Any]) -> Iterator[Any]:
    for route in routes:
        if hasattr(route, "original_router"):
            yield from _api_routes(route.original_router.routes)
        elif hasattr(route, "dependant"):
            yield route


def test_no_route_or_dependency_blocks_the_event_loop(sqlite_url: str) -> None:
    """Every endpoint and dependency that may touch the database or hash a password is a
    plain ``def`` (run in the threadpool); the few coroutines are the known, non-blocking
    ones."""
    import inspect

    app = create_app(settings_for(sqlite_url))
    found = {
        d.call.__name__
        for route in _api_routes(app.router.routes)
        for d in _dependants(route.dependant)
        if d.call is not None and inspect.iscoroutinefunction(d.call)
    }
    app.state.engine.dispose()
    assert found <= ASYNC_ALLOWED, (
        f"async (event-loop) routes or dependencies: {found - ASYNC_ALLOWED}"
    )
    assert "posted_csrf" in found
