"""Hospital deployment: two `continuum serve` processes on one PostgreSQL behind nginx
configured by `continuum proxy-config` (real processes, bounded in time).

Through the proxy a clinician logs in and her session works on either process (signed
cookie + server-side session row), and logging out ends it on both; failed logins count
across processes (throttle counters in PostgreSQL) and the proxy's X-Forwarded-For, not a
forged one, is the source; the live alert stream passes the proxy unbuffered, and each
process's surveillance evaluator raises an alert once, never twice; SIGKILL one process and
requests go on through the other, the stream resumes there from its Last-Event-ID; add a
process (`--workers 2`) and it serves.

Also: two `continuum alerts worker` processes evaluating the same due runs concurrently on
PostgreSQL raise each run's alert exactly once (the per-run lock in alerts.due)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from continuum.alerts.models import AlertEvent, CircuitAlert, SurveillanceDue
from continuum.core.people import LoginAttempt
from continuum.db import make_engine, make_sessionmaker, unit_of_work
from tests.alerts.conftest import T0, store
from tests.client import http_client, http_get
from tests.conftest import need
from tests.ingest.helpers import add_run
from tests.operations.processes import (
    CLI,
    CSRF,
    Nginx,
    Proc,
    app_env,
    free_port,
    login,
    nginx_path,
    serve,
    wait_healthy,
)
from tests.seed import RUN_START

pytestmark = pytest.mark.slow  # long single tests: first in the queue (tests/conftest.py)

EVENT_WAIT_S = 90.0


def _deferred_hemolysis(sessions: sessionmaker[Session], mrn: str) -> int:
    """A new run whose plasma free Hb (60 mg/dL) is a haemolysis warning, stored as the
    streaming listeners store it: the run is only marked due, an evaluator raises it."""
    run_id = add_run(sessions, mrn, RUN_START)
    with unit_of_work(sessions) as db:
        db.info["defer_surveillance"] = True
        store(db, run_id, T0, pfhb=60)
    return run_id


def _alerts(sessions: sessionmaker[Session], run_id: int) -> list[tuple[str, str]]:
    with sessions() as db:
        rows = db.scalars(select(CircuitAlert).where(CircuitAlert.run_id == run_id))
        return sorted((a.detector, a.status) for a in rows)


def _raised_events(sessions: sessionmaker[Session], run_id: int) -> int:
    with sessions() as db:
        stmt = (
            select(func.count())
            .select_from(AlertEvent)
            .join(CircuitAlert, CircuitAlert.id == AlertEvent.alert_id)
            .where(CircuitAlert.run_id == run_id, AlertEvent.kind == "raised")
        )
        return int(db.scalar(stmt) or 0)


def _wait(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.25)
    raise AssertionError(f"not within {timeout:g} s: {what}")


class Stream:
    """The live alert stream read on a thread: (event, id, data) as they come."""

    def __init__(self, base: str, cookies: dict[str, str], last_id: str | None = None) -> None:
        self.events: list[tuple[str, str | None, dict[str, Any]]] = []
        self.ended = threading.Event()
        headers = {"Last-Event-ID": last_id} if last_id else {}
        self._args = (f"{base}/api/v1/alerts/stream?max_seconds={EVENT_WAIT_S:g}", headers, cookies)
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        url, headers, cookies = self._args
        try:
            timeout = httpx.Timeout(10, read=30)
            with (
                http_client(cookies=cookies, timeout=timeout) as c,
                c.stream("GET", url, headers=headers) as r,
            ):
                assert r.status_code == 200
                event, ident = "message", None
                for line in r.iter_lines():
                    if line.startswith("event: "):
                        event = line[7:]
                    elif line.startswith("id: "):
                        ident = line[4:]
                    elif line.startswith("data: "):
                        self.events.append((event, ident, json.loads(line[6:])))
                    elif line == "":
                        event, ident = "message", None
        except httpx.HTTPError:
            pass  # the process serving it died: the browser would reconnect
        finally:
            self.ended.set()

    def alerts_for(self, run_id: int) -> list[tuple[str | None, dict[str, Any]]]:
        return [
            (i, d) for e, i, d in self.events if e == "alert" and d["alert"]["run_id"] == run_id
        ]

    def ready(self) -> bool:
        return any(e == "ready" for e, _, _ in self.events)


@contextmanager
def _processes() -> Iterator[list[Proc | Nginx]]:
    started: list[Proc | Nginx] = []
    try:
        yield started
    finally:
        for p in reversed(started):
            p.stop()


def _cookies(client: httpx.Client) -> dict[str, str]:
    return {c.name: c.value for c in client.cookies.jar}


def test_two_app_processes_behind_nginx(pg_url: str, tmp_path: Path) -> None:
    need(nginx_path() is not None, "nginx is not installed (apt-get install nginx)")
    engine = make_engine(pg_url)
    sessions = make_sessionmaker(engine)
    with _processes() as started:
        (a, a_base), (b, b_base) = serve(pg_url, tmp_path, "a"), serve(pg_url, tmp_path, "b")
        started += [a, b]
        pid_a, pid_b = wait_healthy(a_base, a), wait_healthy(b_base, b)
        # the process added later (two workers) starts now, while the proxy, the sessions
        # and the stream are tried: it is behind the proxy only once the configuration is
        # written anew and reloaded below (a process starting costs tens of seconds on a
        # busy machine, most of it waiting)
        new, new_base = serve(pg_url, tmp_path, "c", workers=2)
        started.insert(0, new)
        proxy = Nginx(tmp_path / "nginx", free_port())
        proxy.write([a_base, b_base])
        proxy.start()
        started.append(proxy)
        base = proxy.base

        # both processes take turns behind the one address
        seen = {http_get(f"{base}/healthz").json()["process"] for _ in range(6)}
        assert seen == {pid_a, pid_b}

        # a session made through the proxy works on each process by itself
        with http_client(base_url=base, timeout=30) as c:
            assert login(c, "nurse").status_code == 303
            assert all(c.get("/runs").status_code == 200 for _ in range(4))
            cookies = _cookies(c)
            for direct in (a_base, b_base):
                assert http_get(f"{direct}/runs", cookies=cookies).status_code == 200
            # logging out (on whichever process) ends the session on both
            token = CSRF.search(c.get("/account").text)
            assert token
            c.post("/logout", data={"csrf_token": token.group(1)})
            for direct in (a_base, b_base):
                r = http_get(f"{direct}/runs", cookies=cookies)
                assert r.status_code == 303 and "/login" in r.headers["location"]

        # failed logins count across processes: 3 on A, 2 on B, then even the right
        # password is refused through the proxy (the counters live in PostgreSQL)
        for direct, n in ((a_base, 3), (b_base, 2)):
            for _ in range(n):
                with http_client(base_url=direct, timeout=30) as c:
                    assert login(c, "coordinator", "wrong-password-1").status_code == 401
        with http_client(base_url=base, timeout=30) as c:
            c.headers["X-Forwarded-For"] = "10.9.9.9"  # forged: nginx replaces it
            r = login(c, "coordinator")
            assert r.status_code == 429 and "too many failed logins" in r.text
        with sessions() as db:
            clients = set(db.scalars(select(LoginAttempt.client)))
        assert "10.9.9.9" not in clients and "127.0.0.1" in clients

        # the live stream through the proxy; every process's evaluator races for the run
        c = http_client(base_url=base, timeout=30)
        assert login(c, "physician").status_code == 303
        cookies = _cookies(c)
        stream = Stream(base, cookies)
        _wait(stream.ready, 30, "the stream's ready event")
        first = _deferred_hemolysis(sessions, "MP-1")
        _wait(lambda: stream.alerts_for(first), EVENT_WAIT_S, "the alert on the live stream")
        assert stream.alerts_for(first)[0][1]["alert"]["detector"] == "hemolysis"
        _wait(lambda: not _due(sessions), 30, "the due mark removed")
        assert _alerts(sessions, first) == [("hemolysis", "open")]
        assert _raised_events(sessions, first) == 1  # several evaluators, one alert

        # one process dies: requests go on through the other
        cursor = stream.alerts_for(first)[-1][0]
        a.kill()
        results = [c.get("/runs").status_code for _ in range(10)]
        assert results == [200] * 10
        assert {http_get(f"{base}/healthz").json()["process"] for _ in range(4)} == {pid_b}
        # the stream resumes from its Last-Event-ID on the survivor
        again = Stream(base, cookies, last_id=cursor)
        _wait(again.ready, 30, "the resumed stream's ready event")
        second = _deferred_hemolysis(sessions, "MP-2")
        _wait(lambda: again.alerts_for(second), EVENT_WAIT_S, "the alert after the failover")
        assert not again.alerts_for(first)  # nothing the page had already seen
        assert _raised_events(sessions, second) == 1

        # a process added (here with two workers; the proxy's configuration written anew
        # and reloaded) serves
        wait_healthy(new_base, new)
        assert all(
            http_get(f"{base}/healthz").json()["process"] == pid_b for _ in range(4)
        )  # not behind the proxy before the reload
        proxy.write([b_base, new_base])
        proxy.reload()
        _wait(
            lambda: {http_get(f"{base}/healthz").json()["process"] for _ in range(4)} - {pid_b},
            30,
            "the new process answering through the proxy",
        )
        assert http_get(f"{new_base}/runs", cookies=cookies).status_code == 200
        assert all(c.get("/runs").status_code == 200 for _ in range(6))
        c.close()
    engine.dispose()


def _due(sessions: sessionmaker[Session]) -> list[int]:
    with sessions() as db:
        return list(db.scalars(select(SurveillanceDue.run_id)))


def test_two_alert_workers_raise_each_alert_once(pg_url: str, tmp_path: Path) -> None:
    """Eight runs marked due at once while two `continuum alerts worker` processes poll
    every 0.1 s: each run ends with one haemolysis alert raised once, no mark left."""
    engine = make_engine(pg_url)
    sessions = make_sessionmaker(engine)
    with _processes() as started:
        for name in ("w1", "w2"):
            args = [*CLI, "alerts", "worker", "--interval", "0.1"]
            started.append(Proc(args, app_env(pg_url, tmp_path), tmp_path / f"{name}.log"))
        _wait(
            lambda: all("evaluating due runs" in p.text() for p in started if isinstance(p, Proc)),
            120,
            "both workers running",
        )
        runs = [_deferred_hemolysis(sessions, f"EV-{i}") for i in range(8)]
        _wait(lambda: not _due(sessions), 120, "every due run evaluated")
        for p in started:
            assert isinstance(p, Proc) and p.alive(), p.text()[-2000:]
    for run_id in runs:
        assert _alerts(sessions, run_id) == [("hemolysis", "open")]
        assert _raised_events(sessions, run_id) == 1
    engine.dispose()
