"""Simulation training: the stepper (own clock), surveillance on the stream, scoring
against the truth, refusals, and training runs kept out of every programme figure."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from continuum.alerts.models import CircuitAlert
from continuum.core.record import Observation
from continuum.core.roles import Actor
from continuum.core.run_record import Run
from continuum.db import unit_of_work
from continuum.errors import ValidationFailed
from continuum.training import scoring, service, stream
from continuum.training.models import TrainingSession
from continuum.training.schemas import SessionIn
from tests.conftest import Web

COORD = Actor(staff_id=4, name="Test coordinator", role="coordinator")
PERF = Actor(staff_id=1, name="Test perfusionist", role="perfusionist", discipline="perfusion")


def _start(db: Session, now: datetime, acceleration: float = 10) -> TrainingSession:
    data = SessionIn(title="drill", scenario="control_vv", acceleration=acceleration,
                     trainee_ids=[1])  # fmt: skip
    return service.start(db, COORD, data, now)


def test_stream_is_continuous_at_onset_and_keeps_the_schedule() -> None:
    base = stream.values("control_vv", "VV", 1800, 7, 30, [], 380, 420)
    fault = [stream.ActiveFault("access_insufficiency", 400, None)]
    with_fault = stream.values("control_vv", "VV", 1800, 7, 30, fault, 380, 420)
    for code, arr in base.items():
        same = arr[:20]  # minutes 380..399: before the onset nothing differs
        assert ((same == with_fault[code][:20]) | (same != same)).all(), code
        assert ((arr != arr) == (with_fault[code] != with_fault[code])).all(), code  # NaN kept
    assert with_fault["p_access"][-1] < base["p_access"][-1] - 40  # drainage worse


def test_stepper_writes_observations_and_surveillance_alerts(
    sessions: sessionmaker[Session],
) -> None:
    now = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)
    with unit_of_work(sessions) as db:
        row = _start(db, now)
        sid, run_id = row.id, row.run_id
        assert row.last_minute == row.lead_in_minutes  # history written at once, to now
        run = db.get_one(Run, run_id)
        assert run.is_training and run.started_at == now - timedelta(hours=6)
        n0 = db.scalar(
            select(func.count()).select_from(Observation).where(Observation.run_id == run_id)
        )
        assert n0 > 300 * 10
        assert (
            db.scalar(
                select(func.count()).select_from(CircuitAlert).where(CircuitAlert.run_id == run_id)
            )
            == 0
        )
    with unit_of_work(sessions) as db:
        service.inject(db, COORD, sid, "access_insufficiency", now + timedelta(seconds=30))
    raised = None
    for k in range(1, 16):  # 15 wall minutes at 10×: 150 simulated minutes
        with unit_of_work(sessions) as db:
            row = db.get_one(TrainingSession, sid)
            assert service.step(db, row, now + timedelta(minutes=k)) > 0
            assert row.last_minute == row.lead_in_minutes + 10 * k
            alerts = list(db.scalars(select(CircuitAlert).where(CircuitAlert.run_id == run_id)))
            if alerts and raised is None:
                raised = k
                assert alerts[0].detector == "access_insufficiency"
    assert raised is not None and raised < 15
    with unit_of_work(sessions) as db:  # a second step at the same time writes nothing
        row = db.get_one(TrainingSession, sid)
        assert service.step(db, row, now + timedelta(minutes=15)) == 0
        latest = db.scalar(select(func.max(Observation.time)).where(Observation.run_id == run_id))
        assert latest is not None and latest <= now + timedelta(minutes=15)


def test_step_all_survives_a_restart(sessions: sessionmaker[Session]) -> None:
    """No state only in memory: a fresh session factory goes on from the stored minute."""
    now = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    with unit_of_work(sessions) as db:
        sid = _start(db, now, acceleration=2).id
    with unit_of_work(sessions) as db:
        assert service.step_all(db, now + timedelta(minutes=5)) > 0
    with unit_of_work(sessions) as db:
        row = db.get_one(TrainingSession, sid)
        assert row.last_minute == row.lead_in_minutes + 10


def _ev(
    i: int,
    kind: str,
    t0: datetime,
    minutes: float,
    component: str | None = None,
    summary: str | None = None,
) -> scoring.Event:
    at = t0 + timedelta(minutes=minutes)
    return scoring.Event(i, kind, at, "Test", summary or kind, component)


_ACK_OXY = "Alert acknowledged: oxygenator dysfunction"


def test_scoring_against_truth() -> None:
    t0 = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
    events = [
        _ev(1, "alert.acknowledged", t0, -5, None, _ACK_OXY),  # before the onset: not counted
        _ev(2, "alert.raised", t0, 4),
        _ev(3, "component.replaced", t0, 6, "pump"),  # wrong part
        _ev(4, "alert.acknowledged", t0, 8, None, _ACK_OXY),
        _ev(5, "component.replaced", t0, 12, "membrane_lung"),  # right
        _ev(6, "component.replaced", t0, 20, "heater"),  # after the right action: not wrong
    ]
    s = scoring.score("oxygenator_failure", t0, t0 + timedelta(minutes=10), events)
    assert s.time_to_recognise_s == 480 and s.recognised_before_obvious is True
    assert s.time_to_right_action_s == 720 and s.right_action_event == 5
    assert [w.id for w in s.wrong_actions] == [3]
    raised = _ev(7, "action.raised", t0, 3, None, "Action: fluid bolus 500 mL")
    s = scoring.score("access_insufficiency", t0, None, [*events, raised])
    assert s.time_to_right_action_s == 180 and s.time_to_recognise_s == 180  # acting recognises
    assert [w.id for w in s.wrong_actions] == []  # raised before any component change
    s = scoring.score("pump_thrombosis", t0, None, events, until=t0 + timedelta(minutes=5))
    assert s.recognised_at is None and s.right_action_at is None and s.wrong_actions == []


def test_debrief_scores_a_replacement_and_resolves_the_fault(
    sessions: sessionmaker[Session],
) -> None:
    from continuum.core import run_service
    from continuum.core.schemas import ComponentCreate

    now = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    with unit_of_work(sessions) as db:
        row = _start(db, now, acceleration=1)
        sid = row.id
        service.inject(db, COORD, sid, "oxygenator_failure", now + timedelta(minutes=2))
        service.catch_up(db, row, now + timedelta(minutes=10))
        run = db.get_one(Run, row.run_id)
        ml = next(c for c in run.components if c.kind == "membrane_lung")
        run_service.add_component(db, PERF, run, ComponentCreate(
            kind="membrane_lung", started_at=now + timedelta(minutes=10), replaces_id=ml.id,
            stop_reason="oxygenator_failure"))  # fmt: skip
        service.catch_up(db, row, now + timedelta(minutes=20))
        d = service.debrief(db, COORD, sid)
        assert d.faults[0].resolved_minute == row.lead_in_minutes + 10
        s = d.scores[0]
        assert d.faults[0].injected_at == now + timedelta(minutes=2)  # when it was injected
        assert d.faults[0].onset_minute == row.lead_in_minutes + 3  # shown from the next minute
        assert s.time_to_right_action_s == 8 * 60 and s.wrong_actions == []
        assert s.obvious_at is not None and s.obvious_at > s.onset
        kinds = [t.kind for t in d.timeline]
        assert kinds.index("fault") < kinds.index("right")
        rec = service.sign_off(db, COORD, sid, service.SignOffIn(staff_id=1))
        assert (rec.evidence_kind, rec.evidence_id, rec.assessor_id) == ("training_session", sid, 4)
        with pytest.raises(ValidationFailed):
            service.sign_off(db, COORD, sid, service.SignOffIn(staff_id=3))  # not a trainee


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"scenario": "no_such_scenario"}, "scenario"),
        ({"scenario": "oxygenator_failure"}, "scenario"),  # has a fault: not a start
        ({"acceleration": 0.5}, "acceleration"),
        ({"acceleration": 1000}, "acceleration"),
        ({"trainee_ids": [999]}, "trainee_ids[0]"),
    ],
)
def test_bad_start_is_refused_and_writes_nothing(
    web: Web, body: dict[str, Any], field: str
) -> None:
    web.login("coordinator")
    h = {"X-CSRF-Token": web.csrf()}
    runs = len(web.client.get("/api/v1/runs").json())
    r = web.client.post("/api/v1/training", json={"title": "drill", **body}, headers=h)
    assert r.status_code == 422, r.text
    assert any(f["field"] == field for f in r.json()["fields"]), r.json()
    assert web.client.get("/api/v1/training").json() == []
    assert len(web.client.get("/api/v1/runs").json()) == runs


def test_bad_fault_is_refused(web: Web) -> None:
    web.login("coordinator")
    h = {"X-CSRF-Token": web.csrf()}
    r = web.client.post("/api/v1/training", json={"title": "drill", "acceleration": 5}, headers=h)
    assert r.status_code == 201, r.text
    sid = r.json()["id"]
    for name in ("no_such_fault", "differential_hypoxia", "control_vv"):  # VA only; no fault
        r = web.client.post(f"/api/v1/training/{sid}/faults", json={"scenario": name}, headers=h)
        assert r.status_code == 422, r.text
        assert r.json()["fields"][0]["field"] == "scenario"
    assert web.client.get(f"/api/v1/training/{sid}").json()["faults"] == []
    assert web.client.post("/api/v1/training/999/faults", json={"scenario": "oxygenator_failure"},
                           headers=h).status_code == 404  # fmt: skip


def _programme(web: Web, db_url: str) -> dict[str, Any]:
    """Every programme figure that must not see a training run."""
    from zoneinfo import ZoneInfo

    from continuum.db import make_engine, make_sessionmaker
    from continuum.quality import control_chart_service
    from continuum.research import cohort
    from continuum.research.cohort import CohortDefinition

    c = web.client
    out: dict[str, Any] = {}
    for path, params in (
        ("/api/v1/quality/metrics", {}),
        ("/api/v1/quality/metrics/runs", {}),
        ("/api/v1/quality/participation", {}),
        ("/api/v1/quality/participation/missing-voices", {}),
        ("/api/v1/quality/possible-events", {"days": 30}),
        ("/api/v1/quality/adverse-events/summary", {}),
        ("/api/v1/adverse-events", {}),
        ("/api/v1/research/registry", {}),
    ):
        r = c.get(path, params=params)
        assert r.status_code == 200, (path, r.text[:300])
        out[path] = r.json()
    h = {"X-CSRF-Token": web.csrf()}
    out["cohort"] = c.post("/api/v1/research/cohorts/count", json={}, headers=h).json()
    engine = make_engine(db_url)
    with unit_of_work(make_sessionmaker(engine)) as db:
        charted, excluded = control_chart_service.series(db)
        out["chart"] = ([r.run_id for r in charted], [e.run_id for e in excluded])
        out["export_ids"] = cohort.run_ids(db, CohortDefinition(), ZoneInfo("UTC"))
    engine.dispose()
    return out


def _drop_clock(value: Any) -> Any:
    """Leave out what changes with the clock alone (when the figures were computed)."""
    if isinstance(value, dict):
        return {k: _drop_clock(v) for k, v in value.items()
                if k not in ("generated_at", "computed_at", "now", "as_of")}  # fmt: skip
    if isinstance(value, list):
        return [_drop_clock(v) for v in value]
    return value


def test_training_runs_change_no_programme_figure(web: Web) -> None:
    from continuum.core import run_service
    from continuum.core.schemas import ComponentCreate, RunEnd
    from continuum.db import make_engine, make_sessionmaker

    engine = make_engine(web.url)
    with unit_of_work(make_sessionmaker(engine)) as db:  # figures that no longer move with time
        physician = Actor(staff_id=2, name="Test physician", role="physician")
        end = RunEnd(outcome="weaned_recovered", stop_reason="recovered",
                     ended_at=datetime.now(UTC) - timedelta(hours=4))  # fmt: skip
        run_service.end_run(db, physician, db.get_one(Run, 1), end)
    web.login("qa_lead")
    before = _programme(web, web.url)
    now = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=3)
    with unit_of_work(make_sessionmaker(engine)) as db:
        row = _start(db, now, acceleration=1)
        service.inject(db, COORD, row.id, "oxygenator_failure", now + timedelta(minutes=5))
        service.catch_up(db, row, now + timedelta(minutes=100))  # alerts raised by now
        run = db.get_one(Run, row.run_id)
        pump = next(c for c in run.components if c.kind == "pump")
        run_service.add_component(db, PERF, run, ComponentCreate(
            kind="pump", started_at=now + timedelta(minutes=100), replaces_id=pump.id,
            stop_reason="device_malfunction"))  # fmt: skip
        from continuum.quality import adverse_events
        from continuum.quality.adverse_event_schemas import AdverseEventIn

        adverse_events.record(db, PERF, run.id, AdverseEventIn(
            code="mech_ml_clot", event_class="incident", harm="mild",
            occurred_at=now + timedelta(minutes=90), detected_by="circuit_check",
            description="simulated clot"))  # fmt: skip
        service.end(db, COORD, row.id, None, now + timedelta(minutes=150))
        critical = select(func.count()).select_from(CircuitAlert)
        critical = critical.where(
            CircuitAlert.run_id == run.id, CircuitAlert.peak_severity == "critical"
        )
        assert (db.scalar(critical) or 0) >= 1
    engine.dispose()
    after = _programme(web, web.url)
    for key in before:
        assert _drop_clock(after[key]) == _drop_clock(before[key]), key
