"""anticoagulation_out_of_range: anti-Xa / aPTT / ACT outside the run's target range
(docs/clinical/reference.md §5.1: configure per patient/centre, never one hard-coded range).

Each test with a range is judged on its latest result (for the lab max age): outside the
range → warning; above 1.5 × the upper bound or below 0.5 × the lower bound → critical.
Anti-Xa defaults to 0.3–0.7 IU/mL when the run sets no range; aPTT and ACT are judged only
when the run sets a range (their targets are relative to the patient's own baseline).
"""

from __future__ import annotations

import numpy as np

from continuum.surveillance.base import (
    CRITICAL,
    NORMAL,
    UNKNOWN,
    WARNING,
    Evaluation,
    Summary,
    num,
)
from continuum.surveillance.grid import Grid
from continuum.surveillance.series import RunTargets
from continuum.surveillance.settings import SurveillanceSettings
from continuum.vocabulary import CODES

CODE = "anticoagulation_out_of_range"
TESTS = ("anti_xa", "aptt", "act")


def ranges(s: SurveillanceSettings, targets: RunTargets) -> dict[str, tuple[float, float]]:
    out = {"anti_xa": targets.anti_xa or (s.anti_xa_low, s.anti_xa_high)}
    out.update({k: r for k in ("aptt", "act") if (r := getattr(targets, k)) is not None})
    return out


def _test_level(x: np.ndarray, lo: float, hi: float, factor: float) -> np.ndarray:
    level = np.full(len(x), UNKNOWN, dtype=np.int8)
    with np.errstate(invalid="ignore"):
        level[(x >= lo) & (x <= hi)] = NORMAL
        level[(x < lo) | (x > hi)] = WARNING
        level[(x < lo * factor) | (x > hi * (2 - factor))] = CRITICAL
    return level


def rule_text(s: SurveillanceSettings) -> str:
    """The rule as a clinician reads it, with the thresholds in force."""
    f = s.anticoag_critical_factor
    return (
        "latest anti-Xa / aPTT / ACT outside the target range → warning; above "
        f"{num(2 - f)} × upper or below {num(f)} × lower bound → critical; anti-Xa "
        f"{num(s.anti_xa_low)}–{num(s.anti_xa_high)} IU/mL unless the run sets its own range"
    )


def evaluate(grid: Grid, s: SurveillanceSettings, targets: RunTargets) -> Evaluation | None:
    rs = {k: r for k, r in ranges(s, targets).items() if grid.series.has(k)}
    if not rs:
        return None
    age = s.lab_max_age_h * 60
    trace = {k: grid.locf(k, age) for k in rs}
    levels = [
        _test_level(trace[k], lo, hi, s.anticoag_critical_factor) for k, (lo, hi) in rs.items()
    ]
    trace["worst_deviation"] = (
        np.nanmax([_deviation(trace[k], *rs[k]) for k in rs], axis=0)
        if len(rs) > 1
        else _deviation(trace[next(iter(rs))], *rs[next(iter(rs))])
    )
    extra = [
        {
            "name": f"{k}_target",
            "value": list(r),
            "unit": CODES[k].unit,
            "source": "run target"
            if getattr(targets, k)
            else "ELSO/common practice 0.3–0.7 IU/mL (docs/clinical/reference.md §5.1) [S]",
        }
        for k, r in rs.items()
    ]
    summary = _summary_for(rs)
    return Evaluation(
        CODE,
        np.max(levels, axis=0).astype(np.int8),
        1,
        1,
        np.array([0]),
        rule=rule_text(s),
        thresholds=("anticoag_critical_factor",),
        inputs=tuple(rs),
        trace=trace,
        peak="worst_deviation",
        summary=summary,
        extra_thresholds=extra,
    )


def _deviation(x: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """How far outside the range, as a fraction of the bound crossed (0 inside)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(x > hi, (x - hi) / hi, np.where(x < lo, (lo - x) / max(lo, 1e-9), 0.0))


def _summary_for(rs: dict[str, tuple[float, float]]) -> Summary:
    names = {"anti_xa": "anti-Xa", "aptt": "aPTT", "act": "ACT"}

    def summary(v: dict[str, float | None], severity: str) -> str:
        out = []
        for k, (lo, hi) in rs.items():
            x = v.get(k)
            if x is not None and not lo <= x <= hi:
                side = "above" if x > hi else "below"
                out.append(f"{names[k]} {x:g} {CODES[k].unit} {side} target {lo:g}–{hi:g}")
        return "Anticoagulation out of range: " + ("; ".join(out) or "see evidence")

    return summary
