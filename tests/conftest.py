"""Shared fixtures: real databases built by the real migrations, one fresh copy per test.

SQLite: a migrated and seeded template file, copied per test.
PostgreSQL (127.0.0.1:5432, user postgres): a migrated and seeded template database,
cloned per test with CREATE DATABASE … TEMPLATE. Without the server these tests skip,
unless CONTINUUM_REQUIRE_ALL=1 (set by .ci/run), which turns every such skip into a failure.
"""

from __future__ import annotations

import importlib
import os
import re
import shutil
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.testclient import TestClient

from continuum import app as app_module
from continuum import db as db_module
from continuum.app import create_app
from continuum.config import Settings, get_settings
from continuum.core import accounts
from continuum.db import make_engine, make_sessionmaker
from tests import shared_dialects
from tests.client import FastClient
from tests.file_order import FileCost, run_order
from tests.seed import seed

# Passwords in tests are argon2 at a small cost. A hash carries its own parameters and
# verification follows them, so the product's code path is the same; production keeps
# argon2's defaults (core/accounts.py), where one verification costs 60–500 ms of CPU by
# design — and the suite logs in hundreds of times.
accounts._hasher = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1)

REQUIRE_ALL = os.environ.get("CONTINUUM_REQUIRE_ALL") == "1"
PG_ADMIN = os.environ.get(
    "CONTINUUM_TEST_POSTGRES",
    "host=127.0.0.1 port=5432 user=postgres dbname=postgres connect_timeout=3",
)
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/{name}"


def need(ok: bool, reason: str) -> None:
    """Skip when a server or browser is missing — or fail, when CI requires everything."""
    if ok:
        return
    if REQUIRE_ALL:
        pytest.fail(f"required but missing: {reason}")
    pytest.skip(reason)


def _pg_connect():  # type: ignore[no-untyped-def]
    import psycopg

    return psycopg.connect(PG_ADMIN, autocommit=True)


def postgres_available() -> bool:
    try:
        with _pg_connect():
            return True
    except Exception:
        return False


# PostgreSQL 15's DROP DATABASE forces a checkpoint of the whole server and waits for it
# (about 2 s on a busy server; seconds more behind other checkpoints): a test never waits for
# one. Test databases are dropped on background threads, several at once, which share one
# checkpoint (measured: 4 drops one after another 8.0 s, 4 at once 2.4 s); the session waits
# for the last drops at its end (pytest_sessionfinish). With copies made by file (PgClones)
# the queue keeps up: ~2 drops were left when a run's tests ended.
_drops: ThreadPoolExecutor | None = None


def _drop_database(name: str) -> None:
    with _pg_connect() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def drop_later(name: str) -> None:
    """Drop a test's own PostgreSQL database on a background thread (FORCE: its connections
    are ended)."""
    global _drops
    if _drops is None:
        _drops = ThreadPoolExecutor(max_workers=8, thread_name_prefix="pg-drops")
    _drops.submit(_drop_database, name)


DURATIONS = Path(__file__).resolve().parent / "file_durations.json"


