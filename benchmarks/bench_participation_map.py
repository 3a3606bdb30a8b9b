"""The participation map at scale on PostgreSQL: two years of a busy programme (150 runs a
year, written by the demo history generator with their decisions, daily rounds with
participants, circuit checks per shift, alerts, membrane-lung changes, adverse events and
decannulations; plus weaning trials and two M&M meetings a month with their attendance),
in a throwaway database. Prints the rows written and the median / best time of

* ``participation_map.compute`` over the two years (every step, comparisons, monthly trend);
* compute + drawing both SVG panels and the trend grid;
* the whole page (``GET /quality/participation``) through the app, as a quality lead sees it.

Goal: under 1 s.

    .venv/bin/python benchmarks/bench_participation_map.py [--runs-per-year 150] [--repeat 7]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from fastapi.testclient import TestClient
from sqlalchemy import func, insert, select, text
from tests.conftest import test_settings
from tests.quality.metrics_cohort import staff
from tests.seed import password_for, seed

from continuum.app import create_app
from continuum.core.record import Participation
from continuum.db import make_engine, make_sessionmaker, unit_of_work, utcnow
from continuum.migrate import upgrade
from continuum.quality import demo_history
from continuum.quality import participation_map as pmap
from continuum.quality import participation_map_chart as chart
from continuum.quality.review_record import ReviewAttendance, ReviewMeeting
from continuum.rounds.models import CircuitCheck, RoundRecord
from continuum.weaning.models import WeaningTrial

PG_ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
UTC = ZoneInfo("UTC")
H = timedelta(hours=1)


def build(url: str, runs_per_year: int) -> dict[str, int]:
    factory = make_sessionmaker(make_engine(url))
    now = utcnow()
    rng = random.Random(20)
    t = time.perf_counter()
    per_chunk = max(1, runs_per_year // 2)
    with unit_of_work(factory) as db:
        people = staff(db)
        perf, phys = people["perfusionist"].staff_id, people["physician"].staff_id
        nurse = people["nurse"].staff_id
        for chunk in range(4):  # four half-years, newest last
            chunk_now = now - timedelta(days=182 * (3 - chunk))
            specs = demo_history.cohort(chunk_now, count=per_chunk, seed=30 + chunk)
            for i, spec in enumerate(specs):
                spec.mrn = f"BP{chunk}{i:04d}"
                run_id = demo_history.insert_run(db, spec, people)
                for k in range(rng.randint(0, 2)):  # weaning trials
                    started = spec.started_at + (spec.hours * (0.6 + 0.15 * k)) * H
                    status = rng.choice(("passed", "passed", "failed", "aborted"))
                    db.add(
                        WeaningTrial(
                            run_id=run_id, kind="sweep_reduction", status=status,
                            started_at=started, ended_at=started + 2 * H, started_by=phys,
                            ended_by=phys,
                            perfusion_by=perf if rng.random() < 0.7 else None,
                            perfusion_at=started if rng.random() < 0.7 else None,
                        )
                    )  # fmt: skip
        first = (now - timedelta(days=730)).date()
        for m in range(48):  # two M&M meetings a month
            meeting = ReviewMeeting(
                held_on=first + timedelta(days=15 * m + 3), title=f"ECMO M&M {m + 1}",
                chair_id=phys, created_by=phys,
            )  # fmt: skip
            db.add(meeting)
            db.flush()
            who = [(phys, "intensive_care"), (nurse, "nursing")]
            if rng.random() < 0.55:
                who.append((perf, "perfusion"))
            db.execute(
                insert(ReviewAttendance),
                [
                    {"meeting_id": meeting.id, "staff_id": s, "discipline": d, "present": True}
                    for s, d in who
                ],
            )
    seconds = time.perf_counter() - t
    with factory() as db:
        db.execute(text("ANALYZE"))
        counts = {
            name: db.scalar(select(func.count()).select_from(model)) or 0
            for name, model in (
                ("rounds", RoundRecord),
                ("circuit checks", CircuitCheck),
                ("participation rows", Participation),
                ("weaning trials", WeaningTrial),
            )
        }
    print(
        f"records written in {seconds:.1f} s: " + ", ".join(f"{v:,} {k}" for k, v in counts.items())
    )
    return counts


def measure(url: str, repeat: int) -> None:
    factory = make_sessionmaker(make_engine(url))
    now = utcnow()
    whole = pmap.MapFilter(now - timedelta(days=731), now + timedelta(days=1))
    compute, drawn = [], []
    with factory() as db:
        qa = staff(db)["qa_lead"]
        pmap.compute(db, qa, whole, UTC)  # warm: imports SciPy and statsmodels
        for _ in range(repeat):
            t = time.perf_counter()
            m = pmap.compute(db, qa, whole, UTC)
            compute.append(time.perf_counter() - t)
            t = time.perf_counter()
            m = pmap.compute(db, qa, whole, UTC)
            chart.current_panel(m.shares, "Perfusion", 10, lambda s: f"/s/{s}", {})
            chart.target_panel(m.perfusion_shares, m.policy.required, 90, {})
            chart.trend_grid(m.trend, m.months, "trend")
            drawn.append(time.perf_counter() - t)
    print(
        f"map: {len(m.records):,} records over {len(m.months)} months; "
        + ", ".join(f"{s.step.key} {s.k}/{s.n}" for s in m.shares)
    )
    app = create_app(test_settings(url))
    page = []
    with TestClient(app) as client:
        token = client.get("/login").text.split('name="csrf_token" value="')[1].split('"')[0]
        client.post(
            "/login",
            data={"username": "qa_lead", "password": password_for("qa_lead"), "csrf_token": token},
        )
        query = f"start={(now - timedelta(days=730)).date()}&end={now.date()}"
        assert client.get(f"/quality/participation?{query}").status_code == 200  # warm
        for _ in range(repeat):
            t = time.perf_counter()
            r = client.get(f"/quality/participation?{query}")
            page.append(time.perf_counter() - t)
            assert r.status_code == 200
    for name, series in (
        ("participation_map.compute", compute),
        ("compute + SVG drawing", drawn),
        ("GET /quality/participation", page),
    ):
        print(
            f"{name:<28} median {statistics.median(series) * 1000:7.0f} ms  "
            f"best {min(series) * 1000:7.0f} ms  (goal < 1000 ms)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--runs-per-year", type=int, default=150)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--keep", action="store_true", help="keep the database; print its URL")
    parser.add_argument("--url", help="measure an existing database built with --keep")
    args = parser.parse_args()
    import psycopg

    if args.url:
        measure(args.url, args.repeat)
        return

    name = f"bench_partmap_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    try:
        upgrade(url)
        seed(url)  # one login per role, the seeded run
        build(url, args.runs_per_year)
        measure(url, args.repeat)
    finally:
        if args.keep:
            print(f"kept: {url}")
        else:
            with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
