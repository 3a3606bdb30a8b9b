"""Time in therapeutic range by Rosendaal linear interpolation (docs/clinical/reference.md §5.4).

Rosendaal FR et al., Thromb Haemost 1993;69:236-9. Range is inclusive. Intervals longer
than ``max_gap_hours`` are not interpolated and leave both numerator and denominator.
Same-time samples are merged by their mean.

* ``continuous``: exact share of interpolated time in, below and above range.
* ``hourly``: the interpolated line is sampled every whole hour from the first sample
  (t0, t0+1 h, …, up to the last sample) and the points in range are counted. Points that
  fall inside an excluded gap are skipped.
"""

from __future__ import annotations

import bisect
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from continuum.errors import ValidationFailed
from continuum.physiology.result import CalculatorResult, WarningList, rounded

SOURCE = (
    "Rosendaal FR et al. A method to determine the optimal intensity of oral anticoagulant "
    "therapy. Thromb Haemost 1993;69:236-9 (linear interpolation; LOINC 72281-9 definition)"
)
METHODS = ("continuous", "hourly")


@dataclass(frozen=True)
class RangeTime:
    """Hours (or hourly points) below, in and above range, and the total observed."""

    below: float
    inside: float
    above: float

    @property
    def observed(self) -> float:
        return self.below + self.inside + self.above


def _parse_time(raw: Any) -> float | datetime:
    if isinstance(raw, bool):
        raise ValueError("time must be an ISO 8601 text or a number of hours")
    if isinstance(raw, int | float):
        if not math.isfinite(raw):
            raise ValueError("time is not finite")
        return float(raw)
    text = str(raw).strip().replace("Z", "+00:00")
    return datetime.fromisoformat(text)


def _hours(times: list[float | datetime]) -> list[float]:
    numbers = [t for t in times if isinstance(t, float)]
    if len(numbers) == len(times):
        return numbers
    stamps = [t for t in times if isinstance(t, datetime)]
    if len(stamps) != len(times):
        raise ValueError("mix of ISO times and numbers")
    if len({t.tzinfo is not None for t in stamps}) > 1:
        raise ValueError("mix of times with and without a UTC offset")
    first = min(stamps)
    return [(t - first).total_seconds() / 3600.0 for t in stamps]


def parse_samples(samples: Sequence[Any]) -> list[tuple[float, float]]:
    """[[time, value], …] → time-ordered (hours, value), duplicates merged by mean."""
    times: list[float | datetime] = []
    values: list[float] = []
    for index, pair in enumerate(samples):
        try:
            raw_time, raw_value = pair
            times.append(_parse_time(raw_time))
            value = float(raw_value)
            if not math.isfinite(value) or isinstance(raw_value, bool):
                raise ValueError("value is not a finite number")
            values.append(value)
        except (TypeError, ValueError) as exc:
            raise ValidationFailed(
                f"sample {index} {pair!r} is not [time, value]: {exc}", "samples"
            ) from None
    try:
        hours = _hours(times)
    except (TypeError, ValueError) as exc:
        raise ValidationFailed(f"sample times: {exc}", "samples") from None
    merged: dict[float, list[float]] = {}
    for t, v in zip(hours, values, strict=True):
        merged.setdefault(t, []).append(v)
    return sorted((t, sum(vs) / len(vs)) for t, vs in merged.items())


def _share_below(x1: float, x2: float, level: float) -> float:
    """Share of the straight segment x1→x2 lying strictly below ``level``."""
    if x1 == x2:
        return 1.0 if x1 < level else 0.0
    crossing = min(1.0, max(0.0, (level - x1) / (x2 - x1)))
    return crossing if x2 > x1 else 1.0 - crossing


def continuous_time(
    points: Sequence[tuple[float, float]], low: float, high: float, max_gap: float
) -> RangeTime:
    below = above = inside = 0.0
    for (t1, x1), (t2, x2) in itertools.pairwise(points):
        dt = t2 - t1
        if dt <= 0 or dt > max_gap:
            continue
        share_below = _share_below(x1, x2, low)
        share_above = _share_below(-x1, -x2, -high)
        below += share_below * dt
        above += share_above * dt
        inside += (1.0 - share_below - share_above) * dt
    return RangeTime(below, inside, above)


def _value_at(
    points: Sequence[tuple[float, float]], times: Sequence[float], t: float, max_gap: float
) -> float | None:
    """Interpolated value at time ``t``; None inside an excluded gap or outside the samples."""
    index = bisect.bisect_left(times, t)
    if index < len(points) and times[index] == t:
        return points[index][1]
    if index == 0 or index == len(points):
        return None
    (t1, x1), (t2, x2) = points[index - 1], points[index]
    return None if t2 - t1 > max_gap else x1 + (x2 - x1) * (t - t1) / (t2 - t1)


def hourly_points(
    points: Sequence[tuple[float, float]], low: float, high: float, max_gap: float
) -> RangeTime:
    start, end = points[0][0], points[-1][0]
    times = [p[0] for p in points]
    below = inside = above = 0
    for step in range(math.floor(end - start + 1e-9) + 1):
        value = _value_at(points, times, start + step, max_gap)
        if value is None:
            continue
        if math.isclose(value, low) or math.isclose(value, high):
            inside += 1  # inclusive range; guards against interpolation round-off
        elif value < low:
            below += 1
        elif value > high:
            above += 1
        else:
            inside += 1
    return RangeTime(below, inside, above)


def ttr(
    samples: Sequence[Any],
    low: float,
    high: float,
    max_gap_hours: float = 24.0,
    method: str = "continuous",
) -> CalculatorResult:
    if low > high:
        raise ValidationFailed(f"low {low:g} is above high {high:g}", "low")
    points = parse_samples(samples)
    if len(points) < 2:
        raise ValidationFailed("at least two samples at different times are needed", "samples")
    measure = continuous_time if method == "continuous" else hourly_points
    result = measure(points, low, high, max_gap_hours)
    if result.observed <= 0:
        raise ValidationFailed(
            f"no interval between samples is within max_gap_hours ({max_gap_hours:g} h)",
            "samples",
        )
    span = points[-1][0] - points[0][0]
    return _result(result, method, span, low, high, max_gap_hours, len(points))


def _result(
    time: RangeTime, method: str, span: float, low: float, high: float, max_gap: float, n: int
) -> CalculatorResult:
    fraction = time.inside / time.observed
    unit_word = "h" if method == "continuous" else "hourly points"
    warnings = WarningList()
    if method == "continuous":
        excluded = span - time.observed
        warnings.when(
            excluded > 0,
            f"{excluded:.1f} h in gaps longer than {max_gap:g} h were not interpolated.",
        )
    return CalculatorResult(
        name="ttr",
        value=rounded(fraction),
        unit="fraction",
        interpretation={
            "percent": rounded(fraction * 100, 1),
            "time_in_range": rounded(time.inside, 2),
            "time_below_range": rounded(time.below, 2),
            "time_above_range": rounded(time.above, 2),
            "fraction_below": rounded(time.below / time.observed),
            "fraction_above": rounded(time.above / time.observed),
            "observed": rounded(time.observed, 2),
            "measured_in": unit_word,
            "text": f"{fraction:.0%} of {time.observed:g} {unit_word} in range {low:g}–{high:g}",
        },
        inputs={
            "samples_used": n,
            "low": low,
            "high": high,
            "max_gap_hours": max_gap,
            "method": method,
        },
        formula="TTR = time with linearly interpolated value in [low, high] / interpolated time",
        source=SOURCE,
        warnings=warnings.as_tuple(),
    )
