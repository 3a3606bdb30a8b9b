"""What the run page charts, from the stored record: clinical names and units, targets,
results as dots, events as markers, and ΔP per L/min against the membrane lung's own
baseline — the same baseline surveillance computes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from continuum.core import observation_service, run_service, run_trends, targets
from continuum.core.roles import Actor
from continuum.core.run_record import Run
from continuum.core.schemas import ComponentCreate, ModeChange, RunCreate
from continuum.db import unit_of_work
from continuum.surveillance import ComponentChange, RunSeries, baselines_of
from continuum.surveillance.settings import DEFAULT_SETTINGS

ACTOR = Actor(staff_id=None, name="test", role="physician")
ZONE = ZoneInfo("UTC")
HOURS = 20


def _minutes(start: datetime, n: int) -> np.ndarray:
    t0 = np.datetime64(start.replace(tzinfo=None), "ms")
    return t0 + np.arange(n) * np.timedelta64(60_000, "ms")


@pytest.fixture
def lung_run(sessions):  # type: ignore[no-untyped-def]
    """A run whose membrane lung was replaced 14 h before its newest value; the new lung's
    ΔP per L/min starts at 20/4.5 mmHg per L/min and rises in its last hours."""
    end = datetime.now(UTC).replace(second=0, microsecond=0)
    start = end - timedelta(hours=HOURS)
    change = end - timedelta(hours=14)
    with unit_of_work(sessions) as db:
        run = run_service.start_run(
            db,
            ACTOR,
            RunCreate(patient_id=2, support_type="pulmonary", mode="VV", started_at=start),
        )
        db.flush()
        first = run_service.add_component(
            db, ACTOR, run, ComponentCreate(kind="membrane_lung", started_at=start)
        )
        db.flush()
        run_service.add_component(
            db,
            ACTOR,
            run,
            ComponentCreate(
                kind="membrane_lung",
                started_at=change,
                replaces_id=first.id,
                stop_reason="thrombus",
            ),
        )
        run_service.change_mode(
            db, ACTOR, run, ModeChange(mode="VVA", at=end - timedelta(hours=3), reason="test")
        )
        targets.set_target(db, ACTOR, run, "blood_flow", 4.0, 5.0)
        n = HOURS * 60
        times = _minutes(start, n)
        rng = np.random.default_rng(7)
        flow = 4.5 + rng.normal(0, 0.05, n)
        rise = np.clip(np.arange(n) - (n - 240), 0, None) * 0.1  # ΔP +24 mmHg in the last 4 h
        pre = 250 + rng.normal(0, 1, n) + rise
        post = np.full(n, 230.0)
        pre[: 6 * 60] += 15  # the old lung had a higher gradient
        signals = {"blood_flow": flow, "p_preoxy": pre, "p_postoxy": post}
        rows = []
        for code, values in signals.items():
            rows += observation_service.series_rows(run.id, code, times, values, "console")
        gas_times = [start.replace(tzinfo=None) + timedelta(hours=h) for h in (2, 8, 14)]
        rows += observation_service.series_rows(
            run.id,
            "post_oxy_po2",
            np.array(gas_times, dtype="datetime64[ms]"),
            [400, 380, 150],
            "lab",
        )
        observation_service.bulk_insert(db, rows)
        run_id = run.id
    return sessions, run_id, times, signals, change


def test_the_lung_baseline_is_surveillances_own(lung_run) -> None:  # type: ignore[no-untyped-def]
    sessions, run_id, times, signals, change = lung_run
    series = RunSeries(
        "VV",
        {code: (times, values) for code, values in signals.items()},
        (ComponentChange(np.datetime64(change.replace(tzinfo=None), "ms"), "oxygenator"),),
    )
    expected = baselines_of(series)["dp_per_flow"]
    with sessions() as db:
        run = db.get(Run, run_id)
        end = run_trends.window_end(db, run)
        lung = run_trends.lung_trend(db, run, end - timedelta(hours=24), end, DEFAULT_SETTINGS)
    assert lung.baseline == pytest.approx(expected, rel=1e-6)
    assert lung.baseline == pytest.approx(20 / 4.5, rel=0.03)  # the new lung's, not the old one's
    assert lung.installed == change
    assert lung.points[-1][1] > lung.baseline * 1.3  # the rise is on the chart


def test_run_chart_panels_labels_units_targets_dots_and_markers(lung_run) -> None:  # type: ignore[no-untyped-def]
    sessions, run_id, *_ = lung_run
    with sessions() as db:
        chart = run_trends.run_chart(db, db.get(Run, run_id), ZONE)
    assert chart is not None
    panels = {p.key: p for p in chart.panels}
    assert list(panels) == ["blood_flow", "dp_per_flow", "post_oxy_po2"]  # what the run has
    assert (panels["blood_flow"].label, panels["blood_flow"].unit) == ("ECMO blood flow", "L/min")
    assert panels["blood_flow"].band_text == "target 4–5 L/min"
    assert panels["dp_per_flow"].unit == "mmHg per L/min"
    assert [r.kind for r in panels["dp_per_flow"].references] == ["baseline", "threshold"]
    assert "baseline" in panels["dp_per_flow"].note
    assert len(panels["post_oxy_po2"].dots) == 3 and panels["post_oxy_po2"].line == ""
    kinds = {m.kind for m in chart.markers}
    assert {"component", "mode", "run"} <= kinds


def test_a_run_without_observations_has_no_chart(sessions) -> None:  # type: ignore[no-untyped-def]
    with unit_of_work(sessions) as db:
        run = run_service.start_run(
            db, ACTOR, RunCreate(patient_id=2, support_type="cardiac", mode="VA")
        )
        db.flush()
        assert run_trends.run_chart(db, run, ZONE) is None
