"""The deferred evaluator's cost per pass as a run grows, while its baseline forms.

A run started 4 h ago receives console messages as an MLLP gateway sends them (20 values
each, one message a second, stored deferred: the run is marked due). After 3,000, 6,000
and 9,000 messages (50, 100 and 150 minutes of 1-second data: the whole run is the
window, the baselines are not formed yet), ``--passes`` times: 10 more messages arrive,
then one evaluator pass (``alerts.due.evaluate_due``) is timed. Prints the median ms per
pass at each size (wall clock, and CPU time: the evaluator's own plus, on a local
PostgreSQL, its server backends' from /proc — on a shared, busy machine the steadier
figure), on PostgreSQL (127.0.0.1:5432, a database of its own, dropped after)
and SQLite (a temporary file). Flat figures: a pass reads the new data and the run's
per-step samples, not the whole window's raw rows again (``continuum.alerts.samples``).

    .venv/bin/python benchmarks/bench_evaluator.py [--sizes 3000,6000,9000] [--passes 7]
        [--only sqlite|postgres]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.seed import seed

from continuum.alerts.due import evaluate_due
from continuum.core import observation_service, run_service
from continuum.core.roles import Actor
from continuum.core.run_record import Run
from continuum.core.schemas import ObservationIn, RunCreate
from continuum.db import make_engine, make_sessionmaker, unit_of_work
from continuum.hooks import install_all_hooks
from continuum.migrate import upgrade

PG_ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
ACTOR = Actor(staff_id=None, name="bedside gateway", role="integration", client="bench")
CODES = ("blood_flow", "pump_speed", "p_access", "p_preoxy", "p_postoxy", "sweep_flow",
         "sweep_fio2", "blood_temp")  # fmt: skip
BASE = (4.5, 3500, -60, 260, 240, 4, 0.8, 36.8)
PER_PASS = 10  # messages arriving between two passes


def message(start: datetime, i: int) -> list[ObservationIn]:
    """Message ``i``: 20 console values at ``start`` + i seconds (as bench_ingest sends)."""
    at = start + timedelta(seconds=i)
    wobble = 1 + 0.002 * ((i * 7919) % 11 - 5)
    return [
        ObservationIn(code=CODES[k % 8], value=BASE[k % 8] * wobble, time=at, source="hl7")
        for k in range(20)
    ]


def store(factory, run_id: int, start: datetime, first: int, last: int) -> None:  # type: ignore[no-untyped-def]
    items = [o for i in range(first, last) for o in message(start, i)]
    with unit_of_work(factory) as db:
        db.info["defer_surveillance"] = True
        run = db.get_one(Run, run_id)
        observation_service.record_observations(db, ACTOR, run, items)


def bench(url: str, sizes: list[int], passes: int) -> dict[int, tuple[float, float]]:
    upgrade(url)
    seed(url)
    install_all_hooks()
    factory = make_sessionmaker(make_engine(url))
    started = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=4)
    with unit_of_work(factory) as db:
        data = RunCreate(patient_id=2, support_type="pulmonary", mode="VV", started_at=started)
        run_id = run_service.start_run(db, ACTOR, data).id
    start = started + timedelta(minutes=10)
    out: dict[int, tuple[float, float]] = {}
    sent = 0
    for size in sizes:
        while sent < size:  # load up to the size in chunks, evaluated as they come
            upto = min(size, sent + 500)
            store(factory, run_id, start, sent, upto)
            sent = upto
            evaluate_due(factory)
        took, cpu = [], []
        for _ in range(passes):
            store(factory, run_id, start, sent, sent + PER_PASS)
            sent += PER_PASS
            t0, c0, s0 = time.perf_counter(), time.process_time(), server_cpu(factory)
            assert evaluate_due(factory) == 1
            took.append((time.perf_counter() - t0) * 1000)
            cpu.append((time.process_time() - c0 + server_cpu(factory) - s0) * 1000)
        out[size] = (statistics.median(took), statistics.median(cpu))
    return out


def server_cpu(factory) -> float:  # type: ignore[no-untyped-def]
    """PostgreSQL on this machine: CPU seconds its backends for this database have used
    (from /proc; 0 elsewhere), so that a pass's CPU counts the server's part too."""
    from sqlalchemy import text

    with factory() as db:
        if db.get_bind().dialect.name != "postgresql":
            return 0.0
        pids = db.scalars(
            text("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
        ).all()
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, IndexError, ValueError):
            pass
    return total


def sqlite_url() -> str:
    return f"sqlite:///{tempfile.mkdtemp()}/bench_evaluator.db"


def postgres_url() -> tuple[str, str] | None:
    try:
        import psycopg

        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            name = f"bench_eval_{uuid.uuid4().hex[:8]}"
            conn.execute(f'CREATE DATABASE "{name}"')
        return name, f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    except Exception:
        return None


def drop(name: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="3000,6000,9000")
    ap.add_argument("--passes", type=int, default=7)
    ap.add_argument("--only", choices=("sqlite", "postgres"))
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    for name in ("postgres", "sqlite"):
        if args.only and name != args.only:
            continue
        made = postgres_url() if name == "postgres" else ("", sqlite_url())
        if made is None:
            print(f"{name}: not available, skipped")
            continue
        db, url = made
        try:
            got = bench(url, sizes, args.passes)
        finally:
            if db:
                drop(db)
        figures = ", ".join(
            f"{n:,} messages {ms:.0f} ms ({cpu:.0f} ms CPU)" for n, (ms, cpu) in got.items()
        )
        print(
            f"{name:8} evaluator pass after {PER_PASS} new messages (median of {args.passes}; "
            f"20 values a message, 1 a second, baseline forming): {figures}"
        )


if __name__ == "__main__":
    main()
