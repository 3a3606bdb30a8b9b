"""The programme's simulation-training settings (``/settings/training``)."""

from __future__ import annotations

from continuum.core.roles import Permission
from continuum.core.settings_service import Setting, SettingGroup

GROUP = "training"
_U = "[U] simulation-training convention, no published source (docs/training.md)"

SETTINGS = SettingGroup(
    name=GROUP,
    title="Simulation training",
    description=(
        "How a live simulation session streams: the fastest acceleration an instructor may "
        "choose (1 = real time), how many simulated minutes an injected fault takes to "
        "develop, how many hours of simulated history precede the live part (surveillance "
        "needs its early-hours baselines) and how long a session's simulated run lasts."
    ),
    change=Permission.MANAGE_CLINICAL_SETTINGS,
    view=(Permission.VIEW_CLINICAL,),
    settings=(
        Setting("max_acceleration", "Fastest acceleration", 60, 1, 600, "× real time", _U),
        Setting("fault_ramp_min", "A fault develops over", 30, 5, 600, "min", _U, "integer"),
        Setting("lead_in_h", "Simulated history before the start", 6, 1, 24, "h", _U, "integer"),
        Setting("session_h", "Simulated run length", 24, 2, 72, "h", _U, "integer"),
    ),
    after_save="New training sessions use the new values; running ones keep theirs.",
    order=210,
)
