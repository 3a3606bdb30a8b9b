"""SAVE score (docs/clinical/reference.md §1.3; Schmidt M et al., Eur Heart J 2015;36:2246-56) [S].

Band decisions (documented):
* Age in completed years: 18–38 → +7, 39–52 → +4, 53–62 → +3, ≥63 → 0.
* Weight: the primary table prints "≤65" and "65–89"; exactly 65 kg scores +1 (the first,
  "≤65" band, as printed in the primary table); 65 < w < 90 → +2; ≥90 → 0.
* Intubation before ECMO: ≤10 h → 0; 10 < h < 30 → −2 (printed 11–29 h); ≥30 h → −4.
* Constant −6 added to every total. Range −35 to +17.
* Classes: I >5, II 1–5, III −4 to 0, IV −9 to −5, V ≤−10 (primary ">5"; Evidencio's
  "≥5" is not followed), so a total of exactly 5 is class II.
"""

from __future__ import annotations

from collections.abc import Sequence

from continuum.physiology.result import CalculatorResult, WarningList
from continuum.scores.common import (
    ELSO_CAUTION,
    RiskClass,
    Tally,
    class_interpretation,
    completed_years,
    population,
    risk_class,
    scores_apply,
)

SOURCE = (
    "Schmidt M et al. Predicting survival after ECMO for refractory cardiogenic shock: the "
    "survival after veno-arterial-ECMO (SAVE)-score. Eur Heart J 2015;36(33):2246-56 "
    "(ELSO 2003–2013, n=3,846)"
)
COHORT = "the SAVE derivation cohort (ELSO 2003–2013, hospital survival)"
CONSTANT = -6
DIAGNOSIS_POINTS: dict[str, int] = {
    "myocarditis": 3,
    "refractory_vt_vf": 2,
    "post_transplant": 3,
    "congenital_heart_disease": -3,
    "other": 0,
}
CLASSES = (
    RiskClass("I", 6, 0.75, ">5"),
    RiskClass("II", 1, 0.58, "1 to 5"),
    RiskClass("III", -4, 0.42, "−4 to 0"),
    RiskClass("IV", -9, 0.30, "−9 to −5"),
    RiskClass("V", float("-inf"), 0.18, "≤−10"),
)
ORGAN_FAILURES = (
    ("liver_failure", "acute liver failure", -3),
    ("cns_dysfunction", "central nervous system dysfunction", -3),
    ("renal_failure", "acute renal failure", -3),
    ("chronic_renal_failure", "chronic renal failure", -6),
    ("cardiac_arrest", "pre-ECMO cardiac arrest", -2),
)


def age_points(age_years: float) -> int:
    age = completed_years(age_years)
    for lowest, points in ((63, 0), (53, 3), (39, 4)):
        if age >= lowest:
            return points
    return 7


def weight_points(weight_kg: float) -> int:
    if weight_kg <= 65:
        return 1
    return 2 if weight_kg < 90 else 0


def intubation_points(hours: float) -> int:
    if hours <= 10:
        return 0
    return -2 if hours < 30 else -4


def population_warnings(age_years: float, mode: str | None, support: str | None) -> tuple[str, ...]:
    warnings = WarningList([ELSO_CAUTION])
    warnings.when(age_years < 18, "SAVE was derived in adults (≥18 y).")
    warnings.when(
        support == "ecpr",
        "SAVE was derived in VA ECMO for refractory cardiogenic shock, not ECPR; outside its "
        "derivation population.",
    )
    warnings.when(
        not scores_apply("SAVE", mode) or support == "pulmonary",
        "SAVE was derived for VA ECMO in cardiogenic shock; outside its derivation population "
        f"({population(mode, 'VV / respiratory support')}).",
    )
    return warnings.as_tuple()


def save(
    age_years: float,
    weight_kg: float,
    diagnoses: Sequence[str],
    intubation_hours: float,
    peak_inspiratory_pressure_cmh2o: float,
    diastolic_bp_mmhg: float,
    pulse_pressure_mmhg: float,
    bicarbonate_mmol_l: float,
    liver_failure: bool = False,
    cns_dysfunction: bool = False,
    renal_failure: bool = False,
    chronic_renal_failure: bool = False,
    cardiac_arrest: bool = False,
    mode: str | None = None,
    support: str | None = None,
) -> CalculatorResult:
    flags = {
        "liver_failure": liver_failure,
        "cns_dysfunction": cns_dysfunction,
        "renal_failure": renal_failure,
        "chronic_renal_failure": chronic_renal_failure,
        "cardiac_arrest": cardiac_arrest,
    }
    chosen_diagnoses = sorted(set(diagnoses))
    tally = Tally()
    for diagnosis in chosen_diagnoses:
        tally.add(f"diagnosis: {diagnosis}", True, DIAGNOSIS_POINTS[diagnosis])
    tally.add("age (years)", age_years, age_points(age_years))
    tally.add("weight (kg)", weight_kg, weight_points(weight_kg))
    for key, label, points in ORGAN_FAILURES:
        tally.add(label, flags[key], points if flags[key] else 0)
    tally.add("intubation before ECMO (h)", intubation_hours, intubation_points(intubation_hours))
    pip = peak_inspiratory_pressure_cmh2o
    tally.add("peak inspiratory pressure ≤20 cmH2O", pip, 3 if pip <= 20 else 0)
    tally.add("diastolic BP ≥40 mmHg", diastolic_bp_mmhg, 3 if diastolic_bp_mmhg >= 40 else 0)
    pulse = pulse_pressure_mmhg
    tally.add("pulse pressure ≤20 mmHg", pulse, -2 if pulse <= 20 else 0)
    tally.add("HCO3 ≤15 mmol/L", bicarbonate_mmol_l, -3 if bicarbonate_mmol_l <= 15 else 0)
    tally.add("constant", None, CONSTANT)
    total = int(tally.total)
    chosen = risk_class(total, CLASSES)
    inputs = {
        "age_years": age_years,
        "weight_kg": weight_kg,
        "diagnoses": chosen_diagnoses,
        "intubation_hours": intubation_hours,
        "peak_inspiratory_pressure_cmh2o": pip,
        "diastolic_bp_mmhg": diastolic_bp_mmhg,
        "pulse_pressure_mmhg": pulse_pressure_mmhg,
        "bicarbonate_mmol_l": bicarbonate_mmol_l,
        **flags,
        "mode": mode,
        "support": support,
    }
    return CalculatorResult(
        name="save",
        value=total,
        unit="points",
        interpretation=class_interpretation(chosen, COHORT),
        inputs=inputs,
        formula="SAVE = sum of item points − 6; range −35 to +17",
        source=SOURCE,
        warnings=population_warnings(age_years, mode, support),
        points=tally.as_tuple(),
    )
