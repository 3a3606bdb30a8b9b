"""Helpers for alert tests: a fresh VV run on patient 2 and batches of observations."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from continuum.alerts.models import AlertEvent, CircuitAlert
from continuum.core import observation_service, run_service
from continuum.core.roles import Actor
from continuum.core.run_record import Run
from continuum.core.schemas import ObservationIn, RunCreate
from continuum.db import unit_of_work
from tests.seed import RUN_START

PHYSICIAN = Actor(staff_id=2, name="Test physician", role="physician")
NURSE = Actor(staff_id=3, name="Test nurse", role="nurse")
T0 = RUN_START + timedelta(hours=2)


def new_run(sessions: sessionmaker[Session]) -> int:
    """A fresh VV run for patient 2, started at RUN_START."""
    with unit_of_work(sessions) as db:
        run = run_service.start_run(
            db,
            PHYSICIAN,
            RunCreate(patient_id=2, support_type="pulmonary", mode="VV", started_at=RUN_START),
        )
        db.flush()
        return run.id


@pytest.fixture
def run_id(sessions: sessionmaker[Session]) -> int:
    return new_run(sessions)


def store(db: Session, run_id: int, at: datetime, **values: float) -> None:
    """One batch: the given codes at time ``at`` plus a blood-flow reading every minute
    for the 30 minutes that follow (so the evaluation grid reaches past the lab)."""
    items = [ObservationIn(code=c, value=v, time=at) for c, v in values.items()]
    items += [
        ObservationIn(code="blood_flow", value=4.5, time=at + timedelta(minutes=m))
        for m in range(31)
    ]
    run = db.get_one(Run, run_id)
    observation_service.record_observations(db, PHYSICIAN, run, items)


def alerts(db: Session, run_id: int) -> list[CircuitAlert]:
    stmt = select(CircuitAlert).where(CircuitAlert.run_id == run_id).order_by(CircuitAlert.id)
    return list(db.scalars(stmt))


def events(db: Session, alert_id: int) -> list[str]:
    stmt = select(AlertEvent.kind).where(AlertEvent.alert_id == alert_id).order_by(AlertEvent.id)
    return list(db.scalars(stmt))


def count(db: Session, model: type) -> int:
    return int(db.scalar(select(func.count()).select_from(model)) or 0)
