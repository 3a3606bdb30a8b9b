"""Gas exchange: O2 content, membrane-lung transfer, CO2 removal, recirculation, mixing.

Expected values come from the clinical reference (docs/clinical/reference.md):
W3 = anaesthesiauk worked example (published); "derived" = the reference's derived check
vectors (computed from the formulas, not published).
"""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from continuum.errors import ValidationFailed
from continuum.physiology import gas_exchange as gx
from continuum.physiology import mixing, oxygen

KPA = 7.50062

# (case, Hb g/dL, SO2 %, PO2 mmHg, expected CxO2 mL/dL, tolerance, source)
O2_CONTENT_CASES = [
    ("arterial, air", 15, 100, 13.3 * KPA, 20.4, 0.05, "W3 anaesthesiauk: 20.1 + 0.3 = 20.4"),
    ("mixed venous", 15, 75, 6 * KPA, 15.2, 0.05, "W3 anaesthesiauk: 15.2 + 0.1 = 15.2 (sic)"),
    ("arterial 97%", 15, 97, 97, 19.8, 0.05, "W3 dentalpg: 19.5 bound + 0.29 dissolved"),
    ("venous 75%, PvO2 40", 15, 75, 40, 15.2, 0.05, "W3 dentalpg: 15.1 bound + 0.12 dissolved"),
    ("ML pre-oxygenator", 10, 70, 40, 9.50, 0.005, "derived check vector"),
    ("ML post-oxygenator", 10, 100, 400, 14.60, 0.005, "derived check vector"),
]


@pytest.mark.parametrize(
    ("case", "hb", "so2", "po2", "expected", "tol", "source"), O2_CONTENT_CASES
)
def test_oxygen_content_worked_examples(case, hb, so2, po2, expected, tol, source):
    assert gx.oxygen_content(hb, so2, po2) == pytest.approx(expected, abs=tol), source


def test_oxygen_content_shows_constants_and_parts():
    result = oxygen.oxygen_content(15, 100, 13.3 * KPA)
    assert result.inputs["huefner"] == 1.34
    assert result.inputs["solubility"] == 0.003
    assert result.interpretation["bound_ml_dl"] == pytest.approx(20.1)
    assert result.unit == "mL O2/dL"


def test_huefner_setting_changes_result_by_about_1_5_percent():
    # Reference §3.1: 1.34 vs 1.36 differ by ≈1.5%.
    low = gx.oxygen_content(15, 100, 0, huefner=1.34)
    high = gx.oxygen_content(15, 100, 0, huefner=1.36)
    assert high / low == pytest.approx(1.36 / 1.34)


def test_delivery_and_consumption_w3():
    # W3: CaO2 20.1, Q 5 -> DO2 1005; CvO2 15.2 -> return 760; VO2 245 mL/min.
    delivery = gx.oxygen_delivery(20.1, 5)
    returned = gx.oxygen_delivery(15.2, 5)
    assert delivery == pytest.approx(1005)
    assert returned == pytest.approx(760)
    assert delivery - returned == pytest.approx(245)


def test_membrane_lung_o2_transfer_derived_vector():
    # Derived: Hb 10, pre 70%/40 mmHg, post 100%/400 mmHg, Qb 4 L/min -> 204.0 mL/min.
    assert gx.oxygenator_o2_transfer(4, 10, 70, 40, 100, 400) == pytest.approx(204.0)
    result = oxygen.oxygenator_o2_transfer(4, 10, 70, 40, 100, 400)
    assert result.value == 204.0
    assert result.interpretation["pre_content_ml_dl"] == 9.5
    assert result.interpretation["post_content_ml_dl"] == 14.6


def test_low_post_oxygenator_po2_is_flagged():
    result = oxygen.oxygenator_o2_transfer(4, 10, 70, 40, 99, 150)
    assert any("Lubnow" in w for w in result.warnings)


def test_co2_removal():
    # 4 L/min sweep, exhaust PCO2 28.52 mmHg, Pb 760, PH2O 47 -> 4000 × 0.04 = 160 mL/min.
    assert gx.oxygenator_co2_removal(4, 28.52) == pytest.approx(160.0, abs=0.1)
    assert oxygen.oxygenator_co2_removal(4, 28.52).unit == "mL CO2/min"


# (SpreO2, SpostO2, SvO2, expected R, source)
RECIRCULATION_CASES = [
    (80, 100, 60, 0.50, "derived check vector"),
    (60, 100, 60, 0.0, "drainage equals venous: no recirculation"),
    (100, 100, 60, 1.0, "drainage equals return: total recirculation"),
]


@pytest.mark.parametrize(("pre", "post", "svo2", "expected", "source"), RECIRCULATION_CASES)
def test_recirculation_fraction(pre, post, svo2, expected, source):
    assert gx.recirculation_fraction(pre, post, svo2) == pytest.approx(expected), source


def test_recirculation_over_20_percent_is_significant():
    result = mixing.recirculation(80, 100, 60)
    assert result.interpretation["likely_significant"] is True
    assert result.unit == "fraction"


def test_recirculation_sanity_warnings():
    low_pre = mixing.recirculation(70, 100, 60)
    assert any("<75%" in w for w in low_pre.warnings)
    disordered = mixing.recirculation(55, 100, 60)
    assert any("Expected post-oxygenator" in w for w in disordered.warnings)


