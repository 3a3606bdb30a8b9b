"""A request the database turns away because another change got in its way at the same
moment answers 503 with Retry-After, says nothing was saved and to send it again, and is
rolled back whole: never a 500. The collisions are real: a PostgreSQL deadlock between the
request's own unit of work and another transaction, and SQLite's lock held by another
connection. Any other database error is still a 500. A command line command turned away
the same way exits 75 with a message."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from continuum.app import create_app
from continuum.db import busy_reason
from continuum.web.deps import DbSession
from tests.conftest import test_settings as settings_for

SETUP = (
    "CREATE TABLE busy_probe (id INTEGER PRIMARY KEY, v INTEGER NOT NULL)",
    "INSERT INTO busy_probe (id, v) VALUES (1, 0), (2, 0)",
)


def _values(url: str) -> list[int]:
    engine = create_engine(url)
    with engine.connect() as conn:
        values = [v for (v,) in conn.execute(text("SELECT v FROM busy_probe ORDER BY id"))]
    engine.dispose()
    return values


class PgDeadlock:
    """Another transaction that deadlocks with the request: it holds row 2, the request
    takes row 1 and waits for row 2, then this one asks for row 1. Only the request checks
    for the deadlock in time (deadlock_timeout 1 s against 60 s here; this one asks for row 1
    as soon as the request is seen waiting), so it is the one PostgreSQL aborts; this
    transaction then commits."""

    def __init__(self, url: str) -> None:
        self.engine = create_engine(url)
        self.holding = threading.Event()
        self.request_waits = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        assert self.holding.wait(30), "the other transaction never took its row"

    def _run(self) -> None:
        with self.engine.begin() as conn:
            conn.execute(text("SET LOCAL deadlock_timeout = '60s'"))
            conn.execute(text("UPDATE busy_probe SET v = v + 1 WHERE id = 2"))
            self.holding.set()
            self.request_waits.wait(30)
            deadline = time.monotonic() + 30
            while not self._request_blocked(conn) and time.monotonic() < deadline:
                time.sleep(0.02)
            conn.execute(text("UPDATE busy_probe SET v = v + 1 WHERE id = 1"))

    @staticmethod
    def _request_blocked(conn) -> bool:  # type: ignore[no-untyped-def]
        """The request's backend is waiting for this transaction's row lock."""
        waiting = conn.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE pid <> pg_backend_pid()"
                " AND datname = current_database() AND wait_event_type = 'Lock'"
            )
        )
        return bool(waiting.scalar())

    def collide(self, db) -> None:  # type: ignore[no-untyped-def]
        db.execute(text("SET LOCAL deadlock_timeout = '1s'"))
        db.execute(text("UPDATE busy_probe SET v = v + 1 WHERE id = 1"))
        self.request_waits.set()
        db.execute(text("UPDATE busy_probe SET v = v + 1 WHERE id = 2"))  # the deadlock

    def close(self) -> None:
        self.thread.join(30)
        self.engine.dispose()


class SqliteLock:
    """Another connection holds the database file's write lock while the request writes
    (with no busy wait, as if the 30 s wait had run out)."""

    def __init__(self, url: str) -> None:
        self.conn = sqlite3.connect(url.split("///", 1)[1], isolation_level=None)
        self.conn.execute("BEGIN IMMEDIATE")
        self.conn.execute("UPDATE busy_probe SET v = v + 1 WHERE id = 2")

    def collide(self, db) -> None:  # type: ignore[no-untyped-def]
        db.execute(text("PRAGMA busy_timeout = 0"))
        db.execute(text("UPDATE busy_probe SET v = v + 1 WHERE id = 1"))

    def close(self) -> None:
        self.conn.execute("COMMIT")
        self.conn.close()


def _client(url: str, other: list, raising: bool = False) -> TestClient:  # type: ignore[type-arg]
    app = create_app(settings_for(url))  # the probes below are this app's own

    @app.post("/api/v1/busy-probe", include_in_schema=False)
    def api_probe(db: DbSession) -> dict[str, str]:
        other[0].collide(db)
        return {"status": "saved"}

    @app.post("/busy-probe", include_in_schema=False)
    def page_probe(db: DbSession) -> dict[str, str]:
        other[0].collide(db)
        return {"status": "saved"}

    @app.get("/busy-probe", include_in_schema=False)
    def page_read(db: DbSession) -> dict[str, str]:
        other[0].collide(db)
        return {"status": "read"}

    @app.post("/api/v1/broken-probe", include_in_schema=False)
    def broken(db: DbSession) -> None:
        db.execute(text("SELECT no_such_column FROM busy_probe"))

    return TestClient(app, raise_server_exceptions=raising)


@pytest.fixture
def probe_db(db_url: str) -> Iterator[str]:
    engine = create_engine(db_url)
    with engine.begin() as conn:
        for statement in SETUP:
            conn.execute(text(statement))
    engine.dispose()
    yield db_url


def _collision(url: str):  # type: ignore[no-untyped-def]
    return PgDeadlock(url) if url.startswith("postgresql") else SqliteLock(url)


@pytest.mark.parametrize("path", ["/api/v1/busy-probe", "/busy-probe"])
def test_a_change_turned_away_answers_503_and_nothing_is_saved(probe_db: str, path: str) -> None:
    other: list = [None]  # type: ignore[type-arg]
    with _client(probe_db, other) as client:
        other[0] = _collision(probe_db)
        try:
            r = client.post(path)
        finally:
            other[0].close()
    assert r.status_code == 503, r.text
    assert r.headers["retry-after"] == "1"
    if path.startswith("/api/"):
        body = r.json()
        assert body["error"] == "busy"
        assert "Nothing was saved" in body["message"] and "Send it again" in body["message"]
        expected = "deadlocked" if probe_db.startswith("postgresql") else "database file's lock"
        assert expected in body["message"]
    else:
        assert "text/html" in r.headers["content-type"]
        assert "Busy: nothing was saved" in r.text
        assert "Go back and send the form again" in r.text
        assert 'id="start-page"' in r.text  # the way on from the page
    # The request's own increment of row 1 was rolled back; the other change was kept.
    kept = [1, 1] if probe_db.startswith("postgresql") else [0, 1]
    assert _values(probe_db) == kept


def test_a_read_turned_away_says_to_reload(probe_db: str) -> None:
    other: list = [None]  # type: ignore[type-arg]
    with _client(probe_db, other) as client:
        other[0] = _collision(probe_db)
        try:
            r = client.get("/busy-probe")
        finally:
            other[0].close()
    assert r.status_code == 503
    assert "Busy: try again" in r.text and "Reload the page in a moment" in r.text
    assert "Nothing was saved" not in r.text


def test_any_other_database_error_is_still_a_500(sqlite_url: str) -> None:
    engine = create_engine(sqlite_url)
    with engine.begin() as conn:
        conn.execute(text(SETUP[0]))
    engine.dispose()
    with _client(sqlite_url, [None]) as client:
        r = client.post("/api/v1/broken-probe")
    assert r.status_code == 500
    assert r.json()["error"] == "server_error"
    # ... and it goes on to the server-error middleware, which logs its traceback (a client
    # that raises the app's exceptions sees it), as any other defect does.
    with (
        _client(sqlite_url, [None], raising=True) as client,
        pytest.raises(OperationalError, match="no_such_column"),
    ):
        client.post("/api/v1/broken-probe")


def test_busy_reason_names_only_collisions() -> None:
    from sqlalchemy.exc import IntegrityError

    class Driver(Exception):
        def __init__(self, message: str, sqlstate: str | None = None) -> None:
            super().__init__(message)
            self.sqlstate = sqlstate

    def wrapped(cls, message: str, sqlstate: str | None = None):  # type: ignore[no-untyped-def]
        return cls("UPDATE x", {}, Driver(message, sqlstate))

    assert busy_reason(wrapped(OperationalError, "deadlock detected", "40P01")) is not None
    assert busy_reason(wrapped(OperationalError, "could not serialize", "40001")) is not None
    assert busy_reason(wrapped(OperationalError, "could not obtain lock", "55P03")) is not None
    assert busy_reason(wrapped(OperationalError, "database is locked")) is not None
    assert busy_reason(wrapped(OperationalError, "no such column: v")) is None
    assert busy_reason(wrapped(IntegrityError, "duplicate key", "23505")) is None
    assert busy_reason(RuntimeError("database is locked")) is None


def test_a_command_turned_away_exits_75_saying_to_run_it_again(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The command line: `continuum patient add` while another connection holds the
    database's write lock (its 30 s wait cut to none) exits 75 (EX_TEMPFAIL) with a message
    and no traceback, and adds no patient."""
    from continuum import db
    from continuum.cli import BUSY_EXIT, main

    pragmas = db._sqlite_pragmas

    def no_wait(dbapi_conn, record) -> None:  # type: ignore[no-untyped-def]
        pragmas(dbapi_conn, record)
        dbapi_conn.execute("PRAGMA busy_timeout = 0")

    monkeypatch.setattr(db, "_sqlite_pragmas", no_wait)
    monkeypatch.setenv("CONTINUUM_DATABASE_URL", sqlite_url)
    path = sqlite_url.split("///", 1)[1]
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(SystemExit) as stop:
            main(["patient", "add", "--mrn", "BUSY1", "--name", "Pat Busy", "--sex", "female"])
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert stop.value.code == BUSY_EXIT == 75
    err = capsys.readouterr().err
    assert "database turned this command away" in err and "Run it again" in err
    assert "Traceback" not in err
    check = sqlite3.connect(path)
    found = check.execute("SELECT count(*) FROM patient_identity WHERE mrn = 'BUSY1'").fetchone()
    check.close()
    assert found == (0,)
