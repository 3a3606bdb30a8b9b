"""access_insufficiency: drainage pressure too negative and/or flow oscillating
("chattering") — venous return below drainage (reference.md §4.4).

Drainage pressure (3-minute rolling median, so a cough or a single artefact does not count)
≤ −80 mmHg and ≥ 20 mmHg below the circuit's own early-hours level → warning (a run that
always sits near −80 is that run's normal; no warning tier before the baseline is known);
≤ −100 mmHg → critical (Robak), baseline or not; clears above
−70 mmHg or back within 10 mmHg of baseline. Chattering:
the median minute-to-minute flow change over 10 minutes is ≥ 5% of flow (a single step
change, e.g. a deliberate flow adjustment, leaves the median near zero) → warning;
chattering with drainage pressure ≤ −80 → critical. Both must persist 5 minutes.
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
    ratio,
)
from continuum.surveillance.grid import Grid, rolling_median
from continuum.surveillance.series import RunTargets
from continuum.surveillance.settings import SurveillanceSettings

CODE = "access_insufficiency"
RESETS = ("circuit",)


def chatter(grid: Grid, s: SurveillanceSettings) -> np.ndarray:
    flow = grid.locf("blood_flow", s.console_max_gap_min)
    step = np.abs(np.diff(flow, prepend=np.nan))
    n = grid.minutes(10)
    return ratio(rolling_median(step, n), rolling_median(flow, n))


def _levels(t: dict[str, np.ndarray], s: SurveillanceSettings) -> np.ndarray:
    p, ch = t["p_access"], t["flow_variation"]
    drop = t["baseline_p_access"] - p
    with np.errstate(invalid="ignore"):
        low = (p <= s.access_warning) & (drop >= s.access_drop)
        calm_p = (p > s.access_clear) | ((drop < s.access_drop / 2) & (p > s.access_critical))
        chat = ch >= s.chatter_variation
        calm_flow = ~(ch >= s.chatter_variation / 2)
    level = np.full(len(p), UNKNOWN, dtype=np.int8)
    level[calm_p & calm_flow] = NORMAL
    level[low | chat] = WARNING
    level[(p <= s.access_critical) | (chat & low)] = CRITICAL
    return level


def evaluate(grid: Grid, s: SurveillanceSettings, targets: RunTargets) -> Evaluation | None:
    if not (grid.series.has("p_access") or grid.series.has("blood_flow")):
        return None
    p = rolling_median(
        grid.locf("p_access", s.console_max_gap_min), grid.minutes(s.access_smoothing_min)
    )
    starts = grid.segments(RESETS)
    t = {
        "p_access": p,
        "baseline_p_access": baseline(grid, "p_access", p, starts, s),
        "flow_variation": chatter(grid, s),
    }
    n = grid.minutes(s.access_persist_min)
    return Evaluation(
        CODE,
        _levels(t, s),
        n,
        2 * n,
        starts,
        rule="drainage pressure (3-min median) ≤ −80 mmHg and ≥ 20 mmHg below its own "
        "baseline (warning) / ≤ −100 mmHg (critical); flow chattering (median "
        "minute-to-minute change ≥ 5% of flow over 10 min) → warning, with the low "
        "pressure → critical; sustained 5 min; clears above −70 or near baseline",
        thresholds=(
            "access_critical",
            "access_warning",
            "access_drop",
            "access_clear",
            "chatter_variation",
        ),
        inputs=("p_access", "blood_flow", "pump_speed"),
        trace=t,
        peak="p_access",
        peak_high=False,
        baseline="baseline_p_access",
        summary=_summary,
    )


def _summary(v: dict[str, float | None], severity: str) -> str:
    p = f"drainage pressure {v['p_access']:.0f} mmHg" if v["p_access"] is not None else ""
    ch = v["flow_variation"]
    osc = f"flow varying {100 * ch:.0f}% minute to minute" if ch is not None and ch >= 0.025 else ""
    detail = ", ".join(x for x in (p, osc) if x)
    return (
        f"Access insufficiency ({detail}): check volume status, cannula position and "
        "kinks; consider lowering pump speed"
    )
