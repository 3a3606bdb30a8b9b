"""oxygenator_dysfunction: gas-exchange failure of the membrane lung (Lubnow 2014 Table 6).

O2 rule: post-oxygenator pO2 below 200 mmHg at FdO2 1.0, judged as pO2/FdO2 < 200 so a
lowered FdO2 (VA hyperoxaemia avoidance) is allowed for (an approximation at FdO2 < 1).
CO2 rule: post-oxygenator pCO2 > 45 mmHg at sweep ≥ 10 L/min, or pre − post pCO2 < 5 mmHg;
the pre − post limit is scaled by sweep/4 L/min below 4 L/min and not judged below 2 L/min
(CO2 removal is sweep-limited: a small difference at a weaning sweep is expected).
Trend: pO2/FdO2 fallen ≥ 25% from the membrane's own first day and below 400 → info.
One rule → warning, both → critical. Not judged while the sweep is off (weaning trials), nor
from a gas drawn within 15 min after a sweep/FdO2 step or before one (``sweep.settled``).
An unknown FdO2 is taken as 1.0 (Lubnow's condition; errs towards alerting).
"""

from __future__ import annotations

import numpy as np

from continuum.surveillance.base import (
    CRITICAL,
    INFO,
    NORMAL,
    UNKNOWN,
    WARNING,
    Evaluation,
    baseline,
    num,
    pct,
    ratio,
)
from continuum.surveillance.grid import Grid
from continuum.surveillance.series import RunTargets
from continuum.surveillance.settings import SurveillanceSettings
from continuum.surveillance.sweep import settled, sweep_off

CODE = "oxygenator_dysfunction"
RESETS = ("oxygenator",)


def _traces(grid: Grid, s: SurveillanceSettings) -> dict[str, np.ndarray]:
    age = s.gas_max_age_h * 60
    fdo2 = grid.locf("sweep_fio2", age)
    fdo2 = np.where(np.isfinite(fdo2), fdo2, 1.0)
    sweep = grid.locf("sweep_flow", age)
    sweep_on = ~sweep_off(grid, s)
    # a gas counts only at the sweep/FdO2 it was drawn at, once they had settled
    o2_ok = sweep_on & settled(grid, "post_oxy_po2", s, age)
    post_ok = sweep_on & settled(grid, "post_oxy_pco2", s, age)
    pre_ok = settled(grid, "pre_oxy_pco2", s, age)
    po2_per_fdo2 = np.where(o2_ok, ratio(grid.locf("post_oxy_po2", age), fdo2), np.nan)
    post_co2 = grid.locf("post_oxy_pco2", age)
    co2_gradient = grid.locf("pre_oxy_pco2", age) - post_co2
    with np.errstate(invalid="ignore"):
        # an unknown sweep is judged at the full limit (errs towards alerting, like FdO2)
        gradient_judged = post_ok & pre_ok & ~(sweep < s.oxy_pco2_gradient_sweep_min)
        scale = np.where(np.isfinite(sweep), sweep / s.oxy_pco2_gradient_sweep_full, 1.0)
        limit = s.oxy_pco2_gradient_min * np.minimum(scale, 1.0)
    base = baseline(grid, "po2_per_fdo2", po2_per_fdo2, grid.segments(RESETS), s, hours=24)
    return {
        "po2_per_fdo2": po2_per_fdo2,
        "baseline_po2_per_fdo2": base,
        "post_oxy_pco2": np.where(post_ok, post_co2, np.nan),
        "pco2_pre_minus_post": np.where(gradient_judged, co2_gradient, np.nan),
        "pco2_gradient_limit": np.where(gradient_judged, limit, np.nan),
        "sweep_flow": sweep,
        "fdo2": fdo2,
    }


