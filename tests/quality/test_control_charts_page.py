"""/quality/control-charts: ended runs in order of start with their stored RESP / SAVE score
and outcome, charted as RA-CUSUM (both charts), VLAD and O vs E; runs without a score or
outcome listed with the reason; h from the query with its ARL; bad h refused naming it."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from continuum.control_charts import cusum, observed_expected, run_length
from continuum.core.people import Patient
from continuum.core.record import AuditEntry
from continuum.core.run_record import Run
from continuum.db import make_engine, make_sessionmaker, unit_of_work
from continuum.initiation.models import InitiationDecision, Referral
from continuum.quality import control_chart_service as service
from tests.conftest import Web

START = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
RESP_CLASS_I = {  # 40 y, ventilated 40 h, viral pneumonia, NMB: 0 + 3 + 3 + 1 = 7 → class I
    "age_years": 40,
    "mechanical_ventilation_hours": 40,
    "diagnosis": "viral_pneumonia",
    "paco2_mmhg": 68,
    "peak_inspiratory_pressure_cmh2o": 36,
    "neuromuscular_blockade": True,
}
# 62 y (−3), ventilated > 7 days (0), viral pneumonia (+3), NMB (+1): 1 → class III
RESP_CLASS_III = {**RESP_CLASS_I, "age_years": 62, "mechanical_ventilation_hours": 200}
SAVE_INPUTS = {
    "age_years": 55,
    "weight_kg": 88,
    "diagnoses": ["myocarditis"],
    "intubation_hours": 4,
    "peak_inspiratory_pressure_cmh2o": 22,
    "diastolic_bp_mmhg": 38,
    "pulse_pressure_mmhg": 18,
    "bicarbonate_mmol_l": 17,
}
# (support, outcome, score inputs, score name); run n starts 20·n days after START
RUNS: list[tuple[str, str, dict[str, Any] | None, str | None]] = [
    ("pulmonary", "died_on_ecmo", RESP_CLASS_I, "resp"),
    ("pulmonary", "died_on_ecmo", RESP_CLASS_I, "resp"),
    ("cardiac", "weaned_recovered", SAVE_INPUTS, "save"),
    ("pulmonary", "transferred", RESP_CLASS_I, "resp"),  # outcome unknown: left out
    ("pulmonary", "withdrawn", RESP_CLASS_III, "resp"),
    ("pulmonary", "weaned_recovered", None, None),  # no decision linked: left out
    ("cardiac", "bridged_to_vad", {"age_years": 50}, "save"),  # SAVE incomplete: left out
    ("ecpr", "died_on_ecmo", None, None),  # ECPR: no score applies
    ("pulmonary", "died_on_ecmo", RESP_CLASS_I, "resp"),
]


def add_runs(url: str) -> list[int]:
    engine = make_engine(url)
    ids = []
    with unit_of_work(make_sessionmaker(engine)) as db:
        for n, (support, outcome, inputs, score) in enumerate(RUNS):
            patient = Patient(sex="male", height_cm=175, weight_kg=80)
            db.add(patient)
            db.flush()
            started = START + timedelta(days=20 * n)
            run = Run(
                patient_id=patient.id,
                support_type=support,
                status="ended",
                started_at=started,
                ended_at=started + timedelta(days=6),
                outcome=outcome,
                stop_reason="test",
            )
            db.add(run)
            db.flush()
            ids.append(run.id)
            if score is None:
                continue
            referral = Referral(
                patient_id=patient.id,
                referring_hospital="General",
                referring_clinician="Dr Test",
                referred_at=started - timedelta(hours=6),
                support_type=support,
                clinical_picture="test",
                status="accepted",
            )
            db.add(referral)
            db.flush()
            db.add(
                InitiationDecision(
                    referral_id=referral.id,
                    sequence=1,
                    checklist={},
                    score_inputs={score: inputs},
                    trial_inputs={},
                    physiology={},
                    plan={},
                    run_id=run.id,
                )
            )
    engine.dispose()
    return ids


@pytest.fixture
def charted(web: Web) -> tuple[Web, list[int]]:
    return web, add_runs(web.url)


def test_the_series_follows_the_start_order_with_reasons_for_the_left_out(
    charted: tuple[Web, list[int]],
) -> None:
    web, ids = charted
    engine = make_engine(web.url)
    with unit_of_work(make_sessionmaker(engine)) as db:
        runs, excluded = service.series(db)
    engine.dispose()
    assert [r.run_id for r in runs] == [ids[0], ids[1], ids[2], ids[4], ids[8]]
    assert [r.died for r in runs] == [True, True, False, True, True]
    assert runs[0].score.score == "RESP" and runs[0].score.risk_class == "I"
    assert runs[0].score.predicted_survival == 0.92
    assert runs[2].score.score == "SAVE"
    expected_save = observed_expected.class_survival("SAVE", int(runs[2].score.total))
    assert runs[2].score.predicted_survival == expected_save.survival
    reasons = {e.run_id: e.reason for e in excluded}
    assert "transferred" in reasons[ids[3]]
    assert "no initiation decision" in reasons[ids[5]]
    assert "SAVE incomplete: missing intubation" in reasons[ids[6]]
    assert "ECPR" in reasons[ids[7]]
    assert 1 not in reasons  # the seeded run 1 is still active: not in the series


def test_page_draws_both_cusums_vlad_and_o_vs_e(charted: tuple[Web, list[int]]) -> None:
    web, _ = charted
    web.login("qa_lead")
    audit_before = _audit_count(web.url)
    page = web.client.get("/quality/control-charts", params={"h": "1.5", "runs_per_year": "40"})
    assert page.status_code == 200, page.text
    html = page.text
    assert html.count('<svg class="qc-svg"') == 3
    assert "deterioration (odds of death doubled)" in html and "improvement" in html
    assert "VLAD" in html and "Observed vs expected deaths" in html
    # two deaths in a row at 8 % risk (weight ln 2 − ln 1.08 ≈ 0.62 each) then a death at
    # 67 % and one at 8 %: the deterioration chart crosses h = 1.5
    assert "signal at run" in html
    # the ARL note for the programme's own risk mix
    m = re.search(r"signals falsely once every ([\d,]+) runs", html)
    assert m
    assert "false alarms a year" in html
    # left-out runs with their reasons
    assert "Runs left out (4)" in html
    assert "transferred on ECMO: survival not known here" in html
    assert "ECPR" in html and "SAVE incomplete" in html
    assert _audit_count(web.url) == audit_before  # read-only


def test_arl_on_the_page_is_the_chain_for_the_charted_risks(
    charted: tuple[Web, list[int]],
) -> None:
    web, _ = charted
    engine = make_engine(web.url)
    with unit_of_work(make_sessionmaker(engine)) as db:
        runs, _ = service.series(db)
    engine.dispose()
    risks = [r.risk for r in runs]
    died = [int(r.died) for r in runs]
    arl = run_length.arl_markov(risks, 2, 1.5, service.STATES).arl
    worse, _ = cusum.both_charts(risks, died, 1.5, 1.5)
    web.login("physician")
    html = web.client.get("/quality/control-charts", params={"h": "1.5"}).text
    assert f"once every {arl:,.0f} runs" in html
    assert f"Signals: {len(worse.signals)}." in html
    oe = observed_expected.observed_vs_expected([1 - r for r in risks], died)
    assert f"{oe.expected_deaths:.1f}" in html
    assert f"{oe.expected_low}–{oe.expected_high}" in html


@pytest.mark.parametrize(
    "params, field, value",
    [
        ({"h": "0"}, "h", "0"),
        ({"h": "abc"}, "h", "abc"),
        ({"h": "4", "h_improvement": "99"}, "h_improvement", "99"),
        ({"runs_per_year": "-5"}, "runs_per_year", "-5"),
    ],
)
def test_a_bad_limit_is_refused_naming_it_and_its_range(
    charted: tuple[Web, list[int]], params: dict[str, str], field: str, value: str
) -> None:
    web, _ = charted
    web.login("qa_lead")
    page = web.client.get("/quality/control-charts", params=params)
    assert page.status_code == 422
    assert f"{field} &#39;{value}&#39; is outside" in page.text or f"{field} '{value}'" in page.text
    assert "The charts below use the default limits." in page.text


def test_with_no_charted_run_the_page_says_so(web: Web) -> None:
    web.login("researcher")
    page = web.client.get("/quality/control-charts")
    assert page.status_code == 200
    assert "nothing to chart" in page.text and '<svg class="qc-svg"' not in page.text


def _audit_count(url: str) -> int:
    engine = make_engine(url)
    with unit_of_work(make_sessionmaker(engine)) as db:
        count = len(db.scalars(select(AuditEntry.id)).all())
    engine.dispose()
    return count