def _file_costs(config: pytest.Config, items: list[pytest.Item]) -> dict[Path, FileCost]:
    """Each collected file's seconds and CPU seconds from tests/file_durations.json; a file
    it does not list counts as a busy file of median length."""
    import json
    import statistics

    table = json.loads(DURATIONS.read_text()) if DURATIONS.exists() else {}
    usual = statistics.median(t["seconds"] for t in table.values()) if table else 0.0
    root = Path(config.rootpath)
    costs: dict[Path, FileCost] = {}
    for item in items:
        if item.path not in costs:
            name = item.path.relative_to(root).as_posix() if item.path.is_relative_to(root) else ""
            known = table.get(name)
            costs[item.path] = (
                FileCost(known["seconds"], known["cpu"]) if known else FileCost(usual, usual)
            )
    return costs


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under pytest-xdist, files in the order of tests/file_order.py: the longest first, and
    no more files that mostly wait running at once than there are workers beyond the cores.
    Each file runs whole on one worker (scripts/test.sh: --dist loadfile
    --no-loadscope-reorder keeps this order). Without xdist the order is unchanged."""
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        return
    costs = _file_costs(config, items)
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    order = run_order(
        {str(path): cost for path, cost in costs.items()}, workers, len(os.sched_getaffinity(0))
    )
    rank = {name: i for i, name in enumerate(order)}
    position = {id(item): i for i, item in enumerate(items)}
    items.sort(key=lambda item: (rank[str(item.path)], position[id(item)]))


# CONTINUUM_FILE_TIMES=DIR: each process writes DIR/<worker>.json, the seconds and CPU
# seconds of each test file it ran (scripts/file_durations.py DIR turns them into
# tests/file_durations.json). CPU counts this process and every process it started (a
# served app, Chromium), the ones that ended included.
FILE_TIMES = os.environ.get("CONTINUUM_FILE_TIMES")
_file_times: dict[str, list[float]] = {}
_file_started: dict[str, dict[tuple[int, str], int]] = {}


def _tree_cpu() -> dict[tuple[int, str], int]:
    """CPU ticks of this process and each live descendant (keyed by pid and start time),
    each with the CPU of the children it has reaped, so a process that ended still counts
    through its parent."""
    parent: dict[int, int] = {}
    cpu: dict[int, tuple[str, int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            fields = Path(f"/proc/{entry.name}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid = int(entry.name)
        parent[pid] = int(fields[1])
        cpu[pid] = (fields[19], sum(int(f) for f in fields[11:15]))  # utime stime cutime cstime
    me = os.getpid()
    tree: dict[tuple[int, str], int] = {}
    for pid, (started, ticks) in cpu.items():
        p = pid
        while p > 1 and p != me:
            p = parent.get(p, 0)
        if p == me:
            tree[(pid, started)] = ticks
    return tree


def _cpu_seconds_since(before: dict[tuple[int, str], int]) -> float:
    """CPU seconds the tree spent since ``before``, process by process. A process that has
    ended since was reaped inside the tree, so its parent's count now holds all its CPU:
    what it had spent by ``before`` is taken off again (a browser's renderer that lived
    through several files would otherwise be charged whole to the file it ended in). One
    that has left the tree alive (a daemon that detached) counts for nothing rather than
    against the rest."""
    now = _tree_cpu()
    ticks = sum(max(t - before.get(key, 0), 0) for key, t in now.items())
    ended = sum(t for key, t in before.items() if key not in now and not _alive(key[0]))
    return max(ticks - ended, 0) / os.sysconf("SC_CLK_TCK")


def _alive(pid: int) -> bool:
    return os.path.exists(f"/proc/{pid}")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    if not FILE_TIMES:
        yield
        return
    import time

    name = item.nodeid.split("::")[0]
    if name not in _file_started:
        _file_started[name] = _tree_cpu()
    began = time.perf_counter()
    yield
    times = _file_times.setdefault(name, [0.0, 0.0])
    times[0] += time.perf_counter() - began
    if nextitem is None or nextitem.nodeid.split("::")[0] != name:
        times[1] += _cpu_seconds_since(_file_started.pop(name))


def _write_file_times() -> None:
    import json

    folder = Path(FILE_TIMES or ".")
    folder.mkdir(parents=True, exist_ok=True)
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    (folder / f"{worker}.json").write_text(json.dumps(_file_times, indent=0))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """The databases this process still has to drop, with the shared PostgreSQL template
    when this is the last worker to finish (or a run without xdist); the controller drops
    the template only if no worker did (one stopped early)."""
    factory = getattr(session.config, "_tmp_path_factory", None)
    if factory is not None and _last_to_finish(factory):
        marker = _shared(factory) / PG_TEMPLATE_MARKER
        if marker.exists():
            drop_later(marker.read_text())
            marker.unlink()
    if _drops is not None:
        _drops.shutdown(wait=True)
    if FILE_TIMES and _file_times:
        _write_file_times()


def _last_to_finish(factory: pytest.TempPathFactory) -> bool:
    """True in the controller or a run without xdist, and in the last xdist worker to
    reach its session's end (a count in the shared directory, under its lock)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return True
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    with _shared_lock(factory, "finished") as shared:
        count = shared / "finished.count"
        done = (int(count.read_text()) if count.exists() else 0) + 1
        count.write_text(str(done))
    return done >= workers


