"""The current decision record of a referral: find or open it; refuse edits once signed.

A referral has one record unless a signed deferral was reassessed
(``decision.reassess``); the newest record is the current one.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement
from sqlalchemy.orm import Session

from continuum.core import audit, concurrency
from continuum.core.roles import Actor
from continuum.db import utcnow
from continuum.errors import Conflict, FieldProblem, ValidationFailed
from continuum.initiation.contradictions import Contradiction
from continuum.initiation.models import InitiationDecision, Referral

RECORD_TYPE = "initiation_decision"


def decision_for(session: Session, referral: Referral) -> InitiationDecision:
    if referral.decision is None:
        decision = InitiationDecision(
            referral_id=referral.id,
            sequence=1,
            checklist={},
            score_inputs={},
            trial_inputs={},
            physiology={},
            plan={},
        )
        session.add(decision)
        concurrency.insert_or_conflict(
            session,
            lambda: Conflict(
                "a colleague opened this referral's decision record at the same moment: "
                "reload the page and save again (nothing of yours was saved)"
            ),
        )
        session.refresh(referral, ["decisions"])
    assert referral.decision is not None
    return referral.decision


def editable(
    session: Session, referral: Referral, actor: Actor, version: int | None
) -> InitiationDecision:
    """The decision record, if it may still change (unsigned, referral still open), claimed
    for this edit: ``version`` is the one the editor opened; an older one is refused
    (``StaleRecord``), so a colleague's newer save is never overwritten."""
    decision = decision_for(session, referral)
    if decision.signed:
        raise _signed()
    if referral.status in ("declined", "withdrawn"):
        raise Conflict(f"the referral is {referral.status}; its record is closed")
    concurrency.claim_version(
        session,
        decision,
        version,
        actor.staff_id,
        "the decision record",
        still_open=unsigned(),
        closed=_signed,
    )
    return decision


def unsigned() -> ColumnElement[bool]:
    return InitiationDecision.physician_signed_at.is_(
        None
    ) & InitiationDecision.perfusionist_signed_at.is_(None)


def _signed() -> Conflict:
    return Conflict("the decision record is signed and cannot change; add an amendment instead")


def touched(
    session: Session,
    actor: Actor,
    decision: InitiationDecision,
    section: str,
    patient_id: int,
    detail: dict[str, object] | None = None,
) -> None:
    decision.updated_at = utcnow()
    session.flush()
    audit.record(
        session,
        actor,
        "update",
        RECORD_TYPE,
        decision.id,
        patient_id,
        {"section": section, **(detail or {})},
    )


def require_reasons(found: list[Contradiction], reasons: dict[str, str | None]) -> None:
    """Each contradiction must be explained in its reason field; otherwise refuse."""
    problems = [
        FieldProblem(c.field, f"{c.message}: record the reason to keep this", reasons.get(c.field))
        for c in found
        if len((reasons.get(c.field) or "").strip()) < 3
    ]
    if problems:
        raise ValidationFailed(problems)
