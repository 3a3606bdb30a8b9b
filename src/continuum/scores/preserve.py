"""PRESERVE score (docs/clinical/reference.md §1.4; Schmidt M et al., Intensive Care Med
2013;39:1704-13).

Points [P] as reproduced in Klinzing et al., Crit Care 2015;19:142, Table 1. The original
abstract describes a 0–14 range, so these weights may differ from the original table; a
warning says so on every result. Totals <0 (possible with BMI >30) go in the lowest class.
Band decisions: age in completed years (<45 → 0, 45–55 → 2, >55 → 3); ventilation
>6 days → 1; SOFA >12 → 1; PEEP <10 → 1; PIP >35 or plateau >30 → 1 (one point, not two).
Class numerals I–IV are ours, for the four published bands 0–2, 3–4, 5–6, ≥7.
"""

from __future__ import annotations

from continuum.physiology.result import CalculatorResult, WarningList
from continuum.scores.common import (
    ELSO_CAUTION,
    RiskClass,
    Tally,
    class_interpretation,
    completed_years,
    risk_class,
    scores_apply,
)

SOURCE = (
    "Schmidt M et al. The PRESERVE mortality risk score. Intensive Care Med "
    "2013;39(10):1704-13 (n=140); points as reproduced by Klinzing S et al. Crit Care "
    "2015;19:142, Table 1"
)
COHORT = "the PRESERVE derivation cohort (n=140, 6-month survival)"
CLASSES = (
    RiskClass("IV", 7, 0.16, "≥7"),
    RiskClass("III", 5, 0.54, "5 to 6"),
    RiskClass("II", 3, 0.79, "3 to 4"),
    RiskClass("I", float("-inf"), 0.97, "0 to 2 (and below 0)"),
)
WEIGHTS_CAUTION = (
    "PRESERVE point weights are taken from a reproduction (Klinzing 2015); the original paper "
    "describes a 0–14 range, so weights may differ from the original table."
)


def preserve_class(total: int) -> RiskClass:
    """Higher PRESERVE totals are worse: check from the top band down."""
    return risk_class(total, CLASSES)


def age_points(age_years: float) -> int:
    age = completed_years(age_years)
    if age > 55:
        return 3
    return 2 if age >= 45 else 0


def pressure_point(pip: float, plateau: float | None) -> int:
    return 1 if pip > 35 or (plateau is not None and plateau > 30) else 0


def preserve(
    age_years: float,
    bmi: float,
    mechanical_ventilation_days: float,
    sofa: int,
    peep_cmh2o: float,
    peak_inspiratory_pressure_cmh2o: float,
    immunocompromised: bool = False,
    prone_positioning: bool = False,
    plateau_pressure_cmh2o: float | None = None,
    mode: str | None = None,
) -> CalculatorResult:
    pip, plateau = peak_inspiratory_pressure_cmh2o, plateau_pressure_cmh2o
    tally = Tally()
    tally.add("age (years)", age_years, age_points(age_years))
    tally.add("BMI >30 kg/m²", bmi, -2 if bmi > 30 else 0)
    tally.add("immunocompromised", immunocompromised, 2 if immunocompromised else 0)
    tally.add(
        "ventilation >6 days",
        mechanical_ventilation_days,
        1 if mechanical_ventilation_days > 6 else 0,
    )
    tally.add("SOFA >12", sofa, 1 if sofa > 12 else 0)
    tally.add("no prone positioning before ECMO", prone_positioning, 0 if prone_positioning else 1)
    tally.add("PEEP <10 cmH2O", peep_cmh2o, 1 if peep_cmh2o < 10 else 0)
    tally.add(
        "PIP >35 or plateau >30 cmH2O",
        {"pip": pip, "plateau": plateau},
        pressure_point(pip, plateau),
    )
    total = int(tally.total)
    chosen = preserve_class(total)
    warnings = WarningList([ELSO_CAUTION, WEIGHTS_CAUTION])
    warnings.when(age_years < 18, "PRESERVE was derived in adults.")
    warnings.when(
        not scores_apply("PRESERVE", mode),
        "PRESERVE was derived for VV ECMO in ARDS; outside its derivation population.",
    )
    return CalculatorResult(
        name="preserve",
        value=total,
        unit="points",
        interpretation=class_interpretation(chosen, COHORT),
        inputs={
            "age_years": age_years,
            "bmi": bmi,
            "immunocompromised": immunocompromised,
            "mechanical_ventilation_days": mechanical_ventilation_days,
            "sofa": sofa,
            "prone_positioning": prone_positioning,
            "peep_cmh2o": peep_cmh2o,
            "peak_inspiratory_pressure_cmh2o": pip,
            "plateau_pressure_cmh2o": plateau,
            "mode": mode,
        },
        formula="PRESERVE = sum of item points; classes 0–2, 3–4, 5–6, ≥7",
        source=SOURCE,
        warnings=warnings.as_tuple(),
        points=tally.as_tuple(),
    )
