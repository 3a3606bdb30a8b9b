"""Forecast, per exchange criterion, when the run's trend reaches the line in force.

    from continuum.forecast import forecast_run
    for f in forecast_run(series, now=None):   # now: the end of the data
        f.to_dict()  # criterion, status, predicted crossing, interval, inputs, method, trend

A forecast is never a bare number: it carries the inputs used, the method, the fitted trend
(slope with its interval, level now, residual scatter, changepoint) and the interval; or
``status = "refused"`` with the reason.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from continuum.forecast.criteria import CRITERIA, Criterion, hourly
from continuum.forecast.trend import REASONS, Trend, TrendOptions, fit
from continuum.surveillance.alerts import iso
from continuum.surveillance.grid import Grid
from continuum.surveillance.series import RunSeries
from continuum.surveillance.settings import DEFAULT_SETTINGS, SurveillanceSettings

MS_PER_H = 3_600_000
CONSOLE_STEP_MIN = 60  # console signals: one (30-min median) value per hour into the fit


@dataclass
class Forecast:
    criterion: str
    label: str
    short: str
    component: str
    made_at: np.datetime64
    status: str  # "forecast" or "refused"
    reason: str | None
    line: float | None
    unit: str
    threshold: dict[str, Any] | None
    trend: Trend
    inputs: tuple[str, ...]
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def crossing_at(self) -> np.datetime64 | None:
        return _after(self.made_at, self.trend.hours_to_cross) if self.made else None

    @property
    def interval(self) -> tuple[np.datetime64 | None, np.datetime64 | None] | None:
        if not self.made or self.trend.interval_h is None:
            return None
        early, late = self.trend.interval_h
        return _after(self.made_at, early), _after(self.made_at, late)

    @property
    def made(self) -> bool:
        return self.status == "forecast"

    def text(self) -> str:
        """'ML exchange criterion likely in 14–30 h' (or why none)."""
        what = "ML" if self.component == "oxygenator" else "Pump"
        if not self.made:
            return f"{what} {self.label}: no forecast ({REASONS.get(self.reason or '', '')})"
        lo, hi = self.trend.interval_h or (None, None)
        span = f"{_h(lo)}–{_h(hi)} h" if hi is not None else f"≥ {_h(lo)} h (open-ended)"
        return f"{what} exchange criterion likely in {span} ({self.short})"

    def to_dict(self) -> dict[str, Any]:
        tr = self.trend
        interval = self.interval
        return {
            "criterion": self.criterion,
            "label": self.label,
            "short": self.short,
            "component": self.component,
            "made_at": iso(self.made_at),
            "status": self.status,
            "reason": self.reason,
            "reason_text": REASONS.get(self.reason) if self.reason else None,
            "line": _r(self.line),
            "unit": self.unit,
            "threshold": self.threshold,
            "predicted_crossing": iso(self.crossing_at) if self.crossing_at is not None else None,
            "hours_to_crossing": _r(tr.hours_to_cross) if self.made else None,
            "interval": None
            if interval is None
            else {
                "level": TrendOptions().level,
                "earliest": iso(interval[0]) if interval[0] is not None else None,
                "latest": iso(interval[1]) if interval[1] is not None else None,
                "hours": [_r(h) for h in tr.interval_h or ()],
            },
            "inputs": list(self.inputs),
            "method": {
                "name": f"Theil–Sen {tr.method} trend since the last change",
                "shape": tr.method,
                "points": tr.points,
            },
            "trend": {
                "slope_per_h": _r(tr.slope_per_h),
                "slope_interval_per_h": None
                if tr.slope_interval is None
                else [_r(x) for x in tr.slope_interval],
                "level_now": _r(tr.level_now),
                "residual_sd": _r(tr.residual_sd),
                "fit_from": iso(_after_epoch(tr.fit_from_h)),
                "changepoint": iso(_after_epoch(tr.changepoint_h)),
            },
            "details": self.details,
            "text": self.text(),
        }


def _h(x: float | None) -> str:
    return "?" if x is None else f"{max(round(x), 0):d}"


def _r(x: float | None) -> float | None:
    return None if x is None or not np.isfinite(x) else round(float(x), 4)


def _after(t: np.datetime64, hours: float | None) -> np.datetime64 | None:
    if hours is None:
        return None
    return t + np.timedelta64(round(hours * MS_PER_H), "ms")


def _after_epoch(hours: float | None) -> np.datetime64 | None:
    return _after(np.datetime64(0, "ms"), hours)


def hours_of(t: np.ndarray) -> np.ndarray:
    """datetime64 → hours since the epoch (float), the fit's time axis."""
    return t.astype("datetime64[ms]").astype("int64") / MS_PER_H


