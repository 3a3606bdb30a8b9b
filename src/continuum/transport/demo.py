"""Demo data: a secondary transfer that brought John Carter (MRN100245) to us on VV ECMO by
helicopter from St Catherine's (checklist signed with one failed item and its reason, a flow
drop in transit, the handover; his run is flagged "arrived on ECMO"), and a primary
retrieval under way for Amira Haddad (MRN100231), referred from Riverside District
Hospital: the team is at the bedside, cannulation not yet done.

The demo back-dates its rows and defers clinical events to the back-fill, which knows
nothing of transport: the events of these missions are written here, with their times."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from continuum.core import clinical_event
from continuum.core.people import PatientIdentity
from continuum.core.roles import Actor
from continuum.core.run_record import Run
from continuum.transport import service
from continuum.transport.schemas import (
    ChecklistIn,
    EventIn,
    HandoverIn,
    MilestoneIn,
    MissionAmend,
    MissionIn,
)

ALL_PASS = {
    "hand_crank": True,
    "clamps": True,
    "cannula_securement": True,
    "blood_products": True,
    "power_compatibility": True,
    "transport_ventilator": True,
}


def _patient_id(db: Session, mrn: str) -> int | None:
    return db.scalar(select(PatientIdentity.patient_id).where(PatientIdentity.mrn == mrn))


def add_demo_data(db: Session, staff: dict[str, Actor], now: datetime) -> None:
    deferred = db.info.pop(clinical_event.DEFER, None)
    try:
        carter = _patient_id(db, "MRN100245")
        run = db.scalar(select(Run).where(Run.patient_id == carter)) if carter else None
        if run is not None:
            _secondary(db, staff, run)
        haddad = _patient_id(db, "MRN100231")
        if haddad is not None:
            _primary(db, staff, haddad, now)
    finally:
        if deferred is not None:
            db.info[clinical_event.DEFER] = deferred


def _milestones(
    db: Session, actor: Actor, number: int, times: dict[str, datetime], now: datetime
) -> None:
    for key, at in times.items():
        service.record_milestone(db, actor, number, MilestoneIn(milestone=key, at=at), now)  # type: ignore[arg-type]


def _team(db: Session, actor: Actor, number: int, members: list[tuple[Actor, str]]) -> None:
    for member, role in members:
        if member.staff_id is not None:
            service.add_team_member(db, actor, number, member.staff_id, role)


def _secondary(db: Session, staff: dict[str, Actor], run: Run) -> None:
    coordinator, perfusionist = staff["coordinator"], staff["perfusionist"]
    physician, nurse = staff["physician"], staff["nurse"]
    arrive = run.started_at
    call = arrive - timedelta(hours=5, minutes=10)
    m = service.create(
        db,
        coordinator,
        MissionIn(
            mission_type="secondary",
            vehicle="rotor",
            patient_id=run.patient_id,
            referring_hospital="St Catherine's Hospital",
            expected_min=45,
            call_at=call,
        ),
        now=call,
    )
    _team(
        db,
        coordinator,
        m.number,
        [
            (physician, "ECMO-credentialed consultant"),
            (perfusionist, "ECMO specialist: console and cannulas"),
            (nurse, "retrieval nurse"),
        ],
    )
    times = {
        "activation": call + timedelta(minutes=12),
        "team_departure": call + timedelta(minutes=40),
        "arrival_referring": call + timedelta(hours=1, minutes=25),
    }
    _milestones(db, coordinator, m.number, times, arrive)
    service.sign_checklist(
        db,
        perfusionist,
        m.number,
        ChecklistIn(
            cylinder_volume_l=10,
            cylinder_pressure_bar=190,
            cylinders=2,
            sweep_l_min=5,
            ventilator_l_min=8,
            console_battery_min=120,
            pump_battery_min=95,
            ticked=ALL_PASS | {"blood_products": False},
            reasons={
                "blood_products": "2 units red cells cross-matched at St Catherine's, "
                "collected there"
            },
        ),
        now=call + timedelta(hours=3, minutes=5),
    )
    _milestones(
        db,
        coordinator,
        m.number,
        {
            "departure_patient": call + timedelta(hours=3, minutes=20),
            "arrival_base": call + timedelta(hours=4, minutes=15),
        },
        arrive,
    )
    service.add_event(
        db,
        perfusionist,
        m.number,
        EventIn(
            at=call + timedelta(hours=3, minutes=24),
            kind="flow_drop",
            text="Flow 4.4 → 2.9 L/min with chattering while loading; 250 mL crystalloid, "
            "recovered in 3 min",
        ),
        now=arrive,
    )
    service.record_handover(
        db,
        physician,
        m.number,
        HandoverIn(
            at=call + timedelta(hours=4, minutes=35),
            to_name="Dr Ana Ruiz",
            to_discipline="intensive_care",
            summary="VV 25/21 Fr fem-jug, flow 4.4 L/min, sweep 5 L/min FdO2 1.0; one flow drop "
            "on loading, settled. Heparin 18 IU/kg/h.",
        ),
        now=arrive,
    )
    service.amend(db, coordinator, m.number, MissionAmend(run_id=run.id), now=arrive)


def _primary(db: Session, staff: dict[str, Actor], patient_id: int, now: datetime) -> None:
    coordinator, perfusionist, physician = (
        staff["coordinator"],
        staff["perfusionist"],
        staff["physician"],
    )
    referral_id = db.scalar(
        select(service.REFERRAL.c.id).where(service.REFERRAL.c.patient_id == patient_id)
    )
    call = now - timedelta(hours=1, minutes=50)
    m = service.create(
        db,
        coordinator,
        MissionIn(
            mission_type="primary",
            vehicle="road",
            referral_id=referral_id,
            patient_id=patient_id if referral_id is None else None,
            referring_hospital=None if referral_id else "Riverside District Hospital",
            expected_min=70,
            call_at=call,
        ),
        now=call,
    )
    _team(
        db,
        coordinator,
        m.number,
        [
            (physician, "cannulating consultant"),
            (perfusionist, "ECMO specialist: primes and runs the circuit"),
        ],
    )
    service.record_milestone(
        db,
        coordinator,
        m.number,
        MilestoneIn(milestone="activation", at=call + timedelta(minutes=9)),
        now,
    )
    service.sign_checklist(
        db,
        perfusionist,
        m.number,
        ChecklistIn(
            cylinder_volume_l=10,
            cylinder_pressure_bar=200,
            cylinders=2,
            sweep_l_min=4,
            ventilator_l_min=6,
            console_battery_min=180,
            pump_battery_min=150,
            ticked=ALL_PASS,
        ),
        now=call + timedelta(minutes=30),
    )
    _milestones(
        db,
        coordinator,
        m.number,
        {
            "team_departure": call + timedelta(minutes=38),
            "arrival_referring": call + timedelta(hours=1, minutes=35),
        },
        now,
    )
