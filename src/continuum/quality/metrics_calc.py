"""The arithmetic behind the programme metrics and audits: no database, no web.

* Rates per 1,000 ECMO hours (the ELSO convention, docs/clinical/reference.md §7.1) with the
  exact (Garwood) Poisson interval from the chi-square distribution (SciPy).
* Proportions with the Wilson score interval (statsmodels).
* Medians with the interquartile range (NumPy, linear interpolation).
* Kaplan–Meier survival of membrane lungs (lifelines), a lung still in use at decannulation
  or at the end of the run being censored there.
* Time in therapeutic range by Rosendaal interpolation (reuses ``continuum.scores.ttr``).

The statistics libraries are imported inside the functions that use them: the web app and
the CLI start without loading them.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from continuum.scores import ttr as ttr_score

CONFIDENCE = 0.95
HOURS_PER_RATE = 1000.0

# Membrane-lung (and other component) stop reasons, as planned or urgent changes.
# Planned: the device reached the end of its intended life, was changed by protocol, or the
# treatment changed (e.g. a new configuration). Urgent: the device failed or threatened to.
# "other" cannot be classed from the record and counts as not planned. "end_of_run" is not
# a change at all (the lung came off with the patient: a censored life).
PLANNED_REASONS: tuple[str, ...] = ("end_of_product_life", "protocol", "treatment_changed")
URGENT_REASONS: tuple[str, ...] = (
    "oxygenator_failure",
    "rising_transmembrane_gradient",
    "thrombus",
    "haemolysis",
    "device_malfunction",
    "air",
    "rupture",
)
NOT_A_CHANGE: tuple[str, ...] = ("end_of_run",)


def change_class(stop_reason: str | None) -> str | None:
    """'planned', 'urgent', 'unclassified' for a change; None when it was not a change."""
    if stop_reason is None or stop_reason in NOT_A_CHANGE:
        return None
    if stop_reason in PLANNED_REASONS:
        return "planned"
    if stop_reason in URGENT_REASONS:
        return "urgent"
    return "unclassified"


@dataclass(frozen=True)
class Rate:
    """Events per ``per`` exposure units with an exact Poisson interval."""

    events: float
    exposure: float
    per: float
    value: float | None
    low: float | None
    high: float | None


def poisson_interval(count: float, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Exact (Garwood) interval for a Poisson count: χ² quantiles with 2k and 2k+2 df."""
    from scipy.stats import chi2

    alpha = 1.0 - confidence
    low = 0.0 if count <= 0 else float(chi2.ppf(alpha / 2, 2 * count)) / 2
    high = float(chi2.ppf(1 - alpha / 2, 2 * count + 2)) / 2
    return low, high


def rate(count: float, exposure: float, per: float = HOURS_PER_RATE) -> Rate:
    """``count`` events over ``exposure`` (hours, days …), expressed per ``per`` units."""
    if exposure <= 0:
        return Rate(count, exposure, per, None, None, None)
    low, high = poisson_interval(count)
    scale = per / exposure
    return Rate(count, exposure, per, count * scale, low * scale, high * scale)


@dataclass(frozen=True)
class Proportion:
    k: int
    n: int
    value: float | None
    low: float | None
    high: float | None

    @property
    def percent(self) -> float | None:
        return None if self.value is None else 100 * self.value


def proportion(k: int, n: int, confidence: float = CONFIDENCE) -> Proportion:
    """k of n with the Wilson score interval."""
    if n <= 0:
        return Proportion(k, n, None, None, None)
    from statsmodels.stats.proportion import proportion_confint

    low, high = proportion_confint(k, n, alpha=1 - confidence, method="wilson")
    return Proportion(k, n, k / n, float(low), float(high))


@dataclass(frozen=True)
class Spread:
    """Median and interquartile range of n values."""

    n: int
    median: float | None
    q1: float | None
    q3: float | None


def median_iqr(values: Iterable[float]) -> Spread:
    import numpy as np

    data = [v for v in values if v is not None and not math.isnan(v)]
    if not data:
        return Spread(0, None, None, None)
    q1, med, q3 = np.percentile(np.asarray(data, dtype=float), [25, 50, 75])
    return Spread(len(data), float(med), float(q1), float(q3))


