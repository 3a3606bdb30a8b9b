"""A regular evaluation grid over a run, and the vectorised signal tools the detectors share.

Every detector judges its rule at each grid point (default: every minute) from the
observations available *at or before* that point, so the result at a point never depends
on later data: running the detectors over a recent window gives the same state as
running them over the whole run (the basis of incremental use, see ``engine``).
"""

from __future__ import annotations

import itertools
import warnings
from dataclasses import dataclass, field

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from continuum.errors import ValidationFailed
from continuum.surveillance.series import RunSeries

MS_PER_MIN = 60_000
MAX_POINTS = 366 * 1440  # a year at 1-minute resolution


@dataclass
class Grid:
    series: RunSeries
    times: np.ndarray  # datetime64[ms]
    step_ms: int
    _cache: dict[tuple[str, float], np.ndarray] = field(default_factory=dict)

    @classmethod
    def over(cls, series: RunSeries, step_s: float = 60) -> Grid:
        step = max(int(step_s * 1000), 1)
        span = series.span()
        if span is None:
            return cls(series, np.array([], dtype="datetime64[ms]"), step)
        t0 = span[0].astype("int64")
        t0 -= t0 % step
        n = int((span[1].astype("int64") - t0) // step) + 1
        if span[1].astype("int64") > t0 + (n - 1) * step:
            n += 1
        if n > MAX_POINTS:
            raise ValidationFailed(
                f"the observations span {n * step / 86_400_000:.0f} days; surveillance judges at "
                f"most {MAX_POINTS * step / 86_400_000:.0f} days at a time (check for a wrong "
                "date, or replay the run in windows)",
                "times",
            )
        times = (t0 + step * np.arange(n, dtype="int64")).astype("datetime64[ms]")
        return cls(series, times, step)

    def __len__(self) -> int:
        return len(self.times)

    def minutes(self, minutes: float) -> int:
        """A duration in minutes as a number of grid points (at least 1)."""
        return max(round(minutes * MS_PER_MIN / self.step_ms), 1)

    def locf(self, code: str, max_age_min: float) -> np.ndarray:
        """The latest observation of ``code`` at each point, NaN when none is recent enough."""
        key = (code, max_age_min)
        if key not in self._cache:
            self._cache[key] = self._locf(code, max_age_min)
        return self._cache[key]

    def _locf(self, code: str, max_age_min: float) -> np.ndarray:
        if code not in self.series.signals:
            return np.full(len(self.times), np.nan)
        return self.locf_values(*self.series.signals[code], max_age_min)

    def locf_values(self, t: np.ndarray, v: np.ndarray, max_age_min: float) -> np.ndarray:
        """Last value of the sorted samples (t, v) at each point, NaN when older than max age."""
        out = np.full(len(self.times), np.nan)
        idx = np.searchsorted(t, self.times, side="right") - 1
        ok = idx >= 0
        age = self.times[ok] - t[idx[ok]]
        fresh = age <= np.timedelta64(int(max_age_min * MS_PER_MIN), "ms")
        pos = np.flatnonzero(ok)[fresh]
        out[pos] = v[idx[pos]]
        return out

    def segments(self, components: tuple[str, ...]) -> np.ndarray:
        """Index of the first grid point of each baseline segment (0 and each relevant change)."""
        starts = [0]
        for ch in self.series.component_changes:
            if ch.component in components or ch.component == "circuit":
                starts.append(int(np.searchsorted(self.times, ch.time, side="left")))
        starts_arr = np.unique(starts)
        return starts_arr[starts_arr < max(len(self.times), 1)]


def rolling_median(x: np.ndarray, n: int, min_valid: float = 0.5) -> np.ndarray:
    """Trailing (causal) rolling median over ``n`` points, ignoring NaN; NaN when fewer than
    ``min_valid`` of the window are valid (a long drop-out is unknown, not stale)."""
    if n <= 1 or len(x) == 0:
        return x.copy()
    padded = np.concatenate([np.full(n - 1, np.nan), x])
    win = sliding_window_view(padded, n)
    valid = np.isfinite(x)
    counts = _rolling_sum(valid.astype(np.int32), n)
    out = np.full(len(x), np.nan)
    full = counts == n
    out[full] = np.median(win[full], axis=1)
    part = (counts < n) & (counts >= max(int(np.ceil(n * min_valid)), 1))
    if part.any():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            out[part] = np.nanmedian(win[part], axis=1)
    return out


def _rolling_sum(x: np.ndarray, n: int) -> np.ndarray:
    cs = np.concatenate([[0], np.cumsum(x)])
    start = np.maximum(np.arange(1, len(x) + 1) - n, 0)
    return cs[1:] - cs[start]


def persistent(mask: np.ndarray, n: int) -> np.ndarray:
    """True where ``mask`` has held for the last ``n`` consecutive points."""
    if n <= 1:
        return mask.copy()
    return _rolling_sum(mask.astype(np.int32), n) >= n


def segment_baseline(x: np.ndarray, starts: np.ndarray, skip: int, length: int) -> np.ndarray:
    """Per point: the median of ``x`` over its segment's early window (after ``skip`` points,
    ``length`` points long). NaN before that window is complete or if it holds no data."""
    out = np.full(len(x), np.nan)
    bounds = [*starts.tolist(), len(x)]
    for a, b in itertools.pairwise(bounds):
        lo, hi = a + skip, min(a + skip + length, b)
        vals = x[lo:hi]
        vals = vals[np.isfinite(vals)]
        if hi - lo > 0 and len(vals) >= max((hi - lo) // 4, 1):
            out[hi:b] = np.median(vals)
    return out
