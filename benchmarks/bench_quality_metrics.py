"""Programme metrics at scale on PostgreSQL: 1,000 ended runs (the demo history generator:
membrane lungs, anti-Xa every 6 h, rounds with participants, circuit checks, transfusions,
alerts, adverse events, decisions) plus 1-minute console data (blood flow and sweep for the
first ``--minute-hours`` hours of every run, written with COPY), in a throwaway database.
Prints the rows written and the median / best time of ``quality.metrics.compute`` over the
whole period and of one drill-down. Goal: under 2 s.

    .venv/bin/python benchmarks/bench_quality_metrics.py [--runs 1000] [--minute-hours 24]
        [--repeat 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select, text
from tests.quality.metrics_cohort import staff
from tests.seed import seed

from continuum.core import observation_service
from continuum.core.record import Observation
from continuum.db import make_engine, make_sessionmaker, unit_of_work, utcnow
from continuum.migrate import upgrade
from continuum.quality import demo_history, metrics

PG_ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
CONSOLE = {"blood_flow": ("L/min", 4.5), "sweep_flow": ("L/min", 4.0)}


def build(url: str, runs: int, minute_hours: int) -> dict[str, int]:
    factory = make_sessionmaker(make_engine(url))
    now = utcnow()
    specs = demo_history.cohort(now, count=runs, seed=7)
    for i, spec in enumerate(specs):
        spec.mrn = f"BQ{i:05d}"
    t = time.perf_counter()
    ids: list[tuple[int, object]] = []
    with unit_of_work(factory) as db:
        people = staff(db)
        for spec in specs:
            ids.append((demo_history.insert_run(db, spec, people), spec.started_at))
    records_s = time.perf_counter() - t
    t = time.perf_counter()
    rng = np.random.default_rng(7)
    minutes = minute_hours * 60
    for start in range(0, len(ids), 50):
        rows = []
        for run_id, started in ids[start : start + 50]:
            for code, (unit, base) in CONSOLE.items():
                values = np.round(base + rng.normal(0, 0.1, minutes), 2)
                for m in range(minutes):
                    at = started + timedelta(minutes=m)  # type: ignore[operator]
                    rows.append(
                        {
                            "run_id": run_id, "code": code, "time": at, "value": float(values[m]),
                            "unit": unit, "source": "console", "status": "final",
                            "entered_by": None, "recorded_at": at, "ingest_ref": None,
                        }
                    )  # fmt: skip
        with unit_of_work(factory) as db:
            observation_service.bulk_insert(db, rows)
    copy_s = time.perf_counter() - t
    with factory() as db:
        db.execute(text("ANALYZE"))
        count = db.scalar(select(func.count()).select_from(Observation)) or 0
    print(f"records written in {records_s:.1f} s; observations (COPY) in {copy_s:.1f} s")
    return {"runs": runs, "observations": count}


def measure(url: str, repeat: int) -> None:
    factory = make_sessionmaker(make_engine(url))
    with factory() as db:
        qa = staff(db)["qa_lead"]
        now = utcnow()
        whole = metrics.MetricsFilter(now - timedelta(days=400), now)
        metrics.compute(db, qa, whole)  # warm: imports SciPy, statsmodels, lifelines
        times, drill = [], []
        for _ in range(repeat):
            t = time.perf_counter()
            m = metrics.compute(db, qa, whole)
            times.append(time.perf_counter() - t)
            t = time.perf_counter()
            metrics.drill_down(metrics.compute(db, qa, whole), "ml_changes")
            drill.append(time.perf_counter() - t)
    n = int(m.figure("runs").value or 0)
    print(f"cohort: {n} runs, {m.figure('ecmo_hours').value:,.0f} ECMO h, "
          f"{m.ml_life.n} membrane lungs, {m.figure('perfusion_rounds').n} rounds")  # fmt: skip
    for name, series in (("metrics.compute", times), ("compute + drill-down", drill)):
        print(
            f"{name:<24} median {statistics.median(series) * 1000:7.0f} ms  "
            f"best {min(series) * 1000:7.0f} ms  (goal < 2000 ms)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--minute-hours", type=int, default=24)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    import psycopg

    name = f"bench_quality_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    try:
        upgrade(url)
        seed(url)  # one login per role, the seeded run
        rows = build(url, args.runs, args.minute_hours)
        print(f"rows: {rows['runs']} runs, {rows['observations']:,} observations")
        measure(url, args.repeat)
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
