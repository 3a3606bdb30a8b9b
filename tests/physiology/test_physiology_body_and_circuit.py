"""BSA, blood volume, priming haemodilution, flow target and cannula pressure drop.

Sources per row: W4 = published worked example in the clinical reference; "derived" = the
reference's derived check vectors (computed, not published); "hand" = computed here from
the formula shown in the comment.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from continuum.errors import ValidationFailed
from continuum.physiology import blood_volume as bv
from continuum.physiology import body_size, cannulae, flow_target, priming

# (method, height cm, weight kg, expected m², tolerance, source)
BSA_CASES = [
    ("mosteller", 170, 70, 1.82, 0.005, "W4 droracle: √(11,900/3600) = 1.82"),
    ("mosteller", 175, 70, 1.845, 0.0005, "W4 digicalcs/omnicalc: 1.845"),
    ("mosteller", 180, 90, 2.1213, 0.0001, "derived"),
    ("dubois", 170, 70, 1.8097, 0.0001, "derived"),
    ("dubois", 175, 70, 1.8481, 0.0001, "derived"),
    ("dubois", 180, 90, 2.0989, 0.0001, "derived"),
]


@pytest.mark.parametrize(("method", "height", "weight", "expected", "tol", "source"), BSA_CASES)
def test_bsa_worked_examples(method, height, weight, expected, tol, source):
    result = body_size.bsa(height, weight, method)
    assert result.value == pytest.approx(expected, abs=tol), source
    assert result.unit == "m²"


def test_dubois_obesity_warning():
    assert body_size.bsa(170, 120, "dubois").warnings
    assert not body_size.bsa(170, 70, "dubois").warnings


def test_unknown_bsa_method_refused():
    with pytest.raises(ValidationFailed):
        body_size.body_surface_area(170, 70, "guess")


@given(h=st.floats(30, 249), w=st.floats(0.5, 349), dh=st.floats(0.1, 1), dw=st.floats(0.1, 1))
@pytest.mark.parametrize("method", list(body_size.BSA_FORMULAS))
def test_bsa_rises_with_height_and_weight(method, h, w, dh, dw):
    base = body_size.body_surface_area(h, w, method)
    assert body_size.body_surface_area(h + dh, w, method) > base
    assert body_size.body_surface_area(h, w + dw, method) > base


# (sex, height cm, weight kg, expected L, source)
NADLER_CASES = [
    ("male", 175, 70, 4.8238, "derived"),
    ("female", 165, 60, 3.7677, "derived"),
]


@pytest.mark.parametrize(("sex", "height", "weight", "expected", "source"), NADLER_CASES)
def test_nadler(sex, height, weight, expected, source):
    assert bv.nadler_litres(height, weight, sex) == pytest.approx(expected, abs=0.0001)
    result = bv.blood_volume(weight, height, sex, 40)
    assert result.interpretation["method"] == "nadler"
    assert result.value == pytest.approx(expected * 1000, abs=1)


# (age years, sex, expected mL/kg, band) — Linderkamp, docs/clinical/reference.md §2.5
LINDERKAMP_CASES = [
    (0.0, "male", 81.9, "0–1 days"),
    (10 / 365.25, "female", 84.4, "2–30 days"),
    (2 / 12, "male", 79.4, "1–2 months"),
    (6 / 12, "male", 76.6, "3–6 months"),
    (0.9, "male", 82.4, "7–12 months"),
    (1.5, "female", 86.1, "13–24 months"),
    (3.5, "male", 80.5, "2–3 years"),
    (3.5, "female", 79.0, "2–3 years"),
    (5, "female", 77.4, "4–6 years"),
    (8, "male", 79.6, "7–10 years"),
    (8, "female", 72.7, "7–10 years"),
    (14.9, "male", 74.4, "11–14 years"),
    (14.9, "female", 68.3, "11–14 years"),
]


@pytest.mark.parametrize(("age", "sex", "ml_kg", "band"), LINDERKAMP_CASES)
def test_linderkamp_bands(age, sex, ml_kg, band):
    assert bv.linderkamp_ml_per_kg(age, sex) == (ml_kg, band)


def test_linderkamp_refuses_over_14():
    with pytest.raises(ValidationFailed):
        bv.linderkamp_ml_per_kg(15, "male")


# Nadler 1962 paediatric mL/kg (midpoints of printed ranges); our age cut-offs.
PAEDIATRIC_CASES = [
    (0.01, "male", 87.5),  # neonate 85–90
    (0.5, "female", 77.5),  # infant 75–80
    (6, "male", 72.5),  # child 70–75
    (15, "male", 70.0),  # male adolescent
    (15, "female", 65.0),  # female adolescent
]


@pytest.mark.parametrize(("age", "sex", "ml_kg"), PAEDIATRIC_CASES)
def test_paediatric_bands(age, sex, ml_kg):
    assert bv.paediatric_ml_per_kg(age, sex)[0] == ml_kg


def test_default_method_by_weight():
    assert bv.blood_volume(20, sex="male", age_years=6).interpretation["method"] == (
        "paediatric_bands"
    )
    assert bv.blood_volume(70, 175, "male", 40).interpretation["method"] == "nadler"


def test_per_kg_method_and_paediatric_cpb_figure():
    assert bv.blood_volume(70, method="per_kg").value == 4900  # 70 mL/kg conventional
    assert bv.blood_volume(10, method="per_kg", ml_per_kg=80).value == 800  # CPB <15 kg


def test_method_names_each_missing_field():
    with pytest.raises(ValidationFailed) as err:
        bv.blood_volume(70, method="nadler")
    assert {p.field for p in err.value.problems} == {"height_cm", "sex"}


# Priming: hand-computed from the docs/clinical/reference.md §2.6 formulas.
def test_clear_prime():
    # 40% × 5000 / (5000 + 1000) = 33.33%
    assert priming.hct_after_prime(40, 5000, 1000) == pytest.approx(33.333, abs=0.001)


def test_blood_prime():
    # (40 × 5000 + 60 × 300) / 6000 = 36.33%
    assert priming.hct_after_prime(40, 5000, 1000, 300, 60) == pytest.approx(36.333, abs=0.001)


def test_red_cells_for_target():
    # (35 × 6000 − 40 × 5000) / 60 = 166.7 mL
    assert priming.rbc_volume_for_target(35, 40, 5000, 1000, 60) == pytest.approx(166.67, abs=0.01)
    assert priming.rbc_volume_for_target(20, 40, 5000, 1000, 60) == 0


def test_prime_result_estimates_blood_volume_from_weight():
    result = priming.prime_hemodilution(40, 1000, weight_kg=70, height_cm=175, sex="male")
    assert result.interpretation["blood_volume_ml"] == 4824
    assert result.interpretation["prime"] == "clear"


def test_prime_rbc_larger_than_prime_refused():
    with pytest.raises(ValidationFailed) as err:
        priming.prime_hemodilution(40, 500, blood_volume_ml=5000, rbc_volume_ml=600)
    assert err.value.problems[0].field == "rbc_volume_ml"


def test_prime_needs_a_blood_volume():
    with pytest.raises(ValidationFailed):
        priming.prime_hemodilution(40, 500)


@given(
    hct=st.floats(5, 75),
    blood=st.floats(50, 15000),
    prime=st.floats(0, 4000),
    more=st.floats(1, 1000),
)
def test_hct_after_clear_prime_falls_with_prime_volume(hct, blood, prime, more):
    before = priming.hct_after_prime(hct, blood, prime)
    after = priming.hct_after_prime(hct, blood, prime + more)
    assert after < before <= hct * (1 + 1e-12)


@given(
    hct=st.floats(5, 40),
    blood=st.floats(200, 8000),
    prime=st.floats(100, 2000),
    target=st.floats(5, 45),
)
def test_red_cells_for_target_round_trip(hct, blood, prime, target):
    needed = priming.rbc_volume_for_target(target, hct, blood, prime, 60)
    if 0 < needed <= prime:
        reached = priming.hct_after_prime(hct, blood, prime, needed, 60)
        assert reached == pytest.approx(target, rel=1e-9)


# Flow target — hand: VV 70 kg × 60–80 mL/kg/min; VA BSA(175, 70) 1.8447 × 2.2–2.5.
def test_vv_flow_target():
    result = flow_target.flow_target("VV", 70)
    assert result.value == 4.2
    assert result.interpretation["range_high_l_min"] == 5.6


def test_va_flow_target():
    result = flow_target.flow_target("VA", 70, 175)
    assert result.value == pytest.approx(4.06, abs=0.005)
    assert result.interpretation["range_high_l_min"] == pytest.approx(4.61, abs=0.005)
    assert result.interpretation["weight_based_l_min"] == 4.2  # 60 mL/kg/min adult


def test_va_flow_target_needs_height():
    with pytest.raises(ValidationFailed) as err:
        flow_target.flow_target("VA", 70)
    assert err.value.problems[0].field == "height_cm"


def test_paediatric_weight_based_flows():
    assert flow_target.cardiac_support_ml_kg_min(0.01) == 100
    assert flow_target.cardiac_support_ml_kg_min(5) == 80
    assert flow_target.cardiac_support_ml_kg_min(40) == 60


# Cannula max flow at ΔP 100 / 150 mmHg (return-lumen fits) — derived check vectors.
CANNULA_MAX_FLOW = [
    ("crescent_24", 2.14, 2.66),
    ("crescent_26", 2.73, 3.40),
    ("crescent_28", 3.22, 4.01),
    ("crescent_30", 3.91, 4.86),
    ("crescent_32", 4.61, 5.68),
    ("avalon_27", 2.79, 3.46),
    ("avalon_31", 3.91, 4.81),
    ("protek_duo_31", 3.64, 4.49),
]


@pytest.mark.parametrize(("cannula", "at_100", "at_150"), CANNULA_MAX_FLOW)
def test_cannula_max_flow(cannula, at_100, at_150):
    fit = cannulae.builtin_catalogue()[cannula].fits["return"]
    assert cannulae.max_flow(fit, 100) == pytest.approx(at_100, abs=0.005)
    assert cannulae.max_flow(fit, 150) == pytest.approx(at_150, abs=0.005)


def test_cannula_pressure_drop_at_target():
    # Crescent 24 return at 2 L/min: 18.65 × 4 + 6.7335 × 2 = 88.07 mmHg.
    result = cannulae.cannula_check("crescent_24", "return", 2.0)
    assert result.value == pytest.approx(88.07, abs=0.05)
    assert result.interpretation["within_limit"] is True
    over = cannulae.cannula_check("crescent_24", "return", 3.0, 100)
    assert over.interpretation["within_limit"] is False
    assert over.warnings


def test_drainage_is_suction_and_carries_in_vivo_caution():
    # Avalon 23 drainage at 3 L/min: −7.7468 × 9 − 8.4351 × 3 = −95.03 mmHg.
    result = cannulae.cannula_check("avalon_23", "drainage", 3.0)
    assert result.interpretation["pressure_mmhg"] == pytest.approx(-95.0, abs=0.05)
    assert result.value == pytest.approx(95.0, abs=0.05)
    assert any("Robak" in w for w in result.warnings)


def test_drainage_max_flow_solves_the_suction_curve():
    fit = cannulae.builtin_catalogue()["avalon_23"].fits["drainage"]
    flow = cannulae.max_flow(fit, 100)
    assert cannulae.pressure_drop(fit, flow) == pytest.approx(-100, abs=1e-6)


def test_programme_can_add_a_cannula():
    extra = [{"id": "local_19", "label": "Local 19 Fr", "return": {"a": 50, "b": 5}}]
    result = cannulae.cannula_check("local_19", "return", 1.0, extra_cannulae=extra)
    assert result.value == 55.0
    with pytest.raises(ValidationFailed):
        cannulae.cannula_check("local_19", "drainage", 1.0, extra_cannulae=extra)


def test_bad_extra_cannula_refused_with_field():
    with pytest.raises(ValidationFailed) as err:
        cannulae.catalogue([{"id": "x", "return": {"a": "big"}}])
    assert err.value.problems[0].field.startswith("extra_cannulae[0]")


def test_unknown_cannula_refused():
    with pytest.raises(ValidationFailed) as err:
        cannulae.cannula_check("nope", "return", 3)
    assert err.value.problems[0].field == "cannula"
