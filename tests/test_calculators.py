"""The calculator registry: names, forms, validation, units, warnings and the `calc` command.

Every calculator named in docs/contracts.md §5 must exist; missing fields are named one by one;
implausible values are refused naming the field, the value and the allowed range; inputs
in alternative units give the same result as the canonical unit.
"""

from __future__ import annotations

import json
import math

import pytest
import typer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from continuum.calculators import CALCULATORS, list_calculators, run_calculator
from continuum.commands.calc import register
from continuum.errors import NotFound, ValidationFailed
from continuum.physiology.cannula_catalogue import CANNULAE
from continuum.physiology.result import CalculatorResult
from continuum.scores.common import ELSO_CAUTION

CONTRACT_NAMES = {
    "bsa",
    "blood_volume",
    "prime_hemodilution",
    "oxygen_content",
    "oxygenator_o2_transfer",
    "oxygenator_co2_removal",
    "recirculation",
    "flow_target",
    "cannula_check",
    "vis",
    "murray",
    "resp",
    "preserve",
    "save",
    "ttr",
}
RESULT_KEYS = {
    "name",
    "value",
    "unit",
    "interpretation",
    "inputs",
    "formula",
    "source",
    "warnings",
    "points",
}

# One valid input set per calculator (also the CLI examples).
EXAMPLES: dict[str, dict] = {
    "bsa": {"height_cm": 175, "weight_kg": 70},
    "blood_volume": {"weight_kg": 70, "height_cm": 175, "sex": "male", "age_years": 40},
    "prime_hemodilution": {"hct_pct": 40, "blood_volume_ml": 5000, "prime_volume_ml": 1000},
    "oxygen_content": {"hb_g_dl": 15, "so2_pct": 100, "po2_mmhg": 99.76},
    "transport_oxygen": {
        "cylinder_volume_l": 10,
        "cylinder_pressure_bar": 200,
        "sweep_l_min": 4,
        "ventilator_l_min": 6,
        "expected_min": 90,
    },
    "oxygenator_o2_transfer": {
        "blood_flow_l_min": 4,
        "hb_g_dl": 10,
        "pre_so2_pct": 70,
        "pre_po2_mmhg": 40,
        "post_so2_pct": 100,
        "post_po2_mmhg": 400,
    },
    "oxygenator_co2_removal": {"sweep_flow_l_min": 4, "exhaust_pco2_mmhg": 28.52},
    "recirculation": {"pre_oxy_so2_pct": 80, "post_oxy_so2_pct": 100, "svo2_pct": 60},
    "vv_mixing": {
        "pump_flow_l_min": 5,
        "cardiac_output_l_min": 6,
        "post_oxy_so2_pct": 100,
        "post_oxy_po2_mmhg": 400,
        "svo2_pct": 60,
        "recirculation_pct": 20,
    },
    "native_cardiac_output": {
        "ecmo_flow_l_min": 4,
        "hb_g_dl": 10,
        "post_oxy_so2_pct": 100,
        "post_oxy_po2_mmhg": 400,
        "sao2_pct": 95,
        "pao2_mmhg": 80,
        "svo2_pct": 65,
    },
    "flow_target": {"mode": "VA", "weight_kg": 70, "height_cm": 175},
    "cannula_check": {"cannula": "crescent_24", "role": "return", "target_flow_l_min": 2},
    "vis": {"dopamine": 5, "epinephrine": 0.1, "milrinone": 0.5, "norepinephrine": 0.2},
    "murray": {
        "cxr_quadrants": 3,
        "pao2_mmhg": 90,
        "fio2": 1.0,
        "peep_cmh2o": 14,
        "compliance_ml_cmh2o": 25,
    },
    "resp": {
        "age_years": 40,
        "mechanical_ventilation_hours": 10,
        "diagnosis": "asthma",
        "paco2_mmhg": 50,
        "peak_inspiratory_pressure_cmh2o": 30,
        "neuromuscular_blockade": True,
    },
    "preserve": {
        "age_years": 50,
        "bmi": 25,
        "mechanical_ventilation_days": 2,
        "sofa": 8,
        "peep_cmh2o": 12,
        "peak_inspiratory_pressure_cmh2o": 30,
    },
    "save": {
        "age_years": 70,
        "weight_kg": 95,
        "intubation_hours": 5,
        "peak_inspiratory_pressure_cmh2o": 25,
        "diastolic_bp_mmhg": 35,
        "pulse_pressure_mmhg": 30,
        "bicarbonate_mmol_l": 20,
    },
    "ttr": {
        "samples": [[0, 0.1], [6, 0.4], [12, 0.8], [18, 0.5], [24, 0.2]],
        "low": 0.3,
        "high": 0.7,
    },
}
EXPECTED_VALUES = {
    "bsa": 1.8447,
    "recirculation": 0.5,
    "oxygenator_o2_transfer": 204.0,
    "vis": 40,
    "murray": 3.25,
    "resp": 15,
    "save": -6,
    "ttr": 0.6042,
    "vv_mixing": 90.67,
    "prime_hemodilution": 33.33,
    "oxygen_content": 20.4,
    "transport_oxygen": 200.0,
}


