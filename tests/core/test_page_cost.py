"""The cheaper reads behind the run page and rounds board give what the plain reads gave:
chart readings as arrays (PostgreSQL) equal the row-by-row read, microseconds turned into
seconds equal round(seconds, 3), the lung's stored baseline is the one the page computes,
settings read once per transaction still see a change, and a reused exchange forecast
gives way to a component change and to data one grid step newer."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from sqlalchemy import func, select

from continuum.alerts import forecasts
from continuum.alerts.models import SurveillanceBaseline
from continuum.core import (
    observation_service,
    run_service,
    run_trends,
    settings_service,
    trend_chart,
)
from continuum.core.record import Observation, ProgrammeSetting
from continuum.core.roles import Actor
from continuum.core.run_record import Run
from continuum.core.schemas import ComponentCreate, RunCreate
from continuum.db import unit_of_work
from continuum.surveillance.settings import DEFAULT_SETTINGS
from tests.core.test_run_trends import lung_run  # noqa: F401 (fixture)

ACTOR = Actor(staff_id=None, name="test", role="physician")
LEAD = Actor(staff_id=None, name="lead", role="physician_lead")


def test_microseconds_become_the_seconds_round_gives() -> None:
    rng = np.random.default_rng(3)
    base = 1_796_390_160_000_000
    micros = [int(x) for x in base + rng.integers(0, 10**11, 20_000)]
    micros += [base + 500, base + 1500, base + 999_500, base + 499, base + 501, 0, 500, -1500]
    micros += [base + k * 1000 + 500 for k in range(200)]  # exactly half-way: round() decides
    assert run_trends._seconds(micros).tolist() == [round(u / 1e6, 3) for u in micros]


def _row_by_row(db, run_id, codes, start, end):  # type: ignore[no-untyped-def]
    """The plain read: a row per value, round(seconds, 3)."""
    stmt = (
        select(Observation.code, run_trends._epoch(db), Observation.value)
        .where(
            Observation.run_id == run_id,
            Observation.code.in_(codes),
            Observation.status == "final",
            Observation.time >= start,
            Observation.time <= end,
        )
        .order_by(Observation.code, Observation.time)
    )
    out: dict[str, list[tuple[float, float]]] = {}
    for code, t, v in db.execute(stmt):
        out.setdefault(code, []).append((round(float(t), 3), v))
    return out


def _vv_run(db, start: datetime) -> Run:  # type: ignore[no-untyped-def]
    """A VV run of the seed's second patient, flushed (its id known)."""
    run = run_service.start_run(
        db, ACTOR, RunCreate(patient_id=2, support_type="pulmonary", mode="VV", started_at=start)
    )
    db.flush()
    return run


def test_chart_readings_equal_the_row_by_row_read(sessions) -> None:  # type: ignore[no-untyped-def]
    start = datetime(2026, 3, 1, 8, 0, 0, 318_292, tzinfo=UTC)
    with unit_of_work(sessions) as db:
        run = _vv_run(db, start)
        n = 300
        offsets = np.arange(n) * 61_737 + np.where(np.arange(n) % 7 == 0, 500, 0)  # µs jitter
        times = np.datetime64(start.replace(tzinfo=None), "us") + offsets * np.timedelta64(
            1000, "us"
        )
        rows = []
        for code, level in (("blood_flow", 4.5), ("p_access", -60.0), ("spo2", 95.0)):
            values = level + np.sin(np.arange(n) / 9.0)
            rows += observation_service.series_rows(run.id, code, times, values, "console")
        observation_service.bulk_insert(db, rows)
        run_id = run.id
    with sessions() as db:
        end = start + timedelta(hours=6)
        codes = ("blood_flow", "p_access", "spo2", "anti_xa")
        for a, b in ((start, end), (start + timedelta(minutes=17), start + timedelta(hours=2))):
            got = run_trends.readings(db, run_id, codes, a, b)
            assert got == _row_by_row(db, run_id, codes, a, b)
            assert list(got) == sorted(got) and sum(map(len, got.values())) > 100


