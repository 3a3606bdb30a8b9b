"""The one result shape every calculator returns (docs/contracts.md §5)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

DECIMALS = 4


class NonFiniteResult(ValueError):
    """A calculation came out NaN or infinite (e.g. a divisor of almost zero)."""


def rounded(x: float, decimals: int = DECIMALS) -> float:
    """Round for display; refuses NaN/inf so no result can carry one."""
    if not math.isfinite(x):
        raise NonFiniteResult(f"calculator produced a non-finite value: {x}")
    value = round(x, decimals)
    return 0.0 if value == 0 else value


@dataclass(frozen=True)
class ScoreItem:
    """One line of a score's working: which item, the input that drove it, the points."""

    item: str
    input: Any
    points: float

    def as_dict(self) -> dict[str, Any]:
        return {"item": self.item, "input": self.input, "points": self.points}


@dataclass(frozen=True)
class CalculatorResult:
    """A calculator's answer with everything needed to show and audit it."""

    name: str
    value: float
    unit: str
    interpretation: dict[str, Any]
    inputs: dict[str, Any]
    formula: str
    source: str
    warnings: tuple[str, ...] = ()
    points: tuple[ScoreItem, ...] = ()

    def with_warnings(self, *extra: str) -> CalculatorResult:
        """A copy with more warnings appended (duplicates dropped, order kept)."""
        merged = list(self.warnings)
        merged.extend(w for w in extra if w not in merged)
        return replace(self, warnings=tuple(merged))

    def as_dict(self) -> dict[str, Any]:
        """The JSON object of docs/contracts.md §5 (plus ``points``, empty for non-scores)."""
        return {
            "name": self.name,
            "value": self.value,
            "unit": self.unit,
            "interpretation": dict(self.interpretation),
            "inputs": dict(self.inputs),
            "formula": self.formula,
            "source": self.source,
            "warnings": list(self.warnings),
            "points": [p.as_dict() for p in self.points],
        }


@dataclass
class WarningList:
    """Collects caution texts while a calculator works."""

    items: list[str] = field(default_factory=list)

    def add(self, text: str) -> None:
        if text not in self.items:
            self.items.append(text)

    def when(self, condition: bool, text: str) -> None:
        if condition:
            self.add(text)

    def as_tuple(self) -> tuple[str, ...]:
        return tuple(self.items)