def test_every_contract_calculator_is_registered():
    assert set(CALCULATORS) >= CONTRACT_NAMES
    assert set(EXAMPLES) == set(CALCULATORS)


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_example_runs_and_has_the_contract_shape(name):
    result = run_calculator(name, EXAMPLES[name])
    data = result.as_dict()
    assert set(data) == RESULT_KEYS
    assert data["name"] == name
    assert isinstance(data["value"], int | float) and math.isfinite(data["value"])
    json.dumps(data)  # serialisable
    if name in EXPECTED_VALUES:
        assert data["value"] == pytest.approx(EXPECTED_VALUES[name], abs=0.01)


@pytest.mark.parametrize("name", ["resp", "save", "preserve"])
def test_outcome_scores_carry_class_survival_points_and_elso_caution(name):
    data = run_calculator(name, EXAMPLES[name]).as_dict()
    assert data["interpretation"]["risk_class"] in {"I", "II", "III", "IV", "V"}
    assert 0 < data["interpretation"]["cohort_survival"] < 1
    assert ELSO_CAUTION in data["warnings"]
    assert sum(p["points"] for p in data["points"]) == data["value"]


def test_list_calculators_gives_form_fields():
    listed = {c["name"]: c for c in list_calculators()}
    assert set(listed) == set(CALCULATORS)
    po2 = next(f for f in listed["oxygen_content"]["inputs"] if f["name"] == "po2_mmhg")
    assert po2["unit"] == "mmHg" and po2["minimum"] == 0 and po2["maximum"] == 800
    assert {"unit": "kPa", "factor": 7.50062} in po2["units"]
    method = next(f for f in listed["bsa"]["inputs"] if f["name"] == "method")
    assert method["choices"] == ["mosteller", "dubois", "haycock", "gehan_george"]
    assert method["required"] is False and method["default"] == "mosteller"


def test_unknown_calculator_is_not_found():
    with pytest.raises(NotFound):
        run_calculator("apache", {})


def test_inputs_must_be_an_object():
    with pytest.raises(ValidationFailed):
        run_calculator("bsa", [1, 2])  # type: ignore[arg-type]


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_every_missing_required_field_is_named(name):
    required = {f.name for f in CALCULATORS[name].fields if f.required}
    if not required:
        return
    with pytest.raises(ValidationFailed) as err:
        run_calculator(name, {})
    named = {p.field for p in err.value.problems}
    assert named == required
    for field in required:
        assert field in err.value.message


