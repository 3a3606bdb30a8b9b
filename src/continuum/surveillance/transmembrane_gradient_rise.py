"""transmembrane_gradient_rise: oxygenator ΔP per L/min of blood flow rising against the
membrane lung's own early hours (Lubnow 2014: a 30–50% rise in ΔP/flow suggests clot).

ΔP is the measured ``oxy_delta_p`` where present, else ``p_preoxy − p_postoxy`` (the
vocabulary's one derivation, ``vocabulary.delta_p_series``). Flow
normalisation makes deliberate flow changes neutral; a 30-minute rolling median removes
spikes and brief changes; the rise must also be ≥ 8 mmHg of ΔP (a low-gradient membrane's
30% is within transducer drift) and last an hour; the baseline restarts when the
oxygenator (or the circuit) is changed.
"""

from __future__ import annotations

import numpy as np

from continuum.surveillance.base import (
    NORMAL,
    UNKNOWN,
    Evaluation,
    baseline,
    grade,
    num,
    pct,
    ratio,
)
from continuum.surveillance.grid import Grid, rolling_median
from continuum.surveillance.series import RunTargets
from continuum.surveillance.settings import SurveillanceSettings
from continuum.vocabulary import DELTA_P, DELTA_P_FROM, delta_p_series

CODE = "transmembrane_gradient_rise"
RESETS = ("oxygenator",)


def delta_p(grid: Grid, s: SurveillanceSettings) -> np.ndarray:
    gap = s.console_max_gap_min
    pre, post = DELTA_P_FROM
    return delta_p_series(grid.locf(pre, gap), grid.locf(post, gap), grid.locf(DELTA_P, gap))


def resistance_rise(grid: Grid, s: SurveillanceSettings) -> dict[str, np.ndarray]:
    """Smoothed ΔP/flow, its segment baseline and the fractional rise, per grid point."""
    flow = grid.locf("blood_flow", s.console_max_gap_min)
    flow = np.where(flow >= s.tmp_min_flow, flow, np.nan)
    r = rolling_median(ratio(delta_p(grid, s), flow), grid.minutes(s.tmp_smoothing_min))
    base = baseline(grid, "dp_per_flow", r, grid.segments(RESETS), s)
    base[base <= 0] = np.nan
    excess = (r - base) * rolling_median(flow, grid.minutes(s.tmp_smoothing_min))
    return {
        "dp_per_flow": r,
        "baseline_dp_per_flow": base,
        "rise": ratio(r, base) - 1,
        "excess_mmhg": excess,
    }


def applicable(grid: Grid) -> bool:
    sr = grid.series
    return sr.has("blood_flow") and (
        sr.has("oxy_delta_p") or (sr.has("p_preoxy") and sr.has("p_postoxy"))
    )


def rule_text(s: SurveillanceSettings) -> str:
    """The rule as a clinician reads it, with the thresholds in force."""
    return (
        f"rolling-median ΔP/flow rise ≥ {pct(s.tmp_rise_warning)} (warning) / ≥ "
        f"{pct(s.tmp_rise_critical)} (critical) over the oxygenator's own early-hours "
        f"baseline and ≥ {num(s.tmp_min_excess)} mmHg of ΔP, sustained "
        f"{num(s.tmp_persist_min)} min; clears below {pct(s.tmp_rise_clear)}"
    )


def evaluate(grid: Grid, s: SurveillanceSettings, targets: RunTargets) -> Evaluation | None:
    if not applicable(grid):
        return None
    trace = resistance_rise(grid, s)
    level = grade(trace["rise"], s.tmp_rise_warning, s.tmp_rise_critical, s.tmp_rise_clear)
    with np.errstate(invalid="ignore"):
        small = (level > NORMAL) & (trace["excess_mmhg"] < s.tmp_min_excess)
    level[small] = UNKNOWN
    n = grid.minutes(s.tmp_persist_min)
    return Evaluation(
        CODE,
        level,
        n,
        n,
        grid.segments(RESETS),
        rule=rule_text(s),
        thresholds=("tmp_rise_warning", "tmp_rise_critical", "tmp_rise_clear", "tmp_min_excess"),
        inputs=("oxy_delta_p", "p_preoxy", "p_postoxy", "blood_flow"),
        trace=trace,
        peak="rise",
        baseline="baseline_dp_per_flow",
        summary=_summary,
    )


def _summary(v: dict[str, float | None], severity: str) -> str:
    return (
        f"Oxygenator ΔP per L/min up {100 * (v['rise'] or 0):.0f}% on its own baseline "
        f"({v['baseline_dp_per_flow'] or 0:.1f} → {v['dp_per_flow'] or 0:.1f} mmHg per L/min):"
        " consider clot in the membrane lung (inspect, check D-dimer/platelets)"
    )
