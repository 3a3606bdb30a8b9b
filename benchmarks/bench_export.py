"""Research export speed on PostgreSQL (127.0.0.1:5432; a database of its own, dropped after).

Builds N ended runs, each with ``--hours`` of 1-minute circuit data (the eight console
signals, simulated as a slow random walk), loaded with COPY; then exports every run,
de-identified, to Parquet (runs, observations long, observations wide by run-hour, manifest)
through ``continuum.research.export`` exactly as `continuum export --format parquet --all`
does, and prints the seconds, rows/s and peak memory.

    .venv/bin/python benchmarks/bench_export.py [--runs 200] [--hours 24] [--keep-files]
    .venv/bin/python benchmarks/bench_export.py --runs 10000      # the issue's full figure
    .venv/bin/python benchmarks/bench_export.py --runs 500 --path both   # fast vs plain path

Peak memory: the process's maximum resident set size (getrusage) before and after the
export, and the export's own peak Python allocations (tracemalloc, with --tracemalloc; it
slows the export, so its seconds are not the figure).
"""

from __future__ import annotations

import argparse
import io
import resource
import sys
import tempfile
import time
import tracemalloc
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from continuum.core.roles import Actor  # noqa: E402
from continuum.db import make_engine, make_sessionmaker, unit_of_work  # noqa: E402
from continuum.migrate import upgrade  # noqa: E402
from continuum.research import export  # noqa: E402
from continuum.research.deidentify import Policy  # noqa: E402
from continuum.vocabulary import CODES  # noqa: E402

PG_ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
SIGNALS = ("blood_flow", "pump_speed", "p_access", "p_preoxy", "p_postoxy", "sweep_flow",
           "sweep_fio2", "blood_temp")  # fmt: skip
BASE = np.array([4.5, 3500, -60, 260, 240, 4, 0.8, 36.8])
STEP = np.array([0.02, 10, 0.5, 1, 1, 0.02, 0.002, 0.01])


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def make_db() -> tuple[str, str]:
    import psycopg

    name = f"bench_export_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    upgrade(url)
    return name, url


