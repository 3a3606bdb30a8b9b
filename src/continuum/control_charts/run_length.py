"""In-control average run length of a risk-adjusted CUSUM and the limit h it implies
(docs/clinical/reference.md §7.6).

The patient mix is a list of predicted risks; each new patient is drawn from it uniformly
and dies with probability p (the model is right: in control) or, for an out-of-control run
length, with the odds multiplied by ``true_odds_ratio``.

Markov chain (Brook & Evans, Biometrika 1972, as Steiner et al. 2000 used it): [0, h] is
cut into ``states`` steps of Δ = h/states; S sits on the grid 0, Δ, …, h (states + 1
transient states) and S > h is the absorbing signal. Each move is shared between the two
grid points around its landing point in proportion to its distance (so each move keeps its
mean), landing above h is a signal exactly, and below 0 counts as 0. With Q the
transient-to-transient transition matrix, the run lengths from each start are
L = (I − Q)⁻¹ 1, and the ARL from S = 0 is L[0].

Simulation (for checking the chain): many charts are run on random patients from the mix
until each signals; the ARL is their mean run length, with its standard error.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from continuum.control_charts import checks, weights
from continuum.control_charts.checks import FloatArray

SOURCE = (
    "docs/clinical/reference.md §7.6 (Brook D, Evans DA. Biometrika 1972;59:539-49; Steiner SH "
    "et al. Biostatistics 2000;1:441-52)"
)
MARKOV_FORMULA = (
    "Δ = h/N; S on the grid 0, Δ, …, h; from grid step i a weight w lands at x = i + w/Δ: "
    "x > N signals, else it is shared between floor(x) and floor(x)+1; Q = transitions among "
    "the N+1 grid states; ARL₀ = [(I − Q)⁻¹ 1] at S = 0"
)
DEFAULT_STATES = 300
MAX_STATES = 2000  # a dense (N+1)² matrix: 2,000 steps is 32 MB
UNITS = "patients (consecutive runs) until a signal"


@dataclass(frozen=True)
class RunLength:
    """An average run length (patients until the chart signals) and how it was found."""

    arl: float
    h: float
    odds_ratio: float
    method: str
    inputs: dict[str, Any]
    formula: str
    units: str = UNITS
    source: str = SOURCE
    standard_error: float | None = None  # simulation only

    def false_alarms_per_year(self, runs_per_year: float) -> float:
        """Expected signals per year at ``runs_per_year`` runs (in control)."""
        return checks.positive(runs_per_year, "runs_per_year") / self.arl


def _outcome_probability(p: FloatArray, true_odds_ratio: float) -> FloatArray:
    return true_odds_ratio * p / (1 - p + true_odds_ratio * p)


def _checked(
    risks: Sequence[float] | FloatArray,
    odds_ratio: float,
    h: float,
    null_odds_ratio: float,
    true_odds_ratio: float,
) -> tuple[FloatArray, float, float, float, float]:
    p = checks.risks(risks)
    null = checks.positive(null_odds_ratio, "null_odds_ratio")
    ratio = checks.odds_ratio(odds_ratio, "odds_ratio", null)
    limit = checks.positive(h, "h")
    true_ratio = checks.positive(true_odds_ratio, "true_odds_ratio")
    return p, ratio, limit, null, true_ratio


def transition_matrix(
    survived: FloatArray, died: FloatArray, death_probability: FloatArray, h: float, states: int
) -> FloatArray:
    """Q among the grid states 0, Δ, …, h (rows sum to 1 − P(signal next patient)).

    From grid point i a weight w lands at x = i + w/Δ (in steps): x > N is a signal, exactly;
    otherwise the move is shared between floor(x) and floor(x) + 1 (below 0 counts as 0)."""
    delta = h / states
    mix = 1.0 / len(survived)
    steps = np.concatenate([survived, died]) / delta
    mass = np.concatenate([(1 - death_probability) * mix, death_probability * mix])
    below = np.floor(steps)
    upper_share = steps - below
    offsets = below.astype(np.int64)
    lowest = int(offsets.min())
    span = int(offsets.max()) - lowest + 2

    def by_offset(shift: int, amounts: FloatArray) -> FloatArray:
        counts = np.bincount(offsets + shift - lowest, weights=amounts, minlength=span)
        return counts.astype(np.float64)

    exact = upper_share == 0
    # lower share of a move that is not a whole number of steps: must stay below N (at N,
    # x = N + share > N is a signal); whole-step moves and upper shares may reach N itself
    lower_inexact = by_offset(0, np.where(exact, 0.0, mass * (1 - upper_share)))
    up_to_n = by_offset(0, np.where(exact, mass, 0.0)) + by_offset(1, mass * upper_share)
    size = states + 1
    q = np.zeros((size, size))
    rows = np.arange(size)
    for amounts, last in ((lower_inexact, states - 1), (up_to_n, states)):
        for index in np.flatnonzero(amounts):
            target = np.maximum(rows + index + lowest, 0)
            inside = target <= last
            q[rows[inside], target[inside]] += amounts[index]
    return q


def arl_markov(
    risks: Sequence[float] | FloatArray,
    odds_ratio: float,
    h: float,
    states: int = DEFAULT_STATES,
    null_odds_ratio: float = 1.0,
    true_odds_ratio: float = 1.0,
) -> RunLength:
    """ARL of the upper risk-adjusted CUSUM (weights for ``odds_ratio``) over the risk mix.

    ``true_odds_ratio`` 1 (default) gives the in-control ARL₀."""
    p, ratio, limit, null, true_ratio = _checked(
        risks, odds_ratio, h, null_odds_ratio, true_odds_ratio
    )
    n = checks.integer(states, "states", 10, MAX_STATES)
    survived, died = weights.weight_pair(p, ratio, null)
    q = transition_matrix(survived, died, _outcome_probability(p, true_ratio), limit, n)
    lengths = np.linalg.solve(np.eye(n + 1) - q, np.ones(n + 1))
    arl = float(lengths[0])
    if not math.isfinite(arl) or arl <= 0:
        raise ValueError(
            f"the chain found no finite run length for h = {limit:g} (ARL {arl}); try a smaller h"
        )
    return RunLength(
        arl=arl,
        h=limit,
        odds_ratio=ratio,
        method=f"Markov chain, {n} steps",
        inputs={
            "risks": len(p),
            "mean_risk": float(p.mean()),
            "odds_ratio": ratio,
            "null_odds_ratio": null,
            "true_odds_ratio": true_ratio,
            "h": limit,
            "states": n,
        },
        formula=MARKOV_FORMULA,
    )


def arl_simulated(
    risks: Sequence[float] | FloatArray,
    odds_ratio: float,
    h: float,
    charts: int = 2000,
    seed: int = 1,
    null_odds_ratio: float = 1.0,
    true_odds_ratio: float = 1.0,
    max_patients: int = 10_000_000,
) -> RunLength:
    """ARL by running ``charts`` charts on random patients from the mix until each signals."""
    p, ratio, limit, null, true_ratio = _checked(
        risks, odds_ratio, h, null_odds_ratio, true_odds_ratio
    )
    count = checks.integer(charts, "charts", 10, 1_000_000)
    survived, died = weights.weight_pair(p, ratio, null)
    death_probability = _outcome_probability(p, true_ratio)
    rng = np.random.default_rng(seed)
    s = np.zeros(count)
    lengths = np.zeros(count, dtype=np.int64)
    active = np.arange(count)
    t = 0
    while active.size:
        t += 1
        if t > max_patients:
            raise ValueError(
                f"h = {limit:g}: {active.size} of {count} charts had not signalled after "
                f"{max_patients} patients; the ARL is too long to simulate"
            )
        drawn = rng.integers(0, len(p), size=active.size)
        died_now = rng.random(active.size) < death_probability[drawn]
        step = np.where(died_now, died[drawn], survived[drawn])
        s[active] = np.maximum(0.0, s[active] + step)
        done = s[active] > limit
        lengths[active[done]] = t
        active = active[~done]
    mean = float(lengths.mean())
    return RunLength(
        arl=mean,
        h=limit,
        odds_ratio=ratio,
        method=f"simulation, {count} charts",
        inputs={
            "risks": len(p),
            "mean_risk": float(p.mean()),
            "odds_ratio": ratio,
            "null_odds_ratio": null,
            "true_odds_ratio": true_ratio,
            "h": limit,
            "charts": count,
            "seed": seed,
        },
        formula="mean number of patients until S_t > h over independent simulated charts",
        standard_error=float(lengths.std(ddof=1) / math.sqrt(count)),
    )


@dataclass(frozen=True)
class ControlLimit:
    """The h whose in-control ARL gives the wanted false alarms per year."""

    h: float
    run_length: RunLength
    target_arl: float
    runs_per_year: float
    false_alarms_per_year: float
    inputs: dict[str, Any]
    formula: str = (
        "target ARL₀ = runs per year / false alarms per year; h found by bisection so that "
        "the Markov-chain ARL₀(h) ≈ target"
    )
    units: str = "h in natural-log likelihood ratio; ARL in patients"
    source: str = SOURCE


def choose_h(
    risks: Sequence[float] | FloatArray,
    odds_ratio: float,
    runs_per_year: float,
    false_alarms_per_year: float,
    states: int = DEFAULT_STATES,
    tolerance: float = 0.005,
    null_odds_ratio: float = 1.0,
) -> ControlLimit:
    """Find h so that ARL₀ ≈ runs_per_year / false_alarms_per_year (bisection on h; the ARL
    grows with h). ``tolerance`` is the relative error allowed on the ARL."""
    runs = checks.positive(runs_per_year, "runs_per_year")
    alarms = checks.positive(false_alarms_per_year, "false_alarms_per_year")
    target = runs / alarms
    p = checks.risks(risks)

    def arl(h: float) -> RunLength:
        return arl_markov(p, odds_ratio, h, states, null_odds_ratio)

    low, high = 0.0, 1.0
    found = arl(high)
    while found.arl < target:
        low, high = high, high * 2
        if high > 64:
            raise ValueError(
                f"false_alarms_per_year = {alarms:g} at {runs:g} runs per year needs an ARL₀ "
                f"of {target:.0f} patients, beyond h = 64; allowed: a larger number of false "
                "alarms per year"
            )
        found = arl(high)
    best = found
    for _ in range(60):
        if abs(best.arl / target - 1) <= tolerance:
            break
        middle = (low + high) / 2
        found = arl(middle)
        if found.arl < target:
            low = middle
        else:
            high = middle
        if abs(found.arl / target - 1) < abs(best.arl / target - 1):
            best = found
    return ControlLimit(
        h=best.h,
        run_length=best,
        target_arl=target,
        runs_per_year=runs,
        false_alarms_per_year=alarms,
        inputs={"runs_per_year": runs, "false_alarms_per_year": alarms, "states": states},
    )
