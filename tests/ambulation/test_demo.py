"""The demo's weaning VV run (MRN100297) carries three ambulation sessions with a rising
ICU Mobility Scale, on its timeline, the newest with circuit values from the simulated
console data; its registry record's highest level is 7."""

from __future__ import annotations

from sqlalchemy import select

from continuum.ambulation import hooks, service
from continuum.ambulation import settings as amb_settings
from continuum.ambulation.models import in_force
from continuum.core.clinical_event import ClinicalEvent
from continuum.core.people import PatientIdentity
from continuum.core.run_record import Run
from continuum.db import make_engine, make_sessionmaker
from continuum.research import registry_build
from continuum.research.registry_settings import in_force as registry_windows


def test_demo_sessions_progress_and_reach_the_registry(demo_url: str) -> None:
    """On the demo built once for the session (tests/conftest.py ``demo_template``, the same
    ``demo.build``), this module's own copy."""
    hooks.install_hooks()
    engine = make_engine(demo_url)
    with make_sessionmaker(engine)() as db:
        run = db.scalars(
            select(Run)
            .join(PatientIdentity, PatientIdentity.patient_id == Run.patient_id)
            .where(PatientIdentity.mrn == "MRN100297")
        ).one()
        rows = in_force(db, [run.id])
        assert [r.ims_level for r in rows] == [3, 6, 7]
        assert rows[1].failed_items == ["tubing_slack"] and rows[1].safety_reason
        events = db.scalars(
            select(ClinicalEvent.kind).where(
                ClinicalEvent.run_id == run.id, ClinicalEvent.kind.like("ambulation.%")
            )
        ).all()
        assert len(events) == 3
        values = service.circuit_values(db, rows[2], amb_settings.in_force(db))
        flow = next(v for v in values if v["code"] == "blood_flow")
        assert flow["before"] is not None and flow["during"] is not None
        rec = registry_build.build(db, run, registry_windows(db), "demo")
        assert rec.by_key()["run.highest_ims"].value == 7
    engine.dispose()
