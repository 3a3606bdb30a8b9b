"""The clinical timeline on SQLite and PostgreSQL: every domain's action writes its event in
the same unit of work (a rollback leaves none), the table is append-only in the database,
and the events carry clinical times and who recorded them."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from alembic import command
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from continuum.alerts import service as alert_service
from continuum.alerts.models import CircuitAlert
from continuum.core import observation_service, run_service
from continuum.core.clinical_event import DEFER, ClinicalEvent
from continuum.core.roles import Actor
from continuum.core.run_record import Run
from continuum.core.schemas import (
    AmendmentIn,
    CannulaCreate,
    ComponentCreate,
    ModeChange,
    ObservationIn,
    RunCreate,
)
from continuum.db import make_engine, make_sessionmaker, unit_of_work, utcnow
from continuum.initiation import decision
from continuum.initiation.models import Referral
from continuum.initiation.schemas import DecisionIn
from continuum.initiation.schemas import SignIn as DecisionSign
from continuum.migrate import alembic_config, upgrade
from continuum.rounds import actions, circuit_check, round_record
from continuum.rounds.schemas import ActionIn, CircuitCheckIn, CompleteIn, RoundIn
from continuum.weaning import decannulation, trials
from continuum.weaning.schemas import (
    AssessmentIn,
    DecannulationIn,
    SignIn,
    StepIn,
    TrialFinish,
    TrialStart,
)
from tests import seed as seed_module
from tests.conftest import PG_URL, _pg_connect, drop_later, need, postgres_available
from tests.rounds.reviews import left_open
from tests.seed import RUN_START, seed

PERFUSIONIST = Actor(
    staff_id=1, name="Test perfusionist", role="perfusionist", discipline="perfusion"
)
PHYSICIAN = Actor(staff_id=2, name="Test physician", role="physician", discipline="intensive_care")
NURSE = Actor(staff_id=3, name="Test nurse", role="nurse", discipline="nursing")
GAS = {"blood_flow": 4.0, "sao2": 94.0, "pao2": 80.0, "paco2": 44.0, "ph": 7.38}
CHECKLIST = {
    "anticoagulation_note": "heparin stopped 1 h before",
    "blood_products_available": True,
    "positioning": "Trendelenburg",
    "closure_technique": "purse-string",
    "haemostasis_minutes": 30,
    "limb_perfusion": "warm, pulses present",
}


def _graded(**grades: str) -> dict[str, str]:
    """Every site assessed (a check needs all of them), "none" unless named."""
    from continuum.rounds.schemas import INSPECTION_SITES

    return {**dict.fromkeys(INSPECTION_SITES, "none"), **grades}


def count(db: Any, kind: str) -> int:
    return db.scalar(select(func.count(ClinicalEvent.id)).where(ClinicalEvent.kind == kind)) or 0


def latest(db: Any, kind: str) -> ClinicalEvent:
    return db.scalars(
        select(ClinicalEvent).where(ClinicalEvent.kind == kind).order_by(ClinicalEvent.id.desc())
    ).first()


def step(sessions: Any, kinds: tuple[str, ...], action: Callable[[Any], Any]) -> Any:
    """Do ``action``: its events are there before commit and gone after a rollback; then do it
    again and commit (later steps build on it). Returns the committed action's result."""
    with sessions() as db:
        before = {k: count(db, k) for k in kinds}
        action(db)
        db.flush()
        for k in kinds:
            assert count(db, k) > before[k], f"{k} not written by the action"
        db.rollback()
    with sessions() as db:
        assert {k: count(db, k) for k in kinds} == before, f"{kinds} survived a rollback"
    with unit_of_work(sessions) as db:
        return action(db)


def _round(db: Any, held: Any = None) -> Any:
    run = db.get(Run, 1)
    data = RoundIn.model_validate(
        {
            "attendees": [1, 2, 3],
            "problems": "ΔP rising",
            "held_at": (held or utcnow() - timedelta(hours=2)).isoformat(),
            "goals": {"blood_flow": {"low": 4.0, "high": 5.5}},
            "alerts_reviewed": left_open(db, 1),
            "actions": [
                {
                    "text": "Repeat pfHb",
                    "owner_discipline": "nursing",
                    "due_at": (utcnow() + timedelta(hours=4)).isoformat(),
                }
            ],
        }
    )
    row = round_record.record_round(
        db, PHYSICIAN, run, data, utcnow().date(), run.started_at.date()
    )
    return round_record.sign_round(db, PHYSICIAN, row.id)


