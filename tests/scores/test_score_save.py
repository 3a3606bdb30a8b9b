"""SAVE score (Schmidt M et al., Eur Heart J 2015;36:2246-56).

Points and classes as in the clinical docs/clinical/reference.md §1.3 ([S]; classes [P]-equivalent).
W6 (third-party): a patient with no components scores −6 (class IV); a total of exactly 5
is class II (the primary "I >5", not Evidencio's "≥5").
Band decisions (documented in continuum/scores/save.py):
* weight exactly 65 kg → +1 (primary table prints "≤65" for +1; a secondary implementation
  uses "<65"; we follow the primary print);
* intubation 10 < h < 30 → −2 (printed 11–29 h, so 10.5 h scores −2);
* age in completed years (38.9 y → +7).
"""

from __future__ import annotations

import pytest

from continuum.scores import save
from continuum.scores.common import ELSO_CAUTION, risk_class

NO_COMPONENTS = {
    "age_years": 70,
    "weight_kg": 95,
    "diagnoses": [],
    "intubation_hours": 5,
    "peak_inspiratory_pressure_cmh2o": 25,
    "diastolic_bp_mmhg": 35,
    "pulse_pressure_mmhg": 30,
    "bicarbonate_mmol_l": 20,
}


def score(**changes) -> int:
    return save.save(**{**NO_COMPONENTS, **changes}).value


def test_w6_no_components_scores_minus_6_class_iv():
    result = save.save(**NO_COMPONENTS)
    assert result.value == -6
    assert result.interpretation["risk_class"] == "IV"
    assert result.interpretation["cohort_survival"] == 0.30


def test_w6_exactly_5_is_class_ii():
    # Age 30 (+7), weight 60 (+1), PIP 18 (+3), DBP 45 (+3), liver failure (−3), constant −6.
    result = save.save(
        **{
            **NO_COMPONENTS,
            "age_years": 30,
            "weight_kg": 60,
            "peak_inspiratory_pressure_cmh2o": 18,
            "diastolic_bp_mmhg": 45,
        },
        liver_failure=True,
    )
    assert result.value == 5
    assert result.interpretation["risk_class"] == "II"
    assert result.interpretation["cohort_survival"] == 0.58


# (age, points relative to the −6 base) — 18–38 +7; 39–52 +4; 53–62 +3; ≥63 0
AGE_BOUNDARIES = [(18, 7), (38, 7), (38.9, 7), (39, 4), (52, 4), (53, 3), (62, 3), (63, 0)]


@pytest.mark.parametrize(("age", "points"), AGE_BOUNDARIES)
def test_age_bands(age, points):
    assert score(age_years=age) == -6 + points


# (weight kg, points) — ≤65 +1 (65 exactly: +1, decision above); 65–89 +2; ≥90 0
WEIGHT_BOUNDARIES = [(40, 1), (65, 1), (65.1, 2), (89, 2), (89.9, 2), (90, 0), (130, 0)]


@pytest.mark.parametrize(("weight", "points"), WEIGHT_BOUNDARIES)
def test_weight_bands(weight, points):
    assert score(weight_kg=weight) == -6 + points


# (hours intubated before ECMO, points) — ≤10 0; 11–29 −2; ≥30 −4
INTUBATION_BOUNDARIES = [(0, 0), (10, 0), (10.5, -2), (11, -2), (29, -2), (29.9, -2), (30, -4)]


@pytest.mark.parametrize(("hours", "points"), INTUBATION_BOUNDARIES)
def test_intubation_bands(hours, points):
    assert score(intubation_hours=hours) == -6 + points


