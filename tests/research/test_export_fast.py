"""The PostgreSQL fast path of the CSV and Parquet exports (research/export_fast.py) writes
the same files as the plain row-by-row path: same columns, types, values, row order and
de-identification, identified and de-identified, byte for byte (so the same checksums), with
1-minute circuit data, observations before the start, a superseded value, ties in time, a
code outside the wide table and a unit holding a tab (read again through COPY csv)."""

from __future__ import annotations

import csv
import json
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pyarrow.parquet as pq
import pytest
from sqlalchemy import select

from continuum.core.record import Observation
from continuum.core.run_record import Run
from continuum.db import make_engine, make_sessionmaker, unit_of_work
from continuum.research import export, export_fast
from continuum.research.deidentify import Policy
from continuum.research.export_tables import sha256_of
from tests.quality import metrics_cohort as hand
from tests.research import standards_cohort

UTC = ZoneInfo("UTC")
KEY = b"f" * 32
SIGNALS = [("blood_flow", "L/min", 4.1), ("pump_speed", "rpm", 3400.0), ("p_access", "mmHg", -55.0)]


def _minute_data(db: Any) -> None:
    runs = db.scalars(select(Run).order_by(Run.id)).all()
    for n, run in enumerate(runs):
        t0 = run.started_at
        rows = []
        if n == len(runs) - 1:  # a run with no final observation (one superseded)
            db.add(Observation(run_id=run.id, code="blood_flow", time=t0, value=1.0,
                               unit="L/min", source="manual", status="superseded"))  # fmt: skip
            continue
        for m in range(-30, 150 + 40 * n):  # half an hour before the start, ~3 h after
            at = t0 + timedelta(minutes=m, microseconds=(7 * m) % 3 * 250_000)
            for code, unit, base in SIGNALS:
                value = base + ((m * 37 + n) % 23) / 7.0
                rows.append(Observation(run_id=run.id, code=code, time=at, value=value,
                                        unit=unit, source="console"))  # fmt: skip
            if m % 17 == 0:  # a code the wide table does not hold, at the same time
                rows.append(Observation(run_id=run.id, code="note_score", time=at,
                                        value=1.0 / 3, unit="1", source="manual"))  # fmt: skip
        rows.append(Observation(run_id=run.id, code="blood_flow", time=t0 + timedelta(hours=1),
                                value=9.9, unit="L/min", source="manual",
                                status="superseded"))  # fmt: skip
        if n == 1:  # a unit with a tab, at a time other codes have too (order: by id)
            rows.append(Observation(run_id=run.id, code="sweep_flow", time=t0,
                                    value=2.5, unit="L/\tmin", source="manual"))  # fmt: skip
            # the same code and time from another source, entered later
            rows.append(Observation(run_id=run.id, code="blood_flow",
                                    time=t0 + timedelta(minutes=5, microseconds=500_000),
                                    value=4.4, unit="L/min", source="manual"))  # fmt: skip
        db.add_all(rows)
    db.flush()


@pytest.fixture
def pg_cohort(pg_url: str):  # type: ignore[no-untyped-def]
    engine = make_engine(pg_url)
    sessions = make_sessionmaker(engine)
    with unit_of_work(sessions) as db:
        standards_cohort.build(db)
        _minute_data(db)
    yield sessions
    engine.dispose()


Ticks = list[tuple[int, int]]


