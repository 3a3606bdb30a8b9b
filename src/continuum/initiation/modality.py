"""Modality selection: the rules' recommendation, the team's choice and, if they differ or
contradict the physiology, the recorded reason."""

from __future__ import annotations

from sqlalchemy.orm import Session

from continuum.core.roles import Actor, Permission
from continuum.initiation import contradictions
from continuum.initiation.modality_rules import Physiology, Recommendation, recommend
from continuum.initiation.models import InitiationDecision, Referral
from continuum.initiation.record import editable, require_reasons, touched
from continuum.initiation.schemas import ModalityIn


def physiology_of(decision: InitiationDecision) -> Physiology:
    return Physiology(**(decision.physiology or {}))


def recommendation(decision: InitiationDecision) -> Recommendation:
    return recommend(physiology_of(decision))


def save_modality(
    session: Session, actor: Actor, referral: Referral, data: ModalityIn
) -> InitiationDecision:
    actor.require(Permission.MANAGE_REFERRAL)
    decision = editable(session, referral, actor, data.version)
    physiology = Physiology(**data.physiology.model_dump())
    advice = recommend(physiology)
    found = contradictions.in_modality(physiology, advice.mode, data.chosen_mode)
    require_reasons(found, {"choice_reason": data.choice_reason})
    decision.physiology = data.physiology.model_dump()
    decision.recommended_mode = advice.mode
    decision.chosen_mode = data.chosen_mode
    decision.choice_reason = data.choice_reason
    touched(
        session,
        actor,
        decision,
        "modality",
        referral.patient_id,
        {
            "recommended": advice.mode,
            "chosen": data.chosen_mode,
            "contradictions": [c.code for c in found],
        },
    )
    return decision


def planned_mode(decision: InitiationDecision) -> str | None:
    return decision.chosen_mode or decision.recommended_mode
