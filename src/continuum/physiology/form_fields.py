"""Calculator input fields: type, unit, alternative units, range, and their validation.

A field value arrives as a bare value in the field's unit, as ``{"value": v, "unit": u}``,
or as a bare value with a sibling ``<field>_unit`` key. Values are converted to the
field's unit, then checked against its range; every problem names the field, the value
and what is allowed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from continuum.errors import ProblemCollector

NUMBER, INTEGER, BOOLEAN, CHOICE, MULTI_CHOICE, TEXT, SAMPLES, ENTRIES = (
    "number",
    "integer",
    "boolean",
    "choice",
    "multi_choice",
    "text",
    "samples",
    "entries",
)
_TRUE = frozenset({"true", "yes", "y", "1", "on"})
_FALSE = frozenset({"false", "no", "n", "0", "off"})


@dataclass(frozen=True)
class UnitOption:
    """An alternative unit: value in the field's unit = given value × factor."""

    unit: str
    factor: float

    def as_dict(self) -> dict[str, Any]:
        return {"unit": self.unit, "factor": self.factor}


@dataclass(frozen=True)
class InputField:
    name: str
    type: str = NUMBER
    unit: str = ""
    required: bool = True
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()
    default: Any = None
    help: str = ""
    units: tuple[UnitOption, ...] = ()
    percent_above_one: bool = False  # FiO2 given as 21–100 is read as percent

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.type,
            "unit": self.unit,
            "required": self.required,
            "minimum": self.minimum,
            "maximum": self.maximum,
            "choices": list(self.choices),
            "default": self.default,
            "help": self.help,
            "units": [u.as_dict() for u in self.units],
        }

    @property
    def allowed_text(self) -> str:
        if self.type in (NUMBER, INTEGER):
            unbounded = self.minimum is None and self.maximum is None
            return f"any number {self.unit}".strip() if unbounded else self.range_text
        if self.type in (CHOICE, MULTI_CHOICE) and self.choices:
            return "one of " + ", ".join(self.choices)
        if self.type == BOOLEAN:
            return "true or false"
        return self.help or self.type

    @property
    def range_text(self) -> str:
        low = "−∞" if self.minimum is None else f"{self.minimum:g}"
        high = "∞" if self.maximum is None else f"{self.maximum:g}"
        return f"{low}–{high} {self.unit}".strip()


class Refused(ValueError):
    """A value was refused; the message is for the clinician."""


def _split_unit(field: InputField, raw: Any, inputs: Mapping[str, Any]) -> tuple[Any, str | None]:
    if isinstance(raw, Mapping) and "value" in raw:
        return raw["value"], raw.get("unit")
    return raw, inputs.get(f"{field.name}_unit")


def _to_float(raw: Any) -> float:
    if isinstance(raw, bool):
        raise Refused(f"expects a number, got {raw!r}")
    if isinstance(raw, str):
        text = raw.strip().replace(",", ".")
        try:
            raw = float(text)
        except ValueError:
            raise Refused(f"'{raw}' is not a number") from None
    if not isinstance(raw, int | float):
        raise Refused(f"expects a number, got {raw!r}")
    value = float(raw)
    if not math.isfinite(value):
        raise Refused(f"{raw!r} is not a finite number")
    return value


def _convert(field: InputField, value: float, unit: str | None) -> float:
    if unit is None or unit.strip().lower() in ("", field.unit.lower()):
        if field.percent_above_one and 1.0 < value <= 100.0:
            return value / 100.0
        return value
    for option in field.units:
        if option.unit.lower() == unit.strip().lower():
            return value * option.factor
    allowed = ", ".join([field.unit, *(u.unit for u in field.units)])
    raise Refused(f"unit '{unit}' is not accepted; use one of: {allowed}")


def _check_range(field: InputField, value: float, given: Any) -> None:
    low_ok = field.minimum is None or value >= field.minimum
    high_ok = field.maximum is None or value <= field.maximum
    if not (low_ok and high_ok):
        shown = f"{value:g} {field.unit}".strip()
        extra = "" if given == value else f" (given {given})"
        raise Refused(f"{shown}{extra} is outside the allowed range {field.range_text}")


