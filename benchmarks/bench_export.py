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
import resource
import sys
import tempfile
import time
import tracemalloc
import uuid
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from continuum.core.roles import Actor  # noqa: E402
from continuum.db import make_engine, make_sessionmaker, unit_of_work  # noqa: E402
from continuum.migrate import upgrade  # noqa: E402
from continuum.research import export  # noqa: E402
from continuum.research.deidentify import Policy  # noqa: E402
from continuum.vocabulary import CODES  # noqa: E402

PG_ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
# Per signal: base, amplitude of a slow swing, its period (minutes), noise, decimals kept
# (about four significant digits, as a console sends).
SHAPE = {
    "blood_flow": (4.5, 0.6, 240, 0.05, 3),
    "pump_speed": (3500, 300, 300, 20, 0),
    "p_access": (-60, 12, 200, 2, 2),
    "p_preoxy": (260, 30, 260, 3, 1),
    "p_postoxy": (240, 30, 260, 3, 1),
    "sweep_flow": (4, 1.2, 600, 0.05, 3),
    "sweep_fio2": (0.8, 0.1, 900, 0.01, 4),
    "blood_temp": (36.8, 0.4, 500, 0.02, 2),
}
SLAB_RUNS = 250


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def make_db(keep: str | None = None) -> tuple[str, str, bool]:
    """A fresh database (dropped after), or with ``keep`` that named one, reused when an
    earlier run finished building it (its comment says 'complete'); whether it is built."""
    import psycopg

    name = keep or f"bench_export_{uuid.uuid4().hex[:8]}"
    url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        comment = conn.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
            (name,),
        ).fetchone()
        if comment is not None and comment[0] == "complete":
            return name, url, True
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    upgrade(url)
    return name, url, False


def mark_complete(name: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f"COMMENT ON DATABASE \"{name}\" IS 'complete'")


def drop_db(name: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def rows_copy(cur: object, sql: str, rows: list[tuple[object, ...]]) -> None:
    with cur.copy(sql) as copy:  # type: ignore[attr-defined]
        for row in rows:
            copy.write_row(row)


def build(url: str, runs: int, hours: int) -> int:
    """N patients and ended runs (VV or VA), each with ``hours`` of 1-minute console data
    from the eight console signals (a slow swing plus noise, rounded to ~4 significant
    digits). Patients, runs, circuits and modes go in by COPY; observations are generated
    by PostgreSQL itself, ``SLAB_RUNS`` runs a statement in run, time, signal order (the
    order a console import writes them), with the observation indexes built afterwards."""
    import psycopg

    dsn = url.replace("postgresql+psycopg", "postgresql")
    minutes = hours * 60
    start0 = datetime(2020, 1, 1, tzinfo=UTC)
    now = datetime.now(UTC)
    started = [start0 + timedelta(hours=7 * i) for i in range(runs)]
    ended = [s + timedelta(minutes=minutes) for s in started]
    modes = ["VV" if i % 3 else "VA" for i in range(runs)]
    ids = range(1, runs + 1)
    with psycopg.connect(dsn) as conn, conn.cursor() as cur:
        rows_copy(
            cur,
            "COPY patient (id, sex, height_cm, weight_kg, created_at) FROM STDIN",
            [(i, "female" if i % 2 == 0 else "male", 170, 75, now) for i in ids],
        )
        rows_copy(
            cur,
            "COPY patient_identity (patient_id, mrn, name, birth_date) FROM STDIN",
            [
                (
                    i,
                    f"BENCH{i - 1:07d}",
                    f"Bench Patient {i - 1}",
                    date(1950 + (i - 1) % 60, 1 + (i - 1) % 12, 1),
                )
                for i in ids
            ],
        )
        rows_copy(
            cur,
            "COPY run (id, patient_id, support_type, status, started_at, ended_at, "
            "outcome, created_at) FROM STDIN",
            [
                (
                    i,
                    i,
                    "pulmonary" if modes[i - 1] == "VV" else "cardiac",
                    "ended",
                    started[i - 1],
                    ended[i - 1],
                    "weaned_recovered",
                    now,
                )
                for i in ids
            ],
        )
        rows_copy(
            cur,
            "COPY circuit (id, run_id, started_at, ended_at) FROM STDIN",
            [(i, i, started[i - 1], ended[i - 1]) for i in ids],
        )
        rows_copy(
            cur,
            "COPY mode_segment (id, run_id, circuit_id, mode, started_at, ended_at) FROM STDIN",
            [(i, i, i, modes[i - 1], started[i - 1], ended[i - 1]) for i in ids],
        )
        for table in ("patient", "run", "circuit", "mode_segment"):
            cur.execute(f"SELECT setval('{table}_id_seq', %s)", (runs,))
        indexes = cur.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'observation' "
            "AND indexname <> 'pk_observation'"
        ).fetchall()
        for index, _ in indexes:
            cur.execute(f'DROP INDEX "{index}"')
        conn.commit()
        n = len(SHAPE)

        def column(i: int) -> str:
            return (
                "'{" + ",".join(str(v[i] if i < 4 else 10 ** v[i]) for v in SHAPE.values()) + "}'"
            )

        units = "ARRAY[" + ",".join(f"'{CODES[c].unit}'" for c in SHAPE) + "]"
        codes = "ARRAY[" + ",".join(f"'{c}'" for c in SHAPE) + "]"
        # One row of generate_series per observation: g / n the minute, g %% n the signal.
        for first in range(1, runs + 1, SLAB_RUNS):
            last = min(first + SLAB_RUNS - 1, runs)
            cur.execute(
                "INSERT INTO observation (run_id, code, time, value, unit, source, status, "
                "recorded_at) SELECT r.id, c.code[g %% n + 1], r.started_at + (g / n) * "
                "interval '1 minute', round((c.base[g %% n + 1] + c.amp[g %% n + 1] * "
                "sin((g / n) / c.period[g %% n + 1] + r.id) + c.noise[g %% n + 1] * "
                "(random() - 0.5)) * c.k[g %% n + 1]) / c.k[g %% n + 1], c.unit[g %% n + 1], "
                "'console', 'final', r.started_at + (g / n) * interval '1 minute' "
                f"FROM (SELECT {n} AS n, {codes} AS code, {units} AS unit, "
                f"{column(0)}::float8[] AS base, {column(1)}::float8[] AS amp, "
                f"{column(2)}::float8[] AS period, {column(3)}::float8[] AS noise, "
                f"{column(4)}::float8[] AS k) c, run r, generate_series(r.id * 0, %s) g "
                "WHERE r.id BETWEEN %s AND %s",
                (minutes * n - 1, first, last),
            )
            conn.commit()
            if last % 2000 < SLAB_RUNS or last == runs:
                print(f"  built {last} runs", flush=True)
        cur.execute("SET maintenance_work_mem = '1GB'")
        for _, definition in indexes:
            cur.execute(definition)
        conn.commit()
        conn.autocommit = True
        cur.execute("VACUUM ANALYZE observation")
        cur.execute("ANALYZE")
    return runs * minutes * len(SHAPE)


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


