"""Programme metrics conventions a programme may change: age-group boundaries and the
anticoagulation ranges used for time in therapeutic range when a run has no target of its
own (docs/clinical/reference.md §5.1, §5.4, §7.1)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from continuum.core import settings_service
from continuum.core.roles import Permission
from continuum.core.settings_service import Setting, SettingGroup
from continuum.quality.metrics_calc import AgeBounds

GROUP = "quality_metrics"
AGE_SOURCE = (
    "[S] ELSO Registry International Report 2022 age groups: neonates 0–28 days, children "
    "29 days–17 years, adults ≥ 18 years (docs/clinical/reference.md §7.1)"
)
ANTI_XA_SOURCE = "[S] anti-Xa 0.3–0.7 IU/mL; many centres 0.3–0.5 (docs/clinical/reference.md §5.1)"
APTT_SOURCE = "[U] a local aPTT range; set your laboratory's (docs/clinical/reference.md §5.1)"
GAP_SOURCE = (
    "[U] ECMO labs are drawn at least daily; longer gaps are not interpolated "
    "(docs/clinical/reference.md §5.4)"
)

SETTINGS = SettingGroup(
    name=GROUP,
    title="Programme metrics",
    description=(
        "Age groups for the programme metrics, and the anticoagulation ranges the time in "
        "therapeutic range uses for a run that has no target of its own."
    ),
    change=Permission.MANAGE_CLINICAL_SETTINGS,
    view=(Permission.VIEW_CLINICAL,),
    settings=(
        Setting("neonatal_days", "Neonatal up to (age)", 28, 0, 365, "days", AGE_SOURCE, "integer"),
        Setting("adult_years", "Adult from (age)", 18, 12, 25, "years", AGE_SOURCE, "integer"),
        Setting("anti_xa_low", "Anti-Xa range, low", 0.3, 0.05, 1.5, "IU/mL", ANTI_XA_SOURCE),
        Setting("anti_xa_high", "Anti-Xa range, high", 0.5, 0.05, 1.5, "IU/mL", ANTI_XA_SOURCE),
        Setting("aptt_low", "aPTT range, low", 60, 20, 200, "s", APTT_SOURCE),
        Setting("aptt_high", "aPTT range, high", 90, 20, 200, "s", APTT_SOURCE),
        Setting("ttr_max_gap_h", "Longest gap interpolated", 24, 4, 72, "h", GAP_SOURCE),
    ),
    after_save="New values apply the next time the metrics are opened.",
    order=70,
    ordered=(("anti_xa_low", "anti_xa_high"), ("aptt_low", "aptt_high")),
)


def age_bounds(session: Session) -> AgeBounds:
    values = settings_service.values(session, GROUP)
    return AgeBounds(int(values["neonatal_days"]), int(values["adult_years"]))


def default_ranges(session: Session) -> dict[str, tuple[float, float]]:
    v = settings_service.values(session, GROUP)
    return {
        "anti_xa": (float(v["anti_xa_low"]), float(v["anti_xa_high"])),
        "aptt": (float(v["aptt_low"]), float(v["aptt_high"])),
    }


def max_gap_hours(session: Session) -> float:
    return float(settings_service.values(session, GROUP)["ttr_max_gap_h"])
