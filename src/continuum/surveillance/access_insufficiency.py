"""access_insufficiency: drainage pressure too negative and/or flow oscillating
("chattering") — venous return below drainage (docs/clinical/reference.md §4.4).

Drainage pressure (3-minute rolling median, so a cough or a single artefact does not count)
≤ −80 mmHg and ≥ 20 mmHg below the circuit's own early-hours level → warning (a run that
always sits near −80 is that run's normal; no warning tier before the baseline is known);
≤ −100 mmHg → critical (Robak), baseline or not; clears above
−70 mmHg or back within 10 mmHg of baseline. Chattering:
the median minute-to-minute flow change over 10 minutes is ≥ 5% of flow (a single step
change, e.g. a deliberate flow adjustment, leaves the median near zero) *with drainage-
pressure evidence* (drainage pressure at or below the warning level, −80 mmHg, or at least
half the baseline drop, 10 mmHg, below the circuit's own baseline) → warning; chattering with
drainage pressure ≤ −80 → critical. Both must persist 5 minutes. Flow fluctuating while the
drainage pressure is normal is *not* access insufficiency (a pump-head thrombus, a flow-probe
fault or a kinked return line fluctuate too): it is reported as information, worded as a
flow fluctuation of unknown cause, never as a drainage problem (docs/clinical/reference.md
§4.4).

Early trend warning: drainage pressure (30-minute median) ≥ 6 mmHg below its own baseline
(the same 30-minute median over the early hours) while flow has not risen more than 5% above
its own baseline (a deliberate flow increase explains a fall), sustained 15 minutes. Clears
when the fall is back under half that. Cough spikes, drop-outs and brief line checks (a flow
*reduction* makes drainage pressure less negative) do not move a 30-minute median.
"""

from __future__ import annotations

import numpy as np

from continuum.surveillance.base import (
    CRITICAL,
    INFO,
    NORMAL,
    UNKNOWN,
    WARNING,
    Evaluation,
    baseline,
    num,
    pct,
    ratio,
)
from continuum.surveillance.grid import Grid, persistent, rolling_median
from continuum.surveillance.series import RunTargets
from continuum.surveillance.settings import SurveillanceSettings

CODE = "access_insufficiency"
RESETS = ("circuit",)


def chatter(grid: Grid, s: SurveillanceSettings) -> np.ndarray:
    flow = grid.locf("blood_flow", s.console_max_gap_min)
    step = np.abs(np.diff(flow, prepend=np.nan))
    n = grid.minutes(10)
    return ratio(rolling_median(step, n), rolling_median(flow, n))


def trend_fall(grid: Grid, s: SurveillanceSettings, starts: np.ndarray) -> dict[str, np.ndarray]:
    """Drainage pressure and flow (long medians) against their own early-hours baselines."""
    n = grid.minutes(s.access_trend_smoothing_min)
    p = rolling_median(grid.locf("p_access", s.console_max_gap_min), n)
    q = rolling_median(grid.locf("blood_flow", s.console_max_gap_min), n)
    return {
        "p_access_trend": p,
        "baseline_p_access_trend": baseline(grid, "p_access_trend", p, starts, s),
        "blood_flow_trend": q,
        "baseline_blood_flow": baseline(grid, "blood_flow", q, starts, s),
    }


def _trend_warning(t: dict[str, np.ndarray], s: SurveillanceSettings, n: int) -> np.ndarray:
    fall = t["baseline_p_access_trend"] - t["p_access_trend"]
    q, bq = t["blood_flow_trend"], t["baseline_blood_flow"]
    with np.errstate(invalid="ignore"):
        flow_not_up = ~(q > bq * (1 + s.access_trend_flow_rise))
        return persistent((fall >= s.access_trend_drop) & flow_not_up, n)


def _trend_calm(t: dict[str, np.ndarray], s: SurveillanceSettings) -> np.ndarray:
    fall = t["baseline_p_access_trend"] - t["p_access_trend"]
    with np.errstate(invalid="ignore"):
        return ~(fall >= s.access_trend_drop / 2)


