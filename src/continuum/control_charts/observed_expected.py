"""Observed vs expected deaths for a cohort (docs/clinical/reference.md §7.7).

Each run has a predicted survival: the published in-hospital survival of its RESP class
(VV, respiratory) or SAVE class (VA, cardiac) — ``continuum.scores.resp.CLASSES`` /
``continuum.scores.save.CLASSES`` — or a probability the programme supplies. The predicted
risk of death is 1 − survival.

- observed deaths O = number of runs that ended in death (not alive at the end point);
- expected deaths E = Σ (1 − predicted survival);
- O/E with a 95 % interval: the exact Poisson (Garwood) interval for the observed count,
  divided by E (E treated as known). The Poisson interval is the usual choice for
  standardised mortality ratios; when predicted risks are high (as in ECMO) deaths vary
  less than a Poisson count, so the interval is on the wide (conservative) side;
- the 95 % range of expected deaths: if every run's death were an independent Bernoulli
  trial with its predicted risk, the number of deaths follows a Poisson-binomial
  distribution, computed exactly by convolution; its 2.5th and 97.5th percentiles are the
  range. An observed count outside it differs from the scores' cohorts at the 5 % level
  (two-sided p-value given from the same exact distribution).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from continuum.control_charts import checks
from continuum.control_charts.checks import FloatArray
from continuum.scores import resp, save
from continuum.scores.common import risk_class

SOURCE = (
    "docs/clinical/reference.md §7.7 (O/E, Garwood exact Poisson interval, Poisson-binomial "
    "range); class survival §1.2 (RESP) and §1.3 (SAVE)"
)
FORMULA = (
    "O = Σ deaths; E = Σ (1 − predicted survival); O/E; 95 % CI = Garwood exact Poisson "
    "interval for O (χ²₀.₀₂₅(2O)/2, χ²₀.₉₇₅(2O+2)/2) ÷ E; 95 % range of deaths = 2.5th–97.5th "
    "percentiles of the Poisson-binomial distribution of Σ Bernoulli(1 − survival)"
)
Score = Literal["RESP", "SAVE"]


@dataclass(frozen=True)
class ClassSurvival:
    """The survival a score's class predicts, with where it comes from."""

    score: str
    total: int
    risk_class: str
    band: str
    survival: float
    source: str


def class_survival(score: Score, total: int) -> ClassSurvival:
    """The published class survival for a RESP (VV) or SAVE (VA) total."""
    if score == "RESP":
        classes, source = resp.CLASSES, "docs/clinical/reference.md §1.2; " + resp.SOURCE
    elif score == "SAVE":
        classes, source = save.CLASSES, "docs/clinical/reference.md §1.3; " + save.SOURCE
    else:
        raise ValueError(f"score = {score!r} is not known; allowed: 'RESP' or 'SAVE'")
    chosen = risk_class(total, classes)
    assert chosen.cohort_survival is not None
    return ClassSurvival(score, total, chosen.numeral, chosen.band, chosen.cohort_survival, source)


@dataclass(frozen=True)
class ObservedExpected:
    runs: int
    observed_deaths: int
    expected_deaths: float
    ratio: float
    ratio_low: float
    ratio_high: float
    expected_low: int
    expected_high: int
    p_value: float
    observed_survival: float
    expected_survival: float
    inputs: dict[str, Any]
    formula: str = FORMULA
    units: str = "deaths (O, E, range); O/E no unit; survival as a fraction"
    source: str = SOURCE


def poisson_binomial(risks: FloatArray) -> FloatArray:
    """P(deaths = d), d = 0..n, for independent deaths with the given risks (convolution)."""
    pmf = np.zeros(len(risks) + 1)
    pmf[0] = 1.0
    for n, p in enumerate(risks, start=1):
        pmf[1 : n + 1] = pmf[1 : n + 1] * (1 - p) + pmf[:n] * p
        pmf[0] *= 1 - p
    return pmf


def garwood(observed: int, confidence: float = 0.95) -> tuple[float, float]:
    """Exact Poisson interval for an observed count."""
    from scipy.stats import chi2

    alpha = 1 - confidence
    low = 0.0 if observed == 0 else float(chi2.ppf(alpha / 2, 2 * observed) / 2)
    high = float(chi2.ppf(1 - alpha / 2, 2 * observed + 2) / 2)
    return low, high


def observed_vs_expected(
    predicted_survival: Sequence[float] | FloatArray,
    died: Sequence[int] | Sequence[bool],
) -> ObservedExpected:
    """O, E, O/E with its 95 % interval and the 95 % range of deaths the scores expect."""
    survival = checks.risks(predicted_survival, "predicted_survival")
    deaths = checks.outcomes(died, len(survival), "died")
    risks = 1 - survival
    observed = int(deaths.sum())
    expected = float(risks.sum())
    pmf = poisson_binomial(risks)
    cdf = np.cumsum(pmf)
    low_count = int(np.searchsorted(cdf, 0.025))
    high_count = int(np.searchsorted(cdf, 0.975))
    at_most = float(cdf[observed])
    at_least = float(1 - cdf[observed - 1]) if observed > 0 else 1.0
    low, high = garwood(observed)
    runs = len(survival)
    return ObservedExpected(
        runs=runs,
        observed_deaths=observed,
        expected_deaths=expected,
        ratio=observed / expected,
        ratio_low=low / expected,
        ratio_high=high / expected,
        expected_low=low_count,
        expected_high=high_count,
        p_value=min(1.0, 2 * min(at_most, at_least)),
        observed_survival=1 - observed / runs,
        expected_survival=1 - expected / runs,
        inputs={"runs": runs, "confidence": 0.95},
    )