def segment_start(series: RunSeries, resets: tuple[str, ...], now: np.datetime64) -> float:
    """Hours (epoch) of the last change of a component in ``resets`` (or the circuit) at or
    before ``now``; the first observation if none."""
    starts = [series.span()[0]]  # type: ignore[index]
    for ch in series.component_changes:
        if (ch.component in resets or ch.component == "circuit") and ch.time <= now:
            starts.append(ch.time)
    return float(hours_of(np.array([max(starts)]))[0])


def forecast_criterion(
    c: Criterion,
    grid: Grid,
    s: SurveillanceSettings,
    now: np.datetime64,
    opts: TrendOptions | None = None,
) -> Forecast:
    o = dataclasses.replace(
        opts or TrendOptions(),
        min_points=c.min_points,
        window_h=c.window_h,
        allowance=c.allowance if opts is None else opts.allowance,
        min_covered=c.min_covered if opts is None else opts.min_covered,
    )
    fast = None
    if c.signal_at is not None and len(grid):
        fast = c.signal_at(grid, s, hourly(grid, c.window_h + 1))
    t, v, line, details = fast if fast is not None else c.signal(grid, s)
    seg = segment_start(grid.series, c.resets, now)
    made = dict(criterion=c.code, label=c.label, short=c.short, component=c.component, made_at=now,
                unit=c.unit, threshold=s.threshold(c.threshold), inputs=c.inputs)  # fmt: skip
    if len(t) == 0 or not np.isfinite(v).any():
        return Forecast(**made, status="refused", reason="no_data", line=None,  # type: ignore[arg-type]
                        trend=Trend(c.method, 0, "no_data"), details=details)  # fmt: skip
    if not np.isfinite(line):
        trend = Trend(c.method, 0, "no_baseline")
        if hours_of(np.array([now]))[0] - seg < o.min_after_change_h:
            trend.reason = "after_component_change"
        return Forecast(**made, status="refused", reason=trend.reason, line=None,  # type: ignore[arg-type]
                        trend=trend, details=details)  # fmt: skip
    th = hours_of(t)
    if c.console and fast is None:
        # one value per hour, counted back from the latest
        th, v = th[::-CONSOLE_STEP_MIN][::-1], v[::-CONSOLE_STEP_MIN][::-1]
    now_h = float(hours_of(np.array([now]))[0])
    trend = fit(th, v, line, c.rising, now_h, seg, c.method, o)
    _judge_rise(c, trend, line, details.get("baseline"))
    return Forecast(**made, status="refused" if trend.refused else "forecast",  # type: ignore[arg-type]
                    reason=trend.reason, line=line, trend=trend, details=details)  # fmt: skip


def _judge_rise(c: Criterion, trend: Trend, line: float, baseline: float | None) -> None:
    """A criterion read on its own baseline: refuse (``small_rise``) while the fitted level
    now is less than ``c.min_rise`` of the way from the baseline to the line. The share is
    kept in the trend's details either way."""
    if c.min_rise <= 0 or trend.refused or baseline is None or trend.level_now is None:
        return
    way = line - baseline
    if way == 0:
        return
    share = (trend.level_now - baseline) / way
    trend.details["share_of_way_from_baseline"] = round(share, 2)
    if share < c.min_rise:
        trend.reason = "small_rise"


