"""Forecast membrane-lung and pump exchange criteria from the trend (pure: no database or
web imports).

    from continuum.forecast import forecast_run
    [f.to_dict() for f in forecast_run(series)]   # one per criterion: forecast or refusal

See ``trend`` for the method and its refusals, ``criteria`` for the lines in force.
"""

from continuum.forecast.criteria import CRITERIA, CRITERION_CODES, Criterion
from continuum.forecast.forecast import (
    Forecast,
    brief,
    forecast_criterion,
    forecast_recent,
    forecast_run,
    forecasts_along,
    stored_baselines,
)
from continuum.forecast.trend import REASONS, Trend, TrendOptions, fit

__all__ = [
    "CRITERIA",
    "CRITERION_CODES",
    "REASONS",
    "Criterion",
    "Forecast",
    "Trend",
    "TrendOptions",
    "brief",
    "fit",
    "forecast_criterion",
    "forecast_recent",
    "forecast_run",
    "forecasts_along",
    "stored_baselines",
]
