"""pump_thrombosis: pump-head thrombus shows as more rpm for the same flow (or less flow at
the same rpm), with or without haemolysis (docs/clinical/reference.md §4.3).

Model: in each pump segment's early hours, rpm ≈ a + b·flow is fitted on 30-minute rolling
medians (when flow varied by < 0.5 L/min, rpm ∝ flow — the pump affinity law at a fixed
circuit). Drift = observed rpm / expected rpm − 1. Not judged when drainage pressure is
below the access-warning tier (access insufficiency also costs rpm). A drift with pfHb above
its warning threshold is critical. RPM/flow mismatch is manufacturer-specific and absent in
3 of 5 Mayo cases (Neal 2015): trend pfHb as well (see ``hemolysis``).
"""

from __future__ import annotations

import itertools

import numpy as np

from continuum.surveillance.base import CRITICAL, WARNING, Evaluation, grade, num, pct, ratio
from continuum.surveillance.grid import Grid, rolling_median
from continuum.surveillance.series import RunTargets
from continuum.surveillance.settings import SurveillanceSettings

CODE = "pump_thrombosis"
RESETS = ("pump",)


def _fit(rpm: np.ndarray, flow: np.ndarray) -> tuple[float, float] | None:
    ok = np.isfinite(rpm) & np.isfinite(flow) & (flow > 0.5)
    if ok.sum() < 10:
        return None
    r, f = rpm[ok], flow[ok]
    if np.percentile(f, 90) - np.percentile(f, 10) >= 0.5:
        b, a = np.polyfit(f, r, 1)
        if b > 0:
            return float(a), float(b)
    return 0.0, float(np.median(r / f))


def expected_rpm(
    grid: Grid, rpm: np.ndarray, flow: np.ndarray, s: SurveillanceSettings
) -> np.ndarray:
    out = np.full(len(rpm), np.nan)
    skip, length = grid.minutes(s.baseline_skip_min), grid.minutes(s.baseline_hours * 60)
    bounds = [*grid.segments(RESETS).tolist(), len(rpm)]
    given = grid.series.baselines.get("rpm_per_flow")
    for n, (a, b) in enumerate(itertools.pairwise(bounds)):
        lo, hi = a + skip, min(a + skip + length, b)
        fit = (0.0, given) if (n == 0 and given) else _fit(rpm[lo:hi], flow[lo:hi])
        if fit is not None:
            start = a if (n == 0 and given) else hi
            out[start:b] = fit[0] + fit[1] * flow[start:b]
    return out


def _traces(grid: Grid, s: SurveillanceSettings) -> dict[str, np.ndarray]:
    n = grid.minutes(s.pump_smoothing_min)
    rpm = rolling_median(grid.locf("pump_speed", s.console_max_gap_min), n)
    flow = rolling_median(grid.locf("blood_flow", s.console_max_gap_min), n)
    expected = expected_rpm(grid, rpm, flow, s)
    drift = ratio(rpm, expected) - 1
    access = rolling_median(grid.locf("p_access", s.console_max_gap_min), n)
    drift[access < s.access_warning] = np.nan
    return {
        "pump_speed": rpm,
        "blood_flow": flow,
        "expected_pump_speed": expected,
        "drift": drift,
        "pfhb": grid.locf("pfhb", s.lab_max_age_h * 60),
    }


def rule_text(s: SurveillanceSettings) -> str:
    """The rule as a clinician reads it, with the thresholds in force."""
    return (
        f"pump speed ≥ {pct(s.pump_drift_warning)} (warning) / ≥ {pct(s.pump_drift_critical)} "
        "(critical) above the speed this pump needed for the same flow in its early hours, "
        f"sustained {num(s.pump_persist_min)} min; warning + pfHb above "
        f"{num(s.pfhb_warning)} mg/dL → critical; clears below {pct(s.pump_drift_clear)}"
    )


def evaluate(grid: Grid, s: SurveillanceSettings, targets: RunTargets) -> Evaluation | None:
    if not (grid.series.has("pump_speed") and grid.series.has("blood_flow")):
        return None
    t = _traces(grid, s)
    level = grade(t["drift"], s.pump_drift_warning, s.pump_drift_critical, s.pump_drift_clear)
    with np.errstate(invalid="ignore"):
        level[(level == WARNING) & (t["pfhb"] > s.pfhb_warning)] = CRITICAL
    n = grid.minutes(s.pump_persist_min)
    return Evaluation(
        CODE,
        level,
        n,
        n,
        grid.segments(RESETS),
        rule=rule_text(s),
        thresholds=(
            "pump_drift_warning",
            "pump_drift_critical",
            "pump_drift_clear",
            "pfhb_warning",
        ),
        inputs=("pump_speed", "blood_flow", "p_access", "pfhb", "ldh"),
        trace=t,
        peak="drift",
        baseline="expected_pump_speed",
        summary=_summary,
    )


def _summary(v: dict[str, float | None], severity: str) -> str:
    hb = f"; pfHb {v['pfhb']:.0f} mg/dL" if v["pfhb"] is not None else ""
    return (
        f"Pump needs {100 * (v['drift'] or 0):.0f}% more rpm than expected for "
        f"{v['blood_flow'] or 0:.1f} L/min ({v['pump_speed'] or 0:.0f} vs "
        f"{v['expected_pump_speed'] or 0:.0f} rpm){hb}: listen to the pump head, check "
        "pfHb and LDH, inspect for thrombus"
    )
