"""The programme's clock: times typed into a form (a local ``datetime-local`` value) as
aware datetimes, and stored UTC times as people read them (one zone, one format).

Pure: used by the web layer's pages and form parsing and by domains' form readers alike."""

from __future__ import annotations

import re
from datetime import UTC, datetime
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


# One clock and one format wherever a person reads a time: pages, printed sheets, exports
# shown to people. Stored times are UTC; they are shown in the programme's zone
# (CONTINUUM_TIMEZONE), which the page names once, in its footer.
FORMAT = "%Y-%m-%d %H:%M"
FORMAT_SECONDS = "%Y-%m-%d %H:%M:%S"
FORMAT_TIME = "%H:%M"


def as_datetime(value: datetime | str | None) -> datetime | None:
    """A stored time (aware datetime, or ISO text as the JSON views carry it) as an aware
    datetime; text or a datetime without an offset is read as UTC. Not a time: None."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def shown(value: datetime | str | None, zone: ZoneInfo, fmt: str = FORMAT) -> str:
    """The time as people read it: in the programme's zone, in the one format; '' if none
    (text that is not a time is shown as it is, never hidden)."""
    dt = as_datetime(value)
    if dt is None:
        return value if isinstance(value, str) else ""
    return dt.astimezone(zone).strftime(fmt)


ISO_TIME = re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d(?::\d\d(?:\.\d+)?)?(?:Z|[+-]\d\d:\d\d)?")


def times_in(text: str, zone: ZoneInfo) -> str:
    """A message with the ISO times a service wrote into it (UTC) shown in the zone:
    'is before the run started (2026-12-01T22:47:00+00:00)' → '… (2026-12-01 17:47)'."""
    return ISO_TIME.sub(lambda m: shown(m.group(0), zone), str(text))


def zone_name(zone: ZoneInfo, at: datetime) -> str:
    """The zone as the footer names it: 'America/New_York (EST, UTC−05:00)'."""
    if zone.key == "UTC":
        return "UTC"
    local = at.astimezone(zone)
    offset = local.strftime("%z")
    sign = "−" if offset.startswith("-") else "+"
    return f"{zone.key} ({local.tzname()}, UTC{sign}{offset[1:3]}:{offset[3:5]})"
