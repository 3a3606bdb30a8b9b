"""Demo data: evaluate every demo run over its whole record, so the demo programme shows
the alerts its simulated faults raise (past episodes cleared, current ones open)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from continuum.alerts.service import evaluate_run
from continuum.core.roles import Actor
from continuum.core.run_record import Run


def add_demo_data(db: Session, staff: dict[str, Actor], now: datetime) -> None:
    for run_id in db.scalars(select(Run.id).order_by(Run.id)):
        evaluate_run(db, run_id, full=True)
