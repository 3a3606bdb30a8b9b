"""The 10-minute count and sum of a run's final values per code (observation_bin, kept by the
triggers of migration 0044) equal grouping the rows by bin: after values are stored across
bin edges, amended, withdrawn by their feed, moved, deleted, stored late into an old bin,
and written by several transactions at once; the migration fills it from the rows already
stored. The rounds board's 10-minute means read from it (PostgreSQL) equal averaging the
values grouped by date_bin, as the board did before. ``total`` is a running float sum
(values added and taken away), so sums and means are compared to a relative 1e-9."""

from __future__ import annotations

import math
import random
import threading
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta

from alembic import command
from sqlalchemy import create_engine, select, text
from sqlalchemy.orm import Session

from continuum.core import observation_service, run_service
from continuum.core.record import Observation, ObservationBin
from continuum.core.run_record import Run
from continuum.core.schemas import AmendmentIn, RunCreate
from continuum.db import make_engine, make_sessionmaker, unit_of_work
from continuum.migrate import alembic_config, upgrade
from continuum.rounds.board import SPARK_CODES
from continuum.rounds.trends import BIN, bin_start, trends
from tests.core.concurrent_writers import write_at_once
from tests.core.test_record import PERFUSIONIST
from tests.seed import RUN_START

Key = tuple[int, str, datetime]
REL = 1e-9
UNITS = {"blood_flow": "L/min", "p_access": "mmHg", "oxy_delta_p": "mmHg", "post_oxy_po2": "mmHg"}
RANGES = {"blood_flow": (0.5, 7), "p_access": (-120, -5), "oxy_delta_p": (2, 60),
          "post_oxy_po2": (60, 480)}  # fmt: skip
# A bin boundary an hour into the seeded run: the values below fall around it.
T0 = bin_start(RUN_START + timedelta(hours=1)) + BIN


def _rows_by_bin(db: Session) -> dict[Key, tuple[int, float]]:
    """What the table should hold: the final values grouped by run, code and bin."""
    out: dict[Key, list[float]] = defaultdict(lambda: [0, 0.0])
    stmt = select(Observation.run_id, Observation.code, Observation.time, Observation.value)
    for run_id, code, at, value in db.execute(stmt.where(Observation.status == "final")):
        acc = out[(run_id, code, bin_start(at))]
        acc[0] += 1
        acc[1] += value
    return {k: (int(n), total) for k, (n, total) in out.items()}


def _kept(db: Session) -> dict[Key, tuple[int, float]]:
    rows = db.execute(
        select(
            ObservationBin.run_id,
            ObservationBin.code,
            ObservationBin.bin_start,
            ObservationBin.n,
            ObservationBin.total,
        )
    ).all()
    emptied = [total for _r, _c, _b, n, total in rows if n == 0]
    assert all(abs(t) < 1e-6 for t in emptied)  # a bin whose values were all taken away
    return {(r, c, b): (n, total) for r, c, b, n, total in rows if n}


def _assert_kept(db: Session) -> None:
    kept, rows = _kept(db), _rows_by_bin(db)
    assert kept.keys() == rows.keys()
    for key, (n, total) in rows.items():
        assert kept[key][0] == n, key
        assert math.isclose(kept[key][1], total, rel_tol=REL, abs_tol=1e-9), key


def _second_run(db: Session) -> int:
    run = run_service.start_run(
        db,
        PERFUSIONIST.__class__(staff_id=None, name="seed", role="physician"),
        RunCreate(patient_id=2, support_type="cardiac", mode="VA", started_at=RUN_START),
    )
    db.flush()
    return run.id


def _random_values(rng: random.Random, runs: list[int], n: int) -> list[Observation]:
    out = []
    for _ in range(n):
        code = rng.choice(SPARK_CODES)
        if rng.random() < 0.15:  # on a bin edge or a microsecond either side
            at = T0 + BIN * rng.randint(-3, 8) + timedelta(microseconds=rng.choice((-1, 0, 1)))
        else:
            at = T0 + timedelta(seconds=rng.uniform(-1800, 5400))
        status = "final" if rng.random() < 0.9 else "superseded"
        out.append(
            Observation(run_id=rng.choice(runs), code=code, time=at,
                        value=rng.uniform(*RANGES[code]), unit=UNITS[code], source="hl7",
                        status=status)
        )  # fmt: skip
    return out


