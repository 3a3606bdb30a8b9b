"""The explainable trend behind a forecast: a robust straight line (Theil–Sen, scipy) through
the recent segment of one signal, on the signal itself or on its logarithm (exponential
physiology), the time at which that line reaches the criterion, and a prediction interval.

Steps, each of which can refuse with a reason a clinician can read:

1. points since the last component change (and its settling time) within the look-back
   window; too few → ``too_short``; the component changed within ``min_after_change_h`` →
   ``after_component_change``;
2. changepoint: the best single split into two straight lines; when it explains the data
   much better than one line (F ratio ≥ ``changepoint_f``), only the points after it are used
   (and ``too_short`` if those are too few);
3. Theil–Sen slope with its confidence interval (``level``); a slope interval spanning zero
   is ``too_noisy`` (scatter large against the level) or ``no_trend`` (steady);
   a slope away from the line is ``not_towards_line``;
4. the fitted level now beyond the line → ``already_crossed``;
5. crossing = (line − level now) / slope; beyond ``horizon_h`` → ``beyond_horizon``;
6. interval: earliest = the steepest slope in the interval from the level now plus its
   prediction error (residual scatter: 1.4826 × MAD), latest = the shallowest slope from the
   level now minus it; an interval slope of ≤ 0 leaves the latest end open (None).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from statistics import NormalDist
from typing import Any

import numpy as np

LINEAR = "linear"
LOG = "log-linear"

REASONS: dict[str, str] = {
    "too_short": "too few values on the current segment to fit a trend",
    "after_component_change": "the component was changed (or started) too recently",
    "too_noisy": "the scatter is too large to tell a trend",
    "no_trend": "steady: no trend distinguishable from the scatter",
    "not_towards_line": "the trend is moving away from the line",
    "already_crossed": "already beyond the line (see the alert)",
    "small_rise": "too close to its baseline yet to tell a fault from the usual wander",
    "beyond_horizon": "not expected to cross within the forecast horizon",
    "no_baseline": "no baseline yet for this component",
    "no_data": "no values",
}


@dataclass(frozen=True)
class TrendOptions:
    level: float = 0.80  # the stated interval level
    # model-error allowance: the ratio of true to predicted hours ahead (10th, 90th centile)
    # seen on the tuning seeds; the interval is at least ahead × these
    allowance: tuple[float, float] = (1.0, 1.0)
    min_points: int = 6
    min_after_change_h: float = 6.0
    window_h: float = 36.0
    horizon_h: float = 48.0
    changepoint_f: float = 12.0
    min_segment_points: int = 5
    noise_cv: float = 0.15  # residual scatter / |level| above which no-trend is "too noisy"
    min_covered: float = 0.0  # share of the way to the line the trend must have covered
    autocorrelation: bool = True  # widen the slope interval for hour-to-hour correlation
    acceleration: bool = True  # follow the recent half when it rises faster (S-shaped faults)


@dataclass
class Trend:
    """A fitted trend, or a refusal (``reason`` set)."""

    method: str
    points: int
    reason: str | None = None
    slope_per_h: float | None = None
    slope_interval: tuple[float, float] | None = None
    level_now: float | None = None
    residual_sd: float | None = None
    fit_from_h: float | None = None
    changepoint_h: float | None = None
    hours_to_cross: float | None = None
    interval_h: tuple[float | None, float | None] | None = None
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def refused(self) -> bool:
        return self.reason is not None


@functools.cache
def _z(level: float) -> float:
    # the normal quantile from the standard library (scipy's norm.ppf to 1e-15): scipy.stats
    # costs half a second of every app process's start-up
    return NormalDist().inv_cdf(0.5 + level / 2)


@dataclass(frozen=True)
class TheilSen:
    slope: float
    intercept: float
    low_slope: float
    high_slope: float


def theil_sen(y: np.ndarray, x: np.ndarray, level: float) -> TheilSen:
    """Theil–Sen slope (median of pairwise slopes), intercept median(y) − slope·median(x),
    and Sen's (1968) confidence interval of the slope at ``level`` — the same numbers as
    ``scipy.stats.theilslopes(y, x, alpha=level)`` without ties (hourly times have none),
    without its per-call overhead."""
    i, j = np.triu_indices(len(x), 1)
    dx = x[j] - x[i]
    ok = dx != 0
    slopes = np.sort((y[j] - y[i])[ok] / dx[ok])
    slope = float(np.median(slopes))
    n, nt = len(y), len(slopes)
    sigma = math.sqrt(n * (n - 1) * (2 * n + 5) / 18.0)
    z = -_z(level)  # scipy: norm.ppf(alpha / 2) with alpha = 1 − level
    upper = min(round((nt - z * sigma) / 2.0), nt - 1)
    lower = max(round((nt + z * sigma) / 2.0) - 1, 0)
    intercept = float(np.median(y) - slope * np.median(x))
    return TheilSen(slope, intercept, float(slopes[lower]), float(slopes[upper]))


def _autocorrelation_factor(resid: np.ndarray) -> float:
    """√((1+ρ)/(1−ρ)) for the lag-1 autocorrelation ρ > 0 of the residuals (1 … 3): with
    correlated residuals there are fewer independent values than points."""
    if len(resid) < 6:
        return 1.0
    r = resid - resid.mean()
    denom = float(r @ r)
    if denom <= 0:
        return 1.0
    rho = min(max(float(r[1:] @ r[:-1]) / denom, 0.0), 0.8)
    return min(math.sqrt((1 + rho) / (1 - rho)), 3.0)


def _sse_line(t: np.ndarray, y: np.ndarray) -> float:
    if len(t) < 3:
        return 0.0
    return float(_prefix_sse(t, y)[-1])


def _prefix_sse(t: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Residual sum of squares of the least-squares line through the first k points, for
    every k (closed form from running sums; k < 3 gives 0)."""
    k = np.arange(1, len(t) + 1, dtype=float)
    tc = t - t.mean()
    st, sy = np.cumsum(tc), np.cumsum(y)
    stt, syy, sty = np.cumsum(tc * tc), np.cumsum(y * y), np.cumsum(tc * y)
    vt, vy, cty = stt - st * st / k, syy - sy * sy / k, sty - st * sy / k
    with np.errstate(divide="ignore", invalid="ignore"):
        sse = np.where(vt > 0, vy - cty * cty / vt, vy)
    sse[k < 3] = 0.0
    return np.maximum(sse, 0.0)


