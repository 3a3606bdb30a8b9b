"""RESP score (docs/clinical/reference.md §1.2; Schmidt M et al., Am J Respir Crit Care Med 2014)
[S].

Band decisions: age in completed years (18–49 → 0, 50–59 → −2, ≥60 → −3);
ventilation <48 h → +3, 48 h to 7 days inclusive (48 ≤ h ≤ 168) → +1, >168 h → 0;
PaCO2 ≥75 mmHg → −1; PIP ≥42 cmH2O → −1. No constant. Range −22 to +15.
"""

from __future__ import annotations

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
    "Schmidt M et al. Predicting survival after ECMO for severe acute respiratory failure: "
    "the RESP score. Am J Respir Crit Care Med 2014;189(11):1374-82 (ELSO 2000–2012, n=2,355)"
)
COHORT = "the RESP derivation cohort (ELSO 2000–2012, in-hospital survival)"
DIAGNOSIS_POINTS: dict[str, int] = {
    "viral_pneumonia": 3,
    "bacterial_pneumonia": 3,
    "asthma": 11,
    "trauma_burn": 3,
    "aspiration_pneumonitis": 5,
    "other_acute_respiratory": 1,
    "non_respiratory_or_chronic": 0,
}
CLASSES = (
    RiskClass("I", 6, 0.92, "≥6"),
    RiskClass("II", 3, 0.76, "3 to 5"),
    RiskClass("III", -1, 0.57, "−1 to 2"),
    RiskClass("IV", -5, 0.33, "−5 to −2"),
    RiskClass("V", float("-inf"), 0.18, "≤−6"),
)
FLAGS = (
    ("immunocompromised", "immunocompromised status", -2),
    ("cns_dysfunction", "central nervous system dysfunction", -7),
    ("acute_associated_infection", "acute associated (non-pulmonary) infection", -3),
    ("neuromuscular_blockade", "neuromuscular blockade before ECMO", 1),
    ("nitric_oxide", "inhaled nitric oxide before ECMO", -1),
    ("bicarbonate_infusion", "bicarbonate infusion before ECMO", -2),
    ("cardiac_arrest", "cardiac arrest before ECMO", -2),
)


def age_points(age_years: float) -> int:
    age = completed_years(age_years)
    if age >= 60:
        return -3
    return -2 if age >= 50 else 0


def ventilation_points(hours: float) -> int:
    if hours < 48:
        return 3
    return 1 if hours <= 7 * 24 else 0


def population_warnings(age_years: float, mode: str | None, support: str | None) -> tuple[str, ...]:
    warnings = WarningList([ELSO_CAUTION])
    warnings.when(age_years < 18, "RESP was derived in adults (≥18 y).")
    warnings.when(
        not scores_apply("RESP", mode) or support in ("cardiac", "ecpr"),
        "RESP was derived for VV ECMO in respiratory failure; outside its derivation "
        f"population ({population(mode, 'VA / cardiac support')}).",
    )
    return warnings.as_tuple()


def resp(
    age_years: float,
    mechanical_ventilation_hours: float,
    diagnosis: str,
    paco2_mmhg: float,
    peak_inspiratory_pressure_cmh2o: float,
    immunocompromised: bool = False,
    cns_dysfunction: bool = False,
    acute_associated_infection: bool = False,
    neuromuscular_blockade: bool = False,
    nitric_oxide: bool = False,
    bicarbonate_infusion: bool = False,
    cardiac_arrest: bool = False,
    mode: str | None = None,
    support: str | None = None,
) -> CalculatorResult:
    flags = {
        "immunocompromised": immunocompromised,
        "cns_dysfunction": cns_dysfunction,
        "acute_associated_infection": acute_associated_infection,
        "neuromuscular_blockade": neuromuscular_blockade,
        "nitric_oxide": nitric_oxide,
        "bicarbonate_infusion": bicarbonate_infusion,
        "cardiac_arrest": cardiac_arrest,
    }
    tally = Tally()
    tally.add("age (years)", age_years, age_points(age_years))
    for key, label, points in FLAGS:
        tally.add(label, flags[key], points if flags[key] else 0)
    tally.add(
        "ventilation before ECMO (h)",
        mechanical_ventilation_hours,
        ventilation_points(mechanical_ventilation_hours),
    )
    tally.add("acute respiratory diagnosis", diagnosis, DIAGNOSIS_POINTS[diagnosis])
    tally.add("PaCO2 ≥75 mmHg", paco2_mmhg, -1 if paco2_mmhg >= 75 else 0)
    tally.add(
        "peak inspiratory pressure ≥42 cmH2O",
        peak_inspiratory_pressure_cmh2o,
        -1 if peak_inspiratory_pressure_cmh2o >= 42 else 0,
    )
    total = int(tally.total)
    chosen = risk_class(total, CLASSES)
    inputs = {
        "age_years": age_years,
        "mechanical_ventilation_hours": mechanical_ventilation_hours,
        "diagnosis": diagnosis,
        "paco2_mmhg": paco2_mmhg,
        "peak_inspiratory_pressure_cmh2o": peak_inspiratory_pressure_cmh2o,
        "mode": mode,
        "support": support,
    }
    inputs.update(flags)
    return CalculatorResult(
        name="resp",
        value=total,
        unit="points",
        interpretation=class_interpretation(chosen, COHORT),
        inputs=inputs,
        formula="RESP = sum of item points (no constant); range −22 to +15",
        source=SOURCE,
        warnings=population_warnings(age_years, mode, support),
        points=tally.as_tuple(),
    )
