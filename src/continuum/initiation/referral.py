"""Referrals: record one (for a new or an existing patient), list them, move their status."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import case, select
from sqlalchemy.orm import Session

from continuum.core import audit, patient_service
from continuum.core.clinical_event import record_event, status_text
from continuum.core.people import Patient
from continuum.core.roles import Actor, Permission
from continuum.db import utcnow
from continuum.errors import Conflict, FieldProblem, NotFound, ValidationFailed
from continuum.initiation.models import InitiationAmendment, Referral, ReferralStatusChange
from continuum.initiation.record import decision_for
from continuum.initiation.schemas import ConfirmMrnIn, ReferralCreate, StatusChange

STATUS_LABELS = {
    "new": "new",
    "under_assessment": "under assessment",
    "accepted": "accepted",
    "declined": "declined",
    "deferred": "deferred",
    "withdrawn": "withdrawn",
}
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "new": ("under_assessment", "declined", "deferred", "withdrawn"),
    "under_assessment": ("accepted", "declined", "deferred", "withdrawn"),
    "deferred": ("under_assessment", "declined", "withdrawn"),
    "accepted": ("withdrawn",),
    "declined": (),
    "withdrawn": (),
}
OPEN = ("new", "under_assessment", "deferred")


def create_referral(session: Session, actor: Actor, data: ReferralCreate) -> Referral:
    actor.require(Permission.MANAGE_REFERRAL)
    patient = _patient(session, actor, data)
    at = data.referred_at or utcnow()
    referral = Referral(
        patient_id=patient.id,
        referring_hospital=data.referring_hospital,
        referring_clinician=data.referring_clinician,
        contact=data.contact,
        referred_at=at,
        support_type=data.support_type,
        urgency=data.urgency,
        clinical_picture=data.clinical_picture,
        status="new",
        created_by=actor.staff_id,
    )
    session.add(referral)
    session.flush()
    session.add(
        ReferralStatusChange(
            referral_id=referral.id,
            to_status="new",
            at=at,
            changed_by=actor.staff_id,
            reason="referral received",
        )
    )
    audit.record(
        session,
        actor,
        "create",
        "referral",
        referral.id,
        patient.id,
        {"support_type": data.support_type, "hospital": data.referring_hospital},
    )
    record_event(
        session,
        actor,
        "referral.received",
        at,
        f"Referred for {data.support_type} ECMO by {data.referring_hospital}",
        ("referral", referral.id),
        patient_id=patient.id,
    )
    return referral


def _patient(session: Session, actor: Actor, data: ReferralCreate) -> Patient:
    given = [x is not None for x in (data.patient_id, data.new_patient, data.new_outside_patient)]
    if sum(given) != 1:
        raise ValidationFailed(
            [
                FieldProblem(
                    "patient_id",
                    "pick an existing patient, or enter a new one with an MRN, or an outside "
                    "patient without one (exactly one)",
                )
            ]
        )
    if data.new_patient is not None:
        return patient_service.create_patient(session, actor, data.new_patient)
    if data.new_outside_patient is not None:
        return patient_service.create_with_temporary_mrn(session, actor, data.new_outside_patient)
    assert data.patient_id is not None
    return patient_service.get_patient(session, actor, data.patient_id)


def get_referral(session: Session, actor: Actor, referral_id: int) -> Referral:
    actor.require(Permission.VIEW_CLINICAL)
    referral = session.get(Referral, referral_id)
    if referral is None:
        raise NotFound(f"referral {referral_id} not found")
    return referral


def list_referrals(session: Session, actor: Actor, limit: int = 300) -> list[Referral]:
    """Open referrals first (emergency, then urgent, then routine; newest first), then closed."""
    actor.require(Permission.VIEW_CLINICAL)
    is_open = case((Referral.status.in_(OPEN), 0), else_=1)
    urgency = case((Referral.urgency == "emergency", 0), (Referral.urgency == "urgent", 1), else_=2)
    stmt = (
        select(Referral)
        .order_by(is_open, urgency, Referral.referred_at.desc(), Referral.id.desc())
        .limit(limit)
    )
    return list(session.scalars(stmt))


def change_status(
    session: Session, actor: Actor, referral: Referral, data: StatusChange, system: bool = False
) -> ReferralStatusChange:
    """Move a referral along its allowed transitions; every change is kept with its reason."""
    actor.require(Permission.MANAGE_REFERRAL)
    allowed = TRANSITIONS[referral.status]
    if data.status not in allowed:
        shown = ", ".join(STATUS_LABELS[s] for s in allowed) or "none (closed)"
        raise ValidationFailed(
            [
                FieldProblem(
                    "status",
                    f"a {STATUS_LABELS[referral.status]} referral can move to: {shown}",
                    data.status,
                )
            ]
        )
    if (
        not system
        and (referral.status, data.status) == ("deferred", "under_assessment")
        and referral.decision is not None
        and referral.decision.signed
    ):
        raise Conflict(
            "the deferral is signed: reassess the referral (say what changed) to open a new "
            "decision record"
        )
    if data.status == "accepted" and not system and not _accepted(referral):
        raise Conflict("record the decision to accept (decision record) before marking accepted")
    if data.status in ("declined", "deferred", "withdrawn") and not (data.reason or "").strip():
        raise ValidationFailed(
            [
                FieldProblem(
                    "reason", f"say why the referral is {STATUS_LABELS[data.status]}", data.reason
                )
            ]
        )
    return _move(session, actor, referral, data.status, data.reason)


def _accepted(referral: Referral) -> bool:
    return referral.decision is not None and referral.decision.outcome == "accept"


def _move(
    session: Session, actor: Actor, referral: Referral, status: str, reason: str | None
) -> ReferralStatusChange:
    row = ReferralStatusChange(
        referral_id=referral.id,
        from_status=referral.status,
        to_status=status,
        reason=reason,
        changed_by=actor.staff_id,
    )
    old, referral.status = referral.status, status
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor,
        "update",
        "referral",
        referral.id,
        referral.patient_id,
        {"from": old, "to": status, "reason": reason},
    )
    decision = referral.decision
    record_event(
        session,
        actor,
        "referral.status_changed",
        row.at,
        status_text(old, status, reason),
        ("referral", referral.id),
        patient_id=referral.patient_id,
        run_id=decision.run_id if decision is not None else None,
        details={"from": old, "to": status},
    )
    session.expire(referral, ["changes"])
    return row


def set_status_by_decision(
    session: Session, actor: Actor, referral: Referral, status: str, reason: str
) -> None:
    """The decision record moves the referral (decline → declined, run start → accepted)."""
    if referral.status != status:
        _move(session, actor, referral, status, reason)


def age_text(referral: Referral, now: datetime) -> str:
    minutes = int((now - referral.referred_at).total_seconds() // 60)
    if minutes < 60:
        return f"{minutes} min"
    if minutes < 48 * 60:
        return f"{minutes // 60} h {minutes % 60:02d} min"
    return f"{minutes // 1440} d {minutes % 1440 // 60} h"


def confirm_mrn(session: Session, actor: Actor, referral: Referral, data: ConfirmMrnIn) -> None:
    """The hospital MRN replaces the temporary identifier the referral was made under (an
    audited amendment in core); the record carries an amendment note saying so, without
    the identifiers (they show only to roles that may see them)."""
    actor.require(Permission.MANAGE_REFERRAL)
    patient_service.confirm_mrn(session, actor, referral.patient_id, data.mrn, data.reason)
    decision = decision_for(session, referral)
    session.add(
        InitiationAmendment(
            decision_id=decision.id,
            note=f"Temporary identifier replaced by the hospital MRN: {data.reason}",
            by=actor.staff_id,
        )
    )
    session.flush()
    session.expire(decision, ["amendments"])
