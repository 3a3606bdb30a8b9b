"""differential_hypoxia (peripheral VA only): upper-body saturation low while the return limb
is fully saturated — North–South / Harlequin (reference.md §3.7).

Upper body: right-hand SpO2 (5-minute rolling median) or right radial pO2. Return limb
"fully saturated": post-oxygenator saturation ≥ 95% (or, if none, post-oxygenator pO2 ≥ 150
mmHg). Right-hand SpO2 < 90% or right radial pO2 < 60 mmHg → warning; SpO2 < 85% →
critical; sustained 10 minutes. A desaturated return limb points to the oxygenator instead
(and with a right subclavian return a low right arm means oxygenator failure: §3.7 pitfall).
"""

from __future__ import annotations

import numpy as np

from continuum.surveillance.base import CRITICAL, NORMAL, UNKNOWN, WARNING, Evaluation
from continuum.surveillance.grid import Grid, rolling_median
from continuum.surveillance.series import RunTargets
from continuum.surveillance.settings import SurveillanceSettings

CODE = "differential_hypoxia"


def _traces(grid: Grid, s: SurveillanceSettings) -> dict[str, np.ndarray]:
    age = s.gas_max_age_h * 60
    upper = rolling_median(grid.locf("spo2_right", s.console_max_gap_min), grid.minutes(5))
    lower = rolling_median(grid.locf("spo2", s.console_max_gap_min), grid.minutes(5))
    return {
        "spo2_right": upper,
        "pao2_right_radial": grid.locf("pao2_right_radial", age),
        "post_oxy_so2": grid.locf("post_oxy_so2", age),
        "post_oxy_po2": grid.locf("post_oxy_po2", age),
        "spo2_other_site": lower,
    }


def _levels(t: dict[str, np.ndarray], s: SurveillanceSettings) -> np.ndarray:
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
    level[fine | (ret_known & ~saturated)] = NORMAL
    level[low & saturated & ret_known] = WARNING
    level[very & saturated & ret_known] = CRITICAL
    return level


def evaluate(grid: Grid, s: SurveillanceSettings, targets: RunTargets) -> Evaluation | None:
    sr = grid.series
    if sr.mode != "VA" or not (sr.has("spo2_right") or sr.has("pao2_right_radial")):
        return None
    t = _traces(grid, s)
    n = grid.minutes(s.dh_persist_min)
    return Evaluation(
        CODE,
        _levels(t, s),
        n,
        n,
        np.array([0]),
        rule="right-hand SpO2 (5-min median) < 90% or right radial pO2 < 60 mmHg with the "
        "return limb saturated (≥ 95%, or post-oxygenator pO2 ≥ 150 mmHg) → warning; "
        "SpO2 < 85% → critical; sustained 10 min",
        thresholds=(
            "dh_upper_sat",
            "dh_upper_sat_critical",
            "dh_right_radial_po2",
            "dh_return_so2_min",
        ),
        inputs=("spo2_right", "pao2_right_radial", "post_oxy_so2", "post_oxy_po2", "spo2"),
        trace=t,
        peak="spo2_right",
        peak_high=False,
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