PG_TEMPLATE_MARKER = "pg-template.name"


def _shared(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The directory every xdist worker of this run shares (the controller's base
    temporary directory); without xdist, the run's own."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


@contextmanager
def _shared_lock(tmp_path_factory: pytest.TempPathFactory, name: str) -> Iterator[Path]:
    """The shared directory, under the lock ``name`` every worker of the run takes: the
    first worker that needs a template builds it while the others wait, then they find it
    built and reuse it; the workers count themselves out at the end."""
    import fcntl

    shared = _shared(tmp_path_factory)
    with open(shared / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield shared
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _sqlite_built_once(
    tmp_path_factory: pytest.TempPathFactory, name: str, build: Callable[[str], None]
) -> Path:
    """``name``.db in the shared directory, built by ``build(url)`` in the first worker
    that needs it (under another name, renamed when whole and checkpointed)."""
    with _shared_lock(tmp_path_factory, name) as shared:
        target = shared / f"{name}.db"
        if not target.exists():
            building = shared / f"{name}-building-{os.getpid()}.db"
            url = f"sqlite:///{building}"
            build(url)
            engine = make_engine(url)
            with engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            engine.dispose()
            building.rename(target)
    return target


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The migrated and seeded SQLite file, built once for the whole run (by the first
    worker that needs it); each test copies it."""
    from continuum.migrate import upgrade

    def build(url: str) -> None:
        upgrade(url)
        seed(url)

    return _sqlite_built_once(tmp_path_factory, "template", build)


@pytest.fixture(scope="session")
def pg_template(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The migrated and seeded PostgreSQL database every clone copies, built once for the
    whole run by the first worker that needs it (its name in the shared directory); the
    last worker to finish drops it (pytest_sessionfinish). Clones are made with
    CREATE DATABASE … TEMPLATE, which several workers may run at once on one template."""
    need(postgres_available(), "PostgreSQL is not answering on 127.0.0.1:5432")
    with _shared_lock(tmp_path_factory, "pg-template") as shared:
        marker = shared / PG_TEMPLATE_MARKER
        if marker.exists():
            return marker.read_text()
        name = f"ct_tmpl_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        with _pg_connect() as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        url = PG_URL.format(name=name)
        from continuum.migrate import upgrade

        upgrade(url)
        seed(url)
        marker.write_text(name)
        return name


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo programme built once for the whole test session: the first xdist worker
    that needs it builds it under a file lock in the directory the workers share; the others
    wait and reuse it. Modules take their own copy (``demo_url``), so none sees another's
    writes."""
    from continuum import demo

    def build(url: str) -> None:
        demo.build(demo.demo_settings().model_copy(update={"database_url": url}))

    return _sqlite_built_once(tmp_path_factory, "demo-template", build)


@pytest.fixture(scope="module")
def demo_url(demo_template: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A module's own copy of the demo programme (see ``demo_template``)."""
    target = tmp_path_factory.mktemp("demo") / "demo.db"
    shutil.copy(demo_template, target)
    return f"sqlite:///{target}"


def _sqlite_copy(template: Path, tmp_path: Path) -> str:
    target = tmp_path / "test.db"
    shutil.copy(template, target)
    return f"sqlite:///{target}"


@pytest.fixture
def sqlite_url(sqlite_template: Path, tmp_path: Path) -> str:
    return _sqlite_copy(sqlite_template, tmp_path)


class PgClones:
    """Copies of the template database, made ahead on background threads and dropped
    behind (``drop_later``): a test gets a database that already exists and never waits for
    a drop, and a copy never queues behind one.

    STRATEGY FILE_COPY copies the template's files (PostgreSQL 15's default, WAL_LOG, wrote
    each copy's 13 MB through the shared buffers and the WAL: ~9 GB of dirty pages and as
    much WAL over a suite, which every checkpoint — and each DROP DATABASE waits for one —
    then had to write out; drops fell ~280 behind by the end). A file copy waits for a
    checkpoint itself, so two copies are made ahead."""

    AHEAD = 2

    def __init__(self, template: str) -> None:
        self.template = template
        self.worker = ThreadPoolExecutor(max_workers=self.AHEAD, thread_name_prefix="pg-clones")
        self.ahead = deque(self.worker.submit(self._create) for _ in range(self.AHEAD))

    def _create(self) -> str:
        name = f"ct_t_{uuid.uuid4().hex[:10]}"
        with _pg_connect() as conn:
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}" STRATEGY FILE_COPY')
        return name

    def take(self) -> str:
        name = self.ahead.popleft().result()
        self.ahead.append(self.worker.submit(self._create))
        return name

    def give_back(self, name: str) -> None:
        drop_later(name)

    def close(self) -> None:
        try:
            for future in self.ahead:
                drop_later(future.result())
        finally:
            self.worker.shutdown(wait=True)


@pytest.fixture(scope="session")
def pg_clones(pg_template: str) -> Iterator[PgClones]:
    clones = PgClones(pg_template)
    yield clones
    clones.close()


@pytest.fixture
def pg_url(pg_clones: PgClones) -> Iterator[str]:
    name = pg_clones.take()
    yield PG_URL.format(name=name)
    pg_clones.give_back(name)


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest) -> str:
    """The same test on SQLite and on PostgreSQL."""
    return str(request.getfixturevalue(f"{'pg' if request.param == 'postgres' else 'sqlite'}_url"))