def test_every_domain_action_writes_its_event_in_the_same_unit_of_work(sessions) -> None:  # type: ignore[no-untyped-def]
    t0 = utcnow() - timedelta(hours=6)
    # core: hand-entered values and their amendment, cannula, component change
    step(
        sessions,
        ("observation.entered",),
        lambda db: observation_service.record_observations(
            db,
            NURSE,
            db.get(Run, 1),
            [ObservationIn(code="spo2", value=93, time=t0, source="manual")],
        ),
    )
    step(
        sessions,
        ("observation.amended",),
        lambda db: observation_service.amend(
            db,
            NURSE,
            1,
            AmendmentIn(value=4.4, unit="L/min", reason="misread the console"),
        ),
    )
    step(
        sessions,
        ("cannula.inserted",),
        lambda db: run_service.add_cannula(
            db,
            PERFUSIONIST,
            db.get(Run, 1),
            CannulaCreate(role="return", site="internal jugular vein", side="right", french=21),
        ),
    )
    step(
        sessions,
        ("component.replaced",),
        lambda db: run_service.add_component(
            db,
            PERFUSIONIST,
            db.get(Run, 1),
            ComponentCreate(
                kind="membrane_lung",
                make="Getinge",
                model="HLS 7.0",
                replaces_id=1,
                stop_reason="thrombus",
                started_at=t0,
            ),
        ),
    )
    # alerts (run 1 carries two open alerts from the seed)
    step(
        sessions,
        ("alert.acknowledged",),
        lambda db: alert_service.acknowledge(db, NURSE, 1, "pfHb sent again"),
    )
    step(
        sessions,
        ("alert.resolved",),
        lambda db: alert_service.resolve(db, PHYSICIAN, 1, "oxygenator changed"),
    )
    # rounds: a signed round (with its action), a check with transfusions, an action done
    step(sessions, ("round.signed", "action.raised"), _round)
    step(
        sessions,
        ("circuit_check.signed", "transfusion.recorded"),
        lambda db: circuit_check.record_check(
            db,
            PERFUSIONIST,
            db.get(Run, 1),
            CircuitCheckIn(
                inspection=_graded(ml_inlet="fibrin"),
                transfusions={"red_cells": 2},
                findings="fibrin at the inlet",
            ),
        ),
    )
    action_id = step(
        sessions,
        ("action.raised",),
        lambda db: actions.add_action(
            db,
            NURSE,
            db.get(Run, 1),
            ActionIn(text="Chase the CXR", owner_discipline="nursing", due_at=utcnow()),
        ),
    ).id
    step(
        sessions,
        ("action.completed",),
        lambda db: actions.complete_action(db, NURSE, action_id, CompleteIn(note="done")),
    )
    # initiation: referral 1 (patient 2, no run yet) declined and signed
    step(
        sessions,
        ("decision.recorded", "referral.status_changed"),
        lambda db: decision.record_decision(
            db,
            PHYSICIAN,
            db.get(Referral, 1),
            DecisionIn(outcome="decline", reasons="irreversible lung disease"),
        ),
    )
    step(
        sessions,
        ("decision.signed",),
        lambda db: decision.sign(db, PHYSICIAN, db.get(Referral, 1), DecisionSign()),
    )
    # weaning: a sweep-off trial to a pass, then decannulation ends the run
    trial_id = step(
        sessions,
        ("weaning.trial_started",),
        lambda db: trials.start_trial(
            db, PHYSICIAN, db.get(Run, 1), TrialStart(kind="sweep_off", started_at=t0)
        ),
    ).id
    for i, (stage, sweep) in enumerate((("baseline", 2.0), ("sweep_off", 0.0), ("during", 0.0))):
        at, values = t0 + timedelta(hours=i), {**GAS, "sweep_flow": sweep}
        step(
            sessions,
            ("weaning.step",),
            lambda db, s=stage, a=at, v=values: trials.add_step(
                db,
                PHYSICIAN,
                trials.get_trial(db, PHYSICIAN, trial_id),
                StepIn(stage=s, at=a, values=v),
            ),
        )
    ok = AssessmentIn(flow_safe=True, anticoagulation_ok=True, assessment="flow 4")
    step(
        sessions,
        ("weaning.assessed",),
        lambda db: trials.assess(db, PERFUSIONIST, trials.get_trial(db, PHYSICIAN, trial_id), ok),
    )
    step(
        sessions,
        ("weaning.trial_ended",),
        lambda db: trials.finish(
            db,
            PHYSICIAN,
            trials.get_trial(db, PHYSICIAN, trial_id),
            TrialFinish(outcome="passed", reason="gases stable"),
        ),
    )
    dec_id = step(
        sessions,
        ("decannulation.recorded",),
        lambda db: decannulation.create(
            db, PHYSICIAN, db.get(Run, 1), DecannulationIn(**CHECKLIST)
        ),
    ).id
    step(
        sessions,
        ("decannulation.signed",),
        lambda db: decannulation.sign(
            db, PHYSICIAN, decannulation.get(db, PHYSICIAN, dec_id), SignIn()
        ),
    )
    step(
        sessions,
        ("decannulation.signed", "run.ended"),
        lambda db: decannulation.sign(
            db, PERFUSIONIST, decannulation.get(db, PERFUSIONIST, dec_id), SignIn()
        ),
    )
    # core: a new run for patient 2 and its mode change
    new_run = step(
        sessions,
        ("run.started",),
        lambda db: run_service.start_run(
            db, PHYSICIAN, RunCreate(patient_id=2, support_type="cardiac", mode="VA")
        ),
    )
    step(
        sessions,
        ("mode.changed",),
        lambda db: run_service.change_mode(
            db, PHYSICIAN, db.get(Run, new_run.id), ModeChange(mode="VAV", reason="north-south")
        ),
    )

    with sessions() as db:
        check = latest(db, "circuit_check.signed")
        assert (check.staff_id, check.discipline, check.run_id) == (1, "perfusion", 1)
        assert "fibrin at the inlet" in check.summary and "ml inlet: fibrin" in check.summary
        assert "2 units red cells" in latest(db, "transfusion.recorded").summary
        signed = latest(db, "round.signed")
        assert "3 present" in signed.summary and "blood flow 4–5.5" in signed.summary
        assert signed.details["attendance"] == ["Test perfusionist", "Test physician", "Test nurse"]
        assert latest(db, "component.replaced").clinical_time == t0
        assert "thrombus" in latest(db, "component.replaced").summary
        steps = db.scalars(select(ClinicalEvent).where(ClinicalEvent.kind == "weaning.step"))
        assert sorted(e.clinical_time for e in steps) == [t0 + timedelta(hours=i) for i in range(3)]
        declined = latest(db, "decision.recorded")
        assert declined.run_id is None and declined.patient_id == 2
        # the decision before the run is on the new run's timeline
        run2 = db.get(Run, new_run.id)
        from continuum.core.clinical_event import events_for_run

        kinds = [e.kind for e in events_for_run(db, run2)]
        assert "referral.status_changed" in kinds  # declined, by the decision record
        decided = [k for k in kinds if k != "referral.status_changed"]
        assert decided[:3] == ["referral.received", "decision.recorded", "decision.signed"]
        assert "run.started" in kinds and "mode.changed" in kinds