def changepoint(t: np.ndarray, y: np.ndarray, opts: TrendOptions) -> int:
    """Index of the first point after the best single changepoint, or 0 (none)."""
    n, k = len(t), opts.min_segment_points
    if n < 2 * k:
        return 0
    one = _sse_line(t, y)
    head = _prefix_sse(t, y)  # head[i - 1]: points [0, i)
    tail = _prefix_sse(t[::-1], y[::-1])[::-1]  # tail[i]: points [i, n)
    splits = np.arange(k, n - k + 1)
    two = head[splits - 1] + tail[splits]
    best, at = float(two.min()), int(splits[int(np.argmin(two))])
    scale = float(((y - y.mean()) ** 2).sum()) + 1e-12
    if one - best <= 1e-6 * scale:
        return 0  # two lines explain no more than one
    if best <= 1e-9 * scale:
        return at
    f = ((one - best) / 2) / (best / (n - 4))
    return at if f >= opts.changepoint_f else 0


def fit(
    t_h: np.ndarray,
    y: np.ndarray,
    line: float,
    rising: bool,
    now_h: float,
    segment_start_h: float,
    method: str = LINEAR,
    opts: TrendOptions | None = None,
) -> Trend:
    """Fit the trend of (``t_h`` hours, ``y``) up to ``now_h`` and forecast when it reaches
    ``line`` (from below if ``rising``, else from above)."""
    o = opts or TrendOptions()
    if now_h - segment_start_h < o.min_after_change_h:
        return Trend(method, 0, "after_component_change",
                     details={"hours_since_change": round(now_h - segment_start_h, 2)})  # fmt: skip
    keep = (t_h <= now_h) & (t_h >= max(segment_start_h, now_h - o.window_h)) & np.isfinite(y)
    if method == LOG:
        keep &= y > 0
    t, v = t_h[keep], y[keep]
    if len(t) < o.min_points:
        return Trend(method, len(t), "too_short")
    sign = 1.0 if rising else -1.0
    if sign * v[-1] >= sign * line:
        return Trend(method, len(t), "already_crossed", level_now=float(v[-1]))
    tr = np.log if method == LOG else (lambda x: x)
    target = float(tr(line)) if (method != LOG or line > 0) else -math.inf
    z, goal = sign * tr(v), sign * target  # the signal moves up towards ``goal``
    cut = changepoint(t, z, o)
    change_h = float(t[cut]) if cut else None
    t, z = t[cut:], z[cut:]
    if len(t) < o.min_points:
        return Trend(method, len(t), "too_short", changepoint_h=change_h)
    res = theil_sen(z, t, o.level)
    slope, intercept = float(res.slope), float(res.intercept)
    lo, hi = float(res.low_slope), float(res.high_slope)
    resid = z - (intercept + slope * t)
    sd = float(1.4826 * np.median(np.abs(resid - np.median(resid))))
    n = len(t)
    widen = _autocorrelation_factor(resid) if o.autocorrelation else 1.0
    lo, hi = slope - widen * (slope - lo), slope + widen * (hi - slope)
    accelerating = False
    if o.acceleration and n >= 2 * 3:
        half = t >= t[n // 2]
        recent = theil_sen(z[half], t[half], o.level)
        if recent.low_slope > hi and recent.slope > 0:
            # the recent half rises faster than the whole window allows (their slope
            # intervals do not overlap): follow it, and keep
            # the whole window's slope as the slow end of the interval
            accelerating = True
            lo, hi = max(slope, lo), max(float(recent.high_slope), float(recent.slope))
            slope, intercept = float(recent.slope), float(recent.intercept)
            t_fit = t[half]
            resid = z[half] - (intercept + slope * t_fit)
            sd = max(sd, float(1.4826 * np.median(np.abs(resid - np.median(resid)))))
    level_now = intercept + slope * now_h
    sxx = float(((t - t.mean()) ** 2).sum())
    se_now = widen * sd * math.sqrt(1 / n + ((now_h - t.mean()) ** 2 / sxx if sxx > 0 else 0))
    shown = Trend(
        method,
        n,
        slope_per_h=sign * slope,
        slope_interval=(sign * lo, sign * hi) if rising else (sign * hi, sign * lo),
        level_now=float(np.exp(sign * level_now) if method == LOG else sign * level_now),
        residual_sd=sd,
        fit_from_h=float(t[0]),
        changepoint_h=change_h,
        details={
            "interval_widened_for_autocorrelation": round(widen, 2),
            "accelerating": accelerating,
        },
    )
    if level_now >= goal:
        shown.reason = "already_crossed"
        return shown
    if lo <= 0 <= hi:
        scale = abs(level_now) if method == LINEAR else 1.0
        shown.reason = "too_noisy" if sd > o.noise_cv * max(scale, 1e-9) else "no_trend"
        return shown
    if hi < 0:
        shown.reason = "not_towards_line"
        return shown
    covered = slope * (now_h - float(t[0]))
    if covered < o.min_covered * (goal - (level_now - covered)):
        shown.reason = "no_trend"  # wander: the trend has covered too little of the way
        shown.details["share_of_way_covered"] = round(covered / (goal - level_now + covered), 2)
        return shown
    ahead = (goal - level_now) / slope
    shown.hours_to_cross = float(ahead)
    if method == LOG:
        shown.details["hours_to_double_or_halve"] = round(math.log(2) / slope, 2)
    if ahead > o.horizon_h:
        shown.reason = "beyond_horizon"
        return shown
    zq = _z(o.level)
    early = max((goal - (level_now + zq * se_now)) / hi, 0.0)
    late = (goal - (level_now - zq * se_now)) / lo if lo > 0 else None
    early = min(early, ahead * o.allowance[0])
    late = None if late is None else max(late, ahead, ahead * o.allowance[1])
    shown.interval_h = (float(early), None if late is None else float(late))
    return shown
