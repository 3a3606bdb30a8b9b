"""Times typed into a form (a local ``datetime-local`` value) as aware datetimes.

Pure: used by the web layer's form parsing and by domains' form readers alike."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from continuum.errors import FieldProblem, ValidationFailed


def aware(value: str, zone: ZoneInfo, field: str) -> datetime:
    """ISO date-time text → aware datetime; without an offset it is a time in ``zone``.
    Not a date-time: ValidationFailed naming ``field`` and the value."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValidationFailed(
            [FieldProblem(field, f"'{value}' is not a date and time", value)]
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=zone)
