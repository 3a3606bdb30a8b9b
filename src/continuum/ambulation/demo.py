"""Demo data: three sessions with a rising ICU Mobility Scale on the weaning VV run
(MRN100297, Chen Wei, femoral–jugular VV for aspiration pneumonitis): sitting on the
edge of the bed two days ago, standing and marching on the spot yesterday with a brief
flow drop, walking with two helpers this morning (within the simulated console data, so
its circuit values are filled from the stored observations)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from continuum.ambulation import service
from continuum.ambulation.models import SAFETY_ITEMS
from continuum.ambulation.schemas import EventIn, SessionIn
from continuum.core.people import PatientIdentity, Staff
from continuum.core.roles import Actor
from continuum.core.run_record import Run

ALL_PASS = dict.fromkeys(SAFETY_ITEMS, "pass")
TEAM = ("Olu Adeyemi", "Sam Okafor", "Grace Mwangi", "Dr Maria Rossi")


def _run(db: Session, mrn: str) -> Run | None:
    stmt = select(Run).join(PatientIdentity, PatientIdentity.patient_id == Run.patient_id)
    return db.scalar(stmt.where(PatientIdentity.mrn == mrn).order_by(Run.id.desc()))


def add_demo_data(db: Session, staff: dict[str, Actor], now: datetime) -> None:
    run = _run(db, "MRN100297")
    if run is None or run.ended_at is not None:
        return
    physio = staff.get("Olu Adeyemi") or staff["nurse"]
    ids = [s.id for s in db.scalars(select(Staff).where(Staff.name.in_(TEAM)))]
    now = now.replace(second=0, microsecond=0)
    day = timedelta(days=1)
    first = now - 2 * day - timedelta(hours=3)
    service.record(
        db, physio, run.id,
        SessionIn(
            started_at=first, ended_at=first + timedelta(minutes=25), ims_level=3,
            safety=ALL_PASS, staff_ids=ids[:3],
            note="Sat over the edge of the bed for 10 min with support; tolerated well.",
        ),
        now=first + timedelta(minutes=40),
    )  # fmt: skip
    second = now - day - timedelta(hours=4)
    service.record(
        db, physio, run.id,
        SessionIn(
            started_at=second, ended_at=second + timedelta(minutes=40), ims_level=6,
            safety={**ALL_PASS, "tubing_slack": "fail"},
            safety_reason="Drainage line slack short for walking; plan limited to standing "
            "and marching at the bedside, perfusionist holding the lines.",
            staff_ids=ids,
            events=[
                EventIn(kind="flow_drop", at=second + timedelta(minutes=18),
                        note="Flow 3.9 → 3.1 L/min on standing, recovered within 1 min sitting"),
            ],
        ),
        now=second + timedelta(minutes=55),
    )  # fmt: skip
    third = now - timedelta(hours=7)
    service.record(
        db, physio, run.id,
        SessionIn(
            started_at=third, ended_at=third + timedelta(minutes=35), ims_level=7,
            safety=ALL_PASS, staff_ids=ids,
            note="Walked 15 m with a frame and two helpers; console on the trolley.",
        ),
        now=third + timedelta(minutes=50),
    )  # fmt: skip
