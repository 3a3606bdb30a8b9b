"""oxygenator_dysfunction: gas-exchange failure of the membrane lung (Lubnow 2014 Table 6).

O2 rule: post-oxygenator pO2 below 200 mmHg at FdO2 1.0, judged as pO2/FdO2 < 200 so a
lowered FdO2 (VA hyperoxaemia avoidance) is allowed for (an approximation at FdO2 < 1).
CO2 rule: post-oxygenator pCO2 > 45 mmHg at sweep ≥ 10 L/min, or pre − post pCO2 < 5 mmHg.
Trend: pO2/FdO2 fallen ≥ 25% from the membrane's own first day and below 400 → info.
One rule → warning, both → critical. Not judged while the sweep is off (weaning trials).
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

CODE = "oxygenator_dysfunction"
RESETS = ("oxygenator",)


def _traces(grid: Grid, s: SurveillanceSettings) -> dict[str, np.ndarray]:
    age = s.gas_max_age_h * 60
    fdo2 = grid.locf("sweep_fio2", age)
    fdo2 = np.where(np.isfinite(fdo2), fdo2, 1.0)
    sweep = grid.locf("sweep_flow", age)
    sweep_on = ~(sweep < s.oxy_sweep_on)
    po2_per_fdo2 = np.where(sweep_on, ratio(grid.locf("post_oxy_po2", age), fdo2), np.nan)
    post_co2 = grid.locf("post_oxy_pco2", age)
    co2_gradient = grid.locf("pre_oxy_pco2", age) - post_co2
    base = baseline(grid, "po2_per_fdo2", po2_per_fdo2, grid.segments(RESETS), s, hours=24)
    return {
        "po2_per_fdo2": po2_per_fdo2,
        "baseline_po2_per_fdo2": base,
        "post_oxy_pco2": np.where(sweep_on, post_co2, np.nan),
        "pco2_pre_minus_post": np.where(sweep_on, co2_gradient, np.nan),
        "sweep_flow": sweep,
        "fdo2": fdo2,
    }


def _levels(t: dict[str, np.ndarray], s: SurveillanceSettings) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        o2_bad = t["po2_per_fdo2"] < s.oxy_po2_malfunction
        co2_bad = (
            (t["post_oxy_pco2"] > s.oxy_pco2_post_max) & (t["sweep_flow"] >= s.oxy_pco2_sweep_min)
        ) | (t["pco2_pre_minus_post"] < s.oxy_pco2_gradient_min)
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
        f"pre−post pCO2 < {num(s.oxy_pco2_gradient_min)} mmHg (CO2 rule); one → warning, both "
        f"→ critical; pO2/FdO2 ≥ {pct(s.oxy_po2_fall)} below the membrane's first-day baseline "
        f"and < {num(s.oxy_po2_acceptable)} → info; not judged at sweep < "
        f"{num(s.oxy_sweep_on)} L/min"
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
        parts.append(f"pCO2 pre−post {v['pco2_pre_minus_post']:.0f} mmHg")
    detail = "; ".join(parts) or "gas-exchange values"
    return (
        f"Membrane-lung gas exchange failing ({detail}): check gas supply and blender "
        "first, then consider oxygenator change"
    )
