"""Evaluate a run on each stored batch: every detector over the recent window, then bring
the stored alerts up to date (raise, update, escalate, clear). Flushes, never commits.

The window's evaluation grid starts where the dense signals start (labs and gases from
before it still count: detectors read them from their own samples, up to their max age), so
a batch costs a few hundred grid points whatever the run's length.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from continuum.alerts import feed, inputs, lifecycle, samples, thresholds
from continuum.alerts.models import CircuitAlert, SurveillanceDue
from continuum.core import run_devices
from continuum.core.alert_state import CONSOLE_SILENT
from continuum.core.run_record import Run
from continuum.db import utcnow
from continuum.surveillance import (
    DETECTORS,
    Alert,
    RunSeries,
    RunTargets,
    SurveillanceSettings,
    baselines_of,
    run_all_detectors,
)
from continuum.surveillance.alerts import NORMAL
from continuum.surveillance.base import Evaluation, build_alerts
from continuum.surveillance.grid import Grid
from continuum.surveillance.series import to_ms


@dataclass
class Context:
    run: Run
    end: datetime
    settings: SurveillanceSettings
    targets: RunTargets
    window: inputs.Window
    series: RunSeries
    stored: dict[datetime, dict[str, float]]


def evaluate_run(
    session: Session,
    run_id: int,
    full: bool = False,
    codes: set[str] | None = None,
    changed_from: datetime | None = None,
    report: samples.Pass | None = None,
) -> list[CircuitAlert]:
    """Run every detector over the run's recent window (``full``: the whole run, keeping
    past episodes as cleared alerts) and update its alerts. ``codes``: the batch's codes
    (their newest time marks the window's end). ``changed_from``: the earliest time stored
    or changed since the run was last evaluated — the dense signals are then read from the
    samples carried between evaluations, brought up to date from there (None: not known,
    they are rebuilt from a full read of the window; ``alerts.samples``). ``report``: what
    the pass read. Returns the run's unresolved alerts."""
    run = _locked_run(session, run_id)
    end = inputs.last_time(session, run_id, codes) if run is not None else None
    if run is None or end is None:
        return []
    if not full:
        changed_from = _with_pending(session, run_id, changed_from)
    carried = None if full else inputs.Carried(changed_from, report or samples.Pass())
    ctx = _context(session, run, end, full, carried)
    if full:  # rows stored without a mark may be in it: the next pass rebuilds the samples
        samples.forget(session, run_id)
    if full:
        _sync_history(session, run, run_all_detectors(ctx.series, ctx.settings, ctx.targets))
    _sync(session, ctx)
    _feed_back(session, ctx)
    _keep_baselines(session, ctx)
    session.flush()
    return list(lifecycle.unresolved(session, run_id).values())


def _with_pending(session: Session, run_id: int, since: datetime | None) -> datetime | None:
    """A run still marked due (batches not evaluated yet, e.g. beside an inline evaluation)
    is brought up to date from the earlier of the two times (None: not known)."""
    mark = session.execute(
        select(SurveillanceDue.changed_from).where(SurveillanceDue.run_id == run_id)
    ).one_or_none()
    if mark is None or since is None:
        return since
    pending: datetime | None = mark[0]
    return None if pending is None else min(since, pending)


def _locked_run(session: Session, run_id: int) -> Run | None:
    """The run, locked on PostgreSQL so that concurrent batches of one run are evaluated
    one after the other (SQLite already serialises writers). FOR NO KEY UPDATE: rows that
    only refer to the run (message log, audit, due marks) are still written meanwhile."""
    stmt = select(Run).where(Run.id == run_id)
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(key_share=True)
    return session.scalar(stmt)


def _context(
    session: Session, run: Run, end: datetime, full: bool, carried: inputs.Carried | None = None
) -> Context:
    s = thresholds.in_force(session)
    changes = inputs.component_changes(session, run.id)
    stored = inputs.stored_baselines(session, run.id)
    window = inputs.plan_window(run, end, inputs.change_times(changes), set(stored), s)
    if full:
        window = inputs.Window(run.started_at, None, window.segment)
    signals = inputs.load_signals(session, run.id, window, end, s, carried)
    given = dict(stored.get(window.baseline_key, {})) if window.baseline_key else {}
    series = RunSeries(inputs.series_mode(run), signals, tuple(changes), given)
    series.devices = run_devices.devices_of(session, run.id)  # Impella model, IABP (mcs)
    targets = inputs.run_targets(session, run.id)
    return Context(run, end, s, targets, window, series, stored)


def window_grid(ctx: Context) -> Grid:
    full = Grid.over(ctx.series, ctx.settings.grid_step_s)
    start = to_ms(ctx.window.start)[0] - np.timedelta64(full.step_ms, "ms")
    return Grid(ctx.series, full.times[full.times >= start], full.step_ms)


def evaluations(ctx: Context) -> tuple[Grid, dict[str, Evaluation | None]]:
    grid = window_grid(ctx)
    if len(grid) == 0:
        return grid, {}
    return grid, {c: m.evaluate(grid, ctx.settings, ctx.targets) for c, m in DETECTORS.items()}


def open_episode(ev: Evaluation | None, grid: Grid, s: SurveillanceSettings) -> Alert | None:
    """The episode still open at the end of the window (as ``engine.current_state``)."""
    if ev is None:
        return None
    alerts = build_alerts(ev, grid, s)
    return alerts[-1] if alerts and alerts[-1].is_open else None


def _sync(session: Session, ctx: Context) -> None:
    grid, evs = evaluations(ctx)
    stored, lingering = lifecycle.current(session, ctx.run.id)
    for code in DETECTORS:
        if code not in evs:
            continue
        found = open_episode(evs[code], grid, ctx.settings)
        alert = stored.get(code)
        if found is not None:
            _found(session, ctx.run, alert, lingering.get(code), found)
            continue
        for old in (alert, lingering.get(code)):
            if old is not None and old.cleared_at is None:
                because = ended(evs[code], grid, old.raised_at)
                if because:
                    lifecycle.clear_alert(session, ctx.run, old, ctx.end, because)


def _feed_back(session: Session, ctx: Context) -> None:
    """A silent console that speaks again clears its alert with this batch, not a minute
    later at the next feed check (``alerts.feed``)."""
    if ctx.settings.console_silence_min <= 0:
        return
    stored, lingering = lifecycle.current(session, ctx.run.id)
    quiet = stored.get(CONSOLE_SILENT) or lingering.get(CONSOLE_SILENT)
    if quiet is not None and quiet.cleared_at is None:
        limit = timedelta(minutes=ctx.settings.console_silence_min)
        feed.check_run(session, ctx.run, limit, utcnow())


def _found(
    session: Session,
    run: Run,
    alert: CircuitAlert | None,
    earlier: CircuitAlert | None,
    found: Alert,
) -> None:
    if alert is not None:
        lifecycle.update_alert(session, run, alert, found)
        return
    rank = lifecycle.RANK
    if earlier is not None and rank[found.severity] <= rank[earlier.peak_severity]:
        return  # resolved by a clinician while present; re-raised only if it gets worse
    detail = {"worse_than_resolved": earlier.id} if earlier is not None else None
    lifecycle.raise_alert(session, run, found, detail)


def ended(ev: Evaluation | None, grid: Grid, raised: datetime) -> str | None:
    """Why a stored episode is over ('back to normal', 'component changed'), or None while
    its level only holds (between the clear and the alert threshold, or no data)."""
    if ev is None:
        return "no longer applies"
    cuts = ev.boundaries[ev.boundaries > 0]
    if len(cuts) and grid.times[int(cuts.max())] > to_ms(raised)[0]:
        return "component changed"
    tail = ev.level[-ev.off :]
    if len(tail) == ev.off and bool(np.all(tail == NORMAL)):
        return "back to normal"
    return None


def _sync_history(session: Session, run: Run, episodes: list[Any]) -> None:
    """Whole-run evaluation: past, closed episodes become cleared alerts (once per detector)."""
    seen = {a.detector for a in lifecycle.all_of(session, run.id)}
    for ep in episodes:
        if ep.cleared_at is not None and ep.detector not in seen:
            lifecycle.raise_alert(session, run, ep)


def _keep_baselines(session: Session, ctx: Context) -> None:
    """Once a segment's baselines are formed, store them for later windows."""
    s = ctx.settings
    formed = timedelta(minutes=s.baseline_skip_min, hours=s.baseline_hours)
    if ctx.end - ctx.window.segment < formed or ctx.window.segment in ctx.stored:
        return
    inputs.store_baselines(session, ctx.run.id, ctx.window.segment, baselines_of(ctx.series, s))
