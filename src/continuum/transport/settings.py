"""Transport settings: the safety factor the checklist applies to the expected duration and
the defaults its form starts from. None has a published value: all [U], a programme's own."""

from __future__ import annotations

from continuum.core.roles import Permission
from continuum.core.settings_service import Setting, SettingGroup

GROUP = "transport"
U = "no published value; the programme's own choice [U] (docs/clinical/reference.md §8.1)"

SETTINGS = SettingGroup(
    name=GROUP,
    title="Transport checklist",
    description=(
        "The pre-departure checklist passes oxygen and batteries only when they last the "
        "expected duration of the trip times the safety factor. The other values are what "
        "the checklist form starts from."
    ),
    change=Permission.MANAGE_CLINICAL_SETTINGS,
    view=(Permission.VIEW_CLINICAL,),
    settings=(
        Setting("safety_factor", "Safety factor on the expected duration", 2.0, 1.0, 5.0, "×", U),
        Setting(
            "cylinder_volume_l",
            "Oxygen cylinder water volume (form default)",
            10.0,
            0.5,
            50.0,
            "L",
            U,
        ),
        Setting(
            "reserve_bar", "Cylinder reserve pressure (not counted)", 0.0, 0.0, 100.0, "bar", U
        ),
        Setting(
            "ventilator_l_min",
            "Transport ventilator O2 use (form default)",
            0.0,
            0.0,
            40.0,
            "L/min",
            U,
        ),
    ),
    order=85,
    after_save="Applies to checklists signed from now on; signed checklists keep their numbers.",
)
