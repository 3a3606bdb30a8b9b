"""Vasoactive–Inotropic Score (docs/clinical/reference.md §6.3; Gaies MG et al., Pediatr Crit Care
Med 2010).

VIS = dopamine + dobutamine + 100·epinephrine + 10·milrinone + 10,000·vasopressin
      + 100·norepinephrine (µg/kg/min; vasopressin U/kg/min).
Bands (continuous reading of 0–5, 6–15, 16–30, 31–45, >45): ≤5, ≤15, ≤30, ≤45, >45.
"""

from __future__ import annotations

from continuum.errors import ValidationFailed
from continuum.physiology.result import CalculatorResult, WarningList, rounded
from continuum.scores.common import Tally

SOURCE = (
    "Gaies MG et al. Pediatr Crit Care Med 2010, formula as printed in Song J et al. "
    "J Clin Med 2021;10(3):495; bands and 30-day mortality from Song 2021 (sepsis cohort)"
)
WEIGHTS = (
    ("dopamine", 1.0),
    ("dobutamine", 1.0),
    ("epinephrine", 100.0),
    ("milrinone", 10.0),
    ("vasopressin", 10_000.0),
    ("norepinephrine", 100.0),
)
# (upper bound inclusive, band, 30-day mortality in Song 2021)
BANDS = (
    (5.0, "0–5", 0.172),
    (15.0, "6–15", 0.208),
    (30.0, "16–30", 0.333),
    (45.0, "31–45", 0.546),
    (float("inf"), ">45", 0.700),
)


def vis_value(doses: dict[str, float]) -> float:
    return sum(weight * doses.get(drug, 0.0) for drug, weight in WEIGHTS)


def vis_band(value: float) -> tuple[str, float]:
    for ceiling, band, mortality in BANDS:
        if value <= ceiling:
            return band, mortality
    return BANDS[-1][1], BANDS[-1][2]


def _vasopressin_per_kg(per_kg: float, per_min: float | None, weight_kg: float | None) -> float:
    """Vasopressin in U/kg/min; U/min is divided by weight (docs/clinical/reference.md §6.3)."""
    if per_min is None:
        return per_kg
    if weight_kg is None:
        raise ValidationFailed("is required to convert vasopressin_u_min", "weight_kg")
    if per_kg:
        raise ValidationFailed("give vasopressin or vasopressin_u_min, not both", "vasopressin")
    return per_min / weight_kg


def vis(
    dopamine: float = 0.0,
    dobutamine: float = 0.0,
    epinephrine: float = 0.0,
    norepinephrine: float = 0.0,
    milrinone: float = 0.0,
    vasopressin: float = 0.0,
    vasopressin_u_min: float | None = None,
    weight_kg: float | None = None,
) -> CalculatorResult:
    vasopressin = _vasopressin_per_kg(vasopressin, vasopressin_u_min, weight_kg)
    doses = {
        "dopamine": dopamine,
        "dobutamine": dobutamine,
        "epinephrine": epinephrine,
        "milrinone": milrinone,
        "vasopressin": vasopressin,
        "norepinephrine": norepinephrine,
    }
    tally = Tally()
    for drug, weight in WEIGHTS:
        tally.add(f"{drug} × {weight:g}", doses[drug], rounded(weight * doses[drug], 3))
    value = vis_value(doses)
    band, mortality = vis_band(value)
    warnings = WarningList()
    warnings.add(
        "Band mortality is from an adult sepsis cohort (Song 2021), not an ECMO cohort, and is "
        "not an individual prediction."
    )
    return CalculatorResult(
        name="vis",
        value=rounded(value, 2),
        unit="points",
        interpretation={
            "band": band,
            "cohort_30day_mortality": mortality,
            "text": f"VIS {value:.1f} (band {band})",
        },
        inputs=doses,
        formula="VIS = dopamine + dobutamine + 100·epinephrine + 10·milrinone "
        "+ 10,000·vasopressin + 100·norepinephrine",
        source=SOURCE,
        warnings=warnings.as_tuple(),
        points=tally.as_tuple(),
    )