def test_newest_value_per_code_and_first_flow_time_equal_the_plain_reads(sessions) -> None:  # type: ignore[no-untyped-def]
    """The run page's one-statement reads (PostgreSQL: a LATERAL seek per code) give what a
    query per code gives: each code's newest final value (the higher id when two share a
    time; withdrawn and corrected values never), with its result status; and the first ΔP
    or flow value at or after a time."""
    start = datetime(2026, 3, 1, 8, 0, 0, 318_292, tzinfo=UTC)
    rng = np.random.default_rng(11)
    with unit_of_work(sessions) as db:
        run = _vv_run(db, start)
        rows = []
        for code in ("blood_flow", "oxy_delta_p", "spo2", "sweep_fio2", "hb"):
            n = int(rng.integers(5, 40))
            minutes = np.sort(rng.integers(0, 600, n))  # repeated minutes: ties in time
            times = np.datetime64(start.replace(tzinfo=None), "us") + minutes * np.timedelta64(
                60, "s"
            )
            rows += observation_service.series_rows(
                run.id, code, times, rng.uniform(0.2, 9.0, n), "console"
            )
        observation_service.bulk_insert(db, rows)
        db.flush()
        newest = db.scalars(
            select(Observation)
            .where(Observation.run_id == run.id)
            .order_by(Observation.time.desc())
        ).all()
        for o in newest[:3]:  # the newest values withdrawn: the page shows the one before
            o.status = "entered_in_error"
        run_id = run.id
    with sessions() as db:
        got = observation_service.latest_per_code(db, run_id)
        assert len(got) == 5
        for code, (count, obs) in got.items():
            plain = observation_service._latest(db, run_id, code)
            assert plain is not None and obs.id == plain.id and obs.status == "final"
            assert count == db.scalar(
                select(func.count()).where(
                    Observation.run_id == run_id,
                    Observation.code == code,
                    Observation.status == "final",
                )
            )
            assert "result_status" in obs.__dict__  # loaded with the row, not one query each
        for minutes in (0, 1, 37, 301, 599, 700):
            since = start + timedelta(minutes=minutes)
            plain_first = db.scalar(
                select(func.min(Observation.time)).where(
                    Observation.run_id == run_id,
                    Observation.code.in_(run_trends.DP_CODES),
                    Observation.status == "final",
                    Observation.time >= since,
                )
            )
            assert run_trends._first_time(db, run_id, since) == plain_first


