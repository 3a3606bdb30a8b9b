"""The exchange criteria a forecast can aim at, each read from the thresholds in force
(``SurveillanceSettings``): what signal it follows, how it is derived from the run's
observations, which component change restarts it, the line, and the trend shape.

Each ``signal`` function returns (times datetime64[ms], values, line, details) for the whole
series; the values are what the trend is fitted on (console signals: the detectors' own
30-minute rolling medians; gases and labs: each result).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from continuum.forecast.trend import LINEAR, LOG
from continuum.physiology.gas_exchange import oxygenator_o2_transfer
from continuum.surveillance.base import ratio
from continuum.surveillance.grid import Grid, rolling_median
from continuum.surveillance.pump_thrombosis import expected_rpm
from continuum.surveillance.settings import SurveillanceSettings
from continuum.surveillance.sweep import step_times
from continuum.surveillance.transmembrane_gradient_rise import delta_p, resistance_rise

Signal = tuple[np.ndarray, np.ndarray, float, dict[str, Any]]
EMPTY: Signal = (np.array([], dtype="datetime64[ms]"), np.array([]), float("nan"), {})


@dataclass(frozen=True)
class Criterion:
    code: str
    label: str
    short: str  # what the board shows: "ΔP/flow"
    component: str  # "oxygenator" or "pump": the exchange it argues for
    unit: str
    rising: bool
    method: str
    resets: tuple[str, ...]
    inputs: tuple[str, ...]
    threshold: str  # the setting the line comes from
    signal: Callable[[Grid, SurveillanceSettings], Signal]
    console: bool  # a per-minute console signal (sampled hourly for the fit)
    min_points: int = 6
    window_h: float = 36.0
    # ratio of true to predicted hours ahead, 10th and 90th centile, on the simulator's
    # tuning seeds 1–5 (docs/forecast.md); widens the interval for the straight line's
    # lag behind an accelerating fault
    allowance: tuple[float, float] = (1.0, 1.0)
    # console signals wander slowly on steady runs: a trend must have covered this share of
    # the way from where the fit starts to the line
    min_covered: float = 0.0
    # console criteria: the values at given grid positions only, when the stored baselines
    # allow (None: not possible, use ``signal``)
    signal_at: Callable[[Grid, SurveillanceSettings, np.ndarray], Signal | None] | None = None
    # criteria read on their own baseline: the level now must have come this share of the way
    # from the baseline to the line before a crossing is forecast (below it, the rise is the
    # size of the wander seen on fault-free runs)
    min_rise: float = 0.0

    def line_text(self, s: SurveillanceSettings, line: float) -> str:
        return f"{_fmt(line)} {self.unit}"


def _fmt(x: float) -> str:
    return f"{x:.3g}" if abs(x) < 10 else f"{x:.0f}"


def _dp_per_flow(grid: Grid, s: SurveillanceSettings) -> Signal:
    tr = resistance_rise(grid, s)
    base = tr["baseline_dp_per_flow"]
    last = base[np.isfinite(base)]
    if len(last) == 0:
        return grid.times, tr["dp_per_flow"], float("nan"), {"baseline": None}
    b = float(last[-1])
    line = b * (1 + s.tmp_rise_warning)
    return (
        grid.times,
        tr["dp_per_flow"],
        line,
        {"baseline": round(b, 3), "rise_fraction": s.tmp_rise_warning},
    )


def _pump_drift(grid: Grid, s: SurveillanceSettings) -> Signal:
    n = grid.minutes(s.pump_smoothing_min)
    rpm = rolling_median(grid.locf("pump_speed", s.console_max_gap_min), n)
    flow = rolling_median(grid.locf("blood_flow", s.console_max_gap_min), n)
    drift = ratio(rpm, expected_rpm(grid, rpm, flow, s)) - 1
    access = rolling_median(grid.locf("p_access", s.console_max_gap_min), n)
    with np.errstate(invalid="ignore"):
        drift[access < s.access_warning] = np.nan
    return grid.times, drift, s.pump_drift_warning, {}


def hourly(grid: Grid, hours: float) -> np.ndarray:
    """Grid positions one hour apart, counted back from the latest, over the last ``hours``."""
    step, n = grid.minutes(60), len(grid)
    return np.arange(n - 1, max(n - 1 - grid.minutes(hours * 60), -1), -step)[::-1]


def _median_at(x: np.ndarray, n: int, idx: np.ndarray) -> np.ndarray:
    """``rolling_median(x, n)`` at positions ``idx`` only (same windows, same rule: NaN when
    fewer than half of the window is valid)."""
    out = np.full(len(idx), np.nan)
    for k, i in enumerate(idx):
        w = x[max(i - n + 1, 0) : i + 1]
        w = w[np.isfinite(w)]
        if len(w) >= max(int(np.ceil(n * 0.5)), 1):
            out[k] = np.median(w)
    return out


def _one_segment(grid: Grid, resets: tuple[str, ...]) -> bool:
    return len(grid.segments(resets)) == 1


def _dp_per_flow_at(grid: Grid, s: SurveillanceSettings, idx: np.ndarray) -> Signal | None:
    """Incremental use (a stored baseline, no oxygenator change in the window): the same
    smoothed ΔP/flow as ``resistance_rise``, computed at ``idx`` only."""
    b = grid.series.baselines.get("dp_per_flow")
    if b is None or b <= 0 or not _one_segment(grid, ("oxygenator",)):
        return None
    flow = grid.locf("blood_flow", s.console_max_gap_min)
    flow = np.where(flow >= s.tmp_min_flow, flow, np.nan)
    v = _median_at(ratio(delta_p(grid, s), flow), grid.minutes(s.tmp_smoothing_min), idx)
    details = {"baseline": round(b, 3), "rise_fraction": s.tmp_rise_warning}
    return grid.times[idx], v, b * (1 + s.tmp_rise_warning), details


def _pump_drift_at(grid: Grid, s: SurveillanceSettings, idx: np.ndarray) -> Signal | None:
    """Incremental use (a stored rpm per L/min, no pump change in the window): the same
    drift as ``_pump_drift``, computed at ``idx`` only."""
    per_flow = grid.series.baselines.get("rpm_per_flow")
    if not per_flow or not _one_segment(grid, ("pump",)):
        return None
    n, gap = grid.minutes(s.pump_smoothing_min), s.console_max_gap_min
    rpm = _median_at(grid.locf("pump_speed", gap), n, idx)
    flow = _median_at(grid.locf("blood_flow", gap), n, idx)
    access = _median_at(grid.locf("p_access", gap), n, idx)
    drift = ratio(rpm, per_flow * flow) - 1
    with np.errstate(invalid="ignore"):
        drift[access < s.access_warning] = np.nan
    return grid.times[idx], drift, s.pump_drift_warning, {}


def _samples(grid: Grid, code: str) -> tuple[np.ndarray, np.ndarray]:
    if not grid.series.has(code):
        return EMPTY[0], EMPTY[1]
    return grid.series.signals[code]


def _at(grid: Grid, code: str, t: np.ndarray, max_age_min: float) -> np.ndarray:
    """The latest value of ``code`` at each time ``t`` (NaN when none recent enough)."""
    if not grid.series.has(code):
        return np.full(len(t), np.nan)
    st, sv = grid.series.signals[code]
    idx = np.searchsorted(st, t, side="right") - 1
    out = np.full(len(t), np.nan)
    ok = idx >= 0
    age = (t[ok] - st[idx[ok]]) / np.timedelta64(1, "m")
    pos = np.flatnonzero(ok)[age <= max_age_min]
    out[pos] = sv[idx[pos]]
    return out


def _same_setting(
    then: np.ndarray, now: float, s: SurveillanceSettings, floor: float
) -> np.ndarray:
    """``then`` within one setting step (``oxy_setting_step`` of the larger value) of ``now``;
    an unknown value counts as the same (a run that never charts its sweep is judged as
    before)."""
    if not np.isfinite(now):
        return np.ones(len(then), dtype=bool)
    ref = np.maximum(np.maximum(np.abs(then), abs(now)), floor)
    with np.errstate(invalid="ignore"):
        return ~np.isfinite(then) | (np.abs(then - now) < s.oxy_setting_step * ref)


def comparable_gases(grid: Grid, t: np.ndarray, s: SurveillanceSettings) -> np.ndarray:
    """Per gas drawn at ``t``: drawn at the sweep gas flow and FdO2 in force at the end of the
    data, once they had settled (``oxy_gas_settle_min`` after the last step before it).

    A membrane-lung gas describes the membrane only at the sweep and FdO2 it was drawn at
    (docs/clinical/reference.md §4.1): a trend across a weaning step-down reads the lower
    setting as a failing membrane. Gases from before a step count again once the setting is
    back where it was."""
    if len(t) == 0:
        return np.zeros(0, dtype=bool)
    age = s.gas_max_age_h * 60
    end = grid.times[-1:] if len(grid) else t[-1:]
    ok = np.ones(len(t), dtype=bool)
    for code, floor in (("sweep_flow", s.oxy_sweep_on), ("sweep_fio2", 0.21)):
        then = _at(grid, code, t, age)
        now = float(_at(grid, code, end, age)[0])
        ok &= _same_setting(then, now, s, floor)
    steps = np.sort(np.concatenate([step_times(grid, c, s) for c in ("sweep_flow", "sweep_fio2")]))
    if len(steps):
        drawn = t.astype("datetime64[ms]").astype("int64").astype(float)
        k = np.searchsorted(steps, drawn, side="right") - 1
        last = np.where(k >= 0, steps[np.maximum(k, 0)], -np.inf)
        ok &= drawn - last >= s.oxy_gas_settle_min * 60_000
    return ok


def _po2_per_fdo2(grid: Grid, s: SurveillanceSettings) -> Signal:
    t, po2 = _samples(grid, "post_oxy_po2")
    if len(t) == 0:
        return EMPTY
    age = s.gas_max_age_h * 60
    fdo2 = _at(grid, "sweep_fio2", t, age)
    fdo2 = np.where(np.isfinite(fdo2), fdo2, 1.0)
    sweep = _at(grid, "sweep_flow", t, age)
    same = comparable_gases(grid, t, s)
    with np.errstate(invalid="ignore"):
        v = np.where((sweep < s.oxy_sweep_on) | ~same, np.nan, po2 / fdo2)
    current = float(fdo2[-1])
    return (
        t,
        v,
        s.oxy_po2_malfunction,
        {
            "current_fdo2": current,
            "po2_line_at_current_fdo2_mmhg": round(s.oxy_po2_malfunction * current, 1),
            "gases_at_another_sweep_or_fdo2": int((~same).sum()),
        },
    )


# Pre-oxygenator saturation above 100 − this: too little desaturation to judge the membrane by
O2_MIN_DESATURATION_PCT = 5.0


def _o2_transfer(grid: Grid, s: SurveillanceSettings) -> Signal:
    """Membrane-lung O2 transfer (mL/min) at the first day's blood flow, Hb and
    pre-oxygenator saturation, per gas drawn with the sweep on; the line is its own first-day
    median less ``oxy_po2_fall``."""
    t, post_po2 = _samples(grid, "post_oxy_po2")
    if len(t) == 0:
        return EMPTY
    gas, lab = s.gas_max_age_h * 60, s.lab_max_age_h * 60
    flow = _at(grid, "blood_flow", t, s.console_max_gap_min)
    hb = _at(grid, "hb", t, lab)
    pre_so2, pre_po2 = _at(grid, "pre_oxy_so2", t, gas), _at(grid, "pre_oxy_po2", t, gas)
    post_so2 = _at(grid, "post_oxy_so2", t, gas)
    fdo2 = _at(grid, "sweep_fio2", t, gas)
    fdo2 = np.where(np.isfinite(fdo2) & (fdo2 > 0), fdo2, 1.0)
    # dissolved O2 at FdO2 1.0: a lower FdO2 is a setting, not a failing membrane (the
    # post-oxygenator pO2 is read per FdO2, as the pO2/FdO2 criterion reads it)
    at_full = post_po2 / fdo2
    raw = np.asarray(oxygenator_o2_transfer(flow, hb, pre_so2, pre_po2, post_so2, at_full))  # type: ignore[arg-type]
    sweep = _at(grid, "sweep_flow", t, gas)
    with np.errstate(invalid="ignore"):
        # the sweep off (a weaning trial) or the blood arriving nearly saturated: the
        # membrane has (almost) nothing to do, and its transfer says nothing about it
        idle = (sweep < s.oxy_sweep_on) | (100.0 - pre_so2 < O2_MIN_DESATURATION_PCT)
    raw = np.where(idle | ~np.isfinite(raw), np.nan, raw)
    starts = np.searchsorted(t, grid.times[grid.segments(("oxygenator",))], side="left")
    # At the first day's conditions: the O2 the membrane can give is set by the blood it is
    # given (Qb × Hb × (100 − SpreO2)). As the native lung recovers, Hb falls or the flow is
    # turned down, a sound membrane transfers less: each value is scaled by the first day's
    # capacity over its own, which leaves the membrane's share of the work — only a failing
    # membrane loses it. (The dissolved O2 scales with the flow alone, so this over-corrects
    # it a little; measured, it does better than scaling the two parts apart: docs/forecast.md.)
    with np.errstate(invalid="ignore"):
        capacity = np.where(np.isfinite(raw), flow * hb * (100.0 - pre_so2), np.nan)
    cap_b = _sample_baseline(t, capacity, starts, 24.0)
    stored = grid.series.baselines.get("o2_transfer_capacity")
    if stored is not None and len(starts) <= 1:
        cap_b[:] = stored  # incremental use: stored with the membrane's baseline
    with np.errstate(invalid="ignore", divide="ignore"):
        v = np.where(np.isfinite(cap_b), raw * cap_b / capacity, raw)
    base = _sample_baseline(t, v, starts, 24.0)
    given = grid.series.baselines.get("o2_transfer")
    if given is not None and len(starts) <= 1:
        base[:] = given  # incremental use: the membrane lung's stored first-day baseline
    if not np.isfinite(base[-1]):
        return t, v, float("nan"), {"baseline": None}
    b = float(base[-1])
    details: dict[str, Any] = {"baseline": round(b, 1), "fall": s.oxy_po2_fall}
    if np.isfinite(cap_b[-1]):
        details["capacity_first_day"] = round(float(cap_b[-1]), 1)
    return t, v, b * (1 - s.oxy_po2_fall), details


def _sample_baseline(t: np.ndarray, v: np.ndarray, starts: np.ndarray, hours: float) -> np.ndarray:
    """Per sample: the median of its segment's samples in the first ``hours``, NaN before
    that window has passed."""
    out = np.full(len(v), np.nan)
    bounds = [*np.unique(starts).tolist(), len(v)]
    for a, b in itertools.pairwise(bounds):
        if b <= a:
            continue
        end = t[a] + np.timedelta64(int(hours * 60), "m")
        inside = (t[a:b] <= end) & np.isfinite(v[a:b])
        after = np.flatnonzero(t[a:b] > end)
        if inside.sum() >= 2 and len(after):
            out[a + after[0] : b] = np.median(v[a:b][inside])
    return out


def _pfhb(grid: Grid, s: SurveillanceSettings) -> Signal:
    t, v = _samples(grid, "pfhb")
    return t, v, s.pfhb_warning, {}


CRITERIA: dict[str, Criterion] = {
    c.code: c
    for c in (
        Criterion(
            "dp_per_flow", "membrane-lung ΔP per L/min (rise on its own baseline)", "ΔP/flow",
            "oxygenator", "mmHg per L/min", True, LINEAR, ("oxygenator",),
            ("oxy_delta_p", "p_preoxy", "p_postoxy", "blood_flow"), "tmp_rise_warning",
            _dp_per_flow, True, 6, 36.0, (0.17, 4.08), 0.4, _dp_per_flow_at, min_rise=0.5,
        ),
        Criterion(
            "post_oxy_po2", "post-oxygenator pO2 per FdO2", "post-oxygenator pO2",
            "oxygenator", "mmHg per FdO2", False, LINEAR, ("oxygenator",),
            ("post_oxy_po2", "sweep_fio2", "sweep_flow"),
            "oxy_po2_malfunction", _po2_per_fdo2, False, 4, 24.0, (0.12, 1.0),
        ),
        Criterion(
            "o2_transfer",
            "membrane-lung O2 transfer at the first day's flow, Hb and venous saturation (fall "
            "on its own first day)",
            "O2 transfer",
            "oxygenator", "mL/min", False, LINEAR, ("oxygenator",),
            ("blood_flow", "hb", "pre_oxy_so2", "pre_oxy_po2", "post_oxy_so2", "post_oxy_po2",
             "sweep_flow"),
            "oxy_po2_fall", _o2_transfer, False, 4, 24.0, (0.12, 1.0), 0.4,
        ),
        Criterion(
            "pump_drift", "pump speed above the speed expected for the flow",
            "pump speed for the flow", "pump", "fraction", True, LINEAR, ("pump",),
            ("pump_speed", "blood_flow", "p_access"),
            "pump_drift_warning", _pump_drift, True, 6, 12.0, (0.10, 1.0), 0.4, _pump_drift_at,
        ),
        Criterion(
            "pfhb", "plasma free haemoglobin", "free Hb", "pump", "mg/dL", True, LOG, ("pump",),
            ("pfhb",), "pfhb_warning", _pfhb, False, 4, 48.0, (0.05, 1.0),
        ),
    )
}  # fmt: skip
CRITERION_CODES: tuple[str, ...] = tuple(CRITERIA)
