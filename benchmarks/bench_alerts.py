"""From a stored observation batch to its alerts committed, while batches arrive at 100/s.

How it is measured (service level, in-process, one writer):
- 20 runs with 36 h of simulated history (scenario library: oxygenator failure, pump
  thrombosis, haemolysis, access insufficiency, controls …), bulk-loaded and evaluated once
  (PostgreSQL: then ANALYZE, as autovacuum does after a bulk load).
- Then the next simulated minutes stream in: one message = one run's minute of console,
  monitor and any lab/gas values (~12–20 observations), runs taken round-robin. Message i is
  due at t0 + i/rate (open loop: if the loop falls behind, the wait counts).
- Each message is one unit of work: ``record_observations`` (validation, units, derived ΔP,
  bulk insert, audit) → the after-store hook evaluates every detector over the run's recent
  window and raises/updates/clears alerts → COMMIT.
- Latency = commit finished − message due time (queueing included); also the transaction
  time (begin → commit). p50/p95/p99/max, and how many alert events the stream wrote.
- Two consumers: one transaction per message; and grouped — every message already waiting
  when the previous transaction ends is stored in one transaction, one batch (and one
  evaluation) per run, as an ingest consumer that drains its queue would.

    .venv/bin/python benchmarks/bench_alerts.py [--messages 3000] [--rate 100] [--only sqlite]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
from sqlalchemy import func, select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from continuum import simulator
from continuum.alerts.models import AlertEvent
from continuum.alerts.service import evaluate_run
from continuum.core import observation_service, run_service
from continuum.core.people import Patient
from continuum.core.roles import Actor
from continuum.core.run_record import Run
from continuum.core.schemas import ObservationIn, RunCreate
from continuum.db import make_engine, make_sessionmaker, unit_of_work
from continuum.migrate import upgrade

PG_ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
ACTOR = Actor(staff_id=None, name="bedside gateway", role="integration", client="bench")
SCENARIOS = (
    "oxygenator_failure",
    "pump_thrombosis",
    "hemolysis",
    "access_insufficiency",
    "control_vv",
    "circuit_thrombosis",
    "recirculation",
    "anticoagulation_drift",
    "low_heparin_pump_clot",
    "hypovolaemia_recirculation",
)
HISTORY_H = 36
STREAM_H = 12


def prepare(url: str, n_runs: int) -> tuple[list[int], list[simulator.SimulatedRun], int]:
    """Runs with HISTORY_H hours stored and evaluated; returns the first streamed minute."""
    factory = make_sessionmaker(make_engine(url))
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    start = now - timedelta(hours=HISTORY_H + STREAM_H)
    cut = HISTORY_H * 60
    ids, sims = [], []
    for i in range(n_runs):
        sim = simulator.simulate(
            SCENARIOS[i % len(SCENARIOS)], "VV", HISTORY_H + STREAM_H, 2000 + i, start=start
        )
        with unit_of_work(factory) as db:
            patient = Patient(sex="female", height_cm=170, weight_kg=70)
            db.add(patient)
            db.flush()
            run = run_service.start_run(
                db,
                ACTOR,
                RunCreate(
                    patient_id=patient.id, support_type="pulmonary", mode="VV", started_at=start
                ),
            )
            db.flush()
            rows = []
            for code, values in sim.signals.items():
                rows += observation_service.series_rows(
                    run.id, code, sim.times[:cut], values[:cut], "console"
                )
            observation_service.bulk_insert(db, rows)
            evaluate_run(db, run.id, full=True)
            ids.append(run.id)
            sims.append(sim)
    if url.startswith("postgresql"):
        with make_engine(url).connect() as conn:  # planner statistics, as autovacuum would
            conn.exec_driver_sql("ANALYZE")
            conn.commit()
    return ids, sims, cut


def message(sim: simulator.SimulatedRun, minute: int) -> list[ObservationIn]:
    t = np.datetime64(sim.times[minute], "us").item().replace(tzinfo=UTC)
    return [
        ObservationIn(code=code, value=float(v[minute]), time=t, source="console")
        for code, v in sim.signals.items()
        if np.isfinite(v[minute])
    ]


def stream(
    url: str, ids: list[int], sims: list, first: int, n: int, rate: float, grouped: bool
) -> dict[str, float]:
    """Open-loop arrivals at ``rate``; per-message transactions, or (``grouped``) every
    message already waiting is stored in one transaction, one batch per run."""
    factory = make_sessionmaker(make_engine(url))
    batches = [
        (ids[i % len(ids)], message(sims[i % len(ids)], first + i // len(ids))) for i in range(n)
    ]
    with unit_of_work(factory) as db:
        events_before = db.scalar(select(func.count()).select_from(AlertEvent)) or 0
    latency, service = [], []
    t0, i = time.perf_counter(), 0
    while i < n:
        due = t0 + i / rate
        while (now := time.perf_counter()) < due:
            time.sleep(min(due - now, 0.002))
        ready = max(i + 1, min(n, int((time.perf_counter() - t0) * rate) + 1)) if grouped else i + 1
        begin = time.perf_counter()
        with unit_of_work(factory) as db:
            for run_id, items in by_run(batches[i:ready]).items():
                observation_service.record_observations(db, ACTOR, db.get_one(Run, run_id), items)
        done = time.perf_counter()
        latency += [done - (t0 + k / rate) for k in range(i, ready)]
        service.append(done - begin)
        i = ready
    wall = time.perf_counter() - t0
    with unit_of_work(factory) as db:
        events_after = db.scalar(select(func.count()).select_from(AlertEvent)) or 0
    lat, svc = np.array(latency) * 1000, np.array(service) * 1000
    return {
        "messages": n,
        "transactions": len(service),
        "achieved_rate": n / wall,
        "obs_per_message": float(np.mean([len(b[1]) for b in batches])),
        "p50_ms": float(np.percentile(lat, 50)),
        "p95_ms": float(np.percentile(lat, 95)),
        "p99_ms": float(np.percentile(lat, 99)),
        "max_ms": float(lat.max()),
        "service_p50_ms": float(np.percentile(svc, 50)),
        "service_p99_ms": float(np.percentile(svc, 99)),
        "alert_events": events_after - events_before,
    }


def by_run(batches: list[tuple[int, list[ObservationIn]]]) -> dict[int, list[ObservationIn]]:
    out: dict[int, list[ObservationIn]] = {}
    for run_id, items in batches:
        out.setdefault(run_id, []).extend(items)
    return out


def sqlite_url() -> str:
    return f"sqlite:///{tempfile.mkdtemp()}/bench_alerts.db"


def postgres_url() -> str | None:
    try:
        import psycopg

        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            name = f"bench_alerts_{uuid.uuid4().hex[:8]}"
            conn.execute(f'CREATE DATABASE "{name}"')
        return f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    except Exception:
        return None


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--messages", type=int, default=3000)
    ap.add_argument("--rate", type=float, default=100.0)
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--only", choices=("sqlite", "postgres"))
    args = ap.parse_args()
    targets = {"sqlite": sqlite_url, "postgres": postgres_url}
    for name, make in targets.items():
        if args.only and name != args.only:
            continue
        url = make()
        if url is None:
            print(f"{name}: not available, skipped")
            continue
        upgrade(url)
        ids, sims, first = prepare(url, args.runs)
        n = min(args.messages, args.runs * STREAM_H * 60 // 2)
        for grouped in (False, True):
            r = stream(
                url, ids, sims, first + (n // args.runs if grouped else 0), n, args.rate, grouped
            )
            how = "grouped per transaction" if grouped else "one transaction per message"
            print(
                f"{name:8} {how}: {r['messages']} messages at {r['achieved_rate']:.0f}/s "
                f"({r['obs_per_message']:.0f} obs each, {r['transactions']} transactions): "
                f"message→alerts committed p50 {r['p50_ms']:.0f} ms, p95 {r['p95_ms']:.0f} ms, "
                f"p99 {r['p99_ms']:.0f} ms, max {r['max_ms']:.0f} ms; transaction time "
                f"p50 {r['service_p50_ms']:.0f} ms, p99 {r['service_p99_ms']:.0f} ms; "
                f"{r['alert_events']} alert events written"
            )


if __name__ == "__main__":
    main()