def test_the_stored_lung_baseline_is_the_one_the_page_computes(lung_run) -> None:  # noqa: F811  # type: ignore[no-untyped-def]
    sessions, run_id, _, _, change = lung_run
    with sessions() as db:
        run = db.get_one(Run, run_id)
        end = run_trends.window_end(db, run)
        assert end is not None
        computed = run_trends.lung_trend(db, run, end - timedelta(hours=24), end, DEFAULT_SETTINGS)
    assert computed.baseline is not None and computed.installed == change
    # Surveillance stores the segment's baseline (to the millisecond); the page reads it.
    with unit_of_work(sessions) as db:
        db.add(
            SurveillanceBaseline(
                run_id=run_id,
                segment_start=change.replace(microsecond=change.microsecond // 1000 * 1000),
                key="dp_per_flow",
                value=computed.baseline,
            )
        )
    with sessions() as db:
        run = db.get_one(Run, run_id)
        stored = run_trends.lung_trend(db, run, end - timedelta(hours=24), end, DEFAULT_SETTINGS)
    assert stored == computed
    # The stored one is what is shown (a different stored value shows through) ...
    with unit_of_work(sessions) as db:
        row = db.scalars(
            select(SurveillanceBaseline).where(SurveillanceBaseline.run_id == run_id)
        ).one()
        row.value = 9.75
    with sessions() as db:
        run = db.get_one(Run, run_id)
        lung = run_trends.lung_trend(db, run, end - timedelta(hours=24), end, DEFAULT_SETTINGS)
        assert lung.baseline == 9.75
        # ... but not before the baseline is formed in the page's window (computed then).
        early = change + timedelta(hours=2)
        young = run_trends.lung_trend(db, run, early - timedelta(hours=24), early, DEFAULT_SETTINGS)
        assert young.baseline != 9.75


def test_settings_read_once_per_transaction_still_see_a_change(sessions) -> None:  # type: ignore[no-untyped-def]
    key = "pfhb_warning"
    with unit_of_work(sessions) as db:
        assert key not in settings_service.overrides(db, "surveillance")
        settings_service.save(db, LEAD, "surveillance", {key: 40})
        assert settings_service.overrides(db, "surveillance")[key] == 40
        # a row written directly, flushed or not, is seen too
        row = db.get_one(ProgrammeSetting, "surveillance.pfhb_warning")
        row.value = 45
        assert settings_service.overrides(db, "surveillance")[key] == 45
        db.flush()
        assert settings_service.overrides(db, "surveillance")[key] == 45
    with sessions() as db:
        first = settings_service.overrides(db, "surveillance")
        first[key] = 1  # a caller's copy: the memo is not changed through it
        assert settings_service.overrides(db, "surveillance")[key] == 45
        db.rollback()
        # another session changes it; the next transaction here reads it again
        with unit_of_work(sessions) as other:
            settings_service.save(other, LEAD, "surveillance", {key: 55})
        assert settings_service.overrides(db, "surveillance")[key] == 55


def test_a_reused_forecast_gives_way_to_newer_data_and_a_component_change(
    sessions, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    made: list[datetime] = []

    def fake(session, run, end, s, changes):  # type: ignore[no-untyped-def]
        made.append(end)
        return [{"status": "refused", "end": end.isoformat()}]

    monkeypatch.setattr(forecasts, "_forecasts", fake)
    forecasts._CACHE.clear()
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=3)
    with unit_of_work(sessions) as db:
        run = _vv_run(db, start)
        lung = run_service.add_component(
            db, ACTOR, run, ComponentCreate(kind="membrane_lung", started_at=start)
        )
        run_id, lung_id = run.id, lung.id

    def add(at: datetime) -> None:
        with unit_of_work(sessions) as db:
            rows = observation_service.series_rows(
                run_id, "blood_flow", np.array([at.replace(tzinfo=None)], "datetime64[ms]"),
                np.array([4.5]), "console",
            )  # fmt: skip
            observation_service.bulk_insert(db, rows)

    def ask() -> list[dict[str, object]]:
        with sessions() as db:
            return forecasts.run_forecasts(db, run_id)

    t0 = start + timedelta(hours=1)
    add(t0)
    first = ask()
    add(t0 + timedelta(seconds=20))  # within one grid step (60 s): the same answer
    assert ask() is first and len(made) == 1
    add(t0 + timedelta(seconds=60))  # a grid step newer: made again
    assert ask() != first and made[-1] == t0 + timedelta(seconds=60)
    with unit_of_work(sessions) as db:  # a new lung: made again at once
        run_service.add_component(
            db,
            ACTOR,
            db.get_one(Run, run_id),
            ComponentCreate(
                kind="membrane_lung",
                started_at=t0 + timedelta(seconds=61),
                replaces_id=lung_id,
                stop_reason="thrombus",
            ),
        )
    n = len(made)
    ask()
    assert len(made) == n + 1
    forecasts._CACHE.clear()


def _columns_point_by_point(points, start, end, buckets, max_gap):  # type: ignore[no-untyped-def]
    """The chart's column downsampling as it was written first, point by point."""
    scale = buckets / ((end - start) or 1.0)
    gap = max_gap.total_seconds()
    runs, run = [], []
    col = lo = hi = last_t = None

    def flush() -> None:
        if col is None or lo is None or hi is None:
            return
        run.extend((col, v) for _, v in sorted({lo, hi}))

    for t, v in points:
        if not math.isfinite(v) or t < start or t > end:
            continue
        c = min(int((t - start) * scale), buckets - 1)
        if last_t is not None and t - last_t > gap:
            flush()
            if run:
                runs.append(run)
            run, col, lo, hi = [], None, None, None
        if c != col:
            flush()
            col, lo, hi = c, (t, v), (t, v)
        else:
            if lo is None or v < lo[1]:
                lo = (t, v)
            if hi is None or v > hi[1]:
                hi = (t, v)
        last_t = t
    flush()
    if run:
        runs.append(run)
    return runs


def test_chart_columns_on_arrays_equal_the_point_by_point_scan() -> None:
    rng = np.random.default_rng(11)
    s0 = 1_796_390_160.318292
    for case in range(300):
        n = int(rng.integers(0, 2000))
        span = float(rng.choice([3 * 3600, 24 * 3600, 10 * 86400]))
        steps = rng.choice([1.0, 60.0, 61.737, 600.0]) * rng.integers(1, 4, n)
        t = np.round(s0 - 1800 + np.cumsum(steps), 3)
        if case % 5 == 0 and n > 10:  # gaps longer than the line's max gap
            t[n // 2 :] += 3600
        if case % 7 == 0 and n > 10:  # two values at one time
            t[3] = t[2]
        v = np.round(rng.normal(4.5, 0.3, n), int(rng.integers(0, 3)))  # ties in value
        if case % 3 == 0 and n > 10:
            v[rng.integers(0, n, 5)] = np.nan
        points = list(zip(t.tolist(), v.tolist(), strict=True))
        buckets = int(rng.choice([240, 120, 7]))
        gap = timedelta(minutes=float(rng.choice([15, 90, 13 * 60])))
        args = (points, s0, s0 + span, buckets, gap)
        assert trend_chart._columns(*args) == _columns_point_by_point(*args), case


def test_chart_table_ranges_on_arrays_equal_the_point_by_point_cells() -> None:
    rng = np.random.default_rng(5)
    s0 = 1_796_390_160.318292
    for case in range(300):
        n = int(rng.integers(0, 2000))
        span = float(rng.choice([3 * 3600, 24 * 3600, 10 * 86400]))
        t = np.round(s0 - 1800 + np.cumsum(rng.choice([1.0, 60.0, 360.0], n)), 3)
        if case % 4 == 0 and n:  # values exactly on period edges
            t[: n // 3] = s0 + rng.integers(0, 24, n // 3) * span / 24
            t.sort()
        v = np.round(rng.normal(4.5, 0.3, n), 1)
        if case % 3 == 0 and n > 10:
            v[rng.integers(0, n, 5)] = np.nan
        points = list(zip(t.tolist(), v.tolist(), strict=True))
        rows = int(rng.choice([24, 7]))
        period = max(span / rows, 1.0)
        cells: dict[int, list[float]] = {}
        for a, b in points:
            if s0 <= a <= s0 + span and math.isfinite(b):
                cells.setdefault(min(int((a - s0) // period), rows - 1), []).append(b)
        expected = [(i, min(vs), max(vs)) for i, vs in sorted(cells.items())]
        assert trend_chart._line_ranges(points, s0, s0 + span, period, rows) == expected, case


def _dense(rng, n, s0, span):  # type: ignore[no-untyped-def]
    """A feed's values: several a second in places, gaps, equal times, ties, NaN, and values
    before the window (the ΔP lead) and outside the display range."""
    steps = rng.choice([0.05, 0.2, 1.0, 60.0, 61.737], n) * rng.integers(1, 3, n)
    t = np.round(s0 - 1800 + np.cumsum(steps) * (span / max(steps.sum(), 1.0)), 3)
    if n > 20:
        t[n // 3 :] += rng.choice([0.0, 3600.0])  # a long gap
        t[5] = t[4]
        t.sort()
    v = np.round(rng.normal(4.5, 0.4, n), int(rng.integers(0, 3)))
    if n > 20:
        v[rng.integers(0, n, 4)] = np.nan
        v[rng.integers(0, n)] = 12.0
    return t, v


def test_a_thinned_line_draws_the_chart_of_all_its_values() -> None:
    """trend_chart.essential keeps what the chart draws and says: the chart (line, ranges,
    table, hover strips, latest value, values entered in another unit) of the kept values is
    the chart of all of them."""
    rng = np.random.default_rng(23)
    zone = ZoneInfo("America/New_York")
    for case in range(120):
        n = int(rng.integers(0, 6000))
        span = float(rng.choice([24 * 3600, 3 * 3600]))
        s0 = 1_796_390_160.318292
        t, v = _dense(rng, n, s0, span)
        start = datetime.fromtimestamp(s0, UTC)
        end = datetime.fromtimestamp(s0 + span, UTC)
        picks = rng.integers(0, n, 3) if n else []
        entered = {float(t[i]): "62 kPa" for i in picks}
        keep = trend_chart.essential(t, v, start, end, near=list(entered))
        if n > 3000 and span > 3600 * 4:
            assert keep.sum() < n / 2, case  # thinned indeed
        full = list(zip(t.tolist(), v.tolist(), strict=True))
        kept = list(zip(t[keep].tolist(), v[keep].tolist(), strict=True))
        charts = [
            trend_chart.build(
                [trend_chart.Trace("blood_flow", "Blood flow", "L/min", pts, band=(4, 5),
                                   entered=entered)],
                start,
                end,
                zone,
            )
            for pts in (full, kept)
        ]  # fmt: skip
        assert charts[0] == charts[1], case


def test_flow_and_pressure_thinned_to_grid_steps_give_the_same_ratio() -> None:
    """The ΔP per L/min from the last value of each grid step (run_trends._arrays) is the
    ratio from every value (surveillance reads the grid by last value carried forward)."""
    from continuum.surveillance import RunSeries
    from continuum.surveillance.grid import Grid
    from continuum.surveillance.transmembrane_gradient_rise import resistance_rise

    s = DEFAULT_SETTINGS
    rng = np.random.default_rng(7)
    for case in range(40):
        s0 = 1_796_390_160.318292
        found = {}
        for code, level in (("blood_flow", 4.4), ("p_preoxy", 250.0), ("p_postoxy", 228.0)):
            t, v = _dense(rng, int(rng.integers(50, 5000)), s0, 6 * 3600)
            found[code] = (t, v * level / 4.5)
        every = {}
        for code, (t, v) in found.items():
            sel = (t >= s0) & np.isfinite(v)
            every[code] = (np.round(t[sel] * 1000).astype("int64").astype("datetime64[ms]"), v[sel])
        thinned = run_trends._arrays(found, s0, run_trends._step_ms(s))
        assert sum(len(a) for a, _ in thinned.values()) <= sum(len(a) for a, _ in every.values())
        traces = []
        for signals in (every, thinned):
            grid = Grid.over(RunSeries("VV", signals), s.grid_step_s)
            traces.append((grid.times, resistance_rise(grid, s)))
        assert np.array_equal(traces[0][0], traces[1][0]), case
        for key in traces[0][1]:
            assert np.array_equal(traces[0][1][key], traces[1][1][key], equal_nan=True), case
