"""Cannula pressure drop at a target flow from manufacturer ΔP–Q fits (docs/clinical/reference.md
§2.7).

ΔP = a·Q² + b·Q (mmHg, Q in L/min). Return lumens give positive ΔP; drainage lumens give
negative ΔP (suction). ``value`` is the magnitude of the pressure drop.
Max flow for an allowed ΔP: Q = [−b + √(b² + 4·a·ΔP)] / (2a) on the magnitude curve.
Default allowed ΔP: 150 mmHg for return (the source app's default), 100 mmHg for drainage
(critical suction ≈ −100 mmHg, Robak) — a programme setting.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from continuum.errors import ProblemCollector, ValidationFailed
from continuum.physiology.cannula_catalogue import CANNULAE, CATALOGUE_SOURCE, Fit
from continuum.physiology.result import CalculatorResult, WarningList, rounded

ROLES = ("drainage", "return")
DEFAULT_MAX_DROP = {"return": 150.0, "drainage": 100.0}
IN_VIVO_NOTE = (
    "Bench curves overestimate safe drainage flow: in vivo, −100 mmHg was reached at about "
    "40% lower flow than in vitro (Robak O et al.)."
)


@dataclass(frozen=True)
class Cannula:
    id: str
    label: str
    french: float | None
    fits: Mapping[str, Fit]

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "label": self.label,
            "french": self.french,
            "roles": {role: {"a": a, "b": b} for role, (a, b) in self.fits.items()},
        }


def builtin_catalogue() -> dict[str, Cannula]:
    return {
        key: Cannula(key, label, french, {"return": ret, "drainage": drain})
        for key, (label, french, ret, drain) in CANNULAE.items()
    }


def _fit_from(value: Any) -> Fit:
    if isinstance(value, Mapping):
        value = (value.get("a"), value.get("b"))
    a, b = value
    a, b = float(a), float(b)
    if not (math.isfinite(a) and math.isfinite(b)) or (a == 0 and b == 0):
        raise ValueError("fit needs finite a and b, not both zero")
    return a, b


def _entry(raw: Any, index: int, problems: ProblemCollector) -> Cannula | None:
    where = f"extra_cannulae[{index}]"
    if not isinstance(raw, Mapping) or not raw.get("id"):
        problems.add(where, "each entry needs an 'id' and at least one of 'return', 'drainage'")
        return None
    fits: dict[str, Fit] = {}
    for role in ROLES:
        if raw.get(role) is None:
            continue
        try:
            fits[role] = _fit_from(raw[role])
        except (TypeError, ValueError):
            problems.add(f"{where}.{role}", "give {'a': number, 'b': number}", raw[role])
    if not fits:
        problems.add(where, "needs a 'return' or 'drainage' fit {'a': …, 'b': …}", raw)
        return None
    french = raw.get("french")
    return Cannula(str(raw["id"]), str(raw.get("label", raw["id"])), french, fits)


def catalogue(extra: Iterable[Any] | None = None) -> dict[str, Cannula]:
    """The built-in catalogue, extended (or overridden by id) with a programme's entries."""
    entries = builtin_catalogue()
    problems = ProblemCollector()
    for index, raw in enumerate(extra or ()):
        cannula = _entry(raw, index, problems)
        if cannula is not None:
            entries[cannula.id] = cannula
    problems.raise_if_any()
    return entries


def pressure_drop(fit: Fit, flow_l_min: float) -> float:
    a, b = fit
    return a * flow_l_min**2 + b * flow_l_min


def max_flow(fit: Fit, allowed_drop_mmhg: float) -> float:
    """Largest flow whose |ΔP| stays within the allowed drop (fit read on its magnitude)."""
    a, b = fit
    sign = 1.0 if a > 0 or (a == 0 and b > 0) else -1.0
    a, b = sign * a, sign * b
    if a == 0:
        return allowed_drop_mmhg / b
    return (-b + math.sqrt(b * b + 4 * a * allowed_drop_mmhg)) / (2 * a)


def _lookup(cannula: str, role: str, extra: Iterable[Any] | None) -> tuple[Cannula, Fit]:
    entries = catalogue(extra)
    if cannula not in entries:
        known = ", ".join(sorted(entries))
        raise ValidationFailed(f"unknown cannula '{cannula}'; known: {known}", "cannula")
    item = entries[cannula]
    if role not in item.fits:
        raise ValidationFailed(f"{item.label} has no {role} curve", "role")
    return item, item.fits[role]


def cannula_check(
    cannula: str,
    role: str,
    target_flow_l_min: float,
    max_pressure_drop_mmhg: float | None = None,
    extra_cannulae: list[Any] | None = None,
) -> CalculatorResult:
    item, fit = _lookup(cannula, role, extra_cannulae)
    allowed = max_pressure_drop_mmhg or DEFAULT_MAX_DROP[role]
    signed = pressure_drop(fit, target_flow_l_min)
    limit = max_flow(fit, allowed)
    within = abs(signed) <= allowed
    warnings = WarningList()
    warnings.when(role == "drainage", IN_VIVO_NOTE)
    warnings.when(
        not within,
        f"Pressure drop {abs(signed):.0f} mmHg at {target_flow_l_min:g} L/min exceeds the "
        f"allowed {allowed:g} mmHg; maximum flow {limit:.2f} L/min.",
    )
    return CalculatorResult(
        name="cannula_check",
        value=rounded(abs(signed), 1),
        unit="mmHg",
        interpretation={
            "cannula": item.label,
            "role": role,
            "pressure_mmhg": rounded(signed, 1),
            "max_flow_l_min": rounded(limit, 2),
            "allowed_pressure_drop_mmhg": allowed,
            "within_limit": within,
            "text": f"{item.label} {role}: ΔP {abs(signed):.0f} mmHg at "
            f"{target_flow_l_min:g} L/min; max {limit:.2f} L/min at {allowed:g} mmHg",
        },
        inputs={
            "cannula": cannula,
            "role": role,
            "target_flow_l_min": target_flow_l_min,
            "max_pressure_drop_mmhg": allowed,
            "fit_a": fit[0],
            "fit_b": fit[1],
        },
        formula="ΔP = a·Q² + b·Q; Qmax = [−b + √(b² + 4a·ΔPmax)] / (2a)",
        source=CATALOGUE_SOURCE,
        warnings=warnings.as_tuple(),
    )