def _snap_to_bounds(field: InputField, value: float) -> float:
    """A limit given in another unit may come back a rounding error outside: snap it."""
    for bound in (field.minimum, field.maximum):
        if bound is not None and math.isclose(value, bound, rel_tol=1e-9, abs_tol=1e-12):
            return float(bound)
    return value


def parse_number(field: InputField, raw: Any, inputs: Mapping[str, Any]) -> float | int:
    bare, unit = _split_unit(field, raw, inputs)
    value = _convert(field, _to_float(bare), unit)
    if unit is not None:
        value = _snap_to_bounds(field, value)
    _check_range(field, value, bare if unit is None else f"{bare} {unit}")
    if field.type == INTEGER:
        if value != int(value):
            raise Refused(f"{value:g} is not a whole number")
        return int(value)
    return value


def parse_boolean(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, int | float) and raw in (0, 1):
        return bool(raw)
    if isinstance(raw, str) and raw.strip().lower() in _TRUE | _FALSE:
        return raw.strip().lower() in _TRUE
    raise Refused(f"expects true or false, got {raw!r}")


def parse_choice(field: InputField, raw: Any) -> str:
    if not isinstance(raw, str):
        raise Refused(f"expects one of {', '.join(field.choices)}, got {raw!r}")
    by_lower = {c.lower(): c for c in field.choices}
    key = raw.strip().lower()
    if key not in by_lower:
        raise Refused(f"'{raw}' is not one of {', '.join(field.choices)}")
    return by_lower[key]


def parse_multi_choice(field: InputField, raw: Any) -> list[str]:
    if isinstance(raw, str):
        raw = [part for part in raw.split(",") if part.strip()]
    if not isinstance(raw, list | tuple):
        raise Refused(f"expects a list drawn from {', '.join(field.choices)}, got {raw!r}")
    return [parse_choice(field, item) for item in raw]


def parse_list(field: InputField, raw: Any) -> list[Any]:
    if not isinstance(raw, list | tuple):
        raise Refused(f"expects a list, got {type(raw).__name__}")
    return list(raw)


def parse_text(raw: Any) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise Refused(f"expects text, got {raw!r}")
    return raw.strip()


def parse_value(field: InputField, raw: Any, inputs: Mapping[str, Any]) -> Any:
    if field.type in (NUMBER, INTEGER):
        return parse_number(field, raw, inputs)
    if field.type == BOOLEAN:
        return parse_boolean(raw)
    if field.type == CHOICE:
        return parse_choice(field, raw)
    if field.type == MULTI_CHOICE:
        return parse_multi_choice(field, raw)
    if field.type in (SAMPLES, ENTRIES):
        return parse_list(field, raw)
    return parse_text(raw)


def is_missing(raw: Any) -> bool:
    return raw is None or (isinstance(raw, str) and not raw.strip())


def parse_inputs(
    fields: tuple[InputField, ...], inputs: Mapping[str, Any]
) -> tuple[dict[str, Any], list[str]]:
    """Validate every field; return (values by name, names that took a boolean default).

    Raises ValidationFailed listing every missing or refused field at once.
    """
    problems = ProblemCollector()
    values: dict[str, Any] = {}
    defaulted: list[str] = []
    for field in fields:
        raw = inputs.get(field.name)
        if is_missing(raw):
            if field.required:
                problems.add(field.name, f"is required ({field.allowed_text})")
            elif field.default is not None:
                values[field.name] = field.default
                if field.type == BOOLEAN:
                    defaulted.append(field.name)
            continue
        try:
            values[field.name] = parse_value(field, raw, inputs)
        except Refused as exc:
            problems.add(field.name, str(exc), raw)
    problems.raise_if_any()
    return values, defaulted


def unknown_keys(fields: tuple[InputField, ...], inputs: Mapping[str, Any]) -> list[str]:
    names = {f.name for f in fields}
    return sorted(
        key
        for key in inputs
        if key not in names and not (key.endswith("_unit") and key[:-5] in names)
    )
