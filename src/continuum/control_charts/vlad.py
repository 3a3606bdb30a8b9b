"""VLAD and the O–E CUSUM (docs/clinical/reference.md §7.5).

VLAD (variable life-adjusted display, Lovegrove 1997): after patient t, the cumulative sum
of expected minus observed deaths, Σ (p_i − y_i): "statistical lives saved" against the
risk model (a survivor with p = 0.025 adds +0.025, a death −0.975).

O–E CUSUM (Wittenberg, Gan & Knoth, Stat Med 2018): a CUSUM of the per-patient observed
minus expected deaths O_t − E_t = y_t − p_t with the reference value that is optimal for
detecting odds of death Q_A times the model's,

    k = p̄ · (Q_A − 1 − ln Q_A) / ln Q_A          (p̄ = mean predicted risk)

For deterioration (Q_A > 1, k > 0): S_t = max(0, S_{t−1} + (O_t − E_t) − k);
for improvement (Q_A < 1, k < 0): S_t = max(0, S_{t−1} + (E_t − O_t) + k).
Both are upper charts signalling when S_t > h (vlad's lower E–O chart is the first one
mirrored).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from continuum.control_charts import checks, cusum
from continuum.control_charts.checks import FloatArray

SOURCE = (
    "docs/clinical/reference.md §7.5 (Lovegrove J et al., Lancet 1997; Wittenberg P, Gan FF, "
    "Knoth S. Stat Med 2018;37:2455)"
)
VLAD_FORMULA = "VLAD_t = Σ_{i≤t} (E_i − O_i) = Σ (p_i − y_i)"
OE_FORMULA = (
    "k = p̄·(Q_A − 1 − ln Q_A)/ln Q_A; Q_A > 1: S_t = max(0, S_{t−1} + (O_t − E_t) − k); "
    "Q_A < 1: S_t = max(0, S_{t−1} + (E_t − O_t) + k); signal when S_t > h, then restart at 0"
)


@dataclass(frozen=True)
class Vlad:
    """Per-patient increments E − O and their running total (lives saved)."""

    increments: tuple[float, ...]
    values: tuple[float, ...]
    observed_deaths: int
    expected_deaths: float
    lives_saved: float
    inputs: dict[str, Any]
    formula: str = VLAD_FORMULA
    units: str = "deaths (expected minus observed; + = lives saved)"
    source: str = SOURCE


def observed_minus_expected(
    risks: Sequence[float] | FloatArray, outcomes: Sequence[int] | Sequence[bool]
) -> tuple[float, ...]:
    """O_t − E_t = y_t − p_t for each patient."""
    p = checks.risks(risks)
    y = checks.outcomes(outcomes, len(p))
    return tuple(float(v) for v in y - p)


def vlad(risks: Sequence[float] | FloatArray, outcomes: Sequence[int] | Sequence[bool]) -> Vlad:
    p = checks.risks(risks)
    y = checks.outcomes(outcomes, len(p))
    increments = p - y
    values = np.cumsum(increments)
    return Vlad(
        increments=tuple(float(v) for v in increments),
        values=tuple(float(v) for v in values),
        observed_deaths=int(y.sum()),
        expected_deaths=float(p.sum()),
        lives_saved=float(values[-1]),
        inputs={"patients": len(p)},
    )


def reference_value(mean_risk: float, q_a: float) -> float:
    """k = p̄·(Q_A − 1 − ln Q_A)/ln Q_A, the optimal reference value for odds ratio Q_A."""
    p_bar = checks.risk(mean_risk, "mean_risk")
    ratio = checks.odds_ratio(q_a, "q_a")
    return p_bar * (ratio - 1 - math.log(ratio)) / math.log(ratio)


@dataclass(frozen=True)
class OECusum:
    label: str
    q_a: float
    k: float
    h: float
    values: tuple[float, ...]
    signals: tuple[int, ...]
    resets: tuple[int, ...]
    inputs: dict[str, Any]
    formula: str = OE_FORMULA
    units: str = "deaths (cumulated observed minus expected, less k per patient)"
    source: str = SOURCE


def oe_cusum(
    risks: Sequence[float] | FloatArray,
    outcomes: Sequence[int] | Sequence[bool],
    q_a: float,
    h: float,
    k: float | None = None,
    reset: bool = True,
) -> OECusum:
    """The O–E CUSUM for odds ratio ``q_a`` (>1 deterioration, <1 improvement).

    ``k`` defaults to the optimal reference value for the mean of ``risks``."""
    p = checks.risks(risks)
    y = checks.outcomes(outcomes, len(p))
    limit = checks.positive(h, "h")
    ratio = checks.odds_ratio(q_a, "q_a")
    p_bar = float(p.mean())
    if k is None:
        reference = reference_value(p_bar, ratio)
    else:
        reference = float(k)
        if not math.isfinite(reference):
            raise ValueError(f"k = {k!r} is not a finite number; allowed: any finite number")
    observed_minus = y - p
    increments = observed_minus - reference if ratio > 1 else -observed_minus + reference
    values, signals, resets = cusum.upper_cusum(increments, limit, reset)
    kind = "deterioration" if ratio > 1 else "improvement"
    return OECusum(
        label=f"O–E {kind} (odds ratio {ratio:g})",
        q_a=ratio,
        k=reference,
        h=limit,
        values=tuple(values),
        signals=tuple(signals),
        resets=tuple(resets),
        inputs={
            "patients": len(p),
            "mean_risk": p_bar,
            "q_a": ratio,
            "h": limit,
            "reset": reset,
            "k_given": k is not None,
        },
    )
