"""Small helpers shared by the weaning services."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from continuum.core.record import TimelineEvent
from continuum.core.roles import Actor
from continuum.core.run_record import Run
from continuum.errors import Conflict, ValidationFailed


def require_open(run: Run) -> None:
    if run.status == "ended":
        raise Conflict(f"run {run.id} has ended; its weaning record can be read, not extended")


def not_before(at: datetime, earliest: datetime, field: str, what: str) -> None:
    if at < earliest:
        raise ValidationFailed(f"{at.isoformat()} is before {what} ({earliest.isoformat()})", field)


def timeline(
    session: Session,
    actor: Actor,
    run: Run,
    at: datetime,
    summary: str,
    record: tuple[str, int],
    kind: str = "weaning_trial",
    details: dict[str, Any] | None = None,
) -> None:
    session.add(
        TimelineEvent(
            patient_id=run.patient_id,
            run_id=run.id,
            kind=kind,
            occurred_at=at,
            summary=summary,
            record_type=record[0],
            record_id=record[1],
            details=details,
            recorded_by=actor.staff_id,
        )
    )