def _old_means(db: Session, runs: list[int], start: datetime, end: datetime) -> dict:  # type: ignore[type-arg]
    """The board's query before migration 0044: date_bin and avg over every value."""
    rows = db.execute(
        text(
            "SELECT run_id, code, date_part('epoch', date_bin(interval '10 minutes', time, "
            "timestamptz '2000-01-01 00:00:00+00')) AS b, avg(value) FROM observation "
            "WHERE run_id = ANY(:runs) AND code = ANY(:codes) AND status = 'final' "
            "AND time >= :start AND time <= :end GROUP BY run_id, code, b"
        ),
        {"runs": runs, "codes": list(SPARK_CODES), "start": start, "end": end},
    )
    out: dict = defaultdict(list)  # type: ignore[type-arg]
    for run_id, code, b, mean in rows:
        out[(run_id, code)].append((float(b), mean))
    return {k: sorted(v) for k, v in out.items()}


def _assert_means(got: dict, want: dict) -> None:  # type: ignore[type-arg]
    assert got.keys() == want.keys() and want
    for key, points in want.items():
        assert [t for t, _ in got[key]] == [t for t, _ in points], key
        for (_, a), (_, b) in zip(got[key], points, strict=True):
            assert math.isclose(a, b, rel_tol=REL, abs_tol=1e-9), key


def _windows() -> list[tuple[datetime, datetime]]:
    early = timedelta(minutes=3, seconds=7, microseconds=500)  # in its bin's first half
    late = timedelta(minutes=7, seconds=41)  # in its second half
    return [
        (T0 - BIN * 2 + early, T0 + BIN * 5 + early),  # bin values before start taken away
        (T0 - BIN * 2 + late, T0 + BIN * 5 + late),  # values from start to its bin's end added
        (T0 - BIN, T0 + BIN * 6),  # both ends on a bin edge
        (T0 + early, T0 + early + timedelta(minutes=4)),  # inside one bin
        (T0 + BIN - timedelta(microseconds=1), T0 + BIN * 3 + timedelta(microseconds=1)),
        (T0 + timedelta(microseconds=1), T0 + BIN * 4 - timedelta(microseconds=1)),
        (T0 - timedelta(hours=1) + late, T0 + timedelta(hours=2)),  # the whole feed
    ]


def test_bins_follow_values_stored_amended_withdrawn_moved_and_deleted(sessions) -> None:  # type: ignore[no-untyped-def]
    rng = random.Random(23)
    with unit_of_work(sessions) as db:
        runs = [1, _second_run(db)]
        _assert_kept(db)
        db.add_all(_random_values(rng, runs, 400))  # one multi-row statement
        db.flush()
        for _ in range(5):  # statements of a few values, as device messages are
            db.add_all(_random_values(rng, runs, 6))
            db.flush()
        _assert_kept(db)
    with unit_of_work(sessions) as db:
        spark = Observation.code.in_(SPARK_CODES)
        finals = list(db.scalars(select(Observation).where(Observation.status == "final", spark)))
        picked = rng.sample(finals, 12)
        for o in picked[:4]:  # corrected: final → superseded, a new final value
            fix = AmendmentIn(value=rng.uniform(*RANGES[o.code]), reason="typo")
            observation_service.amend(db, PERFUSIONIST, o.id, fix)
        run = db.get_one(Run, 1)
        for o in picked[4:8]:  # withdrawn by the feed: final → superseded
            if o.run_id == 1 and o.status == "final":
                observation_service.amend_from_device(
                    db, PERFUSIONIST, run, o.code, o.time, "hl7", None, "withdrawn"
                )
        picked[8].time += timedelta(minutes=25)  # moved to another bin
        picked[9].value = picked[9].value / 2  # a changed value in the same bin
        db.delete(picked[10])
        db.flush()
        _assert_kept(db)
        # A late value into a bin an hour old, and one before anything stored.
        db.add(Observation(run_id=1, code="blood_flow", time=T0 - timedelta(minutes=52, seconds=1),
                           value=3.3, unit="L/min", source="hl7", status="final"))  # fmt: skip
        db.add(Observation(run_id=runs[1], code="p_access", time=T0 - timedelta(hours=5),
                           value=-40.0, unit="mmHg", source="hl7", status="final"))  # fmt: skip
        db.flush()
        _assert_kept(db)
    with unit_of_work(sessions) as db:
        before = _kept(db)
        # An update that changes no value, time or finality leaves every sum as it was.
        db.execute(text("UPDATE observation SET ingest_ref = 'x' WHERE code = 'blood_flow'"))
        assert _kept(db) == before
        # Statuses put back by hand count again; a bulk delete takes them away.
        db.execute(text("UPDATE observation SET status = 'final' WHERE status <> 'final'"))
        _assert_kept(db)
        gone = db.execute(text(
            "DELETE FROM observation WHERE code = 'p_access' AND value < -60 "
            "AND amends_id IS NULL AND id NOT IN (SELECT original_id FROM observation_amendment)"
        ))  # fmt: skip
        assert gone.rowcount > 5  # type: ignore[attr-defined]
        _assert_kept(db)


