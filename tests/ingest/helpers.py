"""Shared helpers for ingest tests: patients with runs, ORU messages, counts."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from continuum.core import patient_service, run_service
from continuum.core.record import Observation
from continuum.core.roles import CLI_ACTOR
from continuum.core.schemas import PatientCreate, RunCreate
from continuum.db import unit_of_work
from continuum.ingest.models import IngestMessage

DATA = Path(__file__).parent / "data"
IHE_MRNS = ("12345", "HO2009001", "789567")


def example(name: str) -> str:
    """An IHE PCD-01 example (docs/contracts.md §2b) with CR segment ends."""
    return (DATA / f"ihe_example_{name}.hl7").read_text().strip().replace("\n", "\r") + "\r"


def add_run(factory: sessionmaker[Session], mrn: str, started: datetime) -> int:
    with unit_of_work(factory) as db:
        patient_service.create_patient(
            db, CLI_ACTOR, PatientCreate(mrn=mrn, name=f"Test {mrn}", sex="unknown")
        )
        db.flush()
        data = RunCreate(mrn=mrn, support_type="pulmonary", mode="VV", started_at=started)
        run = run_service.start_run(db, CLI_ACTOR, data)
        db.flush()
        return run.id


def add_ihe_runs(factory: sessionmaker[Session]) -> dict[str, int]:
    start = datetime(2009, 1, 1, tzinfo=UTC)
    return {mrn: add_run(factory, mrn, start) for mrn in IHE_MRNS}


def count(factory: sessionmaker[Session], ref_like: str = "%", run_id: int | None = None) -> int:
    with factory() as db:
        stmt = (
            select(func.count())
            .select_from(Observation)
            .where(Observation.ingest_ref.like(ref_like))
        )
        if run_id is not None:
            stmt = stmt.where(Observation.run_id == run_id)
        return int(db.scalar(stmt) or 0)


def per_message(factory: sessionmaker[Session], ref_like: str) -> dict[str, int]:
    """Observations stored per message (ingest_ref) for refs matching ``ref_like``."""
    with factory() as db:
        stmt = (
            select(Observation.ingest_ref, func.count())
            .where(Observation.ingest_ref.like(ref_like))
            .group_by(Observation.ingest_ref)
        )
        return {ref: int(n) for ref, n in db.execute(stmt).all()}


def values(factory: sessionmaker[Session], run_id: int) -> dict[str, list[float]]:
    with factory() as db:
        rows = db.execute(
            select(Observation.code, Observation.value)
            .where(Observation.run_id == run_id, Observation.source != "manual")
            .order_by(Observation.code, Observation.time)
        ).all()
    out: dict[str, list[float]] = {}
    for code, value in rows:
        out.setdefault(code, []).append(value)
    return out


def log_rows(factory: sessionmaker[Session]) -> list[IngestMessage]:
    with factory() as db:
        return list(db.scalars(select(IngestMessage).order_by(IngestMessage.id)))
