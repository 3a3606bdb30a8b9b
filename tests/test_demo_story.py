"""The demo tells the story the README tells: every run's bed, ECMO day and mode as listed;
the failing oxygenator is still failing when the demo starts (alerts open, no change
recorded); the weaning run's console sweep follows its trial steps; each run's round goals
fit its support (VA or VV, weaning)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from continuum.alerts.models import CircuitAlert
from continuum.core import observation_service, run_view
from continuum.core.people import PatientIdentity
from continuum.core.record import Observation
from continuum.core.run_record import Component, Run
from continuum.core.run_service import current_mode
from continuum.db import make_engine, make_sessionmaker, utcnow
from continuum.rounds import board_readings
from continuum.rounds.models import RoundRecord
from continuum.weaning.models import TrialStep, WeaningTrial

README = Path(__file__).resolve().parents[1] / "README.md"


@pytest.fixture(scope="module")
def db(demo_url: str) -> Iterator[Session]:
    engine = make_engine(demo_url)
    with make_sessionmaker(engine)() as session:
        yield session
    engine.dispose()


def run_of(db: Session, mrn: str) -> Run:
    stmt = select(Run).join(PatientIdentity, PatientIdentity.patient_id == Run.patient_id)
    return db.scalars(stmt.where(PatientIdentity.mrn == mrn)).one()


def test_the_readme_story_matches_the_runs(db: Session) -> None:
    text = README.read_text(encoding="utf-8")
    story = re.findall(r"ECMO day (\d+) on (\S+) \(([A-Z]+ \d+)\)", text)
    assert len(story) == 5
    active = db.scalars(select(Run).where(Run.status != "ended")).all()
    shown = {(str(run_view.ecmo_day(r)), current_mode(r), r.location) for r in active}
    assert set(story) == shown


def test_the_failing_oxygenator_is_still_failing_when_the_demo_starts(db: Session) -> None:
    run = run_of(db, "MRN100262")
    lungs = db.scalars(
        select(Component).where(Component.run_id == run.id, Component.kind == "membrane_lung")
    ).all()
    assert len(lungs) == 1 and lungs[0].stopped_at is None  # no change recorded
    open_alerts = {
        a.detector
        for a in db.scalars(
            select(CircuitAlert).where(
                CircuitAlert.run_id == run.id, CircuitAlert.status != "resolved"
            )
        )
        if a.cleared_at is None
    }
    assert "oxygenator_dysfunction" in open_alerts or "transmembrane_gradient_rise" in open_alerts
    dp = observation_service.latest(db, run.id, "oxy_delta_p")
    assert dp is not None and (utcnow() - dp.time).total_seconds() < 3600  # data up to now


def test_the_weaning_runs_console_sweep_matches_its_trial_steps(db: Session) -> None:
    run = run_of(db, "MRN100297")
    trial = db.scalars(select(WeaningTrial).where(WeaningTrial.run_id == run.id)).one()
    steps = db.scalars(select(TrialStep).where(TrialStep.trial_id == trial.id)).all()
    assert [s.stage for s in steps] == ["baseline", "sweep_off", "during"]
    for step in steps:
        console = db.scalars(
            select(Observation.value)
            .where(
                Observation.run_id == run.id,
                Observation.code == "sweep_flow",
                Observation.source == "simulator",
                Observation.time <= step.at,
            )
            .order_by(Observation.time.desc())
            .limit(1)
        ).one()
        assert console == pytest.approx(step.measurements["sweep_flow"]), step.stage
    after = db.scalars(
        select(Observation.value).where(
            Observation.run_id == run.id,
            Observation.code == "sweep_flow",
            Observation.time > steps[1].at,
        )
    ).all()
    assert after and set(after) == {0.0}


def test_each_runs_goals_fit_its_support(db: Session) -> None:
    for run in db.scalars(select(Run).where(Run.status != "ended")):
        goals = db.scalars(select(RoundRecord.goals).where(RoundRecord.run_id == run.id)).one()
        if board_readings.family(current_mode(run), run.support_type) == "VA":
            assert "spo2" not in goals and goals["pao2"]["low"] >= 60, run.id
        elif run.status == "weaning":
            assert goals["sweep_flow"].get("low") is None and goals["sweep_flow"]["high"] <= 2
        else:
            assert goals["sweep_flow"]["low"] >= 1 and goals["spo2"]["low"] == 88


def test_the_ecpella_run_has_its_impella_cp_record(db: Session) -> None:
    from continuum.core.clinical_event import ClinicalEvent
    from continuum.mcs import service
    from continuum.mcs.models import McsCheck, McsDevice

    run = run_of(db, "MRN100288")
    assert current_mode(run) == "VA+Impella"
    [device] = db.scalars(select(McsDevice).where(McsDevice.run_id == run.id)).all()
    assert (device.kind, device.model, device.removed_at) == ("impella", "CP", None)
    assert service.configuration(run, device)["recorded_as_combined"] is True
    readings = service.readings(db, device)
    assert len(readings) >= 24 and {"impella_p_level", "impella_flow"} <= set(readings[0]["values"])
    assert not any(r["below_expected"] for r in readings)  # a well-running pump
    assert db.scalar(select(McsCheck).where(McsCheck.device_id == device.id)) is not None
    assert db.scalar(select(ClinicalEvent).where(ClinicalEvent.kind == "mcs.inserted"))
    open_ = [
        a.detector for a in db.scalars(select(CircuitAlert).where(CircuitAlert.run_id == run.id))
    ]
    assert "impella_flow_low" not in open_ and "impella_purge_pressure" not in open_
