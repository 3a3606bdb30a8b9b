"""Risk-adjusted CUSUM charts (Steiner et al. 2000; docs/clinical/reference.md §7.4).

Both charts are upper CUSUMs, S_t = max(0, S_{t−1} + W_t), S_0 = 0, signalling when
S_t > h: the deterioration chart on the R_A = 2 weights (odds of death doubled) and the
improvement chart on the R_A = ½ weights (odds halved), as the R package vlad runs them.
After a signal the chart starts again from 0 with the next patient (unless ``reset`` is
off, when it goes on and a signal is counted each time it crosses h from below).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from continuum.control_charts import checks, weights
from continuum.control_charts.checks import FloatArray

DETERIORATION_ODDS_RATIO = 2.0
IMPROVEMENT_ODDS_RATIO = 0.5
FORMULA = "S_t = max(0, S_{t−1} + W_t), S_0 = 0; signal when S_t > h; then S restarts at 0"


@dataclass(frozen=True)
class Chart:
    """One chart over consecutive patients (indices count patients from 0).

    ``values[t]`` is S after patient t (the value that crossed h at a signal); ``signals``
    the patients at which S went above h; ``resets`` the patients after which S went back
    to 0 (the signals, when ``reset`` is on)."""

    label: str
    odds_ratio: float
    h: float
    weights: tuple[float, ...]
    values: tuple[float, ...]
    signals: tuple[int, ...]
    resets: tuple[int, ...]
    inputs: dict[str, Any]
    formula: str
    units: str
    source: str


def upper_cusum(
    increments: FloatArray, h: float, reset: bool = True
) -> tuple[list[float], list[int], list[int]]:
    """Run S = max(0, S + x) over ``increments``: values, signals, resets (checked inputs)."""
    values: list[float] = []
    signals: list[int] = []
    resets: list[int] = []
    s = 0.0
    above = False
    for t, x in enumerate(increments):
        s = max(0.0, s + float(x))
        values.append(s)
        if s > h:
            if not above:
                signals.append(t)
            if reset:
                resets.append(t)
                s = 0.0
            else:
                above = True
        else:
            above = False
    return values, signals, resets


def label_for(odds_ratio: float) -> str:
    kind = "deterioration" if odds_ratio > 1 else "improvement"
    return f"{kind} (odds ratio {odds_ratio:g})"


def ra_cusum(
    risks: Sequence[float] | FloatArray,
    outcomes: Sequence[int] | Sequence[bool],
    odds_ratio: float,
    h: float,
    null_odds_ratio: float = 1.0,
    reset: bool = True,
) -> Chart:
    """The risk-adjusted CUSUM for one alternative odds ratio (an upper chart)."""
    limit = checks.positive(h, "h")
    found = weights.llr_weights(risks, outcomes, odds_ratio, null_odds_ratio)
    values, signals, resets = upper_cusum(np.array(found.values), limit, reset)
    ratio = float(found.inputs["odds_ratio"])
    return Chart(
        label=label_for(ratio),
        odds_ratio=ratio,
        h=limit,
        weights=found.values,
        values=tuple(values),
        signals=tuple(signals),
        resets=tuple(resets),
        inputs={**found.inputs, "h": limit, "reset": reset},
        formula=f"{weights.FORMULA}; {FORMULA}",
        units=weights.UNITS,
        source=weights.SOURCE,
    )


def both_charts(
    risks: Sequence[float] | FloatArray,
    outcomes: Sequence[int] | Sequence[bool],
    h_deterioration: float,
    h_improvement: float,
    reset: bool = True,
) -> tuple[Chart, Chart]:
    """The deterioration chart (R_A = 2) and the improvement chart (R_A = ½)."""
    return (
        ra_cusum(risks, outcomes, DETERIORATION_ODDS_RATIO, h_deterioration, reset=reset),
        ra_cusum(risks, outcomes, IMPROVEMENT_ODDS_RATIO, h_improvement, reset=reset),
    )
