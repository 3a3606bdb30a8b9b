"""PRESERVE, Murray lung injury score and vasoactive–inotropic score.

PRESERVE: points from Klinzing et al., Crit Care 2015;19:142, Table 1 [P]; classes and
6-month survival from Schmidt M et al., Intensive Care Med 2013;39:1704-13 abstract [P]
(0–2 97%, 3–4 79%, 5–6 54%, ≥7 16%). Class numerals I–IV are ours. Totals <0 (BMI >30)
go in the lowest class as the reference instructs.
Murray: Murray JF et al., Am Rev Respir Dis 1988 table [P]; derived vectors 3.25 / 3.00.
VIS: Gaies 2010 formula as printed in Song J et al., J Clin Med 2021 [P]; derived vector 40.
"""

from __future__ import annotations

import pytest

from continuum.scores import murray, preserve, vis
from continuum.scores.common import ELSO_CAUTION

PRESERVE_ZERO = {
    "age_years": 30,
    "bmi": 25,
    "mechanical_ventilation_days": 2,
    "sofa": 8,
    "peep_cmh2o": 12,
    "peak_inspiratory_pressure_cmh2o": 30,
    "prone_positioning": True,
}


def preserve_score(**changes) -> int:
    return preserve.preserve(**{**PRESERVE_ZERO, **changes}).value


def test_preserve_zero_patient():
    assert preserve_score() == 0


# (age, points) — <45 0; 45–55 2; >55 3 (completed years: 55.9 → 2)
@pytest.mark.parametrize(
    ("age", "points"), [(44, 0), (44.9, 0), (45, 2), (55, 2), (55.9, 2), (56, 3)]
)
def test_preserve_age_bands(age, points):
    assert preserve_score(age_years=age) == points


@pytest.mark.parametrize(
    ("field", "value", "points"),
    [
        ("bmi", 30, 0),
        ("bmi", 30.1, -2),
        ("mechanical_ventilation_days", 6, 0),
        ("mechanical_ventilation_days", 6.1, 1),
        ("sofa", 12, 0),
        ("sofa", 13, 1),
        ("peep_cmh2o", 10, 0),
        ("peep_cmh2o", 9.9, 1),
        ("peak_inspiratory_pressure_cmh2o", 35, 0),
        ("peak_inspiratory_pressure_cmh2o", 36, 1),
        ("plateau_pressure_cmh2o", 30, 0),
        ("plateau_pressure_cmh2o", 31, 1),
        ("immunocompromised", True, 2),
        ("prone_positioning", False, 1),
    ],
)
def test_preserve_item_thresholds(field, value, points):
    assert preserve_score(**{field: value}) == points


def test_preserve_pip_and_plateau_score_one_point_together():
    assert preserve_score(peak_inspiratory_pressure_cmh2o=40, plateau_pressure_cmh2o=35) == 1


# (total, class, 6-month survival)
PRESERVE_CLASSES = [
    (-2, "I", 0.97),
    (0, "I", 0.97),
    (2, "I", 0.97),
    (3, "II", 0.79),
    (4, "II", 0.79),
    (5, "III", 0.54),
    (6, "III", 0.54),
    (7, "IV", 0.16),
    (10, "IV", 0.16),
]


@pytest.mark.parametrize(("total", "numeral", "survival"), PRESERVE_CLASSES)
def test_preserve_classes(total, numeral, survival):
    chosen = preserve.preserve_class(total)
    assert (chosen.numeral, chosen.cohort_survival) == (numeral, survival)


def test_preserve_range_minus_2_to_10():
    worst = preserve.preserve(
        age_years=60,
        bmi=25,
        mechanical_ventilation_days=8,
        sofa=14,
        peep_cmh2o=5,
        peak_inspiratory_pressure_cmh2o=40,
        immunocompromised=True,
        prone_positioning=False,
    )
    assert worst.value == 10
    assert preserve_score(bmi=35) == -2


def test_preserve_warnings():
    result = preserve.preserve(**PRESERVE_ZERO)
    assert ELSO_CAUTION in result.warnings
    assert preserve.WEIGHTS_CAUTION in result.warnings
    assert any(
        "derived for VV" in w for w in preserve.preserve(**PRESERVE_ZERO, mode="VA").warnings
    )