# (calculator, field, bad value, text that must appear in the message)
OUT_OF_RANGE = [
    ("bsa", "weight_kg", 400, "400 kg is outside the allowed range 0.5–350 kg"),
    ("bsa", "height_cm", -5, "-5 cm is outside the allowed range 30–250 cm"),
    ("oxygen_content", "so2_pct", 130, "130 % is outside the allowed range 0–100 %"),
    ("oxygen_content", "hb_g_dl", {"value": 300, "unit": "g/L"}, "30 g/dL (given 300 g/L)"),
    ("murray", "cxr_quadrants", 5, "5 quadrants is outside the allowed range 0–4 quadrants"),
    ("murray", "cxr_quadrants", 2.5, "2.5 is not a whole number"),
    ("murray", "fio2", 0.1, "0.1 fraction is outside the allowed range 0.21–1 fraction"),
    ("vis", "vasopressin", 0.5, "0.5 U/kg/min is outside the allowed range 0–0.01 U/kg/min"),
    ("bsa", "weight_kg", "heavy", "'heavy' is not a number"),
    ("bsa", "weight_kg", True, "expects a number"),
    ("bsa", "weight_kg", float("nan"), "not a finite number"),
    ("bsa", "method", "boyd", "'boyd' is not one of mosteller, dubois"),
    ("resp", "cardiac_arrest", "maybe", "expects true or false"),
    ("save", "diagnoses", ["myocarditis", "flu"], "'flu' is not one of"),
    ("oxygen_content", "po2_mmhg", {"value": 13, "unit": "psi"}, "unit 'psi' is not accepted"),
]


@pytest.mark.parametrize(("name", "field", "bad", "text"), OUT_OF_RANGE)
def test_implausible_values_refused_with_field_value_and_range(name, field, bad, text):
    with pytest.raises(ValidationFailed) as err:
        run_calculator(name, {**EXAMPLES[name], field: bad})
    problem = next(p for p in err.value.problems if p.field == field)
    assert text in problem.message
    assert field in err.value.message


def test_several_problems_reported_together():
    with pytest.raises(ValidationFailed) as err:
        run_calculator("bsa", {"height_cm": 999, "weight_kg": -1, "method": "x"})
    assert {p.field for p in err.value.problems} == {"height_cm", "weight_kg", "method"}
    assert err.value.exit_code == 2 and err.value.status_code == 422


# Same result in alternative units (contracts §1 conversions).
UNIT_EQUIVALENTS = [
    ("oxygen_content", {"po2_mmhg": 99.76}, {"po2_mmhg": {"value": 13.3, "unit": "kPa"}}),
    ("oxygen_content", {"po2_mmhg": 99.76}, {"po2_mmhg": 13.3, "po2_mmhg_unit": "kPa"}),
    ("oxygen_content", {"hb_g_dl": 15}, {"hb_g_dl": {"value": 150, "unit": "g/L"}}),
    ("oxygen_content", {"so2_pct": 100}, {"so2_pct": {"value": 1.0, "unit": "fraction"}}),
    (
        "bsa",
        {"height_cm": 175.26, "weight_kg": 70.0},
        {"height_cm": {"value": 69, "unit": "in"}, "weight_kg": {"value": 154.324, "unit": "lb"}},
    ),
    ("murray", {"fio2": 0.6}, {"fio2": 60}),
    ("murray", {"fio2": 0.6}, {"fio2": {"value": 60, "unit": "%"}}),
    ("resp", {"paco2_mmhg": 75.0062}, {"paco2_mmhg": {"value": 10, "unit": "kPa"}}),
    (
        "resp",
        {"mechanical_ventilation_hours": 48},
        {"mechanical_ventilation_hours": {"value": 2, "unit": "days"}},
    ),
    (
        "oxygenator_o2_transfer",
        {"blood_flow_l_min": 4},
        {"blood_flow_l_min": {"value": 4000, "unit": "mL/min"}},
    ),
]


@pytest.mark.parametrize(("name", "canonical", "alternative"), UNIT_EQUIVALENTS)
def test_alternative_units_give_the_same_result(name, canonical, alternative):
    a = run_calculator(name, {**EXAMPLES[name], **canonical}).as_dict()
    b = run_calculator(name, {**EXAMPLES[name], **alternative}).as_dict()
    assert b["value"] == pytest.approx(a["value"], rel=1e-3)
    for key, value in canonical.items():
        assert b["inputs"][key] == pytest.approx(value, rel=1e-3)


