"""The seeded test programme: one login per role, a patient with a run, one without.

Identifiers are unusual strings so tests can prove they never reach the wrong role.
"""

from __future__ import annotations

import os
import time
from datetime import UTC, date, datetime, timedelta

from continuum.core import accounts, observation_service, run_service
from continuum.core.people import Patient, PatientIdentity
from continuum.core.roles import SYSTEM, Actor
from continuum.core.schemas import CannulaCreate, ComponentCreate, ObservationIn, RunCreate
from continuum.core.vocab import ROLES
from continuum.db import make_engine, make_sessionmaker, unit_of_work

DISCIPLINE = {
    "perfusionist": "perfusion",
    "physician": "intensive_care",
    "physician_lead": "intensive_care",
    "nurse": "nursing",
    "coordinator": "intensive_care",
    "qa_lead": "other",
    "researcher": "other",
    "admin": "other",
    "integration": "other",
}
SECRET_NAMES = ("Zelda Quixote", "Yorick Umbra")
SECRET_MRNS = ("MRNZQ7781", "MRNYU5542")
SECRET_BIRTHS = ("1971-04-17", "1966-08-29")
# Two days before the test run began: one instant for every process of the run (the xdist
# controller sets it before it starts the workers, which inherit it), because the template
# database is seeded once, by the first worker that needs it, and every worker's tests
# compare their times with its run's start.
_RUN_BEGAN = int(os.environ.setdefault("CONTINUUM_TEST_RUN_BEGAN", str(int(time.time()))))
RUN_START = datetime.fromtimestamp(_RUN_BEGAN, UTC) - timedelta(days=2)


def password_for(username: str) -> str:
    return f"pw-{username}-0123456789"


def seed(url: str) -> None:
    engine = make_engine(url)
    factory = make_sessionmaker(engine)
    with unit_of_work(factory) as db:
        for role in ROLES:
            accounts.create_staff(
                db,
                SYSTEM,
                accounts.StaffCreate(
                    name=f"Test {role}",
                    discipline=DISCIPLINE[role],
                    role=role,
                    username=role,
                    password=password_for(role),
                ),
            )
        for name, mrn, born in zip(SECRET_NAMES, SECRET_MRNS, SECRET_BIRTHS, strict=True):
            patient = Patient(sex="female", height_cm=170, weight_kg=70)
            db.add(patient)
            db.flush()
            db.add(
                PatientIdentity(
                    patient_id=patient.id, mrn=mrn, name=name, birth_date=date.fromisoformat(born)
                )
            )
        actor = Actor(staff_id=None, name="seed", role="physician")
        run = run_service.start_run(
            db,
            actor,
            RunCreate(patient_id=1, support_type="pulmonary", mode="VV", started_at=RUN_START),
        )
        db.flush()
        run_service.add_component(
            db,
            actor,
            run,
            ComponentCreate(
                kind="membrane_lung", make="Getinge", model="HLS 7.0", started_at=RUN_START
            ),
        )
        run_service.add_cannula(
            db,
            actor,
            run,
            CannulaCreate(
                role="drainage", site="femoral vein", side="right", french=25, inserted_at=RUN_START
            ),
        )
        t = RUN_START + timedelta(hours=1)
        observation_service.record_observations(
            db,
            actor,
            run,
            [
                ObservationIn(code=c, value=v, time=t + timedelta(minutes=i), source="manual")
                for i in range(3)
                for c, v in (
                    ("blood_flow", 4.5),
                    ("p_preoxy", 250),
                    ("p_postoxy", 230),
                    ("hb", 10.0),
                )
            ],
        )
        _seed_referral(db, actor)
        _seed_audit(db)
        # Alerts: two out-of-range labs, so run 1 carries two open circuit alerts
        # (1: haemolysis, 2: anticoagulation out of range).
        observation_service.record_observations(
            db,
            actor,
            run,
            [
                ObservationIn(code=c, value=v, time=t + timedelta(minutes=5))
                for c, v in (("pfhb", 60), ("anti_xa", 1.0))
            ],
        )
        _seed_adverse_event(db, actor)
        _seed_study(db)
        _seed_exchange(db)
        _seed_ambulation(db)

        _seed_transport(db)
        _seed_mcs(db)
    engine.dispose()


def _seed_mcs(db) -> None:  # type: ignore[no-untyped-def]
    """Circulatory support: device 1, an Impella CP on run 1 (in place), so every role can
    open it and the clinical roles can enter its readings and checks."""
    from continuum.mcs.models import McsDevice

    row = McsDevice(
        run_id=1, kind="impella", model="CP", side="left", site="right femoral artery",
        inserted_at=RUN_START + timedelta(hours=1),
    )  # fmt: skip
    db.add(row)
    db.flush()
    row.device_id = row.id


