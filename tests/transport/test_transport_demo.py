"""The demo's two missions: John Carter (MRN100245) arrived on VV ECMO by helicopter from
St Catherine's (checklist signed with one failed item and its reason, a flow drop in
transit, the handover; his run is flagged), and a primary retrieval under way for Amira
Haddad (MRN100231) from her referral; their events are on the clinical timeline."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from continuum.core import transfers
from continuum.core.clinical_event import ClinicalEvent
from continuum.core.people import PatientIdentity
from continuum.core.roles import Actor
from continuum.core.run_record import Run
from continuum.db import make_engine, make_sessionmaker
from continuum.transport import service

pytestmark = pytest.mark.xdist_group("transport_demo")
READER = Actor(staff_id=None, name="test", role="physician")


@pytest.fixture(scope="module")
def db(demo_url: str) -> Iterator[Session]:
    """The module's own copy of the session's demo (tests/conftest.py demo_url)."""
    engine = make_engine(demo_url)
    with make_sessionmaker(engine)() as session:
        yield session
    engine.dispose()


def _patient(db: Session, mrn: str) -> int:
    return db.scalars(select(PatientIdentity.patient_id).where(PatientIdentity.mrn == mrn)).one()


def test_the_demo_has_a_secondary_arrival_and_a_primary_retrieval(db: Session) -> None:
    missions = {m.mission_type: m for m in service.in_force(db)}
    assert set(missions) == {"primary", "secondary"}
    sec, pri = missions["secondary"], missions["primary"]
    run = db.scalars(select(Run).where(Run.patient_id == _patient(db, "MRN100245"))).one()
    assert sec.run_id == run.id and sec.vehicle == "rotor"
    assert transfers.arrived_on_ecmo(db, [run.id])[run.id].centre == "St Catherine's Hospital"
    v = service.view(db, READER, sec.number)
    assert v.checklist is not None and not v.checklist.all_passed
    assert v.checklist.items["blood_products"]["reason"]
    assert [e.kind for e in v.events] == ["flow_drop"] and v.handover is not None
    assert {i["key"] for i in v.intervals} >= {"activation", "bedside", "transit", "total"}
    assert len(v.team) >= 3
    assert pri.patient_id == _patient(db, "MRN100231") and pri.referral_id is not None
    assert pri.referring_hospital == "Riverside District Hospital" and pri.run_id is None
    p = service.view(db, READER, pri.number)
    assert "arrival_referring" in p.times and "cannulation" not in p.times
    kinds = set(
        db.scalars(
            select(ClinicalEvent.kind).where(ClinicalEvent.record_type == "transport_mission")
        )
    )
    assert kinds == {
        "transport.mission_started",
        "transport.milestone",
        "transport.checklist_signed",
        "transport.event",
        "transport.handover",
    }
