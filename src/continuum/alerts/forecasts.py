"""Exchange forecasts for a run, where decisions are made (run page, rounds board): the
run's recent observations read as surveillance reads them, the thresholds in force, and the
pure forecast (``continuum.forecast``). Cheap and incremental: only the last 50 h are read
(plus the current segment's stored baselines when its start lies before them), and the
answer is kept per run until the data moves on by one evaluation grid step (a minute): a
device feed stores a value every few seconds, and recomputing the forecast for each (50 h of
data read and fitted again per page per run) is what saturated the rounds board under load
(benchmarks/load). A forecast kept this way says the time it was made for ("now" on its
chart), is replaced at once on a component change or new thresholds, and is at most one
grid step behind the newest value.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from continuum.alerts import inputs, thresholds
from continuum.alerts.inputs import CHANGE_OF
from continuum.core.run_record import Run
from continuum.forecast import CRITERIA, Forecast, forecast_run
from continuum.forecast.forecast import RECENT_H
from continuum.forecast.trend import LOG
from continuum.surveillance import RunSeries
from continuum.surveillance.grid import Grid

# run id → (newest observation time it was made for, thresholds in force, component
# change times, forecasts as dicts)
_CACHE: dict[int, tuple[datetime, Any, tuple[datetime, ...], list[dict[str, Any]]]] = {}
_CACHE_MAX = 512


def run_forecasts(session: Session, run_id: int) -> list[dict[str, Any]]:
    """Per exchange criterion, the forecast (or refusal with its reason) as of the run's
    newest observation; [] for an ended run or one without observations."""
    run = session.get(Run, run_id)
    if run is None or run.ended_at is not None:
        return []
    end = inputs.last_time(session, run_id)
    if end is None:
        return []
    s = thresholds.in_force(session)
    # The run's component changes as surveillance counts them (a new segment: a new
    # baseline), from the run's components (already loaded on the rounds board).
    changed = tuple(sorted(
        c.started_at for c in run.components if c.replaces_id is not None and c.kind in CHANGE_OF
    ))  # fmt: skip
    hit = _CACHE.get(run_id)
    if (
        hit is not None
        and hit[0] <= end < hit[0] + timedelta(seconds=s.grid_step_s)
        and hit[1] == s
        and hit[2] == changed
    ):
        return hit[3]
    out = _forecasts(session, run, end, s, inputs.component_changes(session, run_id))
    if len(_CACHE) >= _CACHE_MAX:
        _CACHE.clear()
    _CACHE[run_id] = (end, s, changed, out)
    return out


def _forecasts(
    session: Session, run: Run, end: datetime, s: Any, changes: list[Any]
) -> list[dict[str, Any]]:
    times = [run.started_at, *(c for c in inputs.change_times(changes) if c <= end)]
    segment = times[-1]
    start = max(end - timedelta(hours=RECENT_H), run.started_at)
    stored = inputs.stored_baselines(session, run.id)
    given = dict(stored.get(segment, {})) if segment < start else {}
    window = inputs.Window(start, segment if given else None, segment)
    signals = inputs.load_signals(session, run.id, window, end, s)
    series = RunSeries(inputs.series_mode(run), signals, tuple(changes), given)
    made = forecast_run(series, now=np.datetime64(end.replace(tzinfo=None), "ms"), settings=s)
    grid = Grid.over(series, s.grid_step_s) if any(f.made for f in made) else None
    out = []
    for f in made:
        d = f.to_dict()
        if grid is not None and f.made:
            d["plot"] = _plot(f, grid, s)
        out.append(d)
    return out


def _plot(f: Forecast, grid: Grid, s: Any) -> dict[str, Any]:
    """What the run page draws: the values the trend was fitted on, then the fitted trend
    projected from now to the predicted crossing (epoch seconds, value)."""
    c = CRITERIA[f.criterion]
    t, v, _, _ = c.signal(grid, s)
    secs = t.astype("datetime64[ms]").astype("int64") / 1000
    tr = f.trend
    start = (tr.fit_from_h or 0) * 3600
    now = float(f.made_at.astype("datetime64[ms]").astype("int64") / 1000)
    keep = (secs >= start) & (secs <= now) & np.isfinite(v)
    step = 10 if c.console else 1  # console: one value per 10 min is enough to draw
    observed = [
        [float(a), float(b)] for a, b in zip(secs[keep][::step], v[keep][::step], strict=True)
    ]
    ahead = tr.hours_to_cross or 0.0
    level, slope = tr.level_now or 0.0, tr.slope_per_h or 0.0
    projected = []
    for h in np.linspace(0, ahead, max(int(ahead) + 1, 2)):
        y = level * math.exp(slope * h) if tr.method == LOG else level + slope * h
        projected.append([now + h * 3600, float(y)])
    return {"observed": observed, "projected": projected, "now": now, "start": start}


def made(forecasts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The forecasts made (not refused), soonest earliest crossing first."""
    kept = [f for f in forecasts if f["status"] == "forecast"]
    return sorted(kept, key=lambda f: f["interval"]["earliest"] if f["interval"] else "")