def drop_db(name: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def build(url: str, runs: int, hours: int, seed: int = 1) -> int:
    """N patients and ended runs (VV or VA), each with ``hours`` of 1-minute console data."""
    import psycopg

    rng = np.random.default_rng(seed)
    dsn = url.replace("postgresql+psycopg", "postgresql")
    minutes = hours * 60
    start0 = datetime(2020, 1, 1, tzinfo=UTC)
    total = 0
    with psycopg.connect(dsn) as conn, conn.cursor() as cur:
        for i in range(runs):
            started = start0 + timedelta(hours=7 * i)
            ended = started + timedelta(minutes=minutes)
            cur.execute(
                "INSERT INTO patient (sex, height_cm, weight_kg, created_at) "
                "VALUES (%s, 170, 75, now()) RETURNING id",
                ("female" if i % 2 else "male",),
            )
            pid = cur.fetchone()[0]  # type: ignore[index]
            cur.execute(
                "INSERT INTO patient_identity (patient_id, mrn, name, birth_date) "
                "VALUES (%s, %s, %s, %s)",
                (pid, f"BENCH{i:07d}", f"Bench Patient {i}", date(1950 + i % 60, 1 + i % 12, 1)),
            )
            mode = "VV" if i % 3 else "VA"
            cur.execute(
                "INSERT INTO run (patient_id, support_type, status, started_at, ended_at, "
                "outcome, created_at) VALUES (%s, %s, 'ended', %s, %s, 'weaned_recovered', "
                "now()) RETURNING id",
                (pid, "pulmonary" if mode == "VV" else "cardiac", started, ended),
            )
            rid = cur.fetchone()[0]  # type: ignore[index]
            cur.execute(
                "INSERT INTO circuit (run_id, started_at, ended_at) VALUES (%s, %s, %s) "
                "RETURNING id",
                (rid, started, ended),
            )
            cid = cur.fetchone()[0]  # type: ignore[index]
            cur.execute(
                "INSERT INTO mode_segment (run_id, circuit_id, mode, started_at, "
                "ended_at) VALUES (%s, %s, %s, %s, %s)",
                (rid, cid, mode, started, ended),
            )
            walk = BASE + np.cumsum(rng.normal(0, 1, (minutes, len(SIGNALS))) * STEP, axis=0)
            buf = io.StringIO()
            for m in range(minutes):
                at = (started + timedelta(minutes=m)).isoformat()
                for j, code in enumerate(SIGNALS):
                    c = CODES[code]
                    v = min(max(float(walk[m, j]), c.low), c.high)
                    buf.write(f"{rid}\t{code}\t{at}\t{v:.4g}\t{c.unit}\tconsole\tfinal\t{at}\n")
            buf.seek(0)
            with cur.copy(
                "COPY observation (run_id, code, time, value, unit, source, status, "
                "recorded_at) FROM STDIN"
            ) as copy:
                while chunk := buf.read(1 << 20):
                    copy.write(chunk)
            total += minutes * len(SIGNALS)
            if i % 500 == 499:
                conn.commit()
                print(f"  built {i + 1} runs", flush=True)
        conn.commit()
        cur.execute("ANALYZE")
    return total


def backends_cpu(db: object) -> dict[int, float] | None:
    """CPU seconds of each PostgreSQL backend connected to this database (the export's
    session and its reader connections; same machine only, else None)."""
    import os

    try:
        conn = db.connection()  # type: ignore[attr-defined]
        conn.exec_driver_sql("SELECT pg_stat_clear_snapshot()")  # a fresh list, not the first
        pids = conn.exec_driver_sql(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
        ).scalars()
        out = {}
        for pid in pids:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:  # a connection closed meanwhile
                continue
            out[pid] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        return out or None
    except (IndexError, ValueError):
        return None


def run_export(sessions: object, args: argparse.Namespace, fast: bool) -> None:
    export.FAST_PATH = fast
    actor = Actor(staff_id=None, name="benchmark", role="researcher", client="bench")
    policy = Policy(key=b"bench-export-key-0123456789")
    zone = ZoneInfo("UTC")
    out = Path(tempfile.mkdtemp(prefix="bench_export_"))
    rss_before = rss_mb()
    if args.tracemalloc:
        tracemalloc.start()
    t0, cpu0 = time.perf_counter(), time.process_time()
    with unit_of_work(sessions) as db:  # type: ignore[arg-type]
        db_cpu0 = backends_cpu(db)
        p = export.plan(db, actor, zone, fmt=args.format, all_runs=True)
        job = export.create_job(db, actor, p, policy)
        manifest = export.write_export(db, actor, p, policy, out, zone, job.id)
        db_cpu1 = backends_cpu(db)
    seconds, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    traced = tracemalloc.get_traced_memory()[1] / 2**20 if args.tracemalloc else None
    if args.tracemalloc:
        tracemalloc.stop()
    rows = {f["table"]: f["rows"] for f in manifest["files"]}
    size = sum(f["bytes"] for f in manifest["files"]) / 2**20
    path = "PostgreSQL fast path (COPY/string_agg → Arrow)" if fast else "plain path (rows)"
    print(f"export to {args.format}: {args.runs} runs × {args.hours} h of 1-minute data, {path}")
    db_cpu = (
        "; PostgreSQL backends' CPU: "
        f"{sum(c - db_cpu0.get(pid, 0.0) for pid, c in db_cpu1.items()):.1f} s"
        if db_cpu0 is not None and db_cpu1 is not None
        else ""
    )
    print(
        f"  seconds            {seconds:.1f} (this process's CPU: {cpu:.1f} s{db_cpu}; the rest "
        "is waiting for a core)"
    )
    print(f"  rows               {rows}")
    long = next(rows[t] for t in ("observations_long", "measurement", "ecmo_mcs") if t in rows)
    print(
        f"  long rows/s        {long / seconds:,.0f} "
        f"({long / cpu:,.0f} per CPU second of this process)"
    )
    print(f"  files              {size:.1f} MiB")
    print(f"  peak RSS (MiB)     before {rss_before:.0f}, after {rss_mb():.0f}")
    if traced is not None:
        print(f"  peak Python allocations during export (tracemalloc): {traced:.1f} MiB")
    if args.keep_files:
        print(f"  files in {out}")
    else:
        for f in out.iterdir():
            f.unlink()
        out.rmdir()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=200)
    ap.add_argument("--hours", type=int, default=24)
    ap.add_argument("--tracemalloc", action="store_true")
    ap.add_argument("--keep-files", action="store_true")
    ap.add_argument("--format", default="parquet", help="parquet, csv, omop or clif")
    ap.add_argument(
        "--path",
        default="fast",
        choices=("fast", "plain", "both"),
        help="CSV/Parquet on PostgreSQL: the fast path (default), the plain row-by-row path, "
        "or both one after the other on the same database",
    )
    args = ap.parse_args()
    name, url = make_db()
    try:
        t0 = time.perf_counter()
        n_obs = build(url, args.runs, args.hours)
        print(f"built {args.runs} runs, {n_obs:,} observations in {time.perf_counter() - t0:.1f} s")
        sessions = make_sessionmaker(make_engine(url))
        paths = {"both": [True, False], "fast": [True], "plain": [False]}[args.path]
        for fast in paths:
            run_export(sessions, args, fast)
    finally:
        drop_db(name)


if __name__ == "__main__":
    main()