@given(data=st.data())
@settings(max_examples=200)
def test_unit_round_trip(data):
    name = data.draw(st.sampled_from(sorted(CALCULATORS)))
    fields = [f for f in CALCULATORS[name].fields if f.units and f.minimum is not None]
    if not fields:
        return
    field = data.draw(st.sampled_from(fields))
    option = data.draw(st.sampled_from(field.units))
    value = data.draw(st.floats(field.minimum, field.maximum))
    from continuum.physiology.form_fields import parse_number

    converted = parse_number(field, {"value": value / option.factor, "unit": option.unit}, {})
    assert converted == pytest.approx(value, rel=1e-9, abs=1e-12)


def test_strings_from_web_forms_are_accepted():
    result = run_calculator(
        "resp", {**EXAMPLES["resp"], "age_years": "40", "neuromuscular_blockade": "on"}
    )
    assert result.value == 15


def test_unknown_inputs_and_defaulted_booleans_are_reported():
    result = run_calculator("resp", {**EXAMPLES["resp"], "wieght": 80})
    assert any("wieght" in w for w in result.warnings)
    assert any(
        w.startswith("Not given, taken as false:") and "cardiac_arrest" in w
        for w in result.warnings
    )


@pytest.mark.parametrize(
    ("name", "extra", "phrase"),
    [
        ("save", {"support": "ecpr"}, "not ECPR"),
        ("save", {"mode": "VV"}, "VV / respiratory"),
        ("resp", {"mode": "VA"}, "derived for VV"),
        ("resp", {"support": "ecpr"}, "derived for VV"),
        ("preserve", {"mode": "VA"}, "derived for VV"),
    ],
)
def test_outside_derivation_population_is_a_warning_not_a_refusal(name, extra, phrase):
    result = run_calculator(name, {**EXAMPLES[name], **extra})
    assert any(phrase in w for w in result.warnings)


def test_cannula_catalogue_extension_through_the_registry():
    extra = [{"id": "local_19", "label": "Local 19 Fr", "return": {"a": 50, "b": 5}}]
    result = run_calculator(
        "cannula_check",
        {"cannula": "local_19", "role": "return", "target_flow_l_min": 1, "extra_cannulae": extra},
    )
    assert result.value == 55


def _strategy_for(field):
    if field.name == "samples":
        pairs = st.tuples(st.floats(0, 500), st.floats(0, 5))
        return st.lists(pairs, min_size=2, max_size=20).map(lambda xs: [list(x) for x in xs])
    if field.name == "cannula":
        return st.sampled_from(sorted(CANNULAE))
    if field.type == "entries":
        return st.none()
    if field.type == "boolean":
        return st.booleans()
    if field.type == "choice":
        return st.sampled_from(field.choices)
    if field.type == "multi_choice":
        return st.lists(st.sampled_from(field.choices), max_size=3)
    low = -10.0 if field.minimum is None else field.minimum
    high = 10.0 if field.maximum is None else field.maximum
    if field.type == "integer":
        return st.integers(int(low), int(high))
    return st.floats(low, high, allow_nan=False, allow_infinity=False)


@given(data=st.data())
@settings(max_examples=600, suppress_health_check=[HealthCheck.too_slow])
def test_no_crash_on_any_finite_in_range_input(data):
    name = data.draw(st.sampled_from(sorted(CALCULATORS)))
    inputs = {}
    for field in CALCULATORS[name].fields:
        if field.required or data.draw(st.booleans()):
            inputs[field.name] = data.draw(_strategy_for(field))
    try:
        result = run_calculator(name, inputs)
    except ValidationFailed as exc:  # cross-field refusals are allowed, and must name a field
        assert exc.problems and all(p.field for p in exc.problems)
        return
    assert isinstance(result, CalculatorResult)
    assert math.isfinite(result.value)
    json.dumps(result.as_dict())


