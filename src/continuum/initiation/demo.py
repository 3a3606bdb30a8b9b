"""Demo data: Amira Haddad (MRN100231, no run) referred and under assessment with her
candidacy and a draft plan; and the signed decisions behind Ahmed Saleh's VA run (deferred,
reassessed, accepted)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from continuum.core.people import PatientIdentity
from continuum.core.roles import Actor
from continuum.core.run_record import Run
from continuum.core.schemas import ParticipantIn
from continuum.initiation import candidacy, configuration, decision, modality, referral
from continuum.initiation.models import Referral
from continuum.initiation.schemas import (
    CandidacyIn,
    DecisionIn,
    ModalityIn,
    PlanIn,
    ReferralCreate,
    SignIn,
    StatusChange,
)

ARDS_SCORES: dict[str, dict[str, Any]] = {
    "murray": {
        "cxr_quadrants": 4,
        "pao2_mmhg": 58,
        "fio2": 1.0,
        "peep_cmh2o": 16,
        "compliance_ml_cmh2o": 22,
    },
    "resp": {
        "age_years": 40,
        "mechanical_ventilation_hours": 40,
        "diagnosis": "viral_pneumonia",
        "paco2_mmhg": 68,
        "peak_inspiratory_pressure_cmh2o": 36,
        "neuromuscular_blockade": True,
    },
    "preserve": {"age_years": 40, "bmi": 25.7, "mechanical_ventilation_days": 1.7, "sofa": 9},
}
EOLIA = {
    "ventilation_days": 1.7,
    "fio2": 1.0,
    "peep_cmh2o": 16,
    "pf_ratio_mmhg": 58,
    "pf_hours": 7,
    "ph": 7.21,
    "paco2_mmhg": 68,
    "hypercapnia_hours": 4,
}
DRAFT_PLAN = {
    "cannulas": [
        {
            "role": "drainage_and_return",
            "site": "internal jugular vein",
            "side": "right",
            "catalogue_id": "crescent_32",
        },
    ],
    "membrane_lung_make": "Getinge",
    "membrane_lung_model": "HLS 7.0",
    "rated_flow_l_min": 7,
    "prime_volume_ml": 600,
    "hct_pct": 34,
    "blood_products": "2 RBC crossmatched; platelets on call",
    "anticoagulant": "ufh",
    "monitor_code": "anti_xa",
    "monitor_low": 0.3,
    "monitor_high": 0.5,
    "flow_goal_low": 4.2,
    "flow_goal_high": 5.0,
    "sweep_goal_l_min": 4,
    "spo2_goal_low": 88,
    "paco2_goal_low": 35,
    "paco2_goal_high": 45,
}


def _patient_id(db: Session, mrn: str) -> int | None:
    return db.scalar(select(PatientIdentity.patient_id).where(PatientIdentity.mrn == mrn))


def add_demo_data(db: Session, staff: dict[str, Actor], now: datetime) -> None:
    coordinator, physician = staff["coordinator"], staff["physician"]
    perfusionist = staff["perfusionist"]
    patient_id = _patient_id(db, "MRN100231")
    if patient_id is not None:
        _under_assessment(db, coordinator, physician, perfusionist, patient_id, now)
    saleh = _patient_id(db, "MRN100288")
    run = db.scalar(select(Run).where(Run.patient_id == saleh)) if saleh else None
    if run is not None:
        _signed_for_run(db, staff, run)


def _under_assessment(
    db: Session,
    coordinator: Actor,
    physician: Actor,
    perfusionist: Actor,
    patient_id: int,
    now: datetime,
) -> None:
    ref = referral.create_referral(
        db,
        coordinator,
        ReferralCreate(
            patient_id=patient_id,
            referring_hospital="Riverside District Hospital",
            referring_clinician="Dr Ben Osei (ICU)",
            contact="ICU 0100 555 0142",
            referred_at=now - timedelta(hours=2, minutes=20),
            support_type="pulmonary",
            urgency="urgent",
            clinical_picture="Influenza A ARDS day 2 of ventilation, prone 16 h, PaO2/FiO2 58 on "
            "FiO2 1.0 PEEP 16, pH 7.21 PaCO2 68; echo: good LV and RV.",
        ),
    )
    referral.change_status(db, coordinator, ref, StatusChange(status="under_assessment"))
    candidacy.save_candidacy(
        db,
        physician,
        ref,
        CandidacyIn(
            checked=["pulmonary.hypoxaemia", "pulmonary.hypercapnia"],
            scores=ARDS_SCORES,  # type: ignore[arg-type]
            eolia=EOLIA,
            note="PRESERVE: SOFA entered, PEEP and PIP still to confirm",
            version=_v(ref),
        ),
    )
    modality.save_modality(
        db,
        physician,
        ref,
        ModalityIn.model_validate(
            {
                "physiology": {"respiratory_failure": True, "adequate_cardiac_function": True},
                "version": _v(ref),
            }
        ),
    )
    configuration.save_plan(
        db, perfusionist, ref, PlanIn.model_validate({**DRAFT_PLAN, "version": _v(ref)})
    )
    for actor, how, text in (
        (physician, "consulted", "phone call with referring ICU"),
        (perfusionist, "present", "configuration plan, circuit primed"),
        (coordinator, "present", "retrieval team on standby"),
    ):
        if actor.staff_id is not None:
            decision.add_participant(
                db,
                coordinator,
                ref,
                ParticipantIn(staff_id=actor.staff_id, how=how, contribution=text),  # type: ignore[arg-type]
            )


def _signed_for_run(db: Session, staff: dict[str, Actor], run: Run) -> None:
    """A decision accepted, signed and linked to a run that already exists (demo history)."""
    coordinator, physician = staff["coordinator"], staff["physician"]
    perfusionist = staff["perfusionist"]
    referred = run.started_at - timedelta(hours=3)
    ref = referral.create_referral(
        db,
        coordinator,
        ReferralCreate(
            patient_id=run.patient_id,
            referring_hospital="Cardiology ward (in-house)",
            referring_clinician="Dr Aisha Rahman",
            referred_at=referred,
            support_type="cardiac",
            urgency="emergency",
            clinical_picture="Fulminant myocarditis, lactate 9, CI 1.6 on "
            "adrenaline and noradrenaline; SBP 78.",
        ),
    )
    referral.change_status(db, coordinator, ref, StatusChange(status="under_assessment"))
    candidacy.save_candidacy(
        db,
        physician,
        ref,
        CandidacyIn(
            checked=["cardiac.shock"],
            scores={
                "save": {
                    "age_years": 55,
                    "weight_kg": 88,
                    "diagnoses": ["myocarditis"],
                    "intubation_hours": 4,
                    "peak_inspiratory_pressure_cmh2o": 22,
                    "diastolic_bp_mmhg": 38,
                    "pulse_pressure_mmhg": 18,
                    "bicarbonate_mmol_l": 17,
                }
            },
            version=_v(ref),
        ),
    )
    modality.save_modality(
        db,
        physician,
        ref,
        ModalityIn.model_validate(
            {
                "physiology": {"cardiogenic_shock": True, "femoral_return": True},
                "version": _v(ref),
            }
        ),
    )
    configuration.save_plan(
        db,
        perfusionist,
        ref,
        PlanIn.model_validate(
            {
                **DRAFT_PLAN,
                "cannulas": [
                    {"role": "drainage", "site": "femoral vein", "side": "right", "french": 25},
                    {"role": "return", "site": "femoral artery", "side": "left", "french": 17},
                    {
                        "role": "distal_perfusion",
                        "site": "superficial femoral artery",
                        "side": "left",
                        "french": 8,
                    },
                ],
                "version": _v(ref),
            }
        ),
    )
    # First deferred (signed), then reassessed when he deteriorated: the referral page shows
    # the deferral as history above the accepted record.
    deferral = DecisionIn(
        outcome="defer",
        reasons="Lactate 9 but falling on adrenaline; repeat echo and lactate in 1 h",
        version=_v(ref),
    )
    decision.record_decision(db, physician, ref, deferral)
    decision.sign(db, physician, ref, SignIn(version=_v(ref)))
    deferred = ref.decision
    decision.reassess(db, physician, ref, "Lactate 11 and rising, CI 1.4 on repeat echo")
    decision.record_decision(
        db,
        physician,
        ref,
        DecisionIn(
            outcome="accept",
            reasons="Refractory cardiogenic shock, reversible cause, no contraindication",
            version=_v(ref),
        ),
    )
    decision.sign(db, physician, ref, SignIn(version=_v(ref)))
    decision.sign(db, perfusionist, ref, SignIn(version=_v(ref)))
    if deferred is not None:
        deferred.decided_at = run.started_at - timedelta(hours=2, minutes=40)
        deferred.physician_signed_at = run.started_at - timedelta(hours=2, minutes=35)
    _backdate(ref, run)
    referral.set_status_by_decision(db, physician, ref, "accepted", f"run {run.id} started")


def _v(ref: Referral) -> int:
    """The version of the referral's current decision record (a new record starts at 1)."""
    return ref.decision.version if ref.decision is not None else 1


def _backdate(ref: Referral, run: Run) -> None:
    d = ref.decision
    assert d is not None
    d.decided_at = run.started_at - timedelta(hours=1, minutes=30)
    d.physician_signed_at = run.started_at - timedelta(hours=1, minutes=20)
    d.perfusionist_signed_at = run.started_at - timedelta(hours=1, minutes=15)
    d.run_id = run.id