def forecast_run(
    series: RunSeries,
    now: np.datetime64 | None = None,
    settings: SurveillanceSettings | None = None,
    opts: TrendOptions | None = None,
    only: tuple[str, ...] | None = None,
) -> list[Forecast]:
    """A forecast (or refusal) per exchange criterion, from the data up to ``now``."""
    s = settings or DEFAULT_SETTINGS
    span = series.span()
    if span is None:
        return []
    end = span[1] if now is None else min(np.datetime64(now, "ms"), span[1])
    window = _until(series, end)
    grid = Grid.over(window, s.grid_step_s)
    return [forecast_criterion(CRITERIA[c], grid, s, end, opts) for c in only or CRITERIA]


def _until(series: RunSeries, end: np.datetime64) -> RunSeries:
    """The series cut at ``end`` (nothing after it is seen)."""
    _, last = series.span()  # type: ignore[misc]
    if end >= last:
        return series
    signals = {}
    for code, (t, v) in series.signals.items():
        k = int(np.searchsorted(t, end, side="right"))
        signals[code] = (t[:k], v[:k])
    changes = tuple(ch for ch in series.component_changes if ch.time <= end)
    return RunSeries(series.mode, signals, changes, dict(series.baselines))


def forecasts_along(
    series: RunSeries,
    every_h: float = 1.0,
    settings: SurveillanceSettings | None = None,
    opts: TrendOptions | None = None,
) -> list[Forecast]:
    """The forecasts a bedside screen would have shown along the run: every ``every_h``
    hours from the first whole hour after the start, each from the data up to that time."""
    span = series.span()
    if span is None:
        return []
    step = np.timedelta64(max(int(every_h * MS_PER_H), 60_000), "ms")
    first = span[0].astype("datetime64[h]").astype("datetime64[ms]") + step
    out: list[Forecast] = []
    t = first
    while t <= span[1]:
        out.extend(forecast_run(series, now=t, settings=settings, opts=opts))
        t = t + step
    return out


def brief(f: Forecast) -> dict[str, Any]:
    """One forecast in a line of a replay: time made, criterion, crossing and interval."""
    d = f.to_dict()
    interval = d["interval"] or {}
    return {
        "made_at": d["made_at"],
        "criterion": d["criterion"],
        "component": d["component"],
        "status": d["status"],
        "reason": d["reason"],
        "predicted_crossing": d["predicted_crossing"],
        "interval_earliest": interval.get("earliest"),
        "interval_latest": interval.get("latest"),
        "interval_level": interval.get("level"),
        "line": d["line"],
        "unit": d["unit"],
    }


RECENT_H = 50.0  # the longest fit window (48 h of labs) and the smoothing before it


def stored_baselines(
    series: RunSeries, settings: SurveillanceSettings | None = None
) -> dict[str, float]:
    """The baselines of the current components (the detectors' and the O2 transfer's), to
    store once per component and pass to ``forecast_recent``."""
    from continuum.surveillance.engine import baselines_of

    s = settings or DEFAULT_SETTINGS
    out = baselines_of(series, s)
    grid = Grid.over(series, s.grid_step_s)
    _, _, _, details = CRITERIA["o2_transfer"].signal(grid, s)
    if details.get("baseline") is not None:
        out["o2_transfer"] = float(details["baseline"])
        if details.get("capacity_first_day") is not None:
            out["o2_transfer_capacity"] = float(details["capacity_first_day"])
    return out


def forecast_recent(
    series: RunSeries,
    baselines: dict[str, float],
    settings: SurveillanceSettings | None = None,
    hours: float = RECENT_H,
) -> list[Forecast]:
    """Incremental refresh: only the last ``hours`` of data, with the stored baselines (the
    same forecasts as the whole run while no component changed inside the window)."""
    span = series.span()
    if span is None:
        return []
    start = span[1] - np.timedelta64(int(hours * MS_PER_H), "ms")
    signals = {}
    for code, (t, v) in series.signals.items():
        k = int(np.searchsorted(t, start, side="left"))
        signals[code] = (t[k:], v[k:])
    changes = tuple(ch for ch in series.component_changes if ch.time >= start)
    window = RunSeries(series.mode, signals, changes, dict(baselines))
    return forecast_run(window, settings=settings)
