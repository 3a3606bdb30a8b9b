"""hemolysis: plasma free haemoglobin (and LDH) above the programme's thresholds or rising.

pfHb > 50 mg/dL → warning (Omar 2015; Perfusion 2020 pump-thrombosis cut-off);
> 100 mg/dL → critical (Neal 2015 pump-thrombosis spikes). Rising on the previous result and
above 30 mg/dL (Lubnow: "rapid substantial increase >300 mg/L"), or LDH rising and above
1,000 U/L → info. Each lab result stands until the next one (or until it is older than the
lab max age); a result is a deliberate measurement, so one result is enough.
"""

from __future__ import annotations

import numpy as np

from continuum.surveillance.base import INFO, UNKNOWN, Evaluation, grade, num
from continuum.surveillance.grid import Grid
from continuum.surveillance.series import RunTargets
from continuum.surveillance.settings import SurveillanceSettings

CODE = "hemolysis"


def rising(grid: Grid, code: str, max_age_min: float) -> np.ndarray:
    """1.0 where the latest result of ``code`` is higher than the one before it."""
    if not grid.series.has(code):
        return np.full(len(grid), np.nan)
    t, v = grid.series.signals[code]
    up = np.concatenate([[0.0], (np.diff(v) > 0).astype(float)])
    return grid.locf_values(t, up, max_age_min)


def _traces(grid: Grid, s: SurveillanceSettings) -> dict[str, np.ndarray]:
    age = s.lab_max_age_h * 60
    return {
        "pfhb": grid.locf("pfhb", age),
        "pfhb_rising": rising(grid, "pfhb", age),
        "ldh": grid.locf("ldh", age),
        "ldh_rising": rising(grid, "ldh", age),
    }


def _levels(t: dict[str, np.ndarray], s: SurveillanceSettings) -> np.ndarray:
    level = grade(t["pfhb"], s.pfhb_warning, s.pfhb_critical, s.pfhb_warning)
    with np.errstate(invalid="ignore"):
        pf_up = (t["pfhb"] > s.pfhb_rising) & (t["pfhb_rising"] == 1)
        ldh_up = (t["ldh"] > s.ldh_rising) & (t["ldh_rising"] == 1)
    ldh_known = np.isfinite(t["ldh"])
    level[(level == UNKNOWN) & ldh_known] = 0
    level[(level < INFO) & (pf_up | ldh_up)] = INFO
    return level


def rule_text(s: SurveillanceSettings) -> str:
    """The rule as a clinician reads it, with the thresholds in force."""
    return (
        f"latest pfHb ≥ {num(s.pfhb_warning)} mg/dL (warning) / ≥ {num(s.pfhb_critical)} mg/dL "
        f"(critical); pfHb > {num(s.pfhb_rising)} mg/dL and rising, or LDH > "
        f"{s.ldh_rising:,.0f} U/L and rising → info"
    )


def evaluate(grid: Grid, s: SurveillanceSettings, targets: RunTargets) -> Evaluation | None:
    if not (grid.series.has("pfhb") or grid.series.has("ldh")):
        return None
    t = _traces(grid, s)
    return Evaluation(
        CODE,
        _levels(t, s),
        1,
        1,
        np.array([0]),
        rule=rule_text(s),
        thresholds=("pfhb_warning", "pfhb_critical", "pfhb_rising", "ldh_rising"),
        inputs=("pfhb", "ldh"),
        trace=t,
        peak="pfhb",
        summary=_summary,
    )


def _summary(v: dict[str, float | None], severity: str) -> str:
    parts = [
        f"pfHb {v['pfhb']:.0f} mg/dL" if v["pfhb"] is not None else "",
        f"LDH {v['ldh']:.0f} U/L" if v["ldh"] is not None else "",
    ]
    detail = ", ".join(p for p in parts if p)
    return (
        f"Haemolysis ({detail}): look for pump-head thrombus, access insufficiency, "
        "high flow through small cannulae"
    )
