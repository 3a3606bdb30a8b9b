"""RESP score (Schmidt M et al., Am J Respir Crit Care Med 2014;189:1374-82).

Points and classes as in the clinical docs/clinical/reference.md §1.2 ([S], 3+ independent secondary
implementations agree). No published full patient vector was found (reference "Not found
as published worked examples"); extremes +15 / −22 are the reference's derived vectors.
Band decisions: age in completed years; 48 h exactly scores +1; 7 days (168 h) exactly
scores +1; >168 h scores 0.
"""

from __future__ import annotations

import pytest

from continuum.scores import resp
from continuum.scores.common import ELSO_CAUTION, risk_class

BASE = {
    "age_years": 40,
    "mechanical_ventilation_hours": 200,
    "diagnosis": "non_respiratory_or_chronic",
    "paco2_mmhg": 50,
    "peak_inspiratory_pressure_cmh2o": 30,
}  # scores 0 on every item


def score(**changes) -> int:
    return resp.resp(**{**BASE, **changes}).value


def test_base_patient_scores_zero():
    assert score() == 0


# (age in years, points) — bands 18–49: 0, 50–59: −2, ≥60: −3
AGE_BOUNDARIES = [(18, 0), (49, 0), (49.9, 0), (50, -2), (59, -2), (59.9, -2), (60, -3), (85, -3)]


@pytest.mark.parametrize(("age", "points"), AGE_BOUNDARIES)
def test_age_bands(age, points):
    assert score(age_years=age) == points


# (hours of ventilation before ECMO, points) — <48 h: +3; 48 h–7 d: +1; >7 d: 0
VENTILATION_BOUNDARIES = [
    (0, 3),
    (47.9, 3),
    (48, 1),
    (100, 1),
    (168, 1),
    (168.1, 0),
    (24 * 30, 0),
]


@pytest.mark.parametrize(("hours", "points"), VENTILATION_BOUNDARIES)
def test_ventilation_bands(hours, points):
    assert score(mechanical_ventilation_hours=hours) == points


@pytest.mark.parametrize(("diagnosis", "points"), list(resp.DIAGNOSIS_POINTS.items()))
def test_diagnosis_points(diagnosis, points):
    assert score(diagnosis=diagnosis) == points


@pytest.mark.parametrize(("flag", "_label", "points"), resp.FLAGS)
def test_each_yes_no_item(flag, _label, points):
    assert score(**{flag: True}) == points


# PaCO2 ≥75 mmHg −1; PIP ≥42 cmH2O −1
@pytest.mark.parametrize(("paco2", "points"), [(74.9, 0), (75, -1), (100, -1)])
def test_paco2_threshold(paco2, points):
    assert score(paco2_mmhg=paco2) == points


@pytest.mark.parametrize(("pip", "points"), [(41.9, 0), (42, -1)])
def test_pip_threshold(pip, points):
    assert score(peak_inspiratory_pressure_cmh2o=pip) == points


def test_maximum_is_plus_15_class_i():
    # Age 18–49, MV <48 h, asthma, neuromuscular blockade (reference derived vector).
    result = resp.resp(
        **{**BASE, "mechanical_ventilation_hours": 10, "diagnosis": "asthma"},
        neuromuscular_blockade=True,
    )
    assert result.value == 15
    assert result.interpretation["risk_class"] == "I"
    assert result.interpretation["cohort_survival"] == 0.92


def test_minimum_is_minus_22_class_v():
    result = resp.resp(
        age_years=70,
        mechanical_ventilation_hours=300,
        diagnosis="non_respiratory_or_chronic",
        paco2_mmhg=80,
        peak_inspiratory_pressure_cmh2o=45,
        immunocompromised=True,
        cns_dysfunction=True,
        acute_associated_infection=True,
        nitric_oxide=True,
        bicarbonate_infusion=True,
        cardiac_arrest=True,
    )
    assert result.value == -22
    assert result.interpretation["risk_class"] == "V"
    assert result.interpretation["cohort_survival"] == 0.18


# (total, class, in-hospital survival) — I ≥6 92%; II 3–5 76%; III −1–2 57%; IV −5 to −2 33%;
# V ≤−6 18%.
CLASS_BOUNDARIES = [
    (15, "I", 0.92),
    (6, "I", 0.92),
    (5, "II", 0.76),
    (3, "II", 0.76),
    (2, "III", 0.57),
    (-1, "III", 0.57),
    (-2, "IV", 0.33),
    (-5, "IV", 0.33),
    (-6, "V", 0.18),
    (-22, "V", 0.18),
]


@pytest.mark.parametrize(("total", "numeral", "survival"), CLASS_BOUNDARIES)
def test_risk_classes(total, numeral, survival):
    chosen = risk_class(total, resp.CLASSES)
    assert (chosen.numeral, chosen.cohort_survival) == (numeral, survival)


def test_points_list_explains_total():
    result = resp.resp(**BASE, cardiac_arrest=True)
    assert sum(p.points for p in result.points) == result.value == -2
    assert {"item", "input", "points"} == set(result.points[0].as_dict())


def test_elso_caution_always_present():
    assert ELSO_CAUTION in resp.resp(**BASE).warnings


@pytest.mark.parametrize(
    ("changes", "warned"),
    [
        ({"mode": "VA"}, True),
        ({"support": "cardiac"}, True),
        ({"support": "ecpr"}, True),
        ({"mode": "VV", "support": "pulmonary"}, False),
        ({"age_years": 17}, True),
    ],
)
def test_outside_derivation_population_warns(changes, warned):
    warnings = resp.resp(**{**BASE, **changes}).warnings
    assert (len(warnings) > 1) is warned