def _levels(t: dict[str, np.ndarray], s: SurveillanceSettings) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        o2_bad = t["po2_per_fdo2"] < s.oxy_po2_malfunction
        co2_bad = (
            (t["post_oxy_pco2"] > s.oxy_pco2_post_max) & (t["sweep_flow"] >= s.oxy_pco2_sweep_min)
        ) | (t["pco2_pre_minus_post"] < t["pco2_gradient_limit"])
        fall = ratio(t["po2_per_fdo2"], t["baseline_po2_per_fdo2"]) <= 1 - s.oxy_po2_fall
        trend = fall & (t["po2_per_fdo2"] < s.oxy_po2_acceptable)
    known = (
        np.isfinite(t["po2_per_fdo2"])
        | np.isfinite(t["pco2_pre_minus_post"])
        | (np.isfinite(t["post_oxy_pco2"]) & (t["sweep_flow"] >= s.oxy_pco2_sweep_min))
    )
    level = np.full(len(o2_bad), UNKNOWN, dtype=np.int8)
    level[known] = NORMAL
    level[trend] = INFO
    level[o2_bad | co2_bad] = WARNING
    level[o2_bad & co2_bad] = CRITICAL
    return level


def rule_text(s: SurveillanceSettings) -> str:
    """The rule as a clinician reads it, with the thresholds in force."""
    return (
        f"post-oxygenator pO2/FdO2 < {num(s.oxy_po2_malfunction)} mmHg (O2 rule); post pCO2 > "
        f"{num(s.oxy_pco2_post_max)} mmHg at sweep ≥ {num(s.oxy_pco2_sweep_min)} L/min or "
        f"pre−post pCO2 < {num(s.oxy_pco2_gradient_min)} mmHg (CO2 rule; limit scaled by "
        f"sweep/{num(s.oxy_pco2_gradient_sweep_full)} L/min below "
        f"{num(s.oxy_pco2_gradient_sweep_full)} L/min, not judged below "
        f"{num(s.oxy_pco2_gradient_sweep_min)} L/min); one → warning, both "
        f"→ critical; pO2/FdO2 ≥ {pct(s.oxy_po2_fall)} below the membrane's first-day baseline "
        f"and < {num(s.oxy_po2_acceptable)} → info; not judged at sweep < "
        f"{num(s.oxy_sweep_on)} L/min, nor from a gas drawn < {num(s.oxy_gas_settle_min)} min "
        f"after a sweep or FdO2 step (≥ {pct(s.oxy_setting_step)}) or before one"
    )


def evaluate(grid: Grid, s: SurveillanceSettings, targets: RunTargets) -> Evaluation | None:
    sr = grid.series
    if not (sr.has("post_oxy_po2") or sr.has("post_oxy_pco2")):
        return None
    t = _traces(grid, s)
    return Evaluation(
        CODE,
        _levels(t, s),
        1,
        1,
        grid.segments(RESETS),
        rule=rule_text(s),
        thresholds=(
            "oxy_po2_malfunction",
            "oxy_pco2_post_max",
            "oxy_pco2_sweep_min",
            "oxy_pco2_gradient_min",
            "oxy_po2_acceptable",
            "oxy_po2_fall",
            "oxy_sweep_on",
            "oxy_gas_settle_min",
            "oxy_setting_step",
            "oxy_pco2_gradient_sweep_min",
            "oxy_pco2_gradient_sweep_full",
        ),
        inputs=("post_oxy_po2", "post_oxy_pco2", "pre_oxy_pco2", "sweep_fio2", "sweep_flow"),
        trace=t,
        peak="po2_per_fdo2",
        peak_high=False,
        baseline="baseline_po2_per_fdo2",
        summary=_summary,
    )


def _summary(v: dict[str, float | None], severity: str) -> str:
    parts = []
    if v["po2_per_fdo2"] is not None:
        parts.append(
            f"post-oxygenator pO2 {v['po2_per_fdo2'] * (v['fdo2'] or 1):.0f} mmHg at "
            f"FdO2 {v['fdo2'] or 1:.2f}"
        )
    if v["pco2_pre_minus_post"] is not None:
        sweep = v["sweep_flow"]
        at_sweep = f" at sweep {sweep:g} L/min" if sweep is not None else ""
        parts.append(f"pCO2 pre−post {v['pco2_pre_minus_post']:.0f} mmHg{at_sweep}")
    detail = "; ".join(parts) or "gas-exchange values"
    return (
        f"Membrane-lung gas exchange failing ({detail}): check gas supply and blender "
        "first, then consider oxygenator change"
    )
