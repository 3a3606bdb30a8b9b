"""Demo data: the weaning run (MRN100297) gets a readiness review and a sweep-off trial in
progress; the decannulated run (MRN100311) its passed trial and signed checklist."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from continuum.core import audit, observation_service
from continuum.core.people import PatientIdentity
from continuum.core.roles import Actor
from continuum.core.run_record import Run
from continuum.core.schemas import ObservationIn
from continuum.weaning import criteria as cr
from continuum.weaning import readiness, trials
from continuum.weaning.decannulation import coagulation_snapshot
from continuum.weaning.models import Decannulation, FollowUp, TrialStep, WeaningTrial
from continuum.weaning.schemas import AssessmentIn, ReviewIn, StepIn, TrialStart

VENT = {"vent_fio2": 0.4, "peep": 8.0, "tidal_volume": 420.0, "plateau_pressure": 22.0}
GAS = {"spo2": 95.0, "sao2": 95.0, "pao2": 84.0, "paco2": 43.0, "ph": 7.40, "map": 78.0}


def _run(db: Session, mrn: str) -> Run | None:
    stmt = select(Run).join(PatientIdentity, PatientIdentity.patient_id == Run.patient_id)
    return db.scalar(stmt.where(PatientIdentity.mrn == mrn).order_by(Run.id.desc()))


def add_demo_data(db: Session, staff: dict[str, Actor], now: datetime) -> None:
    weaning = _run(db, "MRN100297")
    if weaning is not None and weaning.status != "ended":
        _trial_in_progress(db, staff, weaning, now)
    ended = _run(db, "MRN100311")
    if ended is not None and ended.ended_at is not None:
        _decannulated(db, staff, ended, ended.ended_at)


def _trial_in_progress(db: Session, staff: dict[str, Actor], run: Run, now: datetime) -> None:
    physician, perfusionist = staff["physician"], staff["perfusionist"]
    flow = observation_service.latest(db, run.id, "blood_flow")
    blood_flow = round(flow.value, 1) if flow else 3.5
    start = now - timedelta(hours=2, minutes=30)
    observation_service.record_observations(
        db,
        physician,
        run,
        [
            ObservationIn(code=k, value=v, time=start - timedelta(minutes=20))
            for k, v in {**VENT, "norepinephrine": 0.03}.items()
        ],
    )
    review = readiness.save_review(db, physician, run, ReviewIn(note="Ready for a sweep-off trial"))
    review.reviewed_at = start - timedelta(minutes=15)
    trial = trials.start_trial(
        db, physician, run, TrialStart(kind="sweep_off", started_at=start, planned_minutes=240)
    )
    plan = (("baseline", 0, 2.0, 92.0), ("sweep_off", 10, 0.0, 78.0), ("during", 70, 0.0, 74.0))
    for stage, minutes, sweep, pao2 in plan:
        values = {**GAS, "blood_flow": blood_flow, "sweep_flow": sweep, "pao2": pao2}
        step = StepIn(stage=stage, at=start + timedelta(minutes=minutes), values=values)
        trials.add_step(db, physician, trial, step)
    trials.assess(
        db,
        perfusionist,
        trial,
        AssessmentIn(
            flow_safe=True,
            anticoagulation_ok=True,
            assessment=f"Flow kept at {blood_flow} L/min; anti-Xa in range; no clots",
        ),
    )


def _decannulated(db: Session, staff: dict[str, Actor], run: Run, end: datetime) -> None:
    physician, perfusionist = staff["physician"], staff["perfusionist"]
    start = end - timedelta(hours=6)
    trial = WeaningTrial(
        run_id=run.id,
        kind="sweep_off",
        status="passed",
        started_at=start,
        ended_at=start + timedelta(hours=3),
        started_by=physician.staff_id,
        ended_by=physician.staff_id,
        planned_minutes=180,
        outcome_reason="SaO2 95 %, PaCO2 44 mmHg after 3 h off sweep",
        perfusion_assessment="Flow 3.5 L/min throughout; anti-Xa 0.35",
        perfusion_flow_safe=True,
        perfusion_anticoagulation_ok=True,
        perfusion_by=perfusionist.staff_id,
        perfusion_name=f"{perfusionist.name} (perfusionist)",
        perfusion_at=start + timedelta(hours=1),
    )
    db.add(trial)
    db.flush()
    for seq, (stage, hours, sweep) in enumerate(
        (("baseline", 0, 2.0), ("sweep_off", 0.1, 0.0), ("during", 1.5, 0.0), ("end", 3, 0.0)), 1
    ):
        values = {**GAS, "blood_flow": 3.5, "sweep_flow": sweep}
        judged = [asdict(j) for j in cr.judge_all(cr.SWEEP_OFF, values)]
        db.add(
            TrialStep(
                trial_id=trial.id,
                seq=seq,
                stage=stage,
                measurements=values,
                at=start + timedelta(hours=hours),
                judged=judged,
                recorded_by=physician.staff_id,
            )
        )
    row = Decannulation(
        run_id=run.id,
        trial_id=trial.id,
        decannulated_at=end,
        anticoagulation_stopped_at=end - timedelta(hours=1),
        coagulation=coagulation_snapshot(db, run.id),
        blood_products_available=True,
        positioning="Trendelenburg, short-term paralysis",
        closure_technique="purse-string suture",
        haemostasis_minutes=30,
        limb_perfusion="warm, pulses present",
        doppler="no thrombus at 24 h",
        outcome="weaned_recovered",
        stop_reason=run.stop_reason or "Weaned; decannulated",
        created_by=physician.staff_id,
        physician_id=physician.staff_id,
        physician_name=physician.name,
        physician_signed_at=end,
        perfusionist_id=perfusionist.staff_id,
        perfusionist_name=perfusionist.name,
        perfusionist_signed_at=end,
    )
    db.add(row)
    db.flush()
    for item, hours, result in (
        ("Arterial blood gas 1 h after decannulation", 1, "pH 7.41, PaCO2 42, PaO2 86"),
        ("Arterial blood gas 24 h after decannulation", 24, "pH 7.40, PaCO2 41, PaO2 90"),
        ("Venous Doppler of the cannulated vessels", 24, "no thrombus"),
    ):
        at = end + timedelta(hours=hours)
        db.add(
            FollowUp(
                run_id=run.id,
                decannulation_id=row.id,
                item=item,
                due_at=at,
                done_at=at,
                done_by=physician.staff_id,
                result=result,
            )
        )
    audit.record(db, physician, "create", "decannulation", row.id, run.patient_id, {"demo": True})
