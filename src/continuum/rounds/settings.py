"""Rounds conventions a programme may change, as a settings group: the local hours at which
the day and the night shift start. A new circuit check defaults its shift from the clock
with them (``shift_at``); the perfusionist can still choose another."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from continuum.core import settings_service
from continuum.core.roles import Permission
from continuum.core.settings_service import Setting, SettingGroup

GROUP = "shifts"
CONVENTION = (
    "[U] local convention: a 12-hour shift pattern changing at 07:00 and 19:00 "
    "(docs/clinical/reference.md §10.1); set the hours your unit hands over"
)

SETTINGS = SettingGroup(
    name=GROUP,
    title="Shifts",
    description=(
        "The local hours at which the day and the night shift start. A new circuit check "
        "defaults its shift from the clock with them."
    ),
    change=Permission.MANAGE_CLINICAL_SETTINGS,
    view=(Permission.VIEW_CLINICAL,),
    settings=(
        Setting("day_shift_starts", "Day shift starts at", 7, 0, 23, "h", CONVENTION, "integer"),
        Setting(
            "night_shift_starts", "Night shift starts at", 19, 0, 23, "h", CONVENTION, "integer"
        ),
    ),
    after_save="New values apply the next time a circuit check is opened.",
    order=65,
)


def shift_of(local: datetime, day_starts: int, night_starts: int) -> str:
    """'day' or 'night' for a local wall-clock time (pure). Equal hours: always day."""
    hour = local.hour
    if day_starts == night_starts:
        return "day"
    if day_starts < night_starts:
        return "day" if day_starts <= hour < night_starts else "night"
    return "night" if night_starts <= hour < day_starts else "day"


def shift_at(session: Session, now: datetime, zone: ZoneInfo) -> str:
    """The shift in progress at ``now`` (aware), by the programme's shift hours."""
    values = settings_service.values(session, GROUP)
    return shift_of(
        now.astimezone(zone), int(values["day_shift_starts"]), int(values["night_shift_starts"])
    )
