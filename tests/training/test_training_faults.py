"""Air in the circuit and power failure as injectable faults, right and wrong actions matched
to the fault, and the debrief read by the session's named trainees."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from continuum.alerts.models import CircuitAlert
from continuum.core.roles import Actor
from continuum.db import unit_of_work
from continuum.errors import Forbidden
from continuum.simulator import simulate
from continuum.training import scoring, service, stream
from continuum.training.models import TrainingSession
from continuum.training.schemas import SessionIn
from tests.conftest import Web

COORD = Actor(staff_id=4, name="Test coordinator", role="coordinator")
PERF = Actor(staff_id=1, name="Test perfusionist", role="perfusionist", discipline="perfusion")
NURSE = Actor(staff_id=3, name="Test nurse", role="nurse", discipline="nursing")


@pytest.mark.parametrize("scenario", ["air_entrainment", "power_failure"])
@pytest.mark.parametrize("mode", ["VV", "VA"])
def test_pump_stop_scenarios_have_truth(scenario: str, mode: str) -> None:
    run = simulate(scenario, mode, 10, 3)
    flow, rpm = run.clean["blood_flow"], run.clean["pump_speed"]
    assert flow[100] > 3.5 and rpm[100] > 3000  # before the onset (30 % of 600 min)
    assert flow[-1] < 0.25 * flow[100] and rpm[-1] < 0.4 * rpm[100]  # down to the residual
    assert run.clean["spo2"][-1] < run.clean["spo2"][100] - 10  # the patient desaturates
    (truth,) = run.truth
    assert truth.kind == "flow_below_target" and truth.fault == scenario
    assert truth.obvious_at is not None and truth.onset < truth.obvious_at
    assert truth.obvious_at - truth.onset < timedelta(minutes=40)
    assert scenario in stream.fault_scenarios(mode)


def test_controls_are_unchanged_by_the_new_faults() -> None:
    a = simulate("control_vv", "VV", 4, 5)
    assert np.allclose(a.clean["blood_flow"][:60], a.clean["blood_flow"][0], atol=0.5)
    assert a.truth == []


def _ev(i: int, kind: str, minutes: float, summary: str, component: str | None = None):  # type: ignore[no-untyped-def]
    t0 = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
    return scoring.Event(i, kind, t0 + timedelta(minutes=minutes), "Test", summary, component)


T0 = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)


def test_air_scoring_right_and_wrong_actions() -> None:
    events = [
        _ev(1, "alert.acknowledged", 1, "Alert acknowledged: oxygenator dysfunction"),  # not it
        _ev(2, "action.raised", 2, "Action: check heparin dose"),  # wrong: names no remedy
        _ev(3, "component.replaced", 3, "Membrane lung replaced", "membrane_lung"),  # wrong
        _ev(4, "alert.acknowledged", 4, "Alert acknowledged: flow below target"),  # recognised
        _ev(5, "action.raised", 5, "Action: clamp, de-air the circuit and restart the pump"),
        _ev(6, "action.raised", 6, "Action: review sedation"),  # after the right one: not wrong
    ]
    s = scoring.score("air_entrainment", T0, None, events)
    assert s.time_to_recognise_s == 240 and s.recognised_by == "Test"
    assert s.right_action_event == 5 and s.time_to_right_action_s == 300
    assert s.right_why == "the action names the remedy"
    assert [w.id for w in s.wrong_actions] == [2, 3]
    assert "names none of" in s.why_wrong[2] and "tubing set" in s.why_wrong[3]
    # a replaced circuit is right too; "repair" is not "air"
    other = [_ev(7, "action.raised", 1, "Action: repair the bed"),
             _ev(8, "component.replaced", 2, "Tubing set replaced", "tubing_set")]  # fmt: skip
    s = scoring.score("air_entrainment", T0, None, other)
    assert s.right_action_event == 8 and [w.id for w in s.wrong_actions] == [7]


def test_power_failure_scoring() -> None:
    events = [
        _ev(1, "component.replaced", 1, "Pump replaced", "pump"),  # wrong: the power failed
        _ev(2, "action.raised", 2, "Action: hand crank until the console is on mains"),
    ]
    s = scoring.score("power_failure", T0, None, events)
    assert s.right_action_event == 2 and [w.id for w in s.wrong_actions] == [1]
    s = scoring.score("power_failure", T0, None,
                      [_ev(3, "component.replaced", 1, "Console replaced", "console")])  # fmt: skip
    assert s.right_action_event == 3 and s.right_why == "console replaced"


def test_actions_must_fit_non_component_faults() -> None:
    events = [
        _ev(1, "circuit_check.signed", 1, "Day circuit check: no findings"),  # routine: not it
        _ev(2, "action.raised", 2, "Action: increase heparin"),  # wrong for hypovolaemia
        _ev(3, "circuit_check.signed", 3, "Day check: drainage line chatter"),  # recognised
        _ev(4, "action.raised", 4, "Action: fluid bolus 250 mL"),
    ]
    s = scoring.score("access_insufficiency", T0, None, events)
    assert s.time_to_recognise_s == 180 and s.right_action_event == 4
    assert [w.id for w in s.wrong_actions] == [2]
    s = scoring.score("anticoagulation_drift", T0, None, events)
    assert s.right_action_event == 2 and s.wrong_actions == []


def test_air_injected_raises_flow_below_target_and_debrief_for_trainees(
    sessions: sessionmaker[Session],
) -> None:
    now = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=3)
    with unit_of_work(sessions) as db:
        data = SessionIn(title="air drill", scenario="control_vv", acceleration=10,
                         trainee_ids=[1])  # fmt: skip
        row = service.start(db, COORD, data, now)
        sid, run_id = row.id, row.run_id
        assert not list(db.scalars(select(CircuitAlert).where(CircuitAlert.run_id == run_id)))
        service.inject(db, COORD, sid, "air_entrainment", now + timedelta(seconds=30))
    detectors: set[str] = set()
    for k in range(1, 13):  # 60 wall minutes at 10×
        with unit_of_work(sessions) as db:
            row = db.get_one(TrainingSession, sid)
            service.step(db, row, now + timedelta(minutes=5 * k))
            alerts = db.scalars(select(CircuitAlert).where(CircuitAlert.run_id == run_id))
            detectors |= {a.detector for a in alerts}
    assert "flow_below_target" in detectors, detectors
    with unit_of_work(sessions) as db:
        d = service.debrief(db, PERF, sid)  # the named trainee reads it
        assert d.scores[0].fault == "air_entrainment" and d.scores[0].obvious_at is not None
        with pytest.raises(Forbidden):
            service.debrief(db, NURSE, sid)  # not named in the session


def test_trainee_reads_the_debrief_page_read_only(web: Web) -> None:
    web.login("coordinator")
    h = {"X-CSRF-Token": web.csrf()}
    r = web.client.post("/api/v1/training", headers=h, json={
        "title": "power drill", "scenario": "control_va", "acceleration": 5,
        "trainee_ids": [1]})  # fmt: skip
    assert r.status_code == 201, r.text
    sid = r.json()["id"]
    r = web.client.post(f"/api/v1/training/{sid}/faults", json={"scenario": "power_failure"},
                        headers=h)  # fmt: skip
    assert r.status_code == 201, r.text
    bad = web.client.post(f"/api/v1/training/{sid}/faults", json={"scenario": "air"}, headers=h)
    assert bad.status_code == 422 and bad.json()["fields"][0]["field"] == "scenario"
    assert "signoff-form" in web.client.get(f"/training/{sid}/debrief").text
    web.client.cookies.clear()
    web.login("perfusionist")
    page = web.client.get(f"/training/{sid}/debrief")
    assert page.status_code == 200 and 'id="readonly-note"' in page.text
    assert "signoff-form" not in page.text and "Power failure" in page.text
    api = web.client.get(f"/api/v1/training/{sid}/debrief")
    assert api.status_code == 200 and api.json()["scores"][0]["fault"] == "power_failure"
    assert web.client.get(f"/training/{sid}").status_code == 403  # the console stays theirs
    web.client.cookies.clear()
    web.login("nurse")
    assert web.client.get(f"/training/{sid}/debrief").status_code == 403
    assert web.client.get(f"/api/v1/training/{sid}/debrief").status_code == 403
