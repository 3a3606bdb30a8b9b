"""The windows of the ELSO-shaped run record, as a settings group (``registry``): which
values fill the pre-ECLS and the 24 h-on-support snapshots, and pump flow at 4 h and 24 h.
ELSO publishes no window we could confirm, so each is a [U] programme setting, shown on the
run's registry page beside the values it chose (docs/registry.md)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from continuum.core import settings_service
from continuum.core.roles import Permission
from continuum.core.settings_service import Setting, SettingGroup

GROUP = "registry"

SETTINGS = SettingGroup(
    name=GROUP,
    title="Registry record",
    description=(
        "Which charted values fill the ELSO-shaped run record: the pre-ECLS values come from "
        "the initiation decision taken within the pre-ECLS window before time on; the 24 h "
        "snapshot takes, for each measure, the value closest to 24 h on support within the "
        "tolerance; pump flow at 4 h likewise."
    ),
    change=Permission.MANAGE_CLINICAL_SETTINGS,
    view=(Permission.VIEW_CLINICAL,),
    settings=(
        Setting(
            "pre_ecls_window_h",
            "Pre-ECLS window: hours before time on within which the initiation values count",
            6,
            0.5,
            72,
            "h",
            "[U] local convention; the registry asks for the values 'before ECLS' without a "
            "window we could confirm (docs/registry.md)",
        ),
        Setting(
            "snapshot_24h_at_h",
            "Hours on support at which the on-support snapshot is taken",
            24,
            12,
            48,
            "h",
            "[U] the registry's '24 h' values (docs/registry.md)",
        ),
        Setting(
            "snapshot_24h_tolerance_h",
            "Tolerance either side of the 24 h snapshot time",
            4,
            0.5,
            12,
            "h",
            "[U] local convention: closest value within the tolerance",
        ),
        Setting(
            "flow_4h_tolerance_h",
            "Tolerance either side of 4 h for pump flow at 4 h",
            1,
            0.25,
            4,
            "h",
            "[U] local convention: closest value within the tolerance",
        ),
    ),
    after_save="New windows apply the next time a run's registry record is opened or exported.",
    order=80,
)


@dataclass(frozen=True)
class Windows:
    pre_ecls_window_h: float
    snapshot_24h_at_h: float
    snapshot_24h_tolerance_h: float
    flow_4h_tolerance_h: float

    def describe(self) -> list[tuple[str, str]]:
        """(label, value) of each window, as the page shows them."""
        by_key = SETTINGS.by_key
        return [
            (by_key[k].label, f"{getattr(self, k):g} h [U]")
            for k in (
                "pre_ecls_window_h",
                "snapshot_24h_at_h",
                "snapshot_24h_tolerance_h",
                "flow_4h_tolerance_h",
            )
        ]


def in_force(session: Session) -> Windows:
    v = settings_service.values(session, GROUP)
    return Windows(
        pre_ecls_window_h=float(v["pre_ecls_window_h"]),
        snapshot_24h_at_h=float(v["snapshot_24h_at_h"]),
        snapshot_24h_tolerance_h=float(v["snapshot_24h_tolerance_h"]),
        flow_4h_tolerance_h=float(v["flow_4h_tolerance_h"]),
    )
