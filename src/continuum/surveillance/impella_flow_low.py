"""impella_flow_low: Impella flow below the expected range for its P-level.

The expected range per P-level and model is ``impella_levels`` (Impella 2.5: the
manufacturer's table [S]; other models [U], docs/clinical/mcs.md §2); the model comes from
the run's device record (``RunSeries.devices["impella"]``), and without one the Impella
2.5's table (the smallest pump's) is used. Flow (rolling median) below the lower bound by
more than the tolerance → warning; below the critical fraction of it → critical; clears
at the lower bound. Judged only at P-levels at or above the programme's minimum (P-2: P-0
stops the motor). Low flow at a set P-level means suction, a wrong position, thrombus or
low preload (docs/clinical/reference.md §8.4).
"""

from __future__ import annotations

import numpy as np

from continuum.surveillance import impella_levels
from continuum.surveillance.base import CRITICAL, NORMAL, UNKNOWN, WARNING, Evaluation, num, pct
from continuum.surveillance.grid import Grid, rolling_median
from continuum.surveillance.series import RunTargets
from continuum.surveillance.settings import SurveillanceSettings

CODE = "impella_flow_low"
P_LEVEL_MAX_AGE_MIN = 24 * 60  # a P-level is a setting: it stands until changed


def rule_text(s: SurveillanceSettings) -> str:
    """The rule as a clinician reads it, with the thresholds in force."""
    return (
        f"Impella flow ({num(s.impella_smoothing_min)}-min median) below the expected range "
        f"for its P-level and model by more than {pct(s.impella_flow_tolerance)} (warning) / "
        f"below {pct(s.impella_flow_critical_fraction)} of the range's lower bound (critical), "
        f"sustained {num(s.impella_persist_min)} min, at P-{num(s.impella_min_p_level)} or "
        "higher; clears at the lower bound"
    )


def _levels(frac: np.ndarray, judged: np.ndarray, s: SurveillanceSettings) -> np.ndarray:
    level = np.full(len(frac), UNKNOWN, dtype=np.int8)
    with np.errstate(invalid="ignore"):
        level[frac >= 1.0] = NORMAL
        level[frac < 1.0 - s.impella_flow_tolerance] = WARNING
        level[frac < s.impella_flow_critical_fraction] = CRITICAL
    level[~judged] = NORMAL
    return level


def evaluate(grid: Grid, s: SurveillanceSettings, targets: RunTargets) -> Evaluation | None:
    if not (grid.series.has("impella_flow") and grid.series.has("impella_p_level")):
        return None
    model = grid.series.devices.get("impella")
    flow = rolling_median(
        grid.locf("impella_flow", s.console_max_gap_min), grid.minutes(s.impella_smoothing_min)
    )
    p_level = grid.locf("impella_p_level", P_LEVEL_MAX_AGE_MIN)
    bounds = np.array(impella_levels.low_bounds(model))
    idx = np.where(np.isfinite(p_level), np.clip(np.round(p_level), 0, 9), 0).astype(int)
    low = np.where(np.isfinite(p_level), bounds[idx], np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        frac = np.where(low > 0, flow / low, np.nan)
        judged = ~(p_level < s.impella_min_p_level)  # unknown P-level: held, not cleared
    n = grid.minutes(s.impella_persist_min)
    table = impella_levels.table_for(model)
    return Evaluation(
        CODE,
        _levels(frac, judged, s),
        n,
        n,
        np.array([0]),
        rule=rule_text(s),
        thresholds=(
            "impella_flow_tolerance",
            "impella_flow_critical_fraction",
            "impella_min_p_level",
            "impella_persist_min",
        ),
        inputs=("impella_flow", "impella_p_level", "impella_purge_pressure"),
        trace={
            "impella_flow": flow,
            "impella_p_level": p_level,
            "expected_low": low,
            "fraction_of_low": frac,
        },
        peak="fraction_of_low",
        peak_high=False,
        baseline="expected_low",
        summary=_summary(
            table.name
            if model in impella_levels.TABLES
            else "Impella (model not recorded: judged on the Impella 2.5 table)"
        ),
        extra_thresholds=[
            {
                "name": "expected_range",
                "value": f"{table.name} P-level table",
                "unit": "L/min",
                "source": table.source,
            }
        ],
    )


def _summary(name: str):  # type: ignore[no-untyped-def]
    def summary(v: dict[str, float | None], severity: str) -> str:
        level = v["impella_p_level"]
        shown = f"P-{level:.0f}" if level is not None else "its P-level"
        return (
            f"{name} flow {v['impella_flow'] or 0:.1f} L/min below the expected "
            f"{v['expected_low'] or 0:.1f} L/min or more at {shown}: check position (echo), "
            "suction, volume and RV function"
        )

    return summary
