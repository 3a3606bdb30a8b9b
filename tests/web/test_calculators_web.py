"""Calculators reached three ways give the same answer: CLI, API and the page."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from continuum.cli import app
from tests.conftest import Web

CASES = [
    ("bsa", {"height_cm": 180, "weight_kg": 80}),
    ("oxygen_content", {"hb_g_dl": 12, "so2_pct": 98, "po2_mmhg": 100}),
    (
        "save",
        {
            "age_years": 52,
            "weight_kg": 80,
            "diagnoses": ["myocarditis"],
            "liver_failure": False,
            "cns_dysfunction": False,
            "renal_failure": False,
            "chronic_renal_failure": False,
            "intubation_hours": 5,
            "peak_inspiratory_pressure_cmh2o": 18,
            "cardiac_arrest": False,
            "diastolic_bp_mmhg": 45,
            "pulse_pressure_mmhg": 30,
            "bicarbonate_mmol_l": 20,
        },
    ),
]


@pytest.mark.parametrize("name, inputs", CASES, ids=[c[0] for c in CASES])
def test_cli_and_api_return_the_same_json(web: Web, name: str, inputs: dict) -> None:
    cli = CliRunner().invoke(app, ["calc", name, "--json", json.dumps(inputs)])
    assert cli.exit_code == 0, cli.output
    web.login("nurse")
    api = web.client.post(
        f"/api/v1/calculators/{name}", json=inputs, headers={"X-CSRF-Token": web.csrf()}
    )
    assert api.status_code == 200
    assert api.json() == json.loads(cli.stdout)


def test_missing_inputs_are_named_in_the_api_and_cli(web: Web) -> None:
    web.login("nurse")
    r = web.client.post(
        "/api/v1/calculators/bsa", json={"height_cm": 180}, headers={"X-CSRF-Token": web.csrf()}
    )
    assert r.status_code == 422 and "weight_kg" in r.json()["message"]
    cli = CliRunner().invoke(app, ["calc", "bsa", "--json", '{"height_cm": 180}'])
    assert cli.exit_code == 2 and "weight_kg" in cli.output
    cli = CliRunner().invoke(app, ["calc", "no_such_thing"])
    assert cli.exit_code == 2


def test_page_converts_kpa_and_shows_the_explanation(web: Web) -> None:
    web.login("perfusionist")
    r = web.post_form(
        "/calculators/oxygen_content",
        {"hb_g_dl": "10", "so2_pct": "100", "po2_mmhg": "40", "po2_mmhg_unit": "kPa"},
        page="/calculators/oxygen_content",
    )
    assert r.status_code == 200
    assert "Inputs as used" in r.text and "Source" in r.text
    api = web.client.post(
        "/api/v1/calculators/oxygen_content",
        json={"hb_g_dl": 10, "so2_pct": 100, "po2_mmhg": {"value": 40, "unit": "kPa"}},
        headers={"X-CSRF-Token": web.csrf()},
    ).json()
    assert f"{api['value']:g}" in r.text


def test_score_page_shows_the_points_and_the_caution(web: Web) -> None:
    web.login("physician")
    form = {k: v for k, v in CASES[2][1].items() if not isinstance(v, bool | list)}
    form["diagnoses"] = "myocarditis"
    r = web.post_form("/calculators/save", form, page="/calculators/save")
    assert r.status_code == 200 and "Points" in r.text and "ELSO" in r.text


def test_page_with_a_missing_field_says_which(web: Web) -> None:
    web.login("nurse")
    r = web.post_form("/calculators/bsa", {"height_cm": "180"}, page="/calculators/bsa")
    assert r.status_code == 422 and "weight_kg" in r.text and "Cannot calculate yet" in r.text
