"""Weaning services on SQLite and PostgreSQL: readiness, a sweep-off trial to a pass,
refusals that change nothing, and decannulation signed by physician and perfusionist."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from continuum.core import observation_service, run_service, settings_service
from continuum.core.record import AuditEntry
from continuum.core.roles import Actor
from continuum.core.run_record import Run
from continuum.core.schemas import ObservationIn
from continuum.db import utcnow
from continuum.errors import Conflict, Forbidden, ValidationFailed
from continuum.weaning import decannulation, readiness, trials
from continuum.weaning.models import TrialStep
from continuum.weaning.schemas import (
    AssessmentIn,
    DecannulationIn,
    ReviewIn,
    SignIn,
    StepIn,
    TrialAbort,
    TrialFinish,
    TrialStart,
)

PERFUSIONIST = Actor(staff_id=1, name="Test perfusionist", role="perfusionist")
PHYSICIAN = Actor(staff_id=2, name="Test physician", role="physician")
NURSE = Actor(staff_id=3, name="Test nurse", role="nurse")
QA = Actor(staff_id=5, name="Test qa", role="qa_lead")
GAS = {"blood_flow": 4.0, "sao2": 94.0, "pao2": 80.0, "paco2": 44.0, "ph": 7.38}
CHECKLIST = {
    "anticoagulation_note": "heparin stopped 1 h before",
    "blood_products_available": True,
    "positioning": "Trendelenburg, paralysed",
    "closure_technique": "purse-string",
    "haemostasis_minutes": 30,
    "limb_perfusion": "warm, pulses present",
}


def record(db, run: Run, at, **values: float) -> None:  # type: ignore[no-untyped-def]
    items = [ObservationIn(code=k, value=v, time=at) for k, v in values.items()]
    observation_service.record_observations(db, PHYSICIAN, run, items)


def passed_trial(db, run: Run):  # type: ignore[no-untyped-def]
    t0 = utcnow() - timedelta(hours=3)
    trial = trials.start_trial(db, PHYSICIAN, run, TrialStart(kind="sweep_off", started_at=t0))
    for i, (stage, sweep) in enumerate((("baseline", 2.0), ("sweep_off", 0.0), ("during", 0.0))):
        at = t0 + timedelta(hours=i)
        values = {**GAS, "sweep_flow": sweep}
        trials.add_step(db, PHYSICIAN, trial, StepIn(stage=stage, at=at, values=values))
    ok = AssessmentIn(flow_safe=True, anticoagulation_ok=True, assessment="flow 4, anti-Xa 0.35")
    trials.assess(db, PERFUSIONIST, trial, ok)
    trials.finish(db, PHYSICIAN, trial, TrialFinish(outcome="passed", reason="gases stable 2 h"))
    return trial


def test_readiness_is_prefilled_from_the_latest_values_with_their_times(sessions) -> None:  # type: ignore[no-untyped-def]
    with sessions() as db:
        run = db.get(Run, 1)
        at = utcnow() - timedelta(minutes=10)
        record(db, run, at, vent_fio2=0.4, peep=8, tidal_volume=380, plateau_pressure=22,
               pao2=85, ph=7.41, map=75, norepinephrine=0.02)  # fmt: skip
        live = readiness.review(db, NURSE, run)
        rows = {r["name"]: r for r in live["rows"]}
        assert live["family"] == "VV"
        assert rows["vv_peep_max"]["status"] == "met"
        assert rows["vv_peep_max"]["at"] == at.isoformat()
        assert rows["vv_driving_pressure_max"]["value"] == 14  # 22 − 8, derived
        assert rows["vv_vis_max"]["value"] == pytest.approx(2.0)  # 100 × norepinephrine
        assert rows["vv_compliance_min"]["status"] == "not_met"  # 380 / 14 = 27
        saved = readiness.save_review(db, PHYSICIAN, run, ReviewIn(note="nearly"))
        assert saved.met + saved.not_met + saved.unknown == len(rows)
        with pytest.raises(Forbidden):
            readiness.save_review(db, NURSE, run, ReviewIn())


def test_programme_threshold_changes_the_verdict(sessions) -> None:  # type: ignore[no-untyped-def]
    with sessions() as db:
        run = db.get(Run, 1)
        record(db, run, utcnow(), peep=12)
        assert _status(db, run, "vv_peep_max") == "not_met"
        settings_service.save(db, QA, "weaning", {"vv_peep_max": "12"}, "local protocol")
        assert _status(db, run, "vv_peep_max") == "met"
        with pytest.raises(ValidationFailed) as bad:
            settings_service.save(db, QA, "weaning", {"vv_peep_max": "twelve"}, None)
        assert bad.value.problems[0].field == "vv_peep_max"
        with pytest.raises(Forbidden):
            settings_service.save(db, PHYSICIAN, "weaning", {"vv_peep_max": "10"}, None)


def _status(db, run: Run, name: str) -> str:  # type: ignore[no-untyped-def]
    return next(r["status"] for r in readiness.review(db, NURSE, run)["rows"] if r["name"] == name)


def test_sweep_off_trial_to_a_pass_then_decannulation_closes_the_run(sessions) -> None:  # type: ignore[no-untyped-def]
    with sessions() as db:
        run = db.get(Run, 1)
        trial = passed_trial(db, run)
        assert run.status == "weaning"
        assert (
            trial.status == "passed" and [s.judged[0]["status"] for s in trial.steps] == ["met"] * 3
        )
        row = decannulation.create(db, PHYSICIAN, run, DecannulationIn(**CHECKLIST))
        assert row.trial_id == trial.id
        assert not decannulation.sign(db, PHYSICIAN, row, SignIn())
        assert run.status == "weaning"
        with pytest.raises(Conflict):
            decannulation.sign(db, PHYSICIAN, row, SignIn())
        assert decannulation.sign(db, PERFUSIONIST, row, SignIn())
        db.flush()
        assert run.status == "ended" and run.outcome == "weaned_recovered"
        assert all(c.stop_reason == "end_of_run" for c in [*run.components, *run.cannulas])
        assert all(c.removed_at == row.decannulated_at for c in run.cannulas)
        assert [f.item.split()[0] for f in decannulation.follow_ups(db, run.id)] == [
            "Arterial", "Arterial", "Venous",
        ]  # fmt: skip
        with pytest.raises(Conflict):
            decannulation.create(db, PHYSICIAN, run, DecannulationIn(**CHECKLIST))


def test_a_role_that_may_not_sign_is_refused(sessions) -> None:  # type: ignore[no-untyped-def]
    with sessions() as db:
        run = db.get(Run, 1)
        passed_trial(db, run)
        row = decannulation.create(db, PHYSICIAN, run, DecannulationIn(**CHECKLIST))
        with pytest.raises(Forbidden):
            decannulation.sign(db, NURSE, row, SignIn())
        with pytest.raises(Forbidden, match="physician role may not sign the perfusionist"):
            decannulation.sign(db, PHYSICIAN, row, SignIn(part="perfusionist"))
        assert row.physician_signed_at is None and row.perfusionist_signed_at is None


def test_decannulation_without_a_passed_trial_needs_a_reason(sessions) -> None:  # type: ignore[no-untyped-def]
    with sessions() as db:
        run = db.get(Run, 1)
        with pytest.raises(ValidationFailed) as refused:
            decannulation.create(db, PHYSICIAN, run, DecannulationIn(**CHECKLIST))
        assert refused.value.problems[0].field == "no_trial_reason"
        assert decannulation.for_run(db, run.id) == []
        row = decannulation.create(
            db, PHYSICIAN, run,
            DecannulationIn(**CHECKLIST, no_trial_reason="bleeding: urgent removal"),
        )  # fmt: skip
        assert row.trial_id is None and row.no_trial_reason


def test_a_step_out_of_order_is_refused_and_nothing_is_written(sessions) -> None:  # type: ignore[no-untyped-def]
    with sessions() as db:
        run = db.get(Run, 1)
        trial = trials.start_trial(db, PHYSICIAN, run, TrialStart(kind="sweep_off"))
        before = db.scalar(select(func.count()).select_from(AuditEntry))
        with pytest.raises(ValidationFailed) as refused:
            trials.add_step(db, PHYSICIAN, trial, StepIn(stage="during", values=GAS))
        assert refused.value.problems[0].field == "stage"
        with pytest.raises(ValidationFailed) as out_of_range:
            trials.add_step(db, PHYSICIAN, trial, StepIn(stage="baseline", values={"ph": 9.9}))
        assert "ph" in str(out_of_range.value)
        assert db.scalar(select(func.count()).select_from(TrialStep)) == 0
        assert db.scalar(select(func.count()).select_from(AuditEntry)) == before
        with pytest.raises(ValidationFailed) as early:
            trials.finish(db, PHYSICIAN, trial, TrialFinish(outcome="passed", reason="fine"))
        assert {p.field for p in early.value.problems} == {"outcome", "perfusion_assessment"}


def test_abort_at_any_step_returns_the_run_to_full_support(sessions) -> None:  # type: ignore[no-untyped-def]
    with sessions() as db:
        run = db.get(Run, 1)
        trial = trials.start_trial(db, PHYSICIAN, run, TrialStart(kind="sweep_reduction"))
        trials.add_step(db, PHYSICIAN, trial, StepIn(stage="baseline", values={"sweep_flow": 4}))
        with pytest.raises(Conflict):
            trials.start_trial(db, PHYSICIAN, run, TrialStart(kind="sweep_off"))
        trials.abort(db, PHYSICIAN, trial, TrialAbort(reason="SpO2 84 %"))
        assert trial.status == "aborted" and run.status == "active"
        with pytest.raises(Conflict):
            trials.add_step(db, PHYSICIAN, trial, StepIn(stage="sweep_reduced"))


def test_a_va_trial_is_refused_on_a_vv_run(sessions) -> None:  # type: ignore[no-untyped-def]
    with sessions() as db:
        run = db.get(Run, 1)
        with pytest.raises(ValidationFailed) as refused:
            trials.start_trial(db, PHYSICIAN, run, TrialStart(kind="va_flow_reduction"))
        assert refused.value.problems[0].field == "kind"
        assert run_service.current_mode(run) == "VV"


def test_va_flow_reduction_judges_haemodynamics_and_echo_at_each_step(sessions) -> None:  # type: ignore[no-untyped-def]
    from continuum.core.schemas import RunCreate

    with sessions() as db:
        start = utcnow() - timedelta(days=3)
        run = run_service.start_run(
            db, PHYSICIAN,
            RunCreate(patient_id=2, support_type="cardiac", mode="VA", started_at=start),
        )  # fmt: skip
        t0 = utcnow() - timedelta(hours=1)
        trial = trials.start_trial(
            db, PHYSICIAN, run, TrialStart(kind="va_flow_reduction", started_at=t0)
        )
        steps = (
            ("baseline", 0, {"blood_flow": 4.0, "map": 75}),
            ("flow_66", 15, {"blood_flow": 2.6, "map": 72, "lvef": 30, "lvot_vti": 12}),
            ("flow_33", 30, {"blood_flow": 1.3, "map": 66, "lvef": 28, "lvot_vti": 11,
                             "mitral_s_prime": 7}),
        )  # fmt: skip
        for stage, minutes, values in steps:
            at = t0 + timedelta(minutes=minutes)
            trials.add_step(db, PHYSICIAN, trial, StepIn(stage=stage, at=at, values=values))
        last = {j["name"]: j["status"] for j in trial.steps[-1].judged}
        assert trial.baseline_flow == 4.0
        assert last["va_min_circuit_flow"] == "met"  # 1.3 ≥ 1.0 L/min
        assert last["va_lvot_vti_min"] == "met" and last["va_mitral_s_min"] == "met"
        assert last["va_pulse_pressure_min"] == "unknown"  # not entered
        with pytest.raises(ValidationFailed) as up:
            trials.add_step(
                db, PHYSICIAN, trial,
                StepIn(stage="minimal", at=t0 + timedelta(minutes=40), values={"blood_flow": 2.0}),
            )  # fmt: skip
        assert up.value.problems[0].field == "blood_flow"


def test_a_cuff_map_stands_in_only_without_an_arterial_line_and_says_so(sessions) -> None:  # type: ignore[no-untyped-def]
    with sessions() as db:
        run = db.get(Run, 1)
        at = utcnow() - timedelta(minutes=10)
        record(db, run, at, map_nibp=72)
        rows = {r["name"]: r for r in readiness.review(db, NURSE, run)["rows"]}
        assert (rows["vv_map_min"]["value"], rows["vv_map_min"]["how"]) == (
            72,
            "cuff (non-invasive)",
        )
        record(db, run, at - timedelta(minutes=5), map=64)  # arterial line, a little older
        rows = {r["name"]: r for r in readiness.review(db, NURSE, run)["rows"]}
        assert (rows["vv_map_min"]["value"], rows["vv_map_min"]["how"]) == (64, "observation")
