"""The windows that pick the circuit values shown before and after an ambulation session,
as a settings group (``ambulation``). No published source gives them: [U] defaults a
programme may change (docs/ambulation.md)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from continuum.core import settings_service
from continuum.core.roles import Permission
from continuum.core.settings_service import Setting, SettingGroup

GROUP = "ambulation"

SETTINGS = SettingGroup(
    name=GROUP,
    title="Ambulation sessions",
    description=(
        "Which stored values an ambulation or physiotherapy session shows: 'before' is the "
        "newest value within the window before the session starts, 'during' the lowest and "
        "highest between its start and end, 'after' the newest value within the window "
        "after it ends."
    ),
    change=Permission.MANAGE_CLINICAL_SETTINGS,
    view=(Permission.VIEW_CLINICAL,),
    settings=(
        Setting(
            "before_window_min",
            "Window before the session start for the 'before' values",
            30,
            5,
            240,
            "min",
            "[U] local convention; no published window (docs/ambulation.md)",
            kind="integer",
        ),
        Setting(
            "after_window_min",
            "Window after the session end for the 'after' values",
            30,
            5,
            240,
            "min",
            "[U] local convention; no published window (docs/ambulation.md)",
            kind="integer",
        ),
    ),
    after_save="New windows apply the next time a session page is opened.",
    order=85,
)


@dataclass(frozen=True)
class Windows:
    before_min: int
    after_min: int


def in_force(session: Session) -> Windows:
    v = settings_service.values(session, GROUP)
    return Windows(int(v["before_window_min"]), int(v["after_window_min"]))