# ---- the `continuum calc` command ---------------------------------------------------------


@pytest.fixture
def cli():
    app = typer.Typer()
    register(app)

    @app.command("version")
    def version() -> None:  # a second command so Typer keeps sub-command routing
        typer.echo("test")

    runner = CliRunner()
    return lambda *args: runner.invoke(app, list(args))


def test_cli_prints_result_json(cli):
    result = cli("calc", "bsa", "--json", json.dumps(EXAMPLES["bsa"]))
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["name"] == "bsa" and data["value"] == pytest.approx(1.8447)


def test_cli_list(cli):
    result = cli("calc", "--list")
    assert result.exit_code == 0
    for name in CONTRACT_NAMES:
        assert name in result.stdout
    assert "height_cm [cm]" in result.stdout


def test_cli_validation_error_exits_2_with_message(cli):
    result = cli("calc", "bsa", "--json", '{"height_cm": 975}')
    assert result.exit_code == 2
    assert "height_cm: 975 cm is outside" in result.stderr
    assert "weight_kg: is required" in result.stderr
    assert "Traceback" not in result.output


def test_cli_unknown_calculator_is_bad_usage_exit_2(cli):
    # docs/contracts.md §4: 2 = bad usage or invalid input; an unknown name is bad usage.
    result = cli("calc", "apache", "--json", "{}")
    assert result.exit_code == 2
    assert "unknown calculator 'apache'" in result.stderr


@pytest.mark.parametrize("bad", ["{not json", "[1, 2]"])
def test_cli_bad_json_exits_2(cli, bad):
    result = cli("calc", "bsa", "--json", bad)
    assert result.exit_code == 2
    assert "--json" in result.stderr


def test_cli_without_name_exits_2(cli):
    assert cli("calc").exit_code == 2


def test_a_limit_given_in_another_unit_is_not_refused_by_rounding():
    from continuum.physiology.form_fields import parse_number

    field = next(
        f for f in CALCULATORS["oxygenator_co2_removal"].fields if f.name == "barometric_mmhg"
    )
    hpa = next(u for u in field.units if u.unit == "hPa")
    assert parse_number(field, {"value": 800 / hpa.factor, "unit": "hPa"}, {}) == 800


def test_a_result_that_overflows_is_refused_with_the_fields_named() -> None:
    """Found by the property test: a subnormal Hb makes arterial and venous O2 contents
    almost equal, and the mixing equation divides by their difference."""
    inputs = dict(
        ecmo_flow_l_min=1.0, hb_g_dl=2.225073858507203e-309, post_oxy_so2_pct=0.0,
        post_oxy_po2_mmhg=2.0, sao2_pct=1.0, pao2_mmhg=0.0, svo2_pct=0.0, pvo2_mmhg=0.0,
    )  # fmt: skip
    with pytest.raises(ValidationFailed) as exc:
        run_calculator("native_cardiac_output", inputs)
    problem = exc.value.problems[0]
    assert problem.field == "sao2_pct" and "too close to give a cardiac output" in problem.message


def test_any_non_finite_result_becomes_a_refusal(monkeypatch: pytest.MonkeyPatch) -> None:
    from dataclasses import replace

    from continuum.physiology.result import rounded

    spec = replace(CALCULATORS["native_cardiac_output"], function=lambda **kw: rounded(1e400))
    monkeypatch.setitem(CALCULATORS, "native_cardiac_output", spec)
    with pytest.raises(ValidationFailed) as exc:
        run_calculator("native_cardiac_output", {"ecmo_flow_l_min": 4, "hb_g_dl": 10,
                        "post_oxy_so2_pct": 100, "post_oxy_po2_mmhg": 400, "sao2_pct": 95,
                        "pao2_mmhg": 80, "svo2_pct": 70})  # fmt: skip
    assert exc.value.problems[0].field == "inputs"
    assert "no finite result" in exc.value.problems[0].message