def test_board_means_equal_the_date_bin_query_they_replace(pg_url) -> None:  # type: ignore[no-untyped-def]
    """PostgreSQL: the means come from observation_bin for whole bins and the values for the
    window's edge bins, equal to the old query's for windows starting and ending mid-bin, on
    a bin edge, or inside one bin; and they are read from the table (changing a stored sum
    changes them)."""
    engine = make_engine(pg_url)
    sessions = make_sessionmaker(engine)
    rng = random.Random(5)
    with unit_of_work(sessions) as db:
        runs = [1, _second_run(db)]
        db.add_all(_random_values(rng, runs, 1500))
        db.flush()
        for o in rng.sample(list(db.scalars(select(Observation))), 30):
            o.status = "superseded" if o.status == "final" else "final"
        db.flush()
    with unit_of_work(sessions) as db:
        for start, end in _windows():
            _assert_means(
                trends(db, runs, SPARK_CODES, start, end), _old_means(db, runs, start, end)
            )
        start, end = _windows()[0]
        inside = T0 + BIN * 2
        db.execute(
            text("UPDATE observation_bin SET total = total + 1000 * n WHERE bin_start = :b"),
            {"b": inside},
        )
        got = trends(db, runs, SPARK_CODES, start, end)
        old = _old_means(db, runs, start, end)
        t = inside.timestamp()
        for key, points in old.items():
            for (ta, a), (_, b) in zip(got[key], points, strict=True):
                assert math.isclose(a, b + 1000 if ta == t else b, rel_tol=REL), key
    engine.dispose()


def test_concurrent_writers_keep_the_bins(pg_url) -> None:  # type: ignore[no-untyped-def]
    """Eight writers at once, each transaction storing values of several codes of one run,
    across several bins, in one statement (codes in its own order, kept open a moment, some
    rolled back): none deadlocks (count rows, then bin rows, each in key order) and the bins
    are the rows'."""
    errors = write_at_once(pg_url, "now() - (g * 97) * interval '1 s'", "g * 0.1 + :k")
    assert errors == []
    engine = make_engine(pg_url)
    with Session(engine) as db:
        _assert_kept(db)
        assert len([k for k in _kept(db) if k[1] == "pump_speed"]) >= 5
    engine.dispose()


def test_a_file_import_beside_a_live_feed_of_the_same_run_does_not_deadlock(pg_url) -> None:  # type: ignore[no-untyped-def]
    """A console file imported in several statements (one transaction) while the run's
    device feed stores its newest values: the file's first statement holds the run's count
    row of a code; the feed's statement then waits for it holding no bin row (count rows are
    taken before bin rows), so the file's later statement reaching the current bin finds it
    free, commits, and the feed goes on. Taking bin rows first, the feed held the current
    bin while waiting, and PostgreSQL aborted one of them as a deadlock."""
    engine = create_engine(pg_url)
    insert = text(
        "INSERT INTO observation (run_id, code, time, value, unit, source, status, "
        "recorded_at) VALUES (1, 'pump_speed', :t, :v, '/min', :source, 'final', now())"
    )
    now = datetime.now(UTC).replace(microsecond=0)
    errors: list[BaseException] = []
    file_conn = engine.connect()
    file_tx = file_conn.begin()
    file_conn.execute(insert, {"t": now - timedelta(hours=3), "v": 3000.0, "source": "csv"})

    def feed() -> None:
        try:
            with engine.begin() as conn:
                conn.execute(insert, {"t": now, "v": 3100.0, "source": "hl7"})
        except BaseException as exc:
            errors.append(exc)

    fed = threading.Thread(target=feed)
    fed.start()
    time.sleep(0.5)  # the feed's statement is waiting now
    try:
        file_conn.execute(insert, {"t": now + timedelta(seconds=1), "v": 3050.0, "source": "csv"})
        file_tx.commit()
    except BaseException as exc:
        errors.append(exc)
    file_conn.close()
    fed.join(timeout=30)
    engine.dispose()
    assert errors == [] and not fed.is_alive()
    engine = make_engine(pg_url)
    with Session(engine) as db:
        _assert_kept(db)
    engine.dispose()


def test_the_migration_fills_the_bins_from_the_rows_stored(db_url) -> None:  # type: ignore[no-untyped-def]
    """Back to 0043 (no table, no triggers), values stored meanwhile, upgraded again."""
    command.downgrade(alembic_config(db_url), "0043_obsorder")
    engine = make_engine(db_url)
    with Session(engine) as s:
        s.add_all(_random_values(random.Random(7), [1], 300))
        s.commit()
    engine.dispose()
    upgrade(db_url)
    engine = make_engine(db_url)
    with Session(engine) as s:
        assert len(_kept(s)) > 20
        _assert_kept(s)
    engine.dispose()
