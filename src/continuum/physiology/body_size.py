"""Body-surface area (docs/clinical/reference.md §2.4, [P] globalrph with original citations)."""

from __future__ import annotations

import math

from continuum.errors import ValidationFailed
from continuum.physiology.result import CalculatorResult, rounded

BSA_FORMULAS: dict[str, tuple[str, str]] = {
    "mosteller": (
        "BSA (m²) = √(height cm × weight kg / 3600)",
        "Mosteller RD. N Engl J Med 1987;317:1098",
    ),
    "dubois": (
        "BSA (m²) = 0.007184 × height cm^0.725 × weight kg^0.425",
        "DuBois D, DuBois EF. Arch Intern Med 1916;17:863",
    ),
    "haycock": (
        "BSA (m²) = 0.024265 × height cm^0.3964 × weight kg^0.5378",
        "Haycock GB et al. 1978, as given by globalrph (docs/clinical/reference.md §2.4)",
    ),
    "gehan_george": (
        "BSA (m²) = 0.0235 × height cm^0.42246 × weight kg^0.51456",
        "Gehan EA, George SL 1970, as given by globalrph (docs/clinical/reference.md §2.4)",
    ),
}


def bsa_mosteller(height_cm: float, weight_kg: float) -> float:
    return math.sqrt(height_cm * weight_kg / 3600.0)


def bsa_dubois(height_cm: float, weight_kg: float) -> float:
    return 0.007184 * height_cm**0.725 * weight_kg**0.425


def bsa_haycock(height_cm: float, weight_kg: float) -> float:
    return 0.024265 * height_cm**0.3964 * weight_kg**0.5378


def bsa_gehan_george(height_cm: float, weight_kg: float) -> float:
    return 0.0235 * height_cm**0.42246 * weight_kg**0.51456


_FUNCTIONS = {
    "mosteller": bsa_mosteller,
    "dubois": bsa_dubois,
    "haycock": bsa_haycock,
    "gehan_george": bsa_gehan_george,
}


def body_surface_area(height_cm: float, weight_kg: float, method: str = "mosteller") -> float:
    """BSA in m² by the named method (Mosteller default)."""
    try:
        formula = _FUNCTIONS[method]
    except KeyError:
        allowed = ", ".join(_FUNCTIONS)
        raise ValidationFailed(f"unknown method '{method}'; one of {allowed}", "method") from None
    return formula(height_cm, weight_kg)


def bsa(height_cm: float, weight_kg: float, method: str = "mosteller") -> CalculatorResult:
    value = body_surface_area(height_cm, weight_kg, method)
    formula, source = BSA_FORMULAS[method]
    warnings: list[str] = []
    if method == "dubois" and weight_kg / (height_cm / 100.0) ** 2 > 30:
        warnings.append(
            "DuBois underestimates BSA in obesity by about 3% (men) to 5% (women) "
            "(Verbraecken 2006)."
        )
    return CalculatorResult(
        name="bsa",
        value=rounded(value),
        unit="m²",
        interpretation={"method": method, "text": f"BSA {value:.2f} m² ({method})"},
        inputs={"height_cm": height_cm, "weight_kg": weight_kg, "method": method},
        formula=formula,
        source=source,
        warnings=tuple(warnings),
    )
