"""The surveillance hook's PostgreSQL reads (packed binary arrays, one round trip for the
newest time) give exactly what plain row queries give, on both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
from sqlalchemy import func, select
from tests.ingest.helpers import add_run

from continuum.alerts import inputs
from continuum.core import observation_service
from continuum.core.record import Observation
from continuum.db import unit_of_work

START = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


def _store(sessions, run_id: int) -> None:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(7)
    rows = []
    for code, step in (("blood_flow", 1), ("p_preoxy", 5), ("hb", 600)):
        for i in range(0, 3600, step):
            at = START + timedelta(seconds=i, milliseconds=int(rng.integers(0, 1000)))
            rows.append(_row(run_id, code, at, float(rng.normal(5, 1)), "final"))
    rows.append(_row(run_id, "blood_flow", START + timedelta(hours=2), 99.0, "superseded"))
    with unit_of_work(sessions) as db:
        observation_service.bulk_insert(db, rows)


def _row(run_id: int, code: str, at: datetime, value: float, status: str) -> dict:
    return {"run_id": run_id, "code": code, "time": at, "value": value, "unit": "x",
            "source": "hl7", "status": status, "entered_by": None, "recorded_at": at,
            "ingest_ref": None}  # fmt: skip


def _expected(db, run_id: int, codes: list[str], since: datetime) -> dict:  # type: ignore[no-untyped-def]
    out = {}
    for code in codes:
        rows = db.execute(
            select(Observation.time, Observation.value)
            .where(Observation.run_id == run_id, Observation.code == code,
                   Observation.status == "final", Observation.time >= since)
            .order_by(Observation.time)
        ).all()  # fmt: skip
        if rows:
            times = [np.datetime64(t.astimezone(UTC).replace(tzinfo=None), "ms") for t, _ in rows]
            out[code] = (np.array(times, dtype="datetime64[ms]"), np.array([v for _, v in rows]))
    return out


def test_window_reads_match_row_queries(sessions) -> None:  # type: ignore[no-untyped-def]
    run_id = add_run(sessions, "READ-1", START - timedelta(hours=1))
    _store(sessions, run_id)
    codes = ["blood_flow", "p_preoxy", "hb", "pump_speed"]
    with sessions() as db:
        for since in (START, START + timedelta(minutes=37, seconds=12)):
            got = inputs._read(db, run_id, codes, since)
            want = _expected(db, run_id, codes, since)
            assert set(got) == set(want)
            for code, (times, values) in want.items():
                assert got[code][0].dtype == np.dtype("datetime64[ms]")
                assert np.array_equal(got[code][0], times), code
                assert np.allclose(got[code][1], values, rtol=0, atol=0), code
        assert inputs._read(db, run_id, ["sweep_flow"], START) == {}


def test_last_time_matches_max(sessions) -> None:  # type: ignore[no-untyped-def]
    run_id = add_run(sessions, "READ-2", START - timedelta(hours=1))
    _store(sessions, run_id)
    with sessions() as db:
        for codes in ({"hb"}, {"p_preoxy", "hb"}, {"blood_flow", "sweep_flow"}):
            newest = db.scalar(
                select(func.max(Observation.time)).where(
                    Observation.run_id == run_id, Observation.code.in_(codes),
                    Observation.status == "final",
                )
            )  # fmt: skip
            assert inputs.last_time(db, run_id, codes) == newest.astimezone(UTC)
        assert inputs.last_time(db, run_id, {"sweep_flow"}) is None
