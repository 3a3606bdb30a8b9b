"""flow_below_target: ECMO blood flow (10-minute rolling median) below the day's goal for a
sustained period (30 minutes), so brief deliberate flow changes do not alert.

Below goal × 0.9 → warning, below goal × 0.8 → critical; clears at goal × 0.95. Judged only
when the run has a flow goal (``RunTargets.flow_goal``: a number or dated steps).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from continuum.surveillance.base import (
    CRITICAL,
    NORMAL,
    UNKNOWN,
    WARNING,
    Evaluation,
    num,
    pct,
    ratio,
)
from continuum.surveillance.grid import Grid, rolling_median
from continuum.surveillance.series import RunTargets, TimeLike, to_ms
from continuum.surveillance.settings import SurveillanceSettings

CODE = "flow_below_target"


def goal_on_grid(grid: Grid, goal: float | Sequence[tuple[TimeLike, float]]) -> np.ndarray:
    """The day's goal at each point: a constant, or the latest of dated (time, goal) steps."""
    if isinstance(goal, int | float):
        return np.full(len(grid), float(goal))
    steps = sorted(goal, key=lambda g: to_ms(g[0])[0])
    t = to_ms([g[0] for g in steps])
    v = np.array([float(g[1]) for g in steps])
    return grid.locf_values(t, v, 1e12)


def _levels(frac: np.ndarray, s: SurveillanceSettings) -> np.ndarray:
    level = np.full(len(frac), UNKNOWN, dtype=np.int8)
    with np.errstate(invalid="ignore"):
        level[frac >= 1 - s.flow_tolerance / 2] = NORMAL
        level[frac < 1 - s.flow_tolerance] = WARNING
        level[frac < s.flow_critical_fraction] = CRITICAL
    return level


def rule_text(s: SurveillanceSettings) -> str:
    """The rule as a clinician reads it, with the thresholds in force."""
    return (
        f"blood flow ({num(s.flow_smoothing_min)}-min median) < {pct(1 - s.flow_tolerance)} of "
        f"the day's goal (warning) / < {pct(s.flow_critical_fraction)} (critical), sustained "
        f"{num(s.flow_persist_min)} min; clears at ≥ {pct(1 - s.flow_tolerance / 2)}"
    )


def evaluate(grid: Grid, s: SurveillanceSettings, targets: RunTargets) -> Evaluation | None:
    if targets.flow_goal is None or not grid.series.has("blood_flow"):
        return None
    goal = goal_on_grid(grid, targets.flow_goal)
    flow = rolling_median(
        grid.locf("blood_flow", s.console_max_gap_min), grid.minutes(s.flow_smoothing_min)
    )
    frac = ratio(flow, goal)
    n = grid.minutes(s.flow_persist_min)
    return Evaluation(
        CODE,
        _levels(frac, s),
        n,
        n,
        np.array([0]),
        rule=rule_text(s),
        thresholds=("flow_tolerance", "flow_critical_fraction", "flow_persist_min"),
        inputs=("blood_flow", "pump_speed", "p_access"),
        trace={"blood_flow": flow, "flow_goal": goal, "fraction_of_goal": frac},
        peak="fraction_of_goal",
        peak_high=False,
        baseline="flow_goal",
        summary=_summary,
        extra_thresholds=[
            {
                "name": "flow_goal",
                "value": targets.flow_goal
                if isinstance(targets.flow_goal, int | float)
                else "dated steps",
                "unit": "L/min",
                "source": "run target (the day's goal)",
            }
        ],
    )


def _summary(v: dict[str, float | None], severity: str) -> str:
    return (
        f"Blood flow {v['blood_flow'] or 0:.2f} L/min below the goal of "
        f"{v['flow_goal'] or 0:.2f} L/min ({100 * (v['fraction_of_goal'] or 0):.0f}%): "
        "check drainage, cannula position, pump speed"
    )
