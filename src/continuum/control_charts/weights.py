"""Risk-adjusted CUSUM weights (Steiner et al. 2000; docs/clinical/reference.md §7.4).

For a patient with predicted risk of death p and outcome y (1 = died, 0 = survived), the
log-likelihood ratio of "the odds of death are R_A times the model's" against "R_0 times"
(R_0 = 1: the model is right) is

    y = 1:  W = ln[ (1 − p + R_0·p) · R_A / ((1 − p + R_A·p) · R_0) ]
    y = 0:  W = ln[ (1 − p + R_0·p) / (1 − p + R_A·p) ]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from continuum.control_charts import checks
from continuum.control_charts.checks import FloatArray

SOURCE = (
    "docs/clinical/reference.md §7.4 (Steiner SH, Cook RJ, Farewell VT, Treasure T. "
    "Biostatistics 2000;1(4):441-52)"
)
FORMULA = (
    "died: W = ln[(1 − p + R0·p)·RA / ((1 − p + RA·p)·R0)]; "
    "survived: W = ln[(1 − p + R0·p) / (1 − p + RA·p)]"
)
UNITS = "natural-log likelihood ratio (no unit)"


def weight_pair(
    risks: FloatArray, odds_ratio: float, null_odds_ratio: float = 1.0
) -> tuple[FloatArray, FloatArray]:
    """The weights (if survived, if died) for each risk; inputs already checked."""
    null_term = 1 - risks + null_odds_ratio * risks
    alt_term = 1 - risks + odds_ratio * risks
    survived = np.log(null_term / alt_term)
    died = survived + np.log(odds_ratio / null_odds_ratio)
    return survived, died


@dataclass(frozen=True)
class Weights:
    """One weight per patient, with what it was computed from."""

    values: tuple[float, ...]
    inputs: dict[str, Any]
    formula: str = FORMULA
    units: str = UNITS
    source: str = SOURCE


def llr_weight(
    risk: float, outcome: int | bool, odds_ratio: float, null_odds_ratio: float = 1.0
) -> float:
    """The weight of one patient (``outcome`` 1 = died, 0 = survived)."""
    return llr_weights([risk], [outcome], odds_ratio, null_odds_ratio).values[0]


def llr_weights(
    risks: Sequence[float] | FloatArray,
    outcomes: Sequence[int] | Sequence[bool],
    odds_ratio: float,
    null_odds_ratio: float = 1.0,
) -> Weights:
    """The weight of each patient in turn."""
    null = checks.positive(null_odds_ratio, "null_odds_ratio")
    ratio = checks.odds_ratio(odds_ratio, "odds_ratio", null)
    p = checks.risks(risks)
    y = checks.outcomes(outcomes, len(p))
    survived, died = weight_pair(p, ratio, null)
    values = np.where(y == 1, died, survived)
    return Weights(
        values=tuple(float(v) for v in values),
        inputs={"odds_ratio": ratio, "null_odds_ratio": null, "patients": len(p)},
    )
