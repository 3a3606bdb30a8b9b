"""differential_hypoxia (peripheral VA only): upper-body saturation low while the return limb
is fully saturated — North–South / Harlequin (docs/clinical/reference.md §3.7).

Upper body: right-hand SpO2 (5-minute rolling median) or right radial pO2. Return limb
"fully saturated": post-oxygenator saturation ≥ 95% (or, if none, post-oxygenator pO2 ≥ 150
mmHg). Right-hand SpO2 < 90% or right radial pO2 < 60 mmHg → warning; SpO2 < 85% →
critical; sustained 10 minutes. A desaturated return limb points to the oxygenator instead
(and with a right subclavian return a low right arm means oxygenator failure: §3.7 pitfall).

Early trend warning (§3.7: right-hand vs lower-limb divergence): right-hand SpO2 (15-minute
median) ≥ 5 points below its own early-hours baseline AND ≥ 5 points below the other SpO2
site, with the return limb saturated, sustained 30 minutes. Needing both keeps a global
desaturation (e.g. a failing oxygenator: every site falls) and a single probe's artefact
(drop-out, brief motion) silent.
"""

from __future__ import annotations

import numpy as np

from continuum.surveillance.base import (
    CRITICAL,
    NORMAL,
    UNKNOWN,
    WARNING,
    Evaluation,
    baseline,
    num,
)
from continuum.surveillance.grid import Grid, persistent, rolling_median
from continuum.surveillance.series import RunTargets
from continuum.surveillance.settings import SurveillanceSettings

CODE = "differential_hypoxia"


def _traces(grid: Grid, s: SurveillanceSettings) -> dict[str, np.ndarray]:
    age = s.gas_max_age_h * 60
    upper = rolling_median(grid.locf("spo2_right", s.console_max_gap_min), grid.minutes(5))
    lower = rolling_median(grid.locf("spo2", s.console_max_gap_min), grid.minutes(5))
    n = grid.minutes(s.dh_trend_smoothing_min)
    upper_trend = rolling_median(grid.locf("spo2_right", s.console_max_gap_min), n)
    return {
        "spo2_right_trend": upper_trend,
        "baseline_spo2_right": baseline(grid, "spo2_right", upper_trend, np.array([0]), s),
        "spo2_other_site_trend": rolling_median(grid.locf("spo2", s.console_max_gap_min), n),
        "spo2_right": upper,
        "pao2_right_radial": grid.locf("pao2_right_radial", age),
        "post_oxy_so2": grid.locf("post_oxy_so2", age),
        "post_oxy_po2": grid.locf("post_oxy_po2", age),
        "spo2_other_site": lower,
    }


def _divergence(t: dict[str, np.ndarray], s: SurveillanceSettings, slack: float) -> np.ndarray:
    """Right hand ≥ (threshold − slack) below its own baseline and below the other site."""
    up = t["spo2_right_trend"]
    with np.errstate(invalid="ignore"):
        fall = (t["baseline_spo2_right"] - up) >= s.dh_trend_drop - slack
        gap = (t["spo2_other_site_trend"] - up) >= s.dh_trend_gap - slack
    return fall & gap


def _levels(t: dict[str, np.ndarray], s: SurveillanceSettings, trend_n: int) -> np.ndarray:
    so2, po2 = t["post_oxy_so2"], t["post_oxy_po2"]
    with np.errstate(invalid="ignore"):
        saturated = np.where(np.isfinite(so2), so2 >= s.dh_return_so2_min, po2 >= 150)
        ret_known = np.isfinite(so2) | np.isfinite(po2)
        low = (t["spo2_right"] < s.dh_upper_sat) | (t["pao2_right_radial"] < s.dh_right_radial_po2)
        very = t["spo2_right"] < s.dh_upper_sat_critical
        fine = (t["spo2_right"] >= s.dh_upper_sat + 2) | (
            np.isnan(t["spo2_right"]) & (t["pao2_right_radial"] >= s.dh_right_radial_po2)
        )
    level = np.full(len(so2), UNKNOWN, dtype=np.int8)
    early = persistent(_divergence(t, s, 0) & saturated & ret_known, trend_n)
    level[(fine & ~_divergence(t, s, 2)) | (ret_known & ~saturated)] = NORMAL
    level[(low | early) & saturated & ret_known] = WARNING
    level[very & saturated & ret_known] = CRITICAL
    return level


def rule_text(s: SurveillanceSettings) -> str:
    """The rule as a clinician reads it, with the thresholds in force."""
    return (
        f"right-hand SpO2 (5-min median) < {num(s.dh_upper_sat)}% or right radial pO2 < "
        f"{num(s.dh_right_radial_po2)} mmHg with the return limb saturated "
        f"(≥ {num(s.dh_return_so2_min)}%, or post-oxygenator pO2 ≥ 150 mmHg) → warning; "
        f"SpO2 < {num(s.dh_upper_sat_critical)}% → critical; sustained "
        f"{num(s.dh_persist_min)} min. Early warning: right-hand SpO2 "
        f"({num(s.dh_trend_smoothing_min)}-min median) ≥ {num(s.dh_trend_drop)} points below "
        f"its own baseline and ≥ {num(s.dh_trend_gap)} below the other SpO2 site with the "
        f"return limb saturated, sustained {num(s.dh_trend_persist_min)} min"
    )


def evaluate(grid: Grid, s: SurveillanceSettings, targets: RunTargets) -> Evaluation | None:
    sr = grid.series
    if not sr.applies(CODE) or not (sr.has("spo2_right") or sr.has("pao2_right_radial")):
        return None
    t = _traces(grid, s)
    n = grid.minutes(s.dh_persist_min)
    trend_n = max(grid.minutes(s.dh_trend_persist_min) - n + 1, 1)
    return Evaluation(
        CODE,
        _levels(t, s, trend_n),
        n,
        n,
        np.array([0]),
        rule=rule_text(s),
        thresholds=(
            "dh_upper_sat",
            "dh_upper_sat_critical",
            "dh_right_radial_po2",
            "dh_return_so2_min",
            "dh_trend_drop",
            "dh_trend_gap",
            "dh_trend_persist_min",
        ),
        inputs=("spo2_right", "pao2_right_radial", "post_oxy_so2", "post_oxy_po2", "spo2"),
        trace=t,
        peak="spo2_right",
        peak_high=False,
        baseline="baseline_spo2_right",
        summary=_summary,
    )


def _summary(v: dict[str, float | None], severity: str) -> str:
    up = v["spo2_right"]
    head = (
        f"right-hand SpO2 {up:.0f}%"
        if up is not None
        else (f"right radial pO2 {v['pao2_right_radial'] or 0:.0f} mmHg")
    )
    other = v["spo2_other_site"]
    tail = f" vs {other:.0f}% elsewhere" if other is not None else ""
    return (
        f"Differential hypoxaemia: {head}{tail} while the return limb is saturated — "
        "poorly oxygenated native output reaches the upper body; check native lung, "
        "ventilation and ECMO flow"
    )