def _export(sessions: Any, out: Path, fmt: str, identified: bool, fast: bool,
            monkeypatch: pytest.MonkeyPatch) -> tuple[dict[str, Any], Ticks]:  # fmt: skip
    monkeypatch.setattr(export, "FAST_PATH", fast)
    ticks: Ticks = []
    with unit_of_work(sessions) as db:
        actor = hand.staff(db)["physician_lead" if identified else "researcher"]
        p = export.plan(db, actor, UTC, fmt=fmt, all_runs=True, identified=identified,
                        purpose="fast path equality study" if identified else None)  # fmt: skip
        policy = Policy(key=KEY, identified=identified, released=frozenset({"diagnosis"}))
        m = export.write_export(db, actor, p, policy, out, UTC, None,
                                lambda done, total: ticks.append((done, total)))  # fmt: skip
    return m, ticks


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
@pytest.mark.parametrize("identified", [False, True], ids=["deidentified", "identified"])
def test_fast_path_writes_the_same_files_as_the_plain_path(  # type: ignore[no-untyped-def]
    pg_cohort, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fmt: str, identified: bool
) -> None:
    # small chunks, batches and blocks: runs across chunks, batches across writes, run-hours
    # across blocks
    monkeypatch.setattr(export, "CHUNK_RUNS", 2)
    monkeypatch.setattr(export, "BATCH_ROWS", 97)
    monkeypatch.setattr(export_fast, "GROUP_RUNS", 1)  # a group with no observation at all
    # an ongoing run's hours on ECMO count to now: one now for both exports
    now = export.utcnow()
    monkeypatch.setattr(export, "utcnow", lambda: now)
    calls = {"fast": 0}
    real_write = export_fast.write_observations

    def counting_write(*a: Any, **k: Any) -> None:
        calls["fast"] += 1
        real_write(*a, **k)

    monkeypatch.setattr(export_fast, "write_observations", counting_write)
    fast, fast_ticks = _export(pg_cohort, tmp_path / "fast", fmt, identified, True, monkeypatch)
    assert calls["fast"] >= 2  # the fast path ran
    n_fast = calls["fast"]
    plain, plain_ticks = _export(pg_cohort, tmp_path / "plain", fmt, identified, False,
                                 monkeypatch)  # fmt: skip
    assert calls["fast"] == n_fast  # the plain path did not use it

    assert fast_ticks == plain_ticks and len(fast_ticks) >= 2
    assert fast_ticks[-1][0] == fast_ticks[-1][1]
    files = {f["file"]: f for f in fast["files"]}
    assert (
        files.keys()
        == {f["file"] for f in plain["files"]}
        == {f"{t}.{fmt}" for t in ("runs", "observations_long", "observations_wide_hourly")}
    )
    for f in plain["files"]:
        mine = files[f["file"]]
        assert {k: mine[k] for k in ("rows", "sha256", "bytes", "fields")} == {
            k: f[k] for k in ("rows", "sha256", "bytes", "fields")
        }, f["file"]
        a, b = tmp_path / "fast" / f["file"], tmp_path / "plain" / f["file"]
        assert sha256_of(a) == mine["sha256"]
        if fmt == "parquet":
            ta, tb = pq.read_table(a), pq.read_table(b)
            assert ta.schema == tb.schema
            assert ta.num_rows == f["rows"]
            assert ta.to_pylist() == tb.to_pylist()  # row by row, in order
        else:
            with a.open() as fa, b.open() as fb:
                ra, rb = list(csv.reader(fa)), list(csv.reader(fb))
            assert ra == rb and len(ra) == f["rows"] + 1
    on_disk = json.loads((tmp_path / "fast" / "manifest.json").read_text())
    assert on_disk["files"] == fast["files"]
    assert fast["deidentification"] == plain["deidentification"]

    long_name = f"observations_long.{fmt}"
    if fmt == "parquet":
        long = pq.read_table(tmp_path / "fast" / long_name).to_pylist()
        assert {"mrn", "name"}.isdisjoint(long[0])
        assert ("run_id" in long[0]) is identified
        assert min(r["minutes_on_ecmo"] for r in long) < 0  # before the start: kept
        assert 9.9 not in {r["value"] for r in long}  # superseded: left out
        assert "L/\tmin" in {r["unit"] for r in long}


def test_sqlite_keeps_the_plain_path(tmp_path: Path) -> None:
    from sqlalchemy.orm import Session

    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with Session(engine) as db:
        assert not export_fast.available(db, "parquet")
        assert not export_fast.available(db, "csv")
    engine.dispose()


def test_only_csv_and_parquet_take_the_fast_path(pg_url: str) -> None:
    from sqlalchemy.orm import Session

    engine = make_engine(pg_url)
    with Session(engine) as db:
        assert export_fast.available(db, "parquet") and export_fast.available(db, "csv")
        assert not any(export_fast.available(db, f) for f in ("redcap", "fhir", "omop", "clif"))
    engine.dispose()