def test_alert_events_carry_the_clinical_times_of_the_condition(sessions) -> None:  # type: ignore[no-untyped-def]
    with sessions() as db:
        alert = db.get(CircuitAlert, 1)
        raised = db.scalars(
            select(ClinicalEvent).where(
                ClinicalEvent.kind == "alert.raised",
                ClinicalEvent.record_type == "alert",
                ClinicalEvent.record_id == 1,
            )
        ).one()
        assert raised.clinical_time == alert.raised_at
        assert raised.clinical_time < raised.recorded_at - timedelta(hours=1)  # seed: 2 days ago
        assert (raised.discipline, raised.by_name) == ("system", "circuit surveillance")


@pytest.mark.parametrize(
    "statement", ["UPDATE clinical_event SET summary = 'x'", "DELETE FROM clinical_event"]
)
def test_the_database_refuses_to_change_or_delete_events(sessions, statement: str) -> None:  # type: ignore[no-untyped-def]
    with sessions() as db:
        assert count(db, "run.started") == 1
    with pytest.raises(DBAPIError, match="append-only"), sessions() as db:
        db.execute(text(statement))
        db.commit()
    with sessions() as db:
        assert count(db, "run.started") == 1
        assert latest(db, "run.started").summary == "VV ECMO started (pulmonary support)"


# --- migration 0017 back-fills the events of records that existed before it -------------


