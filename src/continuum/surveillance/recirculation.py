"""recirculation (VV only): recirculation fraction R = (SpreO2 − SvO2)/(SpostO2 − SvO2)
(ELSO 2015, docs/clinical/reference.md §3.6) high, with the patient's saturation falling.

R ≥ 20% → info; with patient saturation ≥ 3 points below its own baseline → warning;
R ≥ 50% with falling saturation → critical. With a measured SvO2, R itself is judged (a
hypoxaemic patient's low SvO2 can give a high R at drainage saturations < 75%). Without a
true venous saturation (SvO2 is not measurable on the circuit) a proxy is used: drainage
saturation ≥ 10 points above its own baseline → info, with falling patient saturation →
warning; the proxy is not judged below 75% drainage saturation ("significant recirculation
unlikely", nickmmark calculator). Not judged while the sweep is off (no membrane O2
transfer, so pre-, post-oxygenator and venous saturations converge), nor from saturations
drawn before, or within 15 min after, a sweep/FdO2 step (``sweep.settled``).
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
from continuum.surveillance.grid import Grid, rolling_median
from continuum.surveillance.series import RunTargets
from continuum.surveillance.settings import SurveillanceSettings
from continuum.surveillance.sweep import settled, sweep_off

CODE = "recirculation"
RESETS = ("circuit",)


def patient_saturation(grid: Grid, s: SurveillanceSettings) -> np.ndarray:
    spo2 = rolling_median(grid.locf("spo2", s.console_max_gap_min), grid.minutes(15))
    sao2 = grid.locf("sao2", s.gas_max_age_h * 60)
    return np.where(np.isfinite(spo2), spo2, sao2)


def _traces(grid: Grid, s: SurveillanceSettings) -> dict[str, np.ndarray]:
    age = s.gas_max_age_h * 60
    # With the sweep off the membrane adds no O2, so there is nothing to recirculate: not
    # judged then, nor from saturations drawn before or just after a sweep/FdO2 step.
    judged = ~sweep_off(grid, s)
    pre = rolling_median(grid.locf("pre_oxy_so2", age), grid.minutes(15))
    pre = np.where(judged & settled(grid, "pre_oxy_so2", s, age), pre, np.nan)
    post = grid.locf("post_oxy_so2", age)
    post = np.where(judged & settled(grid, "post_oxy_so2", s, age), post, np.nan)
    svo2 = grid.locf("svo2", age)
    r = ratio(pre - svo2, post - svo2)
    with np.errstate(invalid="ignore"):
        r[~((post - svo2) > 1)] = np.nan
    starts = grid.segments(RESETS)
    sat = patient_saturation(grid, s)
    return {
        "recirculation_fraction": r,
        "pre_oxy_so2": pre,
        "post_oxy_so2": post,
        "svo2": svo2,
        "patient_saturation": sat,
        "baseline_patient_saturation": baseline(grid, "patient_saturation", sat, starts, s),
        "baseline_pre_oxy_so2": baseline(grid, "pre_oxy_so2", pre, starts, s),
    }


def _levels(t: dict[str, np.ndarray], s: SurveillanceSettings) -> np.ndarray:
    r, pre = t["recirculation_fraction"], t["pre_oxy_so2"]
    with np.errstate(invalid="ignore"):
        fall = t["baseline_patient_saturation"] - t["patient_saturation"] >= s.recirc_sat_fall
        proxy = np.isnan(r) & (pre - t["baseline_pre_oxy_so2"] >= s.recirc_pre_so2_rise)
        proxy &= pre >= s.recirc_pre_so2_min
        high = (r >= s.recirc_fraction) | proxy
        very = r >= s.recirc_critical
        normal = (r < s.recirc_fraction * 0.75) | (
            np.isnan(r)
            & (
                (pre < s.recirc_pre_so2_min)
                | (pre - t["baseline_pre_oxy_so2"] < s.recirc_pre_so2_rise / 2)
            )
        )
    level = np.full(len(r), UNKNOWN, dtype=np.int8)
    level[normal] = NORMAL
    level[high] = INFO
    level[high & fall] = WARNING
    level[very & fall] = CRITICAL
    return level


def rule_text(s: SurveillanceSettings) -> str:
    """The rule as a clinician reads it, with the thresholds in force."""
    return (
        f"R = (SpreO2 − SvO2)/(SpostO2 − SvO2) ≥ {pct(s.recirc_fraction)} (or, without SvO2, "
        f"drainage saturation ≥ {num(s.recirc_pre_so2_rise)} points above baseline) → info; "
        f"with patient saturation ≥ {num(s.recirc_sat_fall)} points below baseline → warning; "
        f"R ≥ {pct(s.recirc_critical)} with falling saturation → critical; sustained "
        f"{num(s.recirc_persist_min)} min; proxy not judged at drainage saturation < "
        f"{num(s.recirc_pre_so2_min)}%; not judged at sweep < {num(s.oxy_sweep_on)} L/min "
        f"(no membrane O2 transfer to recirculate), nor from saturations drawn < "
        f"{num(s.oxy_gas_settle_min)} min after a sweep or FdO2 step or before one"
    )


def evaluate(grid: Grid, s: SurveillanceSettings, targets: RunTargets) -> Evaluation | None:
    if not grid.series.applies(CODE) or not grid.series.has("pre_oxy_so2"):
        return None
    t = _traces(grid, s)
    n = grid.minutes(s.recirc_persist_min)
    return Evaluation(
        CODE,
        _levels(t, s),
        n,
        n,
        grid.segments(RESETS),
        rule=rule_text(s),
        thresholds=(
            "recirc_fraction",
            "recirc_critical",
            "recirc_pre_so2_min",
            "recirc_sat_fall",
            "recirc_pre_so2_rise",
            "oxy_sweep_on",
            "oxy_gas_settle_min",
        ),
        inputs=("pre_oxy_so2", "post_oxy_so2", "svo2", "spo2", "sao2", "blood_flow"),
        trace=t,
        peak="pre_oxy_so2",
        baseline="baseline_patient_saturation",
        summary=_summary,
    )


def _summary(v: dict[str, float | None], severity: str) -> str:
    r = v["recirculation_fraction"]
    head = f"Recirculation {100 * r:.0f}%" if r is not None else "Suspected recirculation"
    sat = v["patient_saturation"]
    tail = f", patient saturation {sat:.0f}%" if sat is not None else ""
    return (
        f"{head} (drainage saturation {v['pre_oxy_so2'] or 0:.0f}%{tail}): check cannula "
        "positions and distance, consider lower flow"
    )