@pytest.fixture
def sessions(db_url: str):  # type: ignore[no-untyped-def]
    engine = make_engine(db_url)
    yield make_sessionmaker(engine)
    engine.dispose()


@pytest.fixture(scope="session", autouse=True)
def _every_domain() -> None:
    """Every domain's models and cross-domain hooks in each test process, as the app has them
    (``continuum.models_all``: the metadata complete, the hooks installed). Without it a test
    that ran in a worker where no earlier test had built an app failed, whenever a folder ran
    on its own: a store through the core services raised no alert (surveillance, or a
    deferred store's due mark, is an after-store hook: the killed app test in
    tests/operations/test_service_config.py waited 90 s for one), and a transport mission
    could not be flushed (its ``referral_id`` names initiation's table, which transport may
    not import)."""
    importlib.import_module("continuum.models_all")


@pytest.fixture(autouse=True)
def _settings_read_afresh() -> Iterator[None]:
    """``get_settings()`` is cached per process: each test reads CONTINUUM_* as it sets
    them, not as a test before it in the same worker did (the CLI import test read another
    test's database URL when a file caching it ran first on its worker)."""
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_settings(url: str) -> Settings:
    return Settings(
        database_url=url,
        secret_key="test-secret-" + "x" * 32,
        demo=False,
        login_max_failures=5,
        evaluator_interval_s=0,  # deterministic: tests drain alerts.due themselves
        housekeeping_interval_h=0,  # tests run continuum.housekeeping themselves
        training_step_s=0,  # tests step training sessions with their own clock
    )


@dataclass
class Web:
    """A test client plus helpers to log in as a role and post forms with the CSRF token."""

    client: TestClient
    url: str

    def login(self, username: str, password: str | None = None) -> None:
        from tests.seed import password_for

        token = self.csrf("/login")
        r = self.client.post(
            "/login",
            data={
                "username": username,
                "csrf_token": token,
                "password": password or password_for(username),
                "next": "/runs",
            },
            follow_redirects=False,
        )
        assert r.status_code == 303, r.text[:500]

    def csrf(self, page: str = "/runs") -> str:
        r = self.client.get(page, follow_redirects=True)
        found = re.search(r'name="csrf_token" value="([^"]+)"', r.text)
        assert found, f"no CSRF token on {page}"
        return found.group(1)

    def post_form(self, path: str, data: dict[str, object], page: str = "/runs"):  # type: ignore[no-untyped-def]
        payload = {k: str(v) for k, v in data.items()}
        payload["csrf_token"] = self.csrf(page)
        return self.client.post(path, data=payload, follow_redirects=False)


