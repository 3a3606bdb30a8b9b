"""Estimated blood volume (docs/clinical/reference.md §2.5).

Methods:
* ``nadler`` — adults and children >35 kg, litres from height (m), weight, sex [S].
* ``per_kg`` — weight × mL/kg (default 70 mL/kg, the conventional adult figure; 80 mL/kg
  is the paediatric CPB (<15 kg) figure) [S]/[P] abstract.
* ``paediatric_bands`` — Nadler 1962 mL/kg by age group (mdapp) [S]; the midpoint of each
  printed range is used and the age cut-offs are ours (documented below).
* ``linderkamp`` — measured mL/kg by age and sex for children ≤14 y [S].
Default: ``nadler`` when weight >35 kg, else ``paediatric_bands``.
"""

from __future__ import annotations

from continuum.errors import ProblemCollector, ValidationFailed
from continuum.physiology.result import CalculatorResult, rounded

METHODS = ("nadler", "per_kg", "paediatric_bands", "linderkamp")
DAYS_PER_YEAR = 365.25

NADLER_SOURCE = (
    "Nadler SB et al. Surgery 1962;51:224-32 (via mdapp; docs/clinical/reference.md §2.5)"
)
LINDERKAMP_SOURCE = "Linderkamp O et al. (via medicalalgorithms; docs/clinical/reference.md §2.5)"


def nadler_litres(height_cm: float, weight_kg: float, sex: str) -> float:
    h = height_cm / 100.0
    if sex == "male":
        return 0.3669 * h**3 + 0.03219 * weight_kg + 0.6041
    return 0.3561 * h**3 + 0.03308 * weight_kg + 0.1833


def paediatric_ml_per_kg(age_years: float, sex: str) -> tuple[float, str]:
    """Nadler 1962 paediatric mL/kg (midpoints of printed ranges).

    Age cut-offs (ours, [U]): neonate <28 days; infant <1 y; child <12 y; adolescent ≥12 y.
    """
    if age_years < 28 / DAYS_PER_YEAR:
        return 87.5, "neonate (85–90 mL/kg)"
    if age_years < 1:
        return 77.5, "infant (75–80 mL/kg)"
    if age_years < 12:
        return 72.5, "child (70–75 mL/kg)"
    if sex == "male":
        return 70.0, "male adolescent (70 mL/kg)"
    return 65.0, "female adolescent (65 mL/kg)"


# (upper age bound exclusive in years, male mL/kg, female mL/kg, label)
_LINDERKAMP: tuple[tuple[float, float, float, str], ...] = (
    (2 / DAYS_PER_YEAR, 81.9, 81.9, "0–1 days"),
    (31 / DAYS_PER_YEAR, 84.4, 84.4, "2–30 days"),
    (3 / 12, 79.4, 79.4, "1–2 months"),
    (7 / 12, 76.6, 76.6, "3–6 months"),
    (13 / 12, 82.4, 82.4, "7–12 months"),
    (2.0, 86.1, 86.1, "13–24 months"),
    (4.0, 80.5, 79.0, "2–3 years"),
    (7.0, 76.7, 77.4, "4–6 years"),
    (11.0, 79.6, 72.7, "7–10 years"),
    (15.0, 74.4, 68.3, "11–14 years"),
)


def linderkamp_ml_per_kg(age_years: float, sex: str) -> tuple[float, str]:
    """Linderkamp measured blood volume (mL/kg) by completed age band; None above 14 y."""
    for upper, male, female, label in _LINDERKAMP:
        if age_years < upper:
            return (male if sex == "male" else female), label
    raise ValidationFailed(
        f"Linderkamp values cover children up to 14 years; age {age_years:g} y is older",
        "age_years",
    )


def default_method(weight_kg: float) -> str:
    return "nadler" if weight_kg > 35 else "paediatric_bands"


def _require(method: str, needed: dict[str, object]) -> None:
    problems = ProblemCollector()
    for name, value in needed.items():
        if value is None:
            problems.add(name, f"is required for method '{method}'")
    problems.raise_if_any()


def estimate_blood_volume_ml(
    weight_kg: float,
    height_cm: float | None = None,
    sex: str | None = None,
    age_years: float | None = None,
    method: str | None = None,
    ml_per_kg: float | None = None,
) -> tuple[float, str, str, str]:
    """Return (blood volume mL, method, formula text, source)."""
    method = method or default_method(weight_kg)
    if method == "nadler":
        _require(method, {"height_cm": height_cm, "sex": sex})
        assert height_cm is not None and sex is not None
        litres = nadler_litres(height_cm, weight_kg, sex)
        formula = (
            "male BV (L) = 0.3669·H(m)³ + 0.03219·W + 0.6041; "
            "female BV (L) = 0.3561·H(m)³ + 0.03308·W + 0.1833"
        )
        return litres * 1000.0, method, formula, NADLER_SOURCE
    if method == "per_kg":
        per_kg = ml_per_kg if ml_per_kg is not None else 70.0
        formula = f"BV (mL) = weight kg × {per_kg:g} mL/kg"
        return (
            weight_kg * per_kg,
            method,
            formula,
            "Conventional mL/kg estimate (docs/clinical/reference.md §2.5)",
        )
    if method == "paediatric_bands":
        _require(method, {"age_years": age_years, "sex": sex})
        assert age_years is not None and sex is not None
        per_kg, band = paediatric_ml_per_kg(age_years, sex)
        formula = f"BV (mL) = weight kg × {per_kg:g} mL/kg [{band}]"
        return weight_kg * per_kg, method, formula, NADLER_SOURCE
    if method == "linderkamp":
        _require(method, {"age_years": age_years, "sex": sex})
        assert age_years is not None and sex is not None
        per_kg, band = linderkamp_ml_per_kg(age_years, sex)
        formula = f"BV (mL) = weight kg × {per_kg:g} mL/kg [{band}]"
        return weight_kg * per_kg, method, formula, LINDERKAMP_SOURCE
    raise ValidationFailed(f"unknown method '{method}'; one of {', '.join(METHODS)}", "method")


def blood_volume(
    weight_kg: float,
    height_cm: float | None = None,
    sex: str | None = None,
    age_years: float | None = None,
    method: str | None = None,
    ml_per_kg: float | None = None,
) -> CalculatorResult:
    volume, used, formula, source = estimate_blood_volume_ml(
        weight_kg, height_cm, sex, age_years, method, ml_per_kg
    )
    warnings: list[str] = []
    if used == "nadler" and weight_kg <= 35:
        warnings.append("Nadler's formula was derived for adults and children over 35 kg.")
    if used == "nadler" and age_years is not None and age_years < 12:
        warnings.append("Nadler's formula is an adult formula; consider a paediatric method.")
    if used == "paediatric_bands":
        warnings.append("Age-band cut-offs for the paediatric mL/kg table are not published.")
    return CalculatorResult(
        name="blood_volume",
        value=rounded(volume, 0),
        unit="mL",
        interpretation={
            "method": used,
            "ml_per_kg": rounded(volume / weight_kg, 1),
            "text": f"Estimated blood volume {volume / 1000:.2f} L ({used})",
        },
        inputs={
            "weight_kg": weight_kg,
            "height_cm": height_cm,
            "sex": sex,
            "age_years": age_years,
            "method": used,
            "ml_per_kg": ml_per_kg,
        },
        formula=formula,
        source=source,
        warnings=tuple(warnings),
    )