@dataclass(frozen=True)
class SurvivalPoint:
    t: float
    survival: float
    low: float
    high: float


@dataclass(frozen=True)
class KaplanMeier:
    n: int
    events: int
    censored: int
    median: float | None  # None: the curve never falls to 0.5
    points: tuple[SurvivalPoint, ...] = field(default_factory=tuple)


def kaplan_meier(durations: Sequence[float], observed: Sequence[bool]) -> KaplanMeier:
    """Kaplan–Meier estimate (lifelines) with its 95 % (exponential Greenwood) band.

    ``observed`` False = censored (the lung was still working when it came off with the
    patient, or is still in use)."""
    if len(durations) != len(observed):
        raise ValueError("durations and observed differ in length")
    events = sum(1 for o in observed if o)
    if not durations:
        return KaplanMeier(0, 0, 0, None)
    from lifelines import KaplanMeierFitter

    fitter = KaplanMeierFitter(alpha=1 - CONFIDENCE)
    fitter.fit(list(durations), event_observed=list(observed))
    surv = fitter.survival_function_.iloc[:, 0]
    band = fitter.confidence_interval_survival_function_
    points = tuple(
        SurvivalPoint(float(t), float(s), float(band.iloc[i, 0]), float(band.iloc[i, 1]))
        for i, (t, s) in enumerate(surv.items())
    )
    median = fitter.median_survival_time_
    med = None if median is None or math.isinf(float(median)) else float(median)
    return KaplanMeier(len(durations), events, len(durations) - events, med, points)


@dataclass(frozen=True)
class TimeInRange:
    inside: float
    observed: float

    @property
    def fraction(self) -> float | None:
        return None if self.observed <= 0 else self.inside / self.observed


def time_in_range(
    samples: Sequence[tuple[datetime, float]], low: float, high: float, max_gap_hours: float
) -> TimeInRange:
    """Hours in range and hours observed for one run (Rosendaal, continuous form)."""
    if len(samples) < 2:
        return TimeInRange(0.0, 0.0)
    points = ttr_score.parse_samples([[t, v] for t, v in samples])
    result = ttr_score.continuous_time(points, low, high, max_gap_hours)
    return TimeInRange(result.inside, result.observed)


def pooled_ttr(parts: Iterable[TimeInRange]) -> TimeInRange:
    inside = observed = 0.0
    for p in parts:
        inside += p.inside
        observed += p.observed
    return TimeInRange(inside, observed)


@dataclass(frozen=True)
class AgeBounds:
    """Upper limits (exclusive) of the neonatal and paediatric groups."""

    neonatal_days: int = 28
    adult_years: int = 18


AGE_GROUPS: tuple[str, ...] = ("neonatal", "paediatric", "adult")


def age_group(birth: date | None, at: date, bounds: AgeBounds) -> str | None:
    """neonatal (0–neonatal_days), paediatric, adult (≥ adult_years); None if unknown."""
    if birth is None:
        return None
    if (at - birth).days <= bounds.neonatal_days:
        return "neonatal"
    years = at.year - birth.year - ((at.month, at.day) < (birth.month, birth.day))
    return "adult" if years >= bounds.adult_years else "paediatric"


@dataclass(frozen=True)
class Shift:
    name: str  # "day" | "night"
    start: datetime  # aware, UTC
    end: datetime


def shifts_within(
    start: datetime, end: datetime, zone: ZoneInfo, day_starts: int, night_starts: int
) -> list[Shift]:
    """The complete shifts (local hand-over hours) lying inside [start, end)."""
    if end <= start:
        return []
    hours = sorted({day_starts % 24, night_starts % 24})
    local = start.astimezone(zone)
    day = local.date() - timedelta(days=1)
    found: list[Shift] = []
    boundaries: list[datetime] = []
    while True:
        for h in hours:
            boundaries.append(datetime(day.year, day.month, day.day, h, tzinfo=zone))
        if boundaries[-1] > end:
            break
        day += timedelta(days=1)
    for b1, b2 in itertools.pairwise(boundaries):
        if b1 >= start and b2 <= end:
            name = "day" if b1.hour == day_starts % 24 else "night"
            if day_starts == night_starts:
                name = "day"
            found.append(Shift(name, b1, b2))
    return found
