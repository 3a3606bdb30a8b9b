"""Shared pieces of the outcome scores: the ELSO caution, risk classes, points lists."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from continuum import support_configuration
from continuum.physiology.result import ScoreItem

ELSO_CAUTION = (
    "ELSO caution: outcome scores describe their derivation cohorts and are not validated for "
    "selecting or withdrawing support in an individual patient; the survival shown is the "
    "published cohort survival for this class, not an individual prediction."
)


def scores_apply(score: str, mode: str | None) -> bool:
    """Whether a run on ``mode`` belongs to the score's derivation population (by its support
    configuration: RESP/PRESERVE respiratory VV, SAVE arterial return); no mode: not judged."""
    if mode is None:
        return True
    found = support_configuration.find(mode)
    return found is not None and score in found.scores


def population(mode: str | None, usual: str) -> str:
    """How a warning names the population a run is in: the usual wording ("VV / respiratory
    support") unless the mode is a configuration of another family (e.g. "V-PA support")."""
    found = support_configuration.find(mode)
    if found is None or found.family in ("respiratory", "circulatory"):
        return usual
    return f"{found.mode} support"


def completed_years(age_years: float) -> int:
    """Age bands are read in completed years: 49.9 y scores as 49."""
    return math.floor(age_years)


@dataclass(frozen=True)
class RiskClass:
    numeral: str
    lowest_total: float  # the class applies to totals >= this (checked top-down)
    cohort_survival: float | None
    band: str


def risk_class(total: float, classes: Sequence[RiskClass]) -> RiskClass:
    """First class (ordered best to worst) whose lower bound the total reaches."""
    for candidate in classes:
        if total >= candidate.lowest_total:
            return candidate
    return classes[-1]


@dataclass
class Tally:
    """Accumulates score items so every point is visible in the result."""

    items: list[ScoreItem] = field(default_factory=list)

    def add(self, item: str, given: Any, points: float) -> None:
        self.items.append(ScoreItem(item, given, points))

    @property
    def total(self) -> float:
        return sum(i.points for i in self.items)

    def as_tuple(self) -> tuple[ScoreItem, ...]:
        return tuple(self.items)


def class_interpretation(chosen: RiskClass, cohort: str) -> dict[str, Any]:
    return {
        "risk_class": chosen.numeral,
        "cohort_survival": chosen.cohort_survival,
        "band": chosen.band,
        "cohort": cohort,
        "text": f"Class {chosen.numeral} ({chosen.band}): cohort survival "
        f"{chosen.cohort_survival:.0%} in {cohort}"
        if chosen.cohort_survival is not None
        else f"Class {chosen.numeral} ({chosen.band})",
    }
