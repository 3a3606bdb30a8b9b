"""Core record at scale: 50 runs × 7 days of 1-minute data for 8 console codes
(≈ 4 million observations). Prints the bulk insert rate and the run-page, run-list and
`run show` latencies (median / p95) on SQLite and on PostgreSQL.

    .venv/bin/python benchmarks/bench_core.py [--runs 50] [--days 7] [--only sqlite|postgres]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from fastapi.testclient import TestClient

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.seed import password_for, seed

from continuum.app import create_app
from continuum.config import Settings
from continuum.core import observation_service, run_service, run_view
from continuum.core.models import Run
from continuum.core.roles import CLI_ACTOR
from continuum.db import make_engine, make_sessionmaker, unit_of_work
from continuum.migrate import upgrade
from continuum.vocabulary import CONSOLE_CODES

PG_ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"


def console_values(code: str, n: int, rng: np.random.Generator) -> np.ndarray:
    base = {
        "blood_flow": 4.5,
        "pump_speed": 3500,
        "p_access": -60,
        "p_preoxy": 260,
        "p_postoxy": 240,
        "sweep_flow": 4,
        "sweep_fio2": 0.8,
        "blood_temp": 36.8,
    }[code]
    spread = abs(base) * 0.02 + 0.01
    return np.round(base + rng.normal(0, spread, n), 2)


def load(url: str, runs: int, days: int) -> tuple[int, float]:
    factory = make_sessionmaker(make_engine(url))
    start = datetime(2026, 1, 1, tzinfo=UTC)
    minutes = days * 24 * 60
    times = np.datetime64("2026-01-01T00:00") + np.arange(minutes).astype("timedelta64[m]")
    rng = np.random.default_rng(7)
    total, elapsed = 0, 0.0
    from continuum.core import patient_service
    from continuum.core.schemas import PatientCreate, RunCreate

    for i in range(runs):
        with unit_of_work(factory) as db:
            patient = patient_service.create_patient(
                db, CLI_ACTOR, PatientCreate(mrn=f"BENCH{i:04d}", name=f"Bench {i}", sex="male")
            )
            db.flush()
            run = run_service.start_run(
                db,
                CLI_ACTOR,
                RunCreate(
                    patient_id=patient.id, support_type="pulmonary", mode="VV", started_at=start
                ),
            )
            db.flush()
            rows = []
            for code in CONSOLE_CODES:
                rows += observation_service.series_rows(
                    run.id, code, times, console_values(code, minutes, rng), "console"
                )
            t0 = time.perf_counter()
            observation_service.bulk_insert(db, rows)
            db.commit()
            elapsed += time.perf_counter() - t0
            total += len(rows)
        print(f"\r  loaded {i + 1}/{runs} runs ({total:,} observations)", end="", flush=True)
    print()
    return total, elapsed


def latencies(fn, repeat: int) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(0.95 * (len(samples) - 1))]


def measure(url: str, label: str, runs: int, days: int, repeat: int) -> None:
    upgrade(url)
    seed(url)
    total, seconds = load(url, runs, days)
    print(
        f"[{label}] bulk insert: {total:,} observations in {seconds:.1f} s "
        f"= {total / seconds:,.0f} rows/s"
    )
    app = create_app(Settings(database_url=url, secret_key="bench-" + "x" * 32))
    with TestClient(app) as client:
        import re

        token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)  # type: ignore[union-attr]
        client.post(
            "/login",
            data={
                "username": "perfusionist",
                "csrf_token": token,
                "password": password_for("perfusionist"),
            },
        )
        run_ids = list(range(2, runs + 2))
        picks = iter(np.random.default_rng(1).choice(run_ids, size=repeat * 3))
        for name, fn in [
            ("run page  GET /runs/{id}", lambda: client.get(f"/runs/{next(picks)}")),
            ("run list  GET /runs     ", lambda: client.get("/runs")),
            ("run JSON  GET /api/v1/runs/{id}", lambda: client.get(f"/api/v1/runs/{next(picks)}")),
        ]:
            fn()
            med, p95 = latencies(fn, repeat)
            print(f"[{label}] {name}: median {med:.1f} ms, p95 {p95:.1f} ms")
    factory = make_sessionmaker(make_engine(url))
    with unit_of_work(factory) as db:
        run = db.get_one(Run, 2)
        med, p95 = latencies(lambda: run_view.summary(db, CLI_ACTOR, run), repeat)
        print(f"[{label}] run summary (service, `run show`): median {med:.1f} ms, p95 {p95:.1f} ms")
    app.state.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--only", choices=["sqlite", "postgres"])
    args = parser.parse_args()
    print(
        f"Core benchmark: {args.runs} runs × {args.days} days × 1440 min × "
        f"{len(CONSOLE_CODES)} codes = {args.runs * args.days * 1440 * 8:,} observations"
    )
    if args.only != "postgres":
        with tempfile.TemporaryDirectory() as tmp:
            measure(
                f"sqlite:///{Path(tmp) / 'bench.db'}", "sqlite", args.runs, args.days, args.repeat
            )
    if args.only != "sqlite":
        import psycopg

        name = f"ct_bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        try:
            measure(
                f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}",
                "postgres",
                args.runs,
                args.days,
                args.repeat,
            )
        finally:
            with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