@pytest.mark.parametrize(
    ("field", "value", "points"),
    [
        ("peak_inspiratory_pressure_cmh2o", 20, 3),
        ("peak_inspiratory_pressure_cmh2o", 20.1, 0),
        ("diastolic_bp_mmhg", 40, 3),
        ("diastolic_bp_mmhg", 39.9, 0),
        ("pulse_pressure_mmhg", 20, -2),
        ("pulse_pressure_mmhg", 20.1, 0),
        ("bicarbonate_mmol_l", 15, -3),
        ("bicarbonate_mmol_l", 15.1, 0),
    ],
)
def test_haemodynamic_and_ventilator_thresholds(field, value, points):
    assert score(**{field: value}) == -6 + points


@pytest.mark.parametrize(("diagnosis", "points"), list(save.DIAGNOSIS_POINTS.items()))
def test_each_diagnosis(diagnosis, points):
    assert score(diagnoses=[diagnosis]) == -6 + points


def test_diagnoses_are_additive_and_deduplicated():
    assert score(diagnoses=["myocarditis", "refractory_vt_vf"]) == -6 + 5
    assert score(diagnoses=["myocarditis", "myocarditis"]) == -6 + 3


@pytest.mark.parametrize(("flag", "_label", "points"), save.ORGAN_FAILURES)
def test_each_organ_failure(flag, _label, points):
    assert score(**{flag: True}) == -6 + points


def test_maximum_is_plus_17():
    result = save.save(
        age_years=25,
        weight_kg=75,
        diagnoses=["myocarditis", "refractory_vt_vf", "post_transplant"],
        intubation_hours=2,
        peak_inspiratory_pressure_cmh2o=15,
        diastolic_bp_mmhg=50,
        pulse_pressure_mmhg=40,
        bicarbonate_mmol_l=24,
    )
    assert result.value == 17
    assert result.interpretation["risk_class"] == "I"


def test_minimum_is_minus_35():
    result = save.save(
        age_years=70,
        weight_kg=95,
        diagnoses=["congenital_heart_disease"],
        intubation_hours=48,
        peak_inspiratory_pressure_cmh2o=30,
        diastolic_bp_mmhg=30,
        pulse_pressure_mmhg=10,
        bicarbonate_mmol_l=10,
        liver_failure=True,
        cns_dysfunction=True,
        renal_failure=True,
        chronic_renal_failure=True,
        cardiac_arrest=True,
    )
    assert result.value == -35
    assert result.interpretation["risk_class"] == "V"


# (total, class, hospital survival) — I >5 75%; II 1–5 58%; III −4–0 42%; IV −9 to −5 30%;
# V ≤−10 18%
CLASS_BOUNDARIES = [
    (17, "I", 0.75),
    (6, "I", 0.75),
    (5, "II", 0.58),
    (1, "II", 0.58),
    (0, "III", 0.42),
    (-4, "III", 0.42),
    (-5, "IV", 0.30),
    (-9, "IV", 0.30),
    (-10, "V", 0.18),
    (-35, "V", 0.18),
]


@pytest.mark.parametrize(("total", "numeral", "survival"), CLASS_BOUNDARIES)
def test_risk_classes(total, numeral, survival):
    chosen = risk_class(total, save.CLASSES)
    assert (chosen.numeral, chosen.cohort_survival) == (numeral, survival)


def test_constant_shown_in_points():
    result = save.save(**NO_COMPONENTS)
    assert result.points[-1].as_dict() == {"item": "constant", "input": None, "points": -6}


@pytest.mark.parametrize(
    ("changes", "phrase"),
    [
        ({"support": "ecpr"}, "not ECPR"),
        ({"mode": "VV"}, "VV / respiratory"),
        ({"support": "pulmonary"}, "VV / respiratory"),
        ({"age_years": 16}, "adults"),
    ],
)
def test_outside_derivation_population_warns(changes, phrase):
    warnings = save.save(**{**NO_COMPONENTS, **changes}).warnings
    assert ELSO_CAUTION in warnings
    assert any(phrase in w for w in warnings)


def test_va_cardiac_is_inside_population():
    assert save.save(**NO_COMPONENTS, mode="VA", support="cardiac").warnings == (ELSO_CAUTION,)