def run_export(
    sessions: object, args: argparse.Namespace, fast: bool, limit: int | None = None
) -> float:
    """Export every run (or the first ``limit``), print the figures; the wall seconds."""
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
        if limit is not None:
            p = replace(p, run_ids=p.run_ids[:limit])
        job = export.create_job(db, actor, p, policy)
        manifest = export.write_export(db, actor, p, policy, out, zone, job.id)
        db_cpu1 = backends_cpu(db)
    seconds, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    traced = tracemalloc.get_traced_memory()[1] / 2**20 if args.tracemalloc else None
    if args.tracemalloc:
        tracemalloc.stop()
    rows = {f["table"]: f["rows"] for f in manifest["files"]}
    size = sum(f["bytes"] for f in manifest["files"]) / 2**20
    path = "PostgreSQL fast path (binary arrays → Arrow)" if fast else "plain path (rows)"
    print(
        f"export to {args.format}: {len(p.run_ids)} runs × {args.hours} h of 1-minute data, {path}"
    )
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
    return seconds


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
    ap.add_argument(
        "--keep-db",
        action="store_true",
        help="keep the database (bench_export_<runs>r_<hours>h) and reuse it next time",
    )
    ap.add_argument(
        "--compare-runs",
        type=int,
        default=500,
        help="then export the first N runs by the fast and the plain path and print the "
        "ratio (0: skip)",
    )
    args = ap.parse_args()
    keep = f"bench_export_{args.runs}r_{args.hours}h" if args.keep_db else None
    name, url, built = make_db(keep)
    try:
        if built:
            print(f"reusing database {name} ({args.runs} runs × {args.hours} h)")
        else:
            t0 = time.perf_counter()
            n_obs = build(url, args.runs, args.hours)
            mark_complete(name)
            print(
                f"built {args.runs} runs, {n_obs:,} observations in "
                f"{time.perf_counter() - t0:.1f} s"
            )
        sessions = make_sessionmaker(make_engine(url))
        paths = {"both": [True, False], "fast": [True], "plain": [False]}[args.path]
        for fast in paths:
            run_export(sessions, args, fast)
        n = min(args.compare_runs, args.runs)
        if n and args.format in ("csv", "parquet"):
            print(f"--- the first {n} runs, fast path then plain path:")
            fast_s = run_export(sessions, args, True, n)
            plain_s = run_export(sessions, args, False, n)
            print(f"fast path {plain_s / fast_s:.1f}× faster than the plain path on {n} runs")
    finally:
        if not args.keep_db:
            drop_db(name)


if __name__ == "__main__":
    main()
