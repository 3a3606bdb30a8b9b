"""Small helpers shared by the weaning services."""

from __future__ import annotations

from datetime import datetime

from continuum.core.run_record import Run
from continuum.errors import Conflict, ValidationFailed


def require_open(run: Run) -> None:
    if run.status == "ended":
        raise Conflict(f"run {run.id} has ended; its weaning record can be read, not extended")


def not_before(at: datetime, earliest: datetime, field: str, what: str) -> None:
    if at < earliest:
        raise ValidationFailed(f"{at.isoformat()} is before {what} ({earliest.isoformat()})", field)
