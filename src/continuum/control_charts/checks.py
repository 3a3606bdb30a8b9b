"""Input checks: a ``ValueError`` that names the field, the value and the allowed range."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


def _number(value: object, field: str, allowed: str) -> float:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValueError(f"{field} = {value!r} is not a number; allowed: {allowed}") from None
    if not math.isfinite(number):
        raise ValueError(f"{field} = {value!r} is not a finite number; allowed: {allowed}")
    return number


def risk(value: object, field: str = "risk") -> float:
    """A predicted probability of death, strictly between 0 and 1."""
    allowed = "0 < value < 1 (a probability, not 0 or 1)"
    number = _number(value, field, allowed)
    if not 0 < number < 1:
        raise ValueError(f"{field} = {value!r} is outside the allowed range {allowed}")
    return number


def risks(values: Sequence[float] | FloatArray, field: str = "risks") -> FloatArray:
    """A non-empty list of risks, each strictly between 0 and 1 (the bad one named by index)."""
    if len(values) == 0:
        raise ValueError(f"{field} is empty; give at least one probability (0 < value < 1)")
    return np.array([risk(v, f"{field}[{i}]") for i, v in enumerate(values)], dtype=float)


def outcomes(
    values: Sequence[int] | Sequence[bool], count: int, field: str = "outcomes"
) -> npt.NDArray[np.int64]:
    """Outcomes 1 (died) or 0 (survived), one per risk."""
    if len(values) != count:
        raise ValueError(
            f"{field} has {len(values)} values but there are {count} risks; give one outcome "
            "per patient (1 = died, 0 = survived)"
        )
    checked = []
    for i, value in enumerate(values):
        if isinstance(value, bool) or value in (0, 1):
            checked.append(int(value))
        else:
            raise ValueError(
                f"{field}[{i}] = {value!r} is not an outcome; allowed: 1 (died) or 0 (survived)"
            )
    return np.array(checked, dtype=np.int64)


def positive(value: object, field: str) -> float:
    """A finite number above 0 (an odds ratio, a control limit)."""
    allowed = f"{field} > 0"
    number = _number(value, field, allowed)
    if number <= 0:
        raise ValueError(f"{field} = {value!r} is outside the allowed range {allowed}")
    return number


def odds_ratio(value: object, field: str, null: float = 1.0) -> float:
    """An alternative odds ratio: above 0 and different from the null odds ratio."""
    number = positive(value, field)
    if number == null:
        raise ValueError(
            f"{field} = {value!r} equals the in-control odds ratio {null:g}; allowed: "
            f"{field} > 0 and ≠ {null:g} (e.g. 2 to detect a doubling, 0.5 a halving)"
        )
    return number


def integer(value: object, field: str, low: int, high: int) -> int:
    """A whole number in low..high."""
    allowed = f"a whole number from {low} to {high}"
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        number = _number(value, field, allowed)
        if number != int(number):
            raise ValueError(f"{field} = {value!r} is not {allowed}")
        value = int(number)
    if not low <= int(value) <= high:
        raise ValueError(f"{field} = {value!r} is outside the allowed range {low}–{high}")
    return int(value)