def test_runs_without_observations_read_as_no_block(pg_url: str) -> None:
    engine = make_engine(pg_url)
    with engine.connect() as conn:
        raw = conn.connection.driver_connection
        sql = export_fast.GROUP_SQL.format(ids="999999")
        assert export_fast._block(raw.execute(sql, binary=True).fetchall(), {}) is None
    engine.dispose()


def test_a_writer_error_reaches_the_export(tmp_path: Path) -> None:
    """The writing thread's error is raised in the export's thread, and nothing waits."""
    import pyarrow as pa

    class Failing:
        path, rows = tmp_path / "x", 0

        def write_arrow(self, table: Any) -> None:
            raise OSError("disk full")

    schema = pa.schema([("x", pa.int64())])
    batch = export_fast.ArrowBatch(Failing(), schema, 2)  # type: ignore[arg-type]
    with pytest.raises(OSError, match="disk full"):
        for _ in range(20):
            batch.add(pa.table({"x": [1, 2, 3]}, schema=schema))
        batch.flush()
    batch.close(raise_error=False)  # returns: the thread has ended


def test_readers_share_the_export_transactions_snapshot(pg_cohort) -> None:  # type: ignore[no-untyped-def]
    """An observation committed after the export's snapshot is not read by a reader."""
    import queue
    import threading

    with unit_of_work(pg_cohort) as db:
        run = db.scalars(select(Run).order_by(Run.id)).first()
        assert run is not None
        run_id, started = run.id, run.started_at

    def read(snapshot: str, engine: Any) -> int:
        out: queue.Queue[Any] = queue.Queue()
        export_fast._reader(engine, [[run_id]], out, threading.Event(), {}, snapshot)
        block = out.get_nowait()
        assert isinstance(block, export_fast.Block)
        return len(block.run_id)

    with unit_of_work(pg_cohort) as db:
        raw = db.connection().connection.driver_connection
        snapshot = raw.execute("SELECT pg_export_snapshot()").fetchone()[0]
        before = read(snapshot, db.get_bind())
        with unit_of_work(pg_cohort) as other:  # committed meanwhile
            other.add(Observation(run_id=run_id, code="blood_flow", time=started,
                                  value=3.0, unit="L/min", source="manual"))  # fmt: skip
        assert read(snapshot, db.get_bind()) == before
        fresh = raw.execute("SELECT pg_export_snapshot()").fetchone()[0]
        assert read(fresh, db.get_bind()) == before + 1


def test_readers_read_a_group_by_an_index_only_scan(pg_cohort, pg_url: str) -> None:  # type: ignore[no-untyped-def]
    """The (run_id, code, time) index covers what a reader reads (migration 0042): with the
    visibility map current and the readers' planner settings, PostgreSQL reads a group in
    the index's order without the table, no sort and no hash."""
    import psycopg

    dsn = pg_url.replace("postgresql+psycopg", "postgresql")
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE) observation")
        indexdef = conn.execute(
            "SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_observation_run_code_time'"
        ).fetchone()[0]
        assert '(run_id, code, "time", id) INCLUDE (value, unit, source)' in indexdef
        assert "WHERE ((status)::text = 'final'::text)" in indexdef
        ids = [r[0] for r in conn.execute("SELECT id FROM run ORDER BY id")]
    with psycopg.connect(dsn) as conn:
        conn.execute(
            "SELECT "
            + ", ".join(f"set_config('{n}', 'off', true)" for n in export_fast.INDEX_ORDER)
        )
        sql = export_fast.GROUP_SQL.format(ids=",".join(map(str, ids)))
        plan = json.dumps(conn.execute("EXPLAIN (FORMAT JSON) " + sql).fetchone()[0])
    assert '"Node Type": "Index Only Scan"' in plan
    assert '"Index Name": "ix_observation_run_code_time"' in plan
    assert '"Node Type": "Sort"' not in plan and '"Strategy": "Hashed"' not in plan
