"""Demo: the registry review of the decannulated run, so the registry pages show a reviewed
record beside unreviewed ones. The perfusionist confirms the cannulas, membrane lungs and
pumps as the record has them; the coordinator types what the record lacks from the paper
flow sheet and the discharge letter (corrections, each with its reason) and marks the run
ready for submission. Every other run stays as built from the record."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from continuum.core.roles import Actor
from continuum.core.run_record import Run
from continuum.research import registry_service
from continuum.research.registry_service import Review
from continuum.weaning.models import Decannulation

# What the paper flow sheet and the discharge letter say (typed by the coordinator).
TYPED: dict[str, object] = {
    "run.pre_ecls_arrest": "No", "run.ph_pre": 7.19, "run.paco2_pre": 71, "run.pao2_pre": 56,
    "run.fio2_pre": 1.0, "run.peep_pre": 15, "run.pump_flow_4h": 4.4,
    "run.pump_flow_24h": 4.7, "run.ph_24h": 7.39, "run.paco2_24h": 44, "run.pao2_24h": 78,
    "run.fio2_24h": 0.5, "run.peep_24h": 10, "run.map_24h": 74,
    "diagnoses.primary_icd10": "J10.0", "discharge.discharged_alive": "Yes",
}  # fmt: skip
SOURCE = {
    "diagnoses.primary_icd10": "discharge letter: influenza A pneumonia",
    "discharge.discharged_alive": "discharge letter: home on day 31",
}


def add_demo_data(db: Session, staff: dict[str, Actor], now: datetime) -> None:
    run = db.scalars(
        select(Run)
        .join(Decannulation, Decannulation.run_id == Run.id)
        .where(Run.status == "ended")
        .order_by(Run.ended_at.desc())
    ).first()
    if run is None:
        return
    utc = ZoneInfo("UTC")
    perfusionist, coordinator = staff["perfusionist"], staff["coordinator"]
    rec = registry_service.record_for(db, perfusionist, run.id)
    confirms = [
        Review(f.key, "confirm")
        for table in ("cannulas", "membrane_lungs", "pumps", "mode_periods")
        for f in rec.table(table)
        if f.status == "filled"
    ]
    if confirms:
        registry_service.review(db, perfusionist, run.id, confirms, utc)
    typed = [
        Review(f.key, "correct", TYPED[f.key], SOURCE.get(f.key, "paper ECMO flow sheet"))
        for f in rec.work_list
        if f.key in TYPED
    ]
    if typed:
        registry_service.review(db, coordinator, run.id, typed, utc)
    if not registry_service.record_for(db, coordinator, run.id).work_list:
        registry_service.mark_ready(db, coordinator, run.id)
