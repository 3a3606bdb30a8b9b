"""Target ECMO blood flow (docs/clinical/reference.md §2.3).

VV: 60–80 mL/kg/min (adults) [U — no source retrieved].
VA: cardiac index ≥2.2 L/min/m² × BSA [S, one centre]; upper 2.5 L/min/m² [U];
    weight-based cardiac-support flow 60 mL/kg/min adults (100 neonates, 80 children) [S].
``value`` is the LOWER end of the target range (the minimum flow to aim for).
"""

from __future__ import annotations

from continuum.errors import ValidationFailed
from continuum.physiology.body_size import bsa_mosteller
from continuum.physiology.result import CalculatorResult, WarningList, rounded

VV_ML_KG_MIN = (60.0, 80.0)
VA_CARDIAC_INDEX = (2.2, 2.5)
SOURCE = (
    "VV 60–80 mL/kg/min (ELSO-style, unconfirmed); VA cardiac index >2.2 L/min/m² "
    "('How I approach weaning from VA ECMO', amsect.org); weight-based cardiac-support flows "
    "(ECLS textbook, issuhub) — docs/clinical/reference.md §2.3"
)


def vv_flow_range(weight_kg: float) -> tuple[float, float]:
    low, high = VV_ML_KG_MIN
    return weight_kg * low / 1000.0, weight_kg * high / 1000.0


def va_flow_range(height_cm: float, weight_kg: float) -> tuple[float, float, float]:
    area = bsa_mosteller(height_cm, weight_kg)
    low, high = VA_CARDIAC_INDEX
    return area * low, area * high, area


def cardiac_support_ml_kg_min(age_years: float | None) -> float:
    """Weight-based cardiac-support flow: neonates 100, children 80, adults 60 mL/kg/min."""
    if age_years is None or age_years >= 18:
        return 60.0
    return 100.0 if age_years < 28 / 365.25 else 80.0


def flow_target(
    mode: str, weight_kg: float, height_cm: float | None = None, age_years: float | None = None
) -> CalculatorResult:
    warnings = WarningList()
    warnings.when(
        age_years is not None and age_years < 18,
        "Adult targets; neonatal and paediatric flows per kg are higher.",
    )
    interpretation: dict[str, object] = {"mode": mode}
    if mode == "VV":
        low, high = vv_flow_range(weight_kg)
        formula = "VV flow = weight × 60–80 mL/kg/min"
        warnings.add("VV target of 60–80 mL/kg/min is unconfirmed [U].")
    else:
        if height_cm is None:
            raise ValidationFailed("is required for VA (cardiac index × BSA)", "height_cm")
        low, high, area = va_flow_range(height_cm, weight_kg)
        per_kg = cardiac_support_ml_kg_min(age_years)
        interpretation["bsa_m2"] = rounded(area, 3)
        interpretation["weight_based_l_min"] = rounded(weight_kg * per_kg / 1000.0, 2)
        formula = "VA flow = cardiac index 2.2–2.5 L/min/m² × BSA (Mosteller)"
        warnings.add("Upper bound 2.5 L/min/m² is unconfirmed [U].")
    interpretation.update(
        {
            "range_low_l_min": rounded(low, 2),
            "range_high_l_min": rounded(high, 2),
            "text": f"Target blood flow {low:.1f}–{high:.1f} L/min ({mode})",
        }
    )
    return CalculatorResult(
        name="flow_target",
        value=rounded(low, 2),
        unit="L/min",
        interpretation=interpretation,
        inputs={
            "mode": mode,
            "weight_kg": weight_kg,
            "height_cm": height_cm,
            "age_years": age_years,
        },
        formula=formula,
        source=SOURCE,
        warnings=warnings.as_tuple(),
    )
