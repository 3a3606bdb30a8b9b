"""Sweep-gas context for the membrane-lung detectors: was the gas judged drawn at the
sweep and FdO2 in force now, after they had been steady long enough?

A blood gas describes the membrane lung only at the sweep gas flow and FdO2 it was drawn
at, and only once the blood has settled after a change (docs/clinical/reference.md §4.1,
"Sweep-aware judging"). During VV weaning the sweep is stepped down and switched off for
trials (§6.1): a gas drawn at the old setting, or minutes after a step, says nothing about a
failing membrane. The evaluator has no weaning-trial record (trials live in the weaning
domain); the console's own sweep signal is the context.
"""

from __future__ import annotations

import numpy as np

from continuum.surveillance.grid import MS_PER_MIN, Grid
from continuum.surveillance.settings import SurveillanceSettings

# Smallest reference value a step is judged against: a change from "off" to 0.2 L/min is
# not a step, one to the sweep-on level is (sweep); room-air FdO2 (FdO2).
_FLOOR = {"sweep_flow": None, "sweep_fio2": 0.21}
_NEVER = -np.inf


def step_times(grid: Grid, code: str, s: SurveillanceSettings) -> np.ndarray:
    """Times (ms since epoch, float) at which ``code`` stepped: consecutive samples differing
    by at least ``oxy_setting_step`` of the larger of the two (floored, so noise near zero
    is no step)."""
    if code not in grid.series.signals:
        return np.array([], dtype=float)
    t, v = grid.series.signals[code]
    if len(v) < 2:
        return np.array([], dtype=float)
    floor = _FLOOR[code] if _FLOOR[code] is not None else s.oxy_sweep_on
    ref = np.maximum(np.maximum(np.abs(v[1:]), np.abs(v[:-1])), floor)
    stepped = np.abs(np.diff(v)) >= s.oxy_setting_step * ref
    return t[1:][stepped].astype("int64").astype(float)


def last_step(grid: Grid, s: SurveillanceSettings) -> np.ndarray:
    """Per grid point: the time (ms) of the latest sweep or FdO2 step at or before it."""
    steps = np.sort(np.concatenate([step_times(grid, c, s) for c in _FLOOR]))
    if len(steps) == 0:
        return np.full(len(grid), _NEVER)
    now = grid.times.astype("int64").astype(float)
    idx = np.searchsorted(steps, now, side="right") - 1
    out = np.full(len(grid), _NEVER)
    out[idx >= 0] = steps[idx[idx >= 0]]
    return out


def drawn_at(grid: Grid, code: str, max_age_min: float) -> np.ndarray:
    """Per grid point: when the latest sample of ``code`` was taken (ms; NaN: none recent)."""
    if code not in grid.series.signals:
        return np.full(len(grid), np.nan)
    t, _ = grid.series.signals[code]
    return grid.locf_values(t, t.astype("int64").astype(float), max_age_min)


def settled(grid: Grid, code: str, s: SurveillanceSettings, max_age_min: float) -> np.ndarray:
    """Per grid point: the latest ``code`` sample was drawn at least ``oxy_gas_settle_min``
    after the last sweep/FdO2 step, and no step has happened since (False: no sample)."""
    drawn = drawn_at(grid, code, max_age_min)
    with np.errstate(invalid="ignore"):
        return drawn - last_step(grid, s) >= s.oxy_gas_settle_min * MS_PER_MIN


def sweep_off(grid: Grid, s: SurveillanceSettings) -> np.ndarray:
    """Per grid point: the sweep is known to be off (below ``oxy_sweep_on``)."""
    sweep = grid.locf("sweep_flow", s.gas_max_age_h * 60)
    with np.errstate(invalid="ignore"):
        return sweep < s.oxy_sweep_on