def story(factory: Any) -> int:
    """Records of every domain, written through the services; returns the second run's id."""
    t0 = RUN_START + timedelta(hours=3)
    with unit_of_work(factory) as db:
        run = db.get(Run, 1)
        observation_service.amend(db, NURSE, 1, AmendmentIn(value=4.4, reason="misread"))
        run_service.add_component(
            db,
            PERFUSIONIST,
            run,
            ComponentCreate(
                kind="membrane_lung", replaces_id=1, stop_reason="thrombus", started_at=t0
            ),
        )
        alert_service.acknowledge(db, NURSE, 1, "pfHb sent again")
        alert_service.resolve(db, PHYSICIAN, 2, "heparin reduced")
    with unit_of_work(factory) as db:
        _round(db, held=t0)
        circuit_check.record_check(
            db,
            PERFUSIONIST,
            db.get(Run, 1),
            CircuitCheckIn(
                checked_at=t0, inspection=_graded(ml_inlet="fibrin"), transfusions={"platelets": 1}
            ),
        )
        ref = db.get(Referral, 1)
        decision.record_decision(
            db, PHYSICIAN, ref, DecisionIn(outcome="decline", reasons="not a candidate")
        )
        decision.sign(db, PHYSICIAN, ref, DecisionSign())
    with unit_of_work(factory) as db:
        trial = trials.start_trial(
            db, PHYSICIAN, db.get(Run, 1), TrialStart(kind="sweep_off", started_at=t0)
        )
        for i, (stage, sweep) in enumerate(
            (("baseline", 2.0), ("sweep_off", 0.0), ("during", 0.0))
        ):
            values = {**GAS, "sweep_flow": sweep}
            trials.add_step(
                db, PHYSICIAN, trial, StepIn(stage=stage, at=t0 + timedelta(hours=i), values=values)
            )
        trials.assess(
            db,
            PERFUSIONIST,
            trial,
            AssessmentIn(flow_safe=True, anticoagulation_ok=True, assessment="flow 4"),
        )
        trials.finish(
            db,
            PHYSICIAN,
            trial,
            TrialFinish(outcome="passed", reason="stable", at=t0 + timedelta(hours=3)),
        )
        data = DecannulationIn(**CHECKLIST, decannulated_at=t0 + timedelta(hours=4))
        row = decannulation.create(db, PHYSICIAN, db.get(Run, 1), data)
        decannulation.sign(db, PHYSICIAN, row, SignIn())
        decannulation.sign(db, PERFUSIONIST, row, SignIn())
    with unit_of_work(factory) as db:
        new = run_service.start_run(
            db,
            PHYSICIAN,
            RunCreate(
                patient_id=2, support_type="cardiac", mode="VA", started_at=t0 + timedelta(hours=5)
            ),
        )
        run_service.change_mode(
            db,
            PHYSICIAN,
            new,
            ModeChange(mode="VAV", reason="north-south", at=t0 + timedelta(hours=6)),
        )
        return new.id


def _events(url: str) -> list[ClinicalEvent]:
    engine = make_engine(url)
    with make_sessionmaker(engine)() as db:
        rows = list(db.scalars(select(ClinicalEvent).order_by(ClinicalEvent.id)))
        db.expunge_all()
    engine.dispose()
    return rows


@pytest.fixture(params=["sqlite", "postgres"])
def blank_urls(request: pytest.FixtureRequest, tmp_path) -> Any:  # type: ignore[no-untyped-def]
    """Two empty databases of one kind: one built at head, one just before 0017 then upgraded."""
    if request.param == "sqlite":
        yield [f"sqlite:///{tmp_path / n}.db" for n in ("head", "old")]
        return
    need(postgres_available(), "PostgreSQL is not answering on 127.0.0.1:5432")
    names = [f"ct_bf_{uuid.uuid4().hex[:8]}" for _ in range(2)]
    with _pg_connect() as conn:
        for name in names:
            conn.execute(f'CREATE DATABASE "{name}"')
    yield [PG_URL.format(name=n) for n in names]
    for name in names:
        drop_later(name)


