"""circuit_thrombosis: a consumptive pattern (Lubnow 2014 Table 6; docs/clinical/reference.md
§4.1, §4.5):
D-dimer > 25 mg/L, fibrinogen < 2 g/L, platelets < 50 ×10⁹/L or ≥ 30% below their
highest result of the previous 48 h (a rapid fall, not a long run's slow drift), ΔP/flow
≥ 30% above the oxygenator baseline.

Two criteria → warning, three or more → critical, D-dimer alone → info. Lab results stand
for 48 h. The ΔP baseline restarts at an oxygenator or circuit change.
"""

from __future__ import annotations

import numpy as np

from continuum.surveillance import transmembrane_gradient_rise as tmp
from continuum.surveillance.base import (
    CRITICAL,
    INFO,
    NORMAL,
    UNKNOWN,
    WARNING,
    Evaluation,
    num,
    pct,
    ratio,
)
from continuum.surveillance.grid import Grid
from continuum.surveillance.series import RunTargets
from continuum.surveillance.settings import SurveillanceSettings

CODE = "circuit_thrombosis"
RESETS = ("oxygenator",)
LABS = ("d_dimer", "fibrinogen", "platelets")


def recent_max(grid: Grid, code: str, window_h: float, max_age_min: float) -> np.ndarray:
    """Per point: the highest result of ``code`` in the ``window_h`` hours before the latest."""
    if not grid.series.has(code):
        return np.full(len(grid), np.nan)
    t, v = grid.series.signals[code]
    first = np.searchsorted(t, t - np.timedelta64(int(window_h * 3_600_000), "ms"))
    highest = np.array([v[a : i + 1].max() for i, a in enumerate(first)])
    return grid.locf_values(t, highest, max_age_min)


def _traces(grid: Grid, s: SurveillanceSettings) -> dict[str, np.ndarray]:
    age = s.thrombosis_lab_max_age_h * 60
    t = {code: grid.locf(code, age) for code in LABS}
    t["recent_max_platelets"] = recent_max(grid, "platelets", s.platelet_window_h, age)
    t["platelet_fall"] = 1 - ratio(t["platelets"], t["recent_max_platelets"])
    nan = np.full(len(grid), np.nan)
    t["dp_per_flow_rise"] = tmp.resistance_rise(grid, s)["rise"] if tmp.applicable(grid) else nan
    return t


def _criteria(t: dict[str, np.ndarray], s: SurveillanceSettings) -> list[np.ndarray]:
    with np.errstate(invalid="ignore"):
        return [
            t["d_dimer"] > s.ddimer_malfunction,
            t["fibrinogen"] < s.fibrinogen_min,
            (t["platelets"] < s.platelets_min) | (t["platelet_fall"] >= s.platelet_fall),
            t["dp_per_flow_rise"] >= s.tmp_rise_warning,
        ]


def _levels(t: dict[str, np.ndarray], s: SurveillanceSettings) -> np.ndarray:
    crit = _criteria(t, s)
    count = np.sum(crit, axis=0)
    known = np.any([np.isfinite(t[c]) for c in LABS], axis=0)
    level = np.full(len(count), UNKNOWN, dtype=np.int8)
    level[known] = NORMAL
    level[crit[0]] = INFO
    level[count >= 2] = WARNING
    level[count >= 3] = CRITICAL
    return level


def rule_text(s: SurveillanceSettings) -> str:
    """The rule as a clinician reads it, with the thresholds in force."""
    return (
        f"criteria: D-dimer > {num(s.ddimer_malfunction)} mg/L; fibrinogen < "
        f"{num(s.fibrinogen_min)} g/L; platelets < {num(s.platelets_min)} or ≥ "
        f"{pct(s.platelet_fall)} below their highest result in the previous "
        f"{num(s.platelet_window_h)} h; ΔP/flow ≥ {pct(s.tmp_rise_warning)} above baseline. "
        "Two → warning, three or more → critical, D-dimer alone → info"
    )


def evaluate(grid: Grid, s: SurveillanceSettings, targets: RunTargets) -> Evaluation | None:
    if not any(grid.series.has(c) for c in LABS):
        return None
    t = _traces(grid, s)
    count = np.sum(_criteria(t, s), axis=0).astype(float)
    return Evaluation(
        CODE,
        _levels(t, s),
        1,
        1,
        grid.segments(RESETS),
        rule=rule_text(s),
        thresholds=(
            "ddimer_malfunction",
            "fibrinogen_min",
            "platelets_min",
            "platelet_fall",
            "platelet_window_h",
            "tmp_rise_warning",
        ),
        inputs=(*LABS, "oxy_delta_p", "p_preoxy", "p_postoxy", "blood_flow"),
        trace={**t, "criteria_met": count},
        peak="criteria_met",
        baseline="recent_max_platelets",
        summary=_summary,
    )


def _summary(v: dict[str, float | None], severity: str) -> str:
    bits = [
        f"D-dimer {v['d_dimer']:.1f} mg/L" if v["d_dimer"] is not None else "",
        f"fibrinogen {v['fibrinogen']:.2f} g/L" if v["fibrinogen"] is not None else "",
        f"platelets {v['platelets']:.0f}" if v["platelets"] is not None else "",
    ]
    rise = v["dp_per_flow_rise"]
    if rise is not None:
        bits.append(f"ΔP/flow {100 * rise:+.0f}%")
    return (
        f"Consumptive pattern suggesting circuit thrombus ({', '.join(b for b in bits if b)})"
        ": inspect the circuit for clot, review anticoagulation"
    )
