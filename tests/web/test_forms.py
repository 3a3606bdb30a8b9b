"""Pages: bad input shows the form again with field-level messages and changes nothing;
good input lands; amendments show the original beside the correction."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from continuum.core.models import Observation, Patient
from continuum.db import make_engine, make_sessionmaker, unit_of_work
from tests.conftest import Web


def count(url: str, model: type) -> int:
    engine = make_engine(url)
    with unit_of_work(make_sessionmaker(engine)) as db:
        n = db.scalar(select(func.count()).select_from(model)) or 0
    engine.dispose()
    return n


def test_bad_patient_form_is_shown_again_and_nothing_is_saved(web: Web) -> None:
    web.login("coordinator")
    before = count(web.url, Patient)
    r = web.post_form(
        "/patients/new",
        {"mrn": "MRN 1!", "name": "Kay", "sex": "female", "height_cm": "1700"},
        page="/patients/new",
    )
    assert r.status_code == 422
    assert "Nothing was saved" in r.text and "height_cm" in r.text
    assert "less than or equal to 250" in r.text
    assert 'value="Kay"' in r.text  # what was typed is kept
    assert count(web.url, Patient) == before


def test_out_of_range_observation_on_the_run_page(web: Web) -> None:
    web.login("nurse")
    before = count(web.url, Observation)
    r = web.post_form("/runs/1/observations", {"code": "blood_flow", "value": "55"})
    assert r.status_code == 422
    assert "ECMO blood flow 55 L/min is outside 0–10 L/min" in r.text
    assert count(web.url, Observation) == before


def test_kpa_is_converted_on_the_way_in(web: Web) -> None:
    web.login("nurse")
    r = web.post_form("/runs/1/observations", {"code": "pao2", "value": "10", "unit": "kPa"})
    assert r.status_code == 303
    summary = web.client.get("/api/v1/runs/1").json()
    assert summary["observations"]["pao2"]["latest"]["value"] == pytest.approx(75.0062)


def test_amendment_shows_original_correction_and_reason(web: Web) -> None:
    web.login("perfusionist")
    r = web.post_form(
        "/observations/4/amend",
        {"value": "8.2", "reason": "wrong sample"},
        page="/observations/4/amend",
    )
    assert r.status_code == 303
    page = web.client.get("/runs/1").text
    assert "superseded" in page and "wrong sample" in page and "corrects #4" in page
    original = web.client.get("/api/v1/observations/4").json()
    assert original["value"] == 10.0 and original["status"] == "superseded"
    assert original["amendment"]["reason"] == "wrong sample"


def test_mode_change_and_oxygenator_change_from_the_run_page(web: Web) -> None:
    web.login("perfusionist")
    assert (
        web.post_form("/runs/1/mode", {"mode": "VVA", "reason": "north-south hypoxia"}).status_code
        == 303
    )
    r = web.post_form(
        "/runs/1/components",
        {
            "kind": "membrane_lung",
            "replaces_id": "1",
            "stop_reason": "oxygenator_failure",
            "model": "HLS 7.0",
            "serial": "NEW1",
        },
    )
    assert r.status_code == 303
    page = web.client.get("/runs/1").text
    assert "Mode VV → VVA: north-south hypoxia" in page
    assert "Membrane lung changed (oxygenator failure)" in page


def test_replacing_without_a_reason_is_refused_with_a_message(web: Web) -> None:
    web.login("perfusionist")
    r = web.post_form("/runs/1/components", {"kind": "membrane_lung", "replaces_id": "1"})
    assert r.status_code == 422 and "say why the old component was stopped" in r.text