@pytest.mark.slow
def test_migration_backfills_the_events_the_services_write(blank_urls, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    head_url, old_url = blank_urls
    upgrade(head_url)
    seed(head_url)
    engine = make_engine(head_url)
    story(make_sessionmaker(engine))
    engine.dispose()

    # The same records written by today's code with events deferred (the schema of today:
    # later migrations may add columns the code writes), then the database taken back to
    # just before the clinical timeline (0017) and up again: 0017 back-fills the events.
    upgrade(old_url)

    def deferred(engine: Any) -> Any:
        factory = make_sessionmaker(engine)
        factory.configure(info={DEFER: True})
        return factory

    monkeypatch.setattr(seed_module, "make_sessionmaker", deferred)
    seed(old_url)
    engine = make_engine(old_url)
    story(deferred(engine))
    engine.dispose()
    command.downgrade(alembic_config(old_url), "0016")
    upgrade(old_url)  # 0017 creates the table and back-fills it

    written, filled = _events(head_url), _events(old_url)
    assert len(filled) > 30
    # Records of tables created after 0017 (the adverse-event register, 0021) are dropped by
    # the downgrade to 0016, so only the head database has their events.
    written = [e for e in written if not e.kind.startswith(("adverse_event.", "review."))]

    def key(e: ClinicalEvent) -> tuple[Any, ...]:
        return (e.kind, e.record_type, e.record_id if e.kind != "observation.entered" else 0)

    assert {key(e) for e in filled} == {key(e) for e in written}
    # clinical times, not the time the rows were written
    timed = {key(e): e.clinical_time for e in written if e.kind not in NOW_KINDS}
    assert {key(e): e.clinical_time for e in filled if e.kind not in NOW_KINDS} == timed
    by_kind = {e.kind: e for e in filled}
    assert by_kind["round.signed"].details["attendance"] == [
        "Test perfusionist",
        "Test physician",
        "Test nurse",
    ]
    assert by_kind["round.signed"].discipline == "intensive_care"
    assert "1 unit platelets" in by_kind["transfusion.recorded"].summary
    assert by_kind["alert.acknowledged"].staff_id == 3
    assert by_kind["decision.recorded"].run_id is None  # declined: no run


# Events whose clinical time is the moment a person acted (now), so differ between builds.
NOW_KINDS = {
    "observation.amended",
    "alert.acknowledged",
    "alert.resolved",
    "decision.recorded",
    "decision.signed",
    "decannulation.signed",
    "weaning.assessed",
    "alert.cleared",
    "observation.entered",
    "referral.received",
    "referral.status_changed",
}


def test_demo_loaders_defer_events_to_the_backfill_with_back_dated_times(sessions) -> None:  # type: ignore[no-untyped-def]
    """The demo back-dates rows after the services wrote them; with ``DEFER`` the services
    write no events and the back-fill then gives each its back-dated clinical time."""
    from continuum.core import clinical_backfill
    from continuum.rounds import demo
    from continuum.rounds.models import RoundAction, RoundRecord

    staff = {"physician": PHYSICIAN, "perfusionist": PERFUSIONIST}
    staff.update(
        {n: Actor(staff_id=i, name=n, role="nurse") for i, n in enumerate(demo.TEAM, start=1)}
    )
    sessions.configure(info={DEFER: True})
    with unit_of_work(sessions) as db:
        before = db.scalar(select(func.count(ClinicalEvent.id)))
        demo.add_demo_data(db, staff, utcnow())
        assert db.scalar(select(func.count(ClinicalEvent.id))) == before
    with unit_of_work(sessions) as db:
        assert clinical_backfill.backfill(db.connection()) >= 3
        assert clinical_backfill.backfill(db.connection()) == 0  # idempotent
    with sessions() as db:
        row = db.scalars(select(RoundRecord)).one()
        signed = latest(db, "round.signed")
        assert (signed.record_id, signed.clinical_time) == (row.id, row.held_at)
        assert signed.clinical_time < utcnow() - timedelta(hours=1)  # back-dated, not now
        action = db.scalars(select(RoundAction).where(RoundAction.round_id == row.id)).first()
        raised = db.scalars(
            select(ClinicalEvent).where(
                ClinicalEvent.kind == "action.raised", ClinicalEvent.record_id == action.id
            )
        ).one()
        assert raised.clinical_time == row.held_at
        assert count(db, "circuit_check.signed") == 1


def test_backfill_keeps_two_signatures_given_at_the_same_moment(sessions) -> None:  # type: ignore[no-untyped-def]
    """Both parts of a decannulation signed at one time are two events, not one."""
    from continuum.core import clinical_backfill
    from continuum.weaning.models import Decannulation

    at = utcnow() - timedelta(hours=1)
    sessions.configure(info={DEFER: True})
    with unit_of_work(sessions) as db:
        data = DecannulationIn(**CHECKLIST, no_trial_reason="bleeding", decannulated_at=at)
        row = decannulation.create(db, PHYSICIAN, db.get(Run, 1), data)
        row.physician_id, row.physician_signed_at = 2, at
        row.perfusionist_id, row.perfusionist_signed_at = 1, at
        assert isinstance(row, Decannulation)
    with unit_of_work(sessions) as db:
        clinical_backfill.backfill(db.connection())
    with sessions() as db:
        signed = db.scalars(
            select(ClinicalEvent).where(ClinicalEvent.kind == "decannulation.signed")
        ).all()
        assert sorted((e.staff_id, e.discipline) for e in signed) == [
            (1, "perfusion"),
            (2, "intensive_care"),
        ]
        assert {e.clinical_time for e in signed} == {at}