# Murray — derived check vectors from the reference.
def test_murray_four_components_3_25():
    # CXR 3, P/F 90, PEEP 14, Crs 25 -> (3 + 4 + 3 + 3)/4 = 3.25
    result = murray.murray(3, 90, 1.0, 14, 25)
    assert result.value == 3.25
    assert result.interpretation["band"] == "severe lung injury (ARDS)"
    assert result.interpretation["cesar_threshold_met"] is True


def test_murray_without_compliance_3_00():
    # CXR 4, P/F 120, PEEP 10 -> (4 + 3 + 2)/3 = 3.00
    result = murray.murray(4, 120, 1.0, 10)
    assert result.value == 3.0
    assert result.interpretation["components_used"] == 3
    assert result.interpretation["cesar_threshold_met"] is False  # CESAR needs >3.0


# P/F bands: ≥300 0; 225–299 1; 175–224 2; 100–174 3; <100 4
@pytest.mark.parametrize(
    ("pf", "points"),
    [(300, 0), (299.9, 1), (225, 1), (224.9, 2), (175, 2), (174.9, 3), (100, 3), (99.9, 4)],
)
def test_murray_pf_bands(pf, points):
    assert murray.pf_points(pf) == points


# PEEP bands: ≤5 0; 6–8 1; 9–11 2; 12–14 3; ≥15 4 (5.5 → 1: between printed bands, upper)
@pytest.mark.parametrize(
    ("peep", "points"),
    [(5, 0), (5.5, 1), (6, 1), (8, 1), (9, 2), (11, 2), (12, 3), (14, 3), (15, 4)],
)
def test_murray_peep_bands(peep, points):
    assert murray.peep_points(peep) == points


# Compliance bands: ≥80 0; 60–79 1; 40–59 2; 20–39 3; ≤19 4 (19.5 → 4)
@pytest.mark.parametrize(
    ("crs", "points"),
    [(80, 0), (79, 1), (60, 1), (59, 2), (40, 2), (39, 3), (20, 3), (19.5, 4), (19, 4)],
)
def test_murray_compliance_bands(crs, points):
    assert murray.compliance_points(crs) == points


# Interpretation: 0 none; 0.1–2.5 mild–moderate; >2.5 severe
@pytest.mark.parametrize(
    ("lis", "band"),
    [
        (0, "no lung injury"),
        (0.25, "mild to moderate lung injury"),
        (2.5, "mild to moderate lung injury"),
        (2.75, "severe lung injury (ARDS)"),
    ],
)
def test_murray_interpretation_bands(lis, band):
    assert murray.severity(lis) == band


def test_murray_without_peep_warns():
    assert murray.murray(2, 200, 0.5).warnings


# VIS
def test_vis_derived_vector_40():
    # Dopamine 5, epinephrine 0.1, milrinone 0.5, norepinephrine 0.2 -> 5 + 10 + 5 + 20 = 40.
    result = vis.vis(dopamine=5, epinephrine=0.1, milrinone=0.5, norepinephrine=0.2)
    assert result.value == 40
    assert result.interpretation["band"] == "31–45"
    assert result.interpretation["cohort_30day_mortality"] == 0.546


def test_vis_vasopressin_per_minute_divided_by_weight():
    # 0.04 U/min in 80 kg = 0.0005 U/kg/min × 10,000 = 5.
    assert vis.vis(vasopressin_u_min=0.04, weight_kg=80).value == 5


# Bands 0–5, 6–15 (>5–15), 16–30, 31–45, >45 → Song 2021 30-day mortality
@pytest.mark.parametrize(
    ("value", "band", "mortality"),
    [
        (0, "0–5", 0.172),
        (5, "0–5", 0.172),
        (5.5, "6–15", 0.208),
        (15, "6–15", 0.208),
        (15.5, "16–30", 0.333),
        (30, "16–30", 0.333),
        (31, "31–45", 0.546),
        (45, "31–45", 0.546),
        (45.5, ">45", 0.700),
    ],
)
def test_vis_bands(value, band, mortality):
    assert vis.vis_band(value) == (band, mortality)
