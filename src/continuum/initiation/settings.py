"""Initiation cut-offs a programme may change (ECPR selection) as a settings group, stored
as ``programme_setting`` ``initiation.<name>``; the published default applies where none
is set. ``overrides`` hands the pure trial criteria the programme's values."""

from __future__ import annotations

from sqlalchemy.orm import Session

from continuum.core import settings_service
from continuum.core.roles import Permission
from continuum.core.settings_service import Setting, SettingGroup
from continuum.initiation.trial_criteria import ECPR_THRESHOLDS

GROUP = "initiation"

SETTINGS = SettingGroup(
    name=GROUP,
    title="ECPR cut-offs",
    description=(
        "Selection cut-offs of the ECPR trial criteria shown on a referral (age, no-flow, "
        "CPR duration, expected arrest-to-flow time, EtCO2)."
    ),
    change=Permission.MANAGE_CLINICAL_SETTINGS,
    view=(Permission.VIEW_CLINICAL,),
    settings=tuple(
        Setting(name, t.label, t.default, t.low, t.high, t.unit, t.source)
        for name, t in ECPR_THRESHOLDS.items()
    ),
    after_save="New values apply the next time a referral's candidacy is shown.",
    order=30,
)


def overrides(session: Session) -> dict[str, float]:
    """The cut-offs the programme set (name → value); the rest keep their default."""
    return {k: float(v) for k, v in settings_service.overrides(session, GROUP).items()}
