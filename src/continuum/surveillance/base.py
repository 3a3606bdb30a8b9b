"""What every detector returns (an ``Evaluation``: a level per grid point plus the traces
that explain it) and the shared helpers that grade a signal and turn levels into alerts."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from continuum.surveillance.alerts import (
    CRITICAL,
    INFO,
    NORMAL,
    UNKNOWN,
    WARNING,
    Alert,
    episodes,
    iso,
    severity_name,
)
from continuum.surveillance.grid import Grid, segment_baseline
from continuum.surveillance.settings import SurveillanceSettings
from continuum.vocabulary import CODES

Summary = Callable[[dict[str, float | None], str], str]


@dataclass
class Evaluation:
    """One detector over one grid.

    ``level``: per point UNKNOWN/hold (-1), NORMAL (0), INFO, WARNING, CRITICAL (1–3).
    ``trace``: named per-point values shown as evidence; ``peak`` names the trace whose
    extreme (max, or min when ``peak_high`` is False) marks the episode's worst moment.
    """

    code: str
    level: np.ndarray
    on: int
    off: int
    boundaries: np.ndarray
    rule: str
    thresholds: tuple[str, ...]
    inputs: tuple[str, ...]
    trace: dict[str, np.ndarray]
    peak: str
    summary: Summary
    peak_high: bool = True
    baseline: str | None = None
    extra_thresholds: list[dict[str, Any]] = field(default_factory=list)


def num(x: float) -> str:
    """A threshold as a rule text shows it: 0.3 → "0.3", −80 → "−80"."""
    return f"{x:g}".replace("-", "−")


def pct(fraction: float) -> str:
    """A fraction as a percentage: 0.3 → "30%"."""
    return num(round(100 * fraction, 6)) + "%"


def grade(
    x: np.ndarray,
    warning: float,
    critical: float,
    clear: float,
    info: float | None = None,
    high_is_bad: bool = True,
) -> np.ndarray:
    """Level per point of ``x``; between ``clear`` and the lowest alert threshold the state
    holds (hysteresis); NaN is unknown (holds)."""
    y = x if high_is_bad else -x
    w, c, k = (warning, critical, clear) if high_is_bad else (-warning, -critical, -clear)
    i = None if info is None else (info if high_is_bad else -info)
    level = np.full(len(x), UNKNOWN, dtype=np.int8)
    with np.errstate(invalid="ignore"):
        level[y < k] = NORMAL
        if i is not None:
            level[y >= i] = INFO
        level[y >= w] = WARNING
        level[y >= c] = CRITICAL
    return level


def baseline(
    grid: Grid,
    key: str,
    x: np.ndarray,
    starts: np.ndarray,
    s: SurveillanceSettings,
    hours: float | None = None,
) -> np.ndarray:
    """Each segment's early-hours median of ``x``; a baseline passed in
    ``series.baselines[key]`` (incremental use) stands for the first segment."""
    length = grid.minutes((hours or s.baseline_hours) * 60)
    b = segment_baseline(x, starts, grid.minutes(s.baseline_skip_min), length)
    given = grid.series.baselines.get(key)
    if given is not None:
        first_end = int(starts[1]) if len(starts) > 1 else len(x)
        b[:first_end] = given
    return b


def ratio(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        out = a / b  # a zero, non-finite or overflowing ratio is no value
    out[~np.isfinite(out)] = np.nan
    return out


def build_alerts(ev: Evaluation, grid: Grid, s: SurveillanceSettings) -> list[Alert]:
    return [_alert(ev, grid, s, ep) for ep in episodes(ev.level, ev.on, ev.off, ev.boundaries)]


def _alert(ev: Evaluation, grid: Grid, s: SurveillanceSettings, ep: Any) -> Alert:
    stop = ep.end if ep.end is not None else len(grid)
    peak_i = _peak_index(ev.trace[ev.peak][ep.start : stop], ev.peak_high) + ep.start
    sev = severity_name(ep.level)
    at_peak = _values(ev.trace, peak_i)
    since = max(ep.start - ev.on + 1, 0)
    thresholds = [s.threshold(n) for n in ev.thresholds] + ev.extra_thresholds
    evidence: dict[str, Any] = {
        "rule": ev.rule,
        "condition_since": iso(grid.times[since]),
        "at_raise": {"time": iso(grid.times[ep.start]), **_values(ev.trace, ep.start)},
        "at_peak": {"time": iso(grid.times[peak_i]), **at_peak},
        "baseline": None if ev.baseline is None else _num(ev.trace[ev.baseline][ep.start]),
        "threshold": thresholds[0] if thresholds else None,
        "thresholds": thresholds,
        "observations": _observations(grid, ev.inputs, grid.times[ep.start]),
        "severity_from": {severity_name(k): iso(grid.times[i]) for k, i in ep.escalations.items()},
        "cleared_because": ep.ended_by,
    }
    end = None if ep.end is None else grid.times[ep.end]
    return Alert(ev.code, sev, grid.times[ep.start], end, ev.summary(at_peak, sev), evidence)


def _peak_index(x: np.ndarray, high: bool) -> int:
    if not np.isfinite(x).any():
        return 0
    return int(np.nanargmax(x) if high else np.nanargmin(x))


def _num(v: float) -> float | None:
    return None if not np.isfinite(v) else float(round(float(v), 4))


def _values(trace: dict[str, np.ndarray], i: int) -> dict[str, float | None]:
    return {k: _num(v[i]) for k, v in trace.items()}


def _observations(grid: Grid, codes: tuple[str, ...], at: np.datetime64) -> list[dict[str, Any]]:
    out = []
    for code in codes:
        hit = grid.series.latest(code, at)
        if hit is not None:
            out.append(
                {
                    "code": code,
                    "time": iso(hit[0]),
                    "value": _num(hit[1]),
                    "unit": CODES[code].unit if code in CODES else None,
                }
            )
    return out


__all__ = [
    "CRITICAL",
    "INFO",
    "NORMAL",
    "UNKNOWN",
    "WARNING",
    "Evaluation",
    "grade",
    "num",
    "pct",
]
