"""Contradictions in a decision record that need a recorded reason before they are kept.

Pure. Each names the form field whose text must explain it, so the refusal can say
exactly what to write where.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from continuum import support_configuration
from continuum.initiation.modality_rules import Physiology

CARDIAC_SCORES = ("save",)
PULMONARY_SCORES = ("resp", "preserve", "murray")


@dataclass(frozen=True)
class Contradiction:
    code: str
    field: str  # the reason field that must be filled
    message: str


def in_scores(support: str, entered: Iterable[str]) -> list[Contradiction]:
    entered = set(entered)
    out: list[Contradiction] = []
    if support == "pulmonary" and entered & set(CARDIAC_SCORES):
        out.append(
            Contradiction(
                "save_for_pulmonary",
                "score_reason",
                "SAVE was derived for VA ECMO in cardiogenic shock; this is a pulmonary case",
            )
        )
    if support in ("cardiac", "ecpr") and entered & {"resp", "preserve"}:
        out.append(
            Contradiction(
                "respiratory_score_for_cardiac",
                "score_reason",
                f"RESP/PRESERVE were derived for respiratory ECMO; this is a {support} case",
            )
        )
    return out


def in_modality(p: Physiology, recommended: str | None, chosen: str | None) -> list[Contradiction]:
    if chosen is None:
        return []
    out: list[Contradiction] = []
    chosen_cfg = support_configuration.find(chosen)
    no_arterial = chosen_cfg is not None and not chosen_cfg.arterial_return
    if no_arterial and (p.cardiogenic_shock or p.cardiac_arrest):
        out.append(
            Contradiction(
                "venous_return_in_shock",
                "choice_reason",
                f"{chosen} chosen although cardiogenic shock / arrest is recorded (no ECMO "
                "return to a systemic artery: no support of the systemic circulation)",
            )
        )
    if recommended is not None and chosen != recommended:
        out.append(
            Contradiction(
                "choice_differs",
                "choice_reason",
                f"the team chose {chosen}; the rules recommend {recommended}",
            )
        )
    return out


def in_decision(outcome: str | None, absolute_checked: list[str]) -> list[Contradiction]:
    if outcome == "accept" and absolute_checked:
        return [
            Contradiction(
                "accepted_with_absolute_contraindication",
                "override_reason",
                "accepted although absolute contraindication(s) are ticked: "
                + ", ".join(absolute_checked),
            )
        ]
    return []


def in_signoff(physician: bool, perfusionist: bool) -> list[Contradiction]:
    pairs = (("responsible physician", physician), ("perfusionist", perfusionist))
    missing = [who for who, done in pairs if not done]
    if not missing:
        return []
    return [
        Contradiction(
            "missing_signoff",
            "missing_signoff_reason",
            "starting without the sign-off of the " + " and the ".join(missing),
        )
    ]
