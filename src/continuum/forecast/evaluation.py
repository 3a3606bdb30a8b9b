"""Score forecasts against when the criterion was actually crossed. Pure; no simulator
import: the caller passes the observed series and the noiseless one (the simulator's
``clean`` signals, every minute), and the time up to which the truth holds (a fault ended
by an exchange is no crossing).

- true crossing: the first minute at which the noiseless signal, derived exactly as the
  forecast derives it (same baseline, same line in force), is beyond the line;
- per lead (6, 12, 24 h before it): the forecast made then from the observed data up to
  then: made or refused (with the reason), absolute error of the predicted crossing (h),
  and whether the true crossing lies inside the stated interval;
- controls (no fault): every forecast made is a false forecast.
"""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from continuum.forecast.criteria import CRITERIA
from continuum.forecast.forecast import MS_PER_H, forecast_run
from continuum.surveillance.grid import Grid
from continuum.surveillance.series import RunSeries
from continuum.surveillance.settings import DEFAULT_SETTINGS, SurveillanceSettings

LEADS_H: tuple[int, ...] = (6, 12, 24)
CONTROL_EVERY_H = 6.0


def true_crossing(
    clean: RunSeries,
    criterion: str,
    until: np.datetime64 | None = None,
    settings: SurveillanceSettings | None = None,
) -> np.datetime64 | None:
    """The first time the noiseless signal is beyond the criterion's line (before ``until``)."""
    s = settings or DEFAULT_SETTINGS
    c = CRITERIA[criterion]
    grid = Grid.over(clean, s.grid_step_s)
    t, v, line, _ = c.signal(grid, s)
    if not np.isfinite(line) or len(t) == 0:
        return None
    with np.errstate(invalid="ignore"):
        beyond = (v >= line) if c.rising else (v <= line)
    if until is not None:
        beyond &= t < until
    hit = np.flatnonzero(beyond)
    return None if len(hit) == 0 else t[hit[0]]


@dataclass
class Tally:
    """One fault kind × criterion × lead."""

    asked: int = 0
    made: int = 0
    errors_h: list[float] = field(default_factory=list)
    covered: int = 0
    refusals: Counter[str] = field(default_factory=Counter)

    def row(self) -> dict[str, Any]:
        return {
            "crossings": self.asked,
            "forecasts_made": self.made,
            "median_abs_error_h": round(statistics.median(self.errors_h), 1)
            if self.errors_h
            else None,
            "interval_coverage": round(self.covered / self.made, 2) if self.made else None,
            "refused": dict(self.refusals.most_common()),
        }


@dataclass
class ForecastScore:
    faults: dict[tuple[str, str, int], Tally] = field(default_factory=dict)
    control_asked: Counter[str] = field(default_factory=Counter)
    control_false: Counter[str] = field(default_factory=Counter)
    control_days: float = 0.0

    def score_fault_run(
        self,
        fault: str,
        series: RunSeries,
        clean: RunSeries,
        until: np.datetime64 | None,
        settings: SurveillanceSettings | None = None,
    ) -> None:
        span = series.span()
        if span is None:
            return
        for code in CRITERIA:
            crossed = true_crossing(clean, code, until, settings)
            if crossed is None:
                continue
            for lead in LEADS_H:
                at = crossed - np.timedelta64(lead * MS_PER_H, "ms")
                if at < span[0] + np.timedelta64(MS_PER_H, "ms"):
                    continue
                tally = self.faults.setdefault((fault, code, lead), Tally())
                tally.asked += 1
                f = forecast_run(series, now=at, settings=settings, only=(code,))[0]
                if not f.made:
                    tally.refusals[f.reason or "?"] += 1
                    continue
                tally.made += 1
                predicted = f.crossing_at
                assert predicted is not None
                tally.errors_h.append(abs(float((predicted - crossed) / np.timedelta64(1, "h"))))
                early, late = f.interval or (None, None)
                if early is not None and early <= crossed and (late is None or crossed <= late):
                    tally.covered += 1

    def score_control_run(
        self, series: RunSeries, hours: float, settings: SurveillanceSettings | None = None
    ) -> None:
        span = series.span()
        if span is None:
            return
        self.control_days += hours / 24
        t = span[0] + np.timedelta64(int(CONTROL_EVERY_H * MS_PER_H), "ms")
        while t <= span[1]:
            for f in forecast_run(series, now=t, settings=settings):
                self.control_asked[f.criterion] += 1
                if f.made:
                    self.control_false[f.criterion] += 1
            t = t + np.timedelta64(int(CONTROL_EVERY_H * MS_PER_H), "ms")

    def result(self) -> dict[str, Any]:
        return {
            "leads_h": list(LEADS_H),
            "interval_level": 0.8,
            "faults": [
                {"fault": fault, "criterion": code, "lead_h": lead, **t.row()}
                for (fault, code, lead), t in sorted(self.faults.items())
            ],
            "controls": {
                "run_days": round(self.control_days, 2),
                "every_h": CONTROL_EVERY_H,
                "criteria": {
                    code: {
                        "forecasts_asked": self.control_asked[code],
                        "false_forecasts": self.control_false[code],
                        "false_per_run_day": round(self.control_false[code] / self.control_days, 3)
                        if self.control_days
                        else None,
                    }
                    for code in CRITERIA
                },
            },
        }
