"""The programme's participation policy, as a settings group (``participation_policy``):
which steps of the care pathway require perfusion input, the share of a step's records that
counts as meeting the policy, and below which count a share is shown as "k of n" only.

The defaults follow the five recommendations of the letter (Butt et al., J Extra Corpor
Technol 2025;57:287–289; docs/participation-map.md): perfusion in initiation decisions and
configuration planning (1), daily rounds and therapeutic reviews (2), weaning assessments and
decannulation (3), M&M, audits and quality cycles (4), research design, data collection and
publication (5). A flag is an integer: 1 = perfusion input required, 0 = not required.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from continuum.core import settings_service
from continuum.core.roles import Permission
from continuum.core.settings_service import Setting, SettingGroup
from continuum.quality.participation_map_calc import STEPS

GROUP = "participation_policy"
LETTER = "Butt et al., J Extra Corpor Technol 2025;57:287–289 (docs/participation-map.md)"
_REC = {
    1: f"[P] recommendation 1 of the letter: initiation decisions and configuration planning; {LETTER}",  # noqa: E501
    2: f"[P] recommendation 2 of the letter: daily rounds and therapeutic reviews; {LETTER}",
    3: f"[P] recommendation 3 of the letter: weaning assessments and decannulation; {LETTER}",
    4: f"[P] recommendation 4 of the letter: M&M meetings, audits and quality cycles; {LETTER}",
    5: f"[P] recommendation 5 of the letter: research design, data collection, publication; {LETTER}",  # noqa: E501
}
_OWN = {
    "cannulation": (
        1,
        "[U] not one of the letter's five recommendations: its current scope (perfusion sets "
        f"up the circuit at initiation); {LETTER}",
    ),
    "alerts": (
        1,
        "[U] our reading of recommendation 2 (circuit-related complications found early at "
        f"rounds and reviews): alerts are circuit findings; {LETTER}",
    ),
    "transport": (
        0,
        "[U] not one of the letter's five recommendations; the letter names retrieval and "
        f"ambulation as current roles; {LETTER}",
    ),
}


def _flag(key: str, label: str, recommendation: int | None) -> Setting:
    if key in _OWN:
        default, source = _OWN[key]
    else:
        default, source = 1, _REC[recommendation or 1]
    return Setting(
        f"require_{key}",
        f"{label}: perfusion input required",
        default,
        0,
        1,
        "",
        source,
        "flag",
    )


SETTINGS = SettingGroup(
    name=GROUP,
    title="Participation policy",
    description=(
        "Which steps of the ECMO care pathway require perfusion input, drawn as the 'target' "
        "panel of the participation map (/quality/participation) and used for the "
        "coordinator's list of missing voices."
    ),
    change=Permission.MANAGE_CLINICAL_SETTINGS,
    view=(Permission.VIEW_CLINICAL,),
    settings=(
        *(_flag(s.key, s.label, s.recommendation) for s in STEPS),
        Setting(
            "target_share_pct",
            "Share of a step's records with perfusion input that meets the policy",
            90,
            50,
            100,
            "%",
            "[U] local standard; the demo's perfusion-at-rounds audit uses 90 % "
            "(docs/participation-map.md)",
        ),
        Setting(
            "min_n_for_percent",
            "Fewest records for which a share is also shown as a percentage",
            10,
            1,
            100,
            "records",
            "[U] below this a share reads 'k of n' with its interval, never a bare "
            "percentage (docs/participation-map.md)",
            "integer",
        ),
    ),
    after_save="New values apply the next time the participation map is opened.",
    order=72,
)


@dataclass(frozen=True)
class Policy:
    required: dict[str, bool]
    target_share_pct: float
    min_n_for_percent: int
    sources: dict[str, str]


def in_force(session: Session) -> Policy:
    values = settings_service.values(session, GROUP)
    return Policy(
        required={s.key: bool(int(values[f"require_{s.key}"])) for s in STEPS},
        target_share_pct=float(values["target_share_pct"]),
        min_n_for_percent=int(values["min_n_for_percent"]),
        sources={s.key: SETTINGS.by_key[f"require_{s.key}"].source for s in STEPS},
    )
