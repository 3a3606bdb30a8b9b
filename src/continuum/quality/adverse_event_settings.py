"""The adverse-event screen's thresholds, as a settings group (``quality_events``): how many
red-cell units within 24 hours make a transfusion a possible major bleed, and the plasma
free haemoglobin above which a haemolysis alert is pre-filled as severe rather than
moderate. Changed on /settings/quality_events by the quality or physician lead."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from continuum.core import settings_service
from continuum.core.roles import Permission
from continuum.core.settings_service import Setting, SettingGroup

GROUP = "quality_events"

SETTINGS = SettingGroup(
    name=GROUP,
    title="Adverse-event screen",
    description=(
        "What the daily list of possible adverse events counts as a possible event, and how "
        "a haemolysis alert is pre-filled. A record found by the screen is only offered for "
        "review: a person records it or sets it aside."
    ),
    change=Permission.MANAGE_CLINICAL_SETTINGS,
    view=(Permission.VIEW_CLINICAL,),
    settings=(
        Setting(
            "red_cell_units_24h",
            "Red-cell units within 24 h above which a transfusion is a possible major bleed",
            2,
            0,
            20,
            "units",
            "[U] local convention following the taxonomy's 'major bleeding, more than 2 units "
            "transfused' (docs/clinical/reference.md §7.1)",
            "integer",
        ),
        Setting(
            "pfhb_severe_mg_dl",
            "Plasma free haemoglobin above which haemolysis is pre-filled as severe",
            100,
            10,
            500,
            "mg/dL",
            "[U] local convention: pfHb spikes above 100 mg/dL accompanied pump-head clot "
            "(docs/clinical/reference.md §4.2)",
        ),
    ),
    after_save="New values apply the next time the list of possible events is opened.",
    order=70,
)


@dataclass(frozen=True)
class ScreenSettings:
    red_cell_units_24h: float
    pfhb_severe_mg_dl: float


def in_force(session: Session) -> ScreenSettings:
    values = settings_service.values(session, GROUP)
    return ScreenSettings(
        red_cell_units_24h=float(values["red_cell_units_24h"]),
        pfhb_severe_mg_dl=float(values["pfhb_severe_mg_dl"]),
    )