def test_recirculation_undefined_when_post_equals_venous():
    with pytest.raises(ValidationFailed) as err:
        mixing.recirculation(80, 60, 60)
    assert err.value.problems[0].field == "svo2_pct"
    with pytest.raises(ValueError):
        gx.recirculation_fraction(80, 60, 60)


def test_messai_derived_vector():
    # Derived: PF 5, CO 6, R 20%, SmO2 100, SvO2 60, PmO2 400 -> EF 4.0, SaO2 90.67%.
    result = mixing.vv_mixing(5, 6, 100, 400, 60, recirculation_pct=20)
    assert result.interpretation["effective_flow_l_min"] == 4.0
    assert result.value == pytest.approx(90.67, abs=0.005)


def test_messai_recirculation_from_saturations():
    # Pre 68%, post 100%, SvO2 60% -> R = 8/40 = 20%: same as the derived vector.
    result = mixing.vv_mixing(5, 6, 100, 400, 60, pre_oxy_so2_pct=68)
    assert result.value == pytest.approx(90.67, abs=0.005)


def test_messai_needs_recirculation_or_drainage_saturation():
    with pytest.raises(ValidationFailed):
        mixing.vv_mixing(5, 6, 100, 400, 60)


def test_native_cardiac_output_by_mixing():
    # Hand check: Hb 10; Cecmo = 13.4 + 1.2 = 14.6; Ca(95%, 80) = 12.73 + 0.24 = 12.97;
    # Cv(65%, 40) = 8.71 + 0.12 = 8.83. CO = 4 × (14.6 − 8.83)/(12.97 − 8.83) = 5.575.
    result = mixing.native_cardiac_output(4, 10, 100, 400, 95, 80, 65, 40)
    assert result.value == pytest.approx(5.575, abs=0.01)
    assert result.interpretation["native_flow_l_min"] == pytest.approx(1.575, abs=0.01)
    assert any("no native-lung" in w for w in result.warnings)


def test_native_cardiac_output_refuses_arterial_below_venous():
    with pytest.raises(ValidationFailed):
        mixing.native_cardiac_output(4, 10, 100, 400, 60, 40, 65, 40)


saturation = st.floats(0, 100)
haemoglobin = st.floats(0, 25)
po2_mmhg = st.floats(0, 800)


@given(hb=haemoglobin, so2=saturation, po2=po2_mmhg, more=st.floats(0.1, 50))
def test_o2_content_rises_with_saturation(hb, so2, po2, more):
    higher = min(100.0, so2 + more)
    assert gx.oxygen_content(hb, higher, po2) >= gx.oxygen_content(hb, so2, po2)


@given(hb=haemoglobin, so2=st.floats(1, 100), po2=po2_mmhg, more=st.floats(0.1, 10))
def test_o2_content_rises_with_haemoglobin(hb, so2, po2, more):
    assert gx.oxygen_content(hb + more, so2, po2) > gx.oxygen_content(hb, so2, po2)


@given(
    flow=st.floats(0, 10),
    hb=haemoglobin,
    pre=saturation,
    post=saturation,
    pre_po2=po2_mmhg,
    post_po2=po2_mmhg,
)
def test_o2_transfer_is_finite_and_signed_by_content_difference(
    flow, hb, pre, post, pre_po2, post_po2
):
    transfer = gx.oxygenator_o2_transfer(flow, hb, pre, pre_po2, post, post_po2)
    assert math.isfinite(transfer)
    difference = gx.oxygen_content(hb, post, post_po2) - gx.oxygen_content(hb, pre, pre_po2)
    assert transfer == pytest.approx(flow * difference * 10, abs=1e-6)


@given(svo2=st.floats(0, 98), gap1=st.floats(0.5, 50), gap2=st.floats(0.5, 50))
def test_recirculation_between_0_and_1_when_ordered(svo2, gap1, gap2):
    pre = svo2 + gap1
    post = pre + gap2
    fraction = gx.recirculation_fraction(pre, post, svo2)
    assert 0.0 <= fraction <= 1.0


# The simulator imports these three by name; their signatures are a contract.
SIMULATOR_CONTRACT = {
    "oxygen_content": ["hb_g_dl", "so2_pct", "po2_mmhg", "huefner", "solubility"],
    "oxygenator_o2_transfer": [
        "blood_flow_l_min",
        "hb_g_dl",
        "pre_so2_pct",
        "pre_po2_mmhg",
        "post_so2_pct",
        "post_po2_mmhg",
    ],
    "recirculation_fraction": ["pre_oxy_so2_pct", "post_oxy_so2_pct", "svo2_pct"],
}


@pytest.mark.parametrize(("function", "parameters"), list(SIMULATOR_CONTRACT.items()))
def test_plain_function_signatures_for_the_simulator(function, parameters):
    import inspect

    names = list(inspect.signature(getattr(gx, function)).parameters)
    assert names[: len(parameters)] == parameters
    defaults = inspect.signature(gx.oxygen_content).parameters
    assert defaults["huefner"].default == 1.34 and defaults["solubility"].default == 0.003