def _seed_study(db) -> None:  # type: ignore[no-untyped-def]
    """Research: study 1 (planned) with saved cohort 1, so every role may open the study."""
    from continuum.research.cohort_record import SavedCohort
    from continuum.research.study_record import OutcomeAnalysis, Study

    db.add(Study(title="Seed study", protocol_summary="seed", status="planned", version=1))
    saved = SavedCohort(name="Seed cohort (VV)", definition={"modes": ["VV"]})
    db.add(saved)
    db.flush()
    curve = [
        {"t": 0.0, "s": 1.0, "lo": 1.0, "hi": 1.0},
        {"t": 30.0, "s": 1.0, "lo": None, "hi": None},
    ]
    db.add(OutcomeAnalysis(  # analysis 1, so every role that reads analyses can open one
        cohort_id=saved.id, cohort_name=saved.name, definition=saved.definition,
        kind="km_time_on_ecmo", covariates=[], versions={"lifelines": "seed"},
        result={"n": 1, "events": 0, "censored": 1, "median_hours": None,
                "median_ci_hours": [None, None], "curve": curve, "runs": 1},
    ))  # fmt: skip


def _seed_exchange(db) -> None:  # type: ignore[no-untyped-def]
    """Alerts: planned exchange 1 (membrane lung of run 1), so every role can open it."""
    from continuum.alerts.exchange_record import ExchangePlan

    row = ExchangePlan(
        run_id=1, target="membrane_lung", status="planned", checklist={},
        planned_at=RUN_START + timedelta(days=3), equipment_ready=False, prime_ready=False,
    )  # fmt: skip
    db.add(row)
    db.flush()
    row.plan_id = row.id


def _seed_ambulation(db) -> None:  # type: ignore[no-untyped-def]
    """Ambulation: session 1 on run 1 (IMS 3), so every role can open it."""
    from continuum.ambulation.models import SAFETY_ITEMS, AmbulationSession

    start = RUN_START + timedelta(hours=20)
    row = AmbulationSession(
        run_id=1, started_at=start, ended_at=start + timedelta(minutes=30), ims_level=3,
        safety=dict.fromkeys(SAFETY_ITEMS, "pass"), events=[], stopped_early=False,
    )  # fmt: skip
    db.add(row)
    db.flush()
    row.session_no = row.id


def _seed_transport(db) -> None:  # type: ignore[no-untyped-def]
    """Transport: mission 1 (primary, from referral 1 of patient 2, called 3 h ago) and
    mission 2 (primary, run 1, called 4 h ago), so every role can open them."""
    from continuum.transport.models import TransportMilestone, TransportMission

    now = datetime.now(UTC).replace(microsecond=0)
    for patient, referral, run, kind, hours in (
        (2, 1, None, "primary", 3),
        (1, None, 1, "primary", 4),
    ):
        row = TransportMission(
            patient_id=patient, referral_id=referral, run_id=run, mission_type=kind,
            vehicle="road", referring_hospital="District General", expected_min=60,
        )  # fmt: skip
        db.add(row)
        db.flush()
        row.mission_id = row.id
        db.add(
            TransportMilestone(mission_id=row.id, milestone="call", at=now - timedelta(hours=hours))
        )


def _seed_audit(db) -> None:  # type: ignore[no-untyped-def]
    """Quality: audit 1 (perfusion at rounds, the last 30 days), so every role can open it."""
    from continuum.quality.audit_record import ClinicalAudit

    db.add(
        ClinicalAudit(
            title="Perfusion at rounds (seed)",
            criterion="perfusion_at_rounds",
            standard_pct=90,
            period_start=RUN_START - timedelta(days=28),
            period_end=RUN_START + timedelta(days=3),
        )
    )


def _seed_adverse_event(db, actor: Actor) -> None:  # type: ignore[no-untyped-def]
    """Quality: adverse event 1 on run 1 (membrane-lung clot, component 1), so every role
    can open an event page."""
    from continuum.quality import adverse_events
    from continuum.quality.adverse_event_schemas import AdverseEventIn

    data = AdverseEventIn(
        code="mech_ml_clot", event_class="incident", harm="mild",
        occurred_at=RUN_START + timedelta(hours=2), detected_by="circuit_check",
        component_id=1, description="Clot seen at the membrane-lung inlet",
    )  # fmt: skip
    adverse_events.record(db, actor, 1, data)


def _seed_referral(db, actor: Actor) -> None:  # type: ignore[no-untyped-def]
    """Initiation: referral 1, for patient 2 (no run), so every role can open a referral."""
    from continuum.initiation import referral, schemas

    data = schemas.ReferralCreate(
        patient_id=2,
        referring_hospital="District General",
        referring_clinician="Dr Seed",
        support_type="pulmonary",
        clinical_picture="Severe ARDS, PaO2/FiO2 60 on PEEP 14",
    )
    referral.create_referral(db, actor, data)