def _levels(t: dict[str, np.ndarray], s: SurveillanceSettings, trend_n: int) -> np.ndarray:
    p, ch = t["p_access"], t["flow_variation"]
    drop = t["baseline_p_access"] - p
    with np.errstate(invalid="ignore"):
        low = (p <= s.access_warning) & (drop >= s.access_drop)
        calm_p = (p > s.access_clear) | ((drop < s.access_drop / 2) & (p > s.access_critical))
        chat = ch >= s.chatter_variation
        calm_flow = ~(ch >= s.chatter_variation / 2)
        # the drainage-pressure evidence a chattering line shows: at the warning level, or
        # clearly below the circuit's own baseline
        drained = (p <= s.access_warning) | (drop >= s.access_drop / 2)
    level = np.full(len(p), UNKNOWN, dtype=np.int8)
    level[calm_p & calm_flow & _trend_calm(t, s)] = NORMAL
    level[chat & ~drained] = INFO  # flow fluctuation alone: not blamed on drainage
    level[low | (chat & drained) | _trend_warning(t, s, trend_n)] = WARNING
    level[(p <= s.access_critical) | (chat & low)] = CRITICAL
    return level


def rule_text(s: SurveillanceSettings) -> str:
    """The rule as a clinician reads it, with the thresholds in force."""
    return (
        f"drainage pressure ({num(s.access_smoothing_min)}-min median) ≤ "
        f"{num(s.access_warning)} mmHg and ≥ {num(s.access_drop)} mmHg below its own baseline "
        f"(warning) / ≤ {num(s.access_critical)} mmHg (critical); flow chattering (median "
        f"minute-to-minute change ≥ {pct(s.chatter_variation)} of flow over 10 min) with drainage "
        f"pressure ≤ {num(s.access_warning)} mmHg or ≥ {num(s.access_drop / 2)} mmHg below its "
        f"baseline → warning, with the low pressure → critical (flow fluctuation with normal "
        f"drainage pressure → information only); sustained {num(s.access_persist_min)} min; clears "
        f"above {num(s.access_clear)} or near baseline. Early warning: drainage pressure "
        f"({num(s.access_trend_smoothing_min)}-min median) ≥ {num(s.access_trend_drop)} mmHg "
        f"below its own baseline with flow not raised (> {pct(s.access_trend_flow_rise)} above "
        f"its own baseline), sustained {num(s.access_trend_persist_min)} min"
    )


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
        **trend_fall(grid, s, starts),
    }
    n = grid.minutes(s.access_persist_min)
    trend_n = max(grid.minutes(s.access_trend_persist_min) - n + 1, 1)
    return Evaluation(
        CODE,
        _levels(t, s, trend_n),
        n,
        2 * n,
        starts,
        rule=rule_text(s),
        thresholds=(
            "access_critical",
            "access_warning",
            "access_drop",
            "access_clear",
            "chatter_variation",
            "access_trend_drop",
            "access_trend_flow_rise",
            "access_trend_persist_min",
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
    if severity == "info":
        normal = f" with {p} (not low)" if p else ""
        return (
            f"Flow fluctuating minute to minute ({osc or 'flow varying'}){normal}: not typical of "
            "access insufficiency; check the pump (noise, rpm for the flow, free Hb), the flow "
            "probe and the lines"
        )
    fall = _fall(v)
    detail = ", ".join(x for x in (p, fall, osc) if x)
    return (
        f"Access insufficiency ({detail}): check volume status, cannula position and "
        "kinks; consider lowering pump speed"
    )


def _fall(v: dict[str, float | None]) -> str:
    p, b = v.get("p_access_trend"), v.get("baseline_p_access_trend")
    if p is None or b is None or b - p < 1:
        return ""
    return f"{b - p:.0f} mmHg below its own baseline {b:.0f} mmHg"
