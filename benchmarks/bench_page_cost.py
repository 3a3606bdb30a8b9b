"""What each page of the load test (benchmarks/load/locustfile.py) costs one client: wall
time, the app's CPU, PostgreSQL's CPU and the SQL statements per request, this checkout
against an older revision in the same run (the figures that hold on a loaded machine are
CPU seconds and statement counts; wall time depends on what else runs).

Builds the demo programme on a fresh PostgreSQL database (as benchmarks/load/run_load.py
does, then ANALYZE as autovacuum would after a bulk load), reads each page ``--repeat``
times through the app in this process (fastapi TestClient, logged in as a physician), and
the same with the app of ``--against`` (default: main; ``git archive`` of its src/ into a
temporary folder, run in a child process) on the same database. Prints per page the
medians and the ratio old / new.

    .venv/bin/python benchmarks/bench_page_cost.py [--repeat 9] [--against main]
        [--url postgresql+psycopg://postgres@127.0.0.1:5432/existing_db] [--profile /runs/5]
        [--feed] [--dense 12000]

``--feed`` stores a newer blood flow value for every active run before each read (as a
device feed does; what a page keeps until newer data arrives is then made again).
``--dense N`` first stores N values per circuit signal and active run over the last 10
minutes (as a 10-minute load test leaves them: 100 messages/s of six values over five runs
is N = 12000), so that the pages read the window a device feed fills.
``--profile PATH`` also prints the cProfile (thread CPU time, cumulative;
``PROFILE_SORT=tottime`` for the functions' own time) of one request of PATH and the
slowest statements. Last row: the load test's most frequent write, a value entered
through the run page's form.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import re
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
PG_ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
PASSWORD = "bench-page-cost-password"
# The pages the load test reads ([id]: the busiest active run).
PAGES = (
    "/rounds",
    "/runs",
    "/runs/[id]",
    "/runs/[id]/rounds",
    "/runs/[id]/circuit-check",
    "/runs/[id]/alerts",
    "/alerts",
)
WRITE = "POST /runs/[id]/observations"
# The load test's form reading (benchmarks/load/locustfile.py): hidden fields of a form.
FORM = re.compile(r'<form[^>]*action="(?P<action>[^"]+)"[^>]*>(?P<body>.*?)</form>', re.S)
HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"')


def backend_cpu(database: str) -> float:
    """CPU seconds of the PostgreSQL backends connected to ``database`` (Linux /proc)."""
    total = 0.0
    hz = os.sysconf("SC_CLK_TCK")
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if not (proc / "cmdline").read_bytes().startswith(b"postgres: "):
                continue
            if f" {database} ".encode() not in (proc / "cmdline").read_bytes():
                continue
            fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / hz
    return total


DENSE = (
    "INSERT INTO observation (run_id, code, time, value, unit, source, status, recorded_at, "
    "ingest_ref) SELECT r.id, c.code, now() - interval '10 minutes' + g * (interval '600 s' "
    "/ %(n)s), c.v * (0.98 + random() * 0.04), c.unit, 'hl7', 'final', now(), "
    "'dense-' || r.id || '-' || c.code || '-' || g FROM run r, (VALUES "
    "('blood_flow', 4.4, 'L/min'), ('pump_speed', 3400, '/min'), ('p_access', -62, 'mm[Hg]'), "
    "('p_preoxy', 250, 'mm[Hg]'), ('p_postoxy', 228, 'mm[Hg]'), ('sweep_flow', 3.5, 'L/min')"
    ") AS c(code, v, unit), generate_series(1, %(n)s) AS g WHERE r.ended_at IS NULL"
)


def prepare(url: str, dense: int = 0) -> None:
    """The demo programme and one physician account (``dense``: that many values per
    circuit signal and active run over the last 10 minutes), then ANALYZE."""
    import psycopg
    from rich.console import Console

    from continuum import demo
    from continuum.config import Settings
    from continuum.core import accounts
    from continuum.core.roles import SYSTEM
    from continuum.db import make_engine, make_sessionmaker, unit_of_work

    demo.build(Settings(demo=True, database_url=url), console=Console(file=io.StringIO()))
    engine = make_engine(url)
    with unit_of_work(make_sessionmaker(engine)) as db:
        accounts.create_staff(
            db,
            SYSTEM,
            accounts.StaffCreate(
                name="Bench physician",
                discipline="intensive_care",
                role="physician",
                username="benchdoc",
                password=PASSWORD,
            ),
        )
    engine.dispose()
    with psycopg.connect(url.replace("postgresql+psycopg", "postgresql"), autocommit=True) as c:
        if dense:
            c.execute(DENSE, {"n": dense})
        c.execute("VACUUM ANALYZE")


FEED = (
    "INSERT INTO observation (run_id, code, time, value, unit, source, status, recorded_at) "
    "SELECT id, 'blood_flow', clock_timestamp(), 4.5, 'L/min', 'console', 'final', "
    "clock_timestamp() FROM run WHERE ended_at IS NULL"
)


def measure(url: str, repeat: int, profile: str | None, feed: bool = False) -> dict[str, Any]:
    """Each page ``repeat`` times (after one warm-up read): medians and statement counts.
    ``feed``: before each read (not timed) every active run gets a newer blood flow value,
    as under a device feed (what is kept until newer data arrives is made again)."""
    from fastapi.testclient import TestClient
    from sqlalchemy import event, text

    from continuum.app import create_app
    from continuum.config import Settings

    app = create_app(Settings(database_url=url, secret_key="bench-" + "x" * 40))
    statements: list[tuple[str, float]] = []

    @event.listens_for(app.state.engine, "before_cursor_execute")
    def _before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        conn.info["bench_t0"] = time.perf_counter()

    @event.listens_for(app.state.engine, "after_cursor_execute")
    def _after(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append((statement, time.perf_counter() - conn.info.pop("bench_t0", 0.0)))

    database = url.rsplit("/", 1)[1]
    with app.state.engine.connect() as conn:
        run_id = conn.execute(
            text(
                "SELECT r.id FROM run r LEFT JOIN observation o ON o.run_id = r.id "
                "WHERE r.ended_at IS NULL GROUP BY r.id ORDER BY count(o.id) DESC LIMIT 1"
            )
        ).scalar_one()
    import continuum

    out: dict[str, Any] = {"run": run_id, "pages": {}, "src": str(Path(continuum.__file__).parent)}
    with TestClient(app) as client:
        token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)
        r = client.post(
            "/login",
            data={"username": "benchdoc", "password": PASSWORD, "csrf_token": token.group(1)},  # type: ignore[union-attr]
            follow_redirects=False,
        )
        if r.status_code != 303:
            raise RuntimeError(f"login failed: {r.status_code}")
        for name in PAGES:
            path = name.replace("[id]", str(run_id))
            client.get(path).raise_for_status()
            wall, cpu, pg, count, sql = [], [], [], [], []
            for _ in range(repeat):
                if feed:
                    with app.state.engine.begin() as conn:
                        conn.exec_driver_sql(FEED)
                statements.clear()
                pg0, c0, t0 = backend_cpu(database), time.process_time(), time.perf_counter()
                client.get(path).raise_for_status()
                wall.append((time.perf_counter() - t0) * 1000)
                cpu.append((time.process_time() - c0) * 1000)
                pg.append((backend_cpu(database) - pg0) * 1000)
                count.append(len(statements))
                sql.append(sum(s for _, s in statements) * 1000)
            out["pages"][name] = {
                "wall_ms": statistics.median(wall),
                "app_cpu_ms": statistics.median(cpu),
                "pg_cpu_ms": statistics.mean(pg),  # clock ticks: a mean, not a median
                "statements": statistics.median(count),
                "sql_ms": statistics.median(sql),
            }
        # The load test's most frequent write, through the run page's own form (as
        # benchmarks/load/locustfile.py posts it): a hand-entered value, evaluated inline.
        wall, cpu, pg = [], [], []
        for i in range(repeat):
            html = client.get(f"/runs/{run_id}").text
            fields = next(
                dict(HIDDEN.findall(m.group("body")))
                for m in FORM.finditer(html)
                if m.group("action") == f"/runs/{run_id}/observations"
            )
            data = {**fields, "code": "hb", "value": f"{9.0 + i / 10:.1f}", "unit": "", "time": ""}
            pg0, c0, t0 = backend_cpu(database), time.process_time(), time.perf_counter()
            r = client.post(f"/runs/{run_id}/observations", data=data, follow_redirects=False)
            if r.status_code != 303:
                raise RuntimeError(f"observation form: {r.status_code}")
            wall.append((time.perf_counter() - t0) * 1000)
            cpu.append((time.process_time() - c0) * 1000)
            pg.append((backend_cpu(database) - pg0) * 1000)
        out["pages"][WRITE] = {
            "wall_ms": statistics.median(wall),
            "app_cpu_ms": statistics.median(cpu),
            "pg_cpu_ms": statistics.mean(pg),
            "statements": float("nan"),
            "sql_ms": float("nan"),
        }
        if profile:
            _profile(client, profile.replace("[id]", str(run_id)), statements)
    app.state.engine.dispose()
    return out


def _profile(client: Any, path: str, statements: list[tuple[str, float]]) -> None:
    """cProfile of one request of ``path`` in the thread that serves it, and its SQL."""
    import fastapi.routing as routing

    # Thread CPU time, not wall time: what a request costs, whatever else the machine runs.
    prof = cProfile.Profile(time.thread_time)
    original = routing.run_in_threadpool

    async def profiled(func: Any, *args: Any, **kwargs: Any) -> Any:
        def call(*a: Any, **k: Any) -> Any:
            prof.enable()
            try:
                return func(*a, **k)
            finally:
                prof.disable()

        return await original(call, *args, **kwargs)

    routing.run_in_threadpool = profiled
    statements.clear()
    try:
        client.get(path).raise_for_status()
    finally:
        routing.run_in_threadpool = original
    text = io.StringIO()
    sort = os.environ.get("PROFILE_SORT", "cumulative")  # or tottime: where the CPU is spent
    pstats.Stats(prof, stream=text).sort_stats(sort).print_stats(40)
    print(text.getvalue(), file=sys.stderr)
    slow: Counter[str] = Counter()
    for stmt, seconds in statements:
        slow[" ".join(stmt.split())[:150]] += seconds
    for stmt, seconds in slow.most_common(10):
        print(f"  {seconds * 1000:7.1f} ms  {stmt}", file=sys.stderr)


def against(
    rev: str, url: str, repeat: int, folder: Path, feed: bool = False
) -> dict[str, Any] | None:
    """This script's ``measure`` with the app of ``rev`` (its src/ from git archive)."""
    try:
        archive = subprocess.run(
            ["git", "-C", str(REPO), "archive", rev, "src/continuum"],
            check=True,
            capture_output=True,
        ).stdout
    except subprocess.CalledProcessError as exc:
        print(f"{rev}: {exc.stderr.decode(errors='replace').strip()}", file=sys.stderr)
        return None
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(folder, filter="data")
    env = {**os.environ, "PYTHONPATH": str(folder / "src")}
    done = subprocess.run(
        [sys.executable, __file__, "--url", url, "--repeat", str(repeat), "--json-only"]
        + (["--feed"] if feed else []),
        env=env,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        print(f"{rev}: {done.stderr[-2000:]}", file=sys.stderr)
        return None
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def report(new: dict[str, Any], old: dict[str, Any] | None, rev: str) -> str:
    lines = [
        f"run {new['run']}; medians per request (PostgreSQL CPU: mean), one client; this: "
        f"{new['src']}" + (f", {rev}: {old['src']}" if old else ""),
        f"{'page':<30}{'':>8}{'wall ms':>9}{'app CPU':>9}{'PG CPU':>8}{'SQL ms':>8}{'stmts':>7}",
    ]
    keys = ("wall_ms", "app_cpu_ms", "pg_cpu_ms", "sql_ms", "statements")
    for name, now in new["pages"].items():
        before = old["pages"].get(name) if old else None
        rows = [("this", now)] + ([(rev, before)] if before else [])
        for label, fig in rows:
            cells = "".join(f"{fig[k]:>9.1f}" if k != "statements" else f"{fig[k]:>7.0f}"
                            for k in keys)  # fmt: skip
            lines.append(f"{name if label == 'this' else '':<30}{label[:8]:>8}{cells}")
        if before:
            ratio = "".join(
                f"{before[k] / now[k]:>8.2f}×" if now[k] > 0 else f"{'—':>9}" for k in keys
            )
            lines.append(f"{'':<30}{'old/new':>8}{ratio}")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    ap.add_argument("--repeat", type=int, default=9)
    ap.add_argument("--against", default="main", help="git revision to compare with")
    ap.add_argument("--no-against", action="store_true")
    ap.add_argument("--url", default="", help="an existing demo database (else a new one)")
    ap.add_argument("--keep-db", action="store_true")
    ap.add_argument("--profile", default="", help="a page to profile, e.g. /runs/[id]")
    ap.add_argument("--feed", action="store_true", help="a newer value per run before each read")
    ap.add_argument(
        "--dense", type=int, default=0, help="values per circuit signal and active run, last 10 min"
    )
    ap.add_argument("--json-only", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.json_only:
        print(json.dumps(measure(args.url, args.repeat, None, args.feed)))
        return
    import psycopg

    name = ""
    url = args.url
    if not url:
        name = f"bench_pages_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
        print(f"database {name}: demo programme …", file=sys.stderr)
        prepare(url, args.dense)
    try:
        with tempfile.TemporaryDirectory(prefix="bench_page_cost_") as tmp:
            # Old first, then new, then old again would be fairer still; the machine is
            # shared, so read the CPU and statement columns before the wall times.
            old = (
                None
                if args.no_against
                else against(args.against, url, args.repeat, Path(tmp), args.feed)
            )
            new = measure(url, args.repeat, args.profile or None, args.feed)
        print(report(new, old, args.against))
        load = os.getloadavg()[0]
        busy = " (a shared machine: compare CPU and statements)" if load > 1.5 else ""
        print(f"load average {load:.1f} on {os.cpu_count()} cores{busy}")
    finally:
        if name and not args.keep_db:
            with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        elif name:
            print(f"kept database {name}", file=sys.stderr)


if __name__ == "__main__":
    main()