BUILD_ROUTES = app_module._routes  # continuum.app's own: builds every route for the app


def routes_once(build: Callable[[FastAPI], None]) -> Callable[[FastAPI], None]:
    """``build`` (``continuum.app._routes``) for the first app; every later app gets a copy of
    that app's list of routes, the same route objects. Building them (including about 60
    routers: each route's dependants, parameter and response fields) cost 0.3-0.6 s of CPU per
    app after the first, and FastAPI built more on each app's first requests: one suite run
    built 482 apps, 221 s of CPU in ``create_app`` alone (benchmarks/bench_test_apps.py). The
    routes do not depend on the settings (``_routes`` takes none) and read the database and
    settings through ``request.app``, so each app keeps its own. The list is a copy: a route
    a test adds to its app (``/boom``) stays in that app (``create_app`` installs the
    domains' tables and hooks itself, before its routes). One thing does not follow each app:
    FastAPI takes ``dependency_overrides`` from the app the routes were first included in,
    so a test that needs them puts ``BUILD_ROUTES`` back in ``continuum.app._routes``
    (monkeypatch) while it builds its app (no test does today)."""
    built: list[Any] = []

    def routes(app: FastAPI) -> None:
        if not built:
            build(app)
            built.extend(app.router.routes)
            return
        app.router.routes = list(built)

    return routes


@pytest.fixture(scope="session", autouse=True)
def _routes_built_once() -> Iterator[None]:
    """Every app a test process builds shares the first one's routes (``routes_once``)."""
    app_module._routes = routes_once(BUILD_ROUTES)  # type: ignore[assignment]
    yield
    app_module._routes = BUILD_ROUTES  # type: ignore[assignment]


@pytest.fixture(scope="session", autouse=True)
def _statements_compiled_once() -> Iterator[None]:
    """Engines of one kind share a dialect and compiled statements (tests/shared_dialects.py)."""
    made_by = db_module.create_engine
    db_module.create_engine = shared_dialects.share(made_by)
    yield
    db_module.create_engine = made_by


def make_web(url: str) -> Iterator[Web]:
    app = create_app(test_settings(url))
    with FastClient(app, base_url="http://testserver") as client:
        yield Web(client, url)
    app.state.engine.dispose()


@pytest.fixture
def web(sqlite_url: str) -> Iterator[Web]:
    yield from make_web(sqlite_url)


@pytest.fixture
def web_any(db_url: str) -> Iterator[Web]:
    """A web client on SQLite and, in a second run, on PostgreSQL."""
    yield from make_web(db_url)


VERSIONED = re.compile(r"^(/api/v1/referrals/\d+)/(candidacy|modality|plan|decision|sign)$")


def if_match(
    client: TestClient, path: str, headers: dict[str, str] | None = None
) -> dict[str, str]:
    """``headers`` plus ``If-Match`` with the version of the decision record the client
    reads now, as a well-behaved client does before it edits or signs (the API refuses an
    edit that names no version)."""
    m = VERSIONED.match(path)
    assert m, f"{path} is not a versioned decision-record endpoint"
    version = client.get(m.group(1)).json()["decision"]["version"]
    return {**(headers or {}), "If-Match": str(version)}


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    """Last of all (after pytest's own final collection, which reports unraisable
    exceptions): the heap is frozen, so the interpreter's exit does not walk it for garbage
    again. An xdist worker's heap at the end of its share took 2–6 s to walk, and the
    controller waited for every worker to exit (up to 10 s, then it kills them)."""
    import gc

    gc.freeze()
