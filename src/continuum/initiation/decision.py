"""The decision: who took part, accept / decline / defer with reasons, the two sign-offs
(responsible physician and perfusionist), amendments, reassessing a signed deferral, and
starting the planned run."""

from __future__ import annotations

from copy import deepcopy
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from continuum.core import audit, concurrency, participation_service, run_service, targets
from continuum.core import clinical_backfill as texts
from continuum.core.clinical_event import record_event
from continuum.core.people import Staff
from continuum.core.record import Participation
from continuum.core.roles import Actor, Permission
from continuum.core.run_record import Run
from continuum.core.schemas import CannulaCreate, ComponentCreate, ParticipantIn, RunCreate
from continuum.db import utcnow
from continuum.errors import Conflict, FieldProblem, Forbidden, ValidationFailed
from continuum.initiation import contradictions
from continuum.initiation.candidacy import checked_absolute
from continuum.initiation.configuration import plan_checks, unacknowledged
from continuum.initiation.modality import planned_mode
from continuum.initiation.models import InitiationAmendment, InitiationDecision, Referral
from continuum.initiation.record import RECORD_TYPE, decision_for, editable, require_reasons
from continuum.initiation.referral import STATUS_LABELS, change_status, set_status_by_decision
from continuum.initiation.schemas import (
    AmendmentIn,
    DecisionIn,
    SignIn,
    StartRunIn,
    StatusChange,
)
from continuum.physiology.cannula_catalogue import CANNULAE

OUTCOME_STATUS = {"decline": "declined", "defer": "deferred"}


def add_participant(
    session: Session, actor: Actor, referral: Referral, data: ParticipantIn
) -> Participation:
    decision = decision_for(session, referral)
    return participation_service.add_participant(
        session, actor, RECORD_TYPE, decision.id, data, run_id=decision.run_id
    )


def participants(
    session: Session, decision: InitiationDecision
) -> list[tuple[Participation, Staff]]:
    stmt = (
        select(Participation, Staff)
        .join(Staff, Staff.id == Participation.staff_id)
        .where(Participation.record_type == RECORD_TYPE, Participation.record_id == decision.id)
        .order_by(Participation.at)
    )
    return [(p, s) for p, s in session.execute(stmt)]


def record_decision(
    session: Session, actor: Actor, referral: Referral, data: DecisionIn
) -> InitiationDecision:
    actor.require(Permission.SIGN_DECISION)
    decision = editable(session, referral, actor, data.version)
    found = contradictions.in_decision(data.outcome, checked_absolute(decision))
    require_reasons(found, {"override_reason": data.override_reason})
    if data.outcome == "accept" and planned_mode(decision) is None:
        raise ValidationFailed("choose the mode (modality section) before accepting", "outcome")
    decision.outcome, decision.reasons = data.outcome, data.reasons
    decision.override_reason = data.override_reason if found else None
    decision.decided_at, decision.decided_by = utcnow(), actor.staff_id
    session.flush()
    if data.outcome in OUTCOME_STATUS:
        set_status_by_decision(session, actor, referral, OUTCOME_STATUS[data.outcome], data.reasons)
    elif referral.status == "new":
        set_status_by_decision(session, actor, referral, "under_assessment", "decision recorded")
    audit.record(
        session,
        actor,
        "update",
        RECORD_TYPE,
        decision.id,
        referral.patient_id,
        {"outcome": data.outcome, "contradictions": [c.code for c in found]},
    )
    record_event(
        session,
        actor,
        "decision.recorded",
        decision.decided_at,
        texts.decision_text(data.outcome, data.reasons),
        (RECORD_TYPE, decision.id),
        patient_id=referral.patient_id,
        run_id=decision.run_id,
        details={"outcome": data.outcome},
    )
    return decision


def sign(session: Session, actor: Actor, referral: Referral, data: SignIn) -> InitiationDecision:
    """One of the two sign-offs; each records who and when. The record is then frozen."""
    actor.require(Permission.SIGN_DECISION)
    as_role = data.as_role or actor.signing_role
    if actor.signing_role != as_role:
        raise Forbidden(f"only a {as_role} can sign as the {as_role}")
    decision = decision_for(session, referral)
    if decision.outcome is None:
        raise ValidationFailed(
            "record the decision (accept / decline / defer) before signing", "outcome"
        )
    if decision.outcome == "accept":
        _require_acknowledged_warnings(referral, decision)
    _claim_signature(session, actor, decision, as_role, data.version)
    session.flush()
    if actor.staff_id is not None:
        participation_service.record_signature(
            session, actor, RECORD_TYPE, decision.id, decision.run_id, f"signed as {as_role}"
        )
    audit.record(
        session, actor, "sign", RECORD_TYPE, decision.id, referral.patient_id, {"as": as_role}
    )
    record_event(
        session,
        actor,
        "decision.signed",
        getattr(decision, f"{as_role}_signed_at") or utcnow(),
        f"Decision ({decision.outcome}) signed by the {as_role}",
        (RECORD_TYPE, decision.id),
        patient_id=referral.patient_id,
        run_id=decision.run_id,
        details={"as": as_role},
    )
    return decision


def _require_acknowledged_warnings(referral: Referral, decision: InitiationDecision) -> None:
    """An accepted plan is signed only when every warning of its checks (a cannula too
    small for the flow, flow above the membrane lung's rating) has a recorded reason."""
    plan = decision.plan or {}
    open_ = unacknowledged(plan_checks(referral, plan, planned_mode(decision)), plan)
    if open_:
        raise ValidationFailed(
            [
                FieldProblem(
                    "warning_reasons",
                    f"plan warning not acknowledged: “{w}” — record in the configuration plan "
                    "why the plan stands (or change it) before signing",
                    w,
                )
                for w in open_
            ]
        )


def _claim_signature(
    session: Session,
    actor: Actor,
    decision: InitiationDecision,
    as_role: str,
    version: int | None,
) -> None:
    """Sign atomically: ``UPDATE … WHERE <role>_signed_at IS NULL AND version = :v``. A
    second, racing signature is told who signed and when; a signature on a version older
    than the saved one is refused (the signer has not seen what they would sign)."""
    given = decision.version if version is None else version  # None: in-process caller
    signed_at = getattr(InitiationDecision, f"{as_role}_signed_at")
    if getattr(decision, f"{as_role}_signed_at") is None and decision.version == given:
        won = concurrency.transition(
            session,
            decision,
            signed_at.is_(None) & (InitiationDecision.version == given),
            {f"{as_role}_signed_at": utcnow(), f"{as_role}_signed_by": actor.staff_id},
        )
        if won:
            return
    at = getattr(decision, f"{as_role}_signed_at")
    if at is not None:
        by = concurrency.who(session, getattr(decision, f"{as_role}_signed_by"))
        raise concurrency.AlreadyDone(
            f"the {as_role} has already signed this decision: signed by {by} at "
            f"{concurrency.stamp(at)}",
            by,
            at,
        )
    raise concurrency.StaleRecord(
        "the decision record",
        given,
        decision.version,
        concurrency.who(session, decision.updated_by),
        decision.updated_at,
        decision,
    )


def amend(
    session: Session, actor: Actor, referral: Referral, data: AmendmentIn
) -> InitiationAmendment:
    actor.require(Permission.MANAGE_REFERRAL)
    decision = decision_for(session, referral)
    row = InitiationAmendment(decision_id=decision.id, note=data.note, by=actor.staff_id)
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor,
        "create",
        "initiation_amendment",
        row.id,
        referral.patient_id,
        {"decision": decision.id},
    )
    record_event(
        session,
        actor,
        "decision.amended",
        None,
        f"Decision amended: {data.note}",
        (RECORD_TYPE, decision.id),
        patient_id=referral.patient_id,
        run_id=decision.run_id,
    )
    session.expire(decision, ["amendments"])
    return row


# What a reassessment carries over from the deferred record (the clinicians then update
# what changed); outcome, reasons, sign-offs, participants and the run start empty.
CARRIED_OVER = (
    "checklist",
    "checklist_note",
    "score_inputs",
    "trial_inputs",
    "score_reason",
    "physiology",
    "recommended_mode",
    "chosen_mode",
    "choice_reason",
    "plan",
    "plan_by",
    "plan_at",
)


def reassess(session: Session, actor: Actor, referral: Referral, reason: str) -> InitiationDecision:
    """Reopen a signed deferral: a new decision record for the same referral, pre-filled
    from the deferred one, unsigned and without an outcome; the referral goes back to
    under assessment. The deferred record stays as it was signed (history)."""
    actor.require(Permission.SIGN_DECISION)
    text = (reason or "").strip()
    if len(text) < 3:
        raise ValidationFailed(
            [FieldProblem("reason", "say why the referral is reassessed (what changed)", reason)]
        )
    if referral.status != "deferred":
        raise Conflict(
            f"only a deferred referral can be reassessed; this one is "
            f"{STATUS_LABELS[referral.status]}"
        )
    previous = referral.decision
    if previous is None or not previous.signed:
        raise Conflict(
            "the deferral is not signed yet: its record can still be edited — update it, "
            "or sign it before reassessing"
        )
    change = StatusChange(status="under_assessment", reason=text)
    moved = change_status(session, actor, referral, change, system=True)
    fresh = InitiationDecision(
        referral_id=referral.id,
        sequence=previous.sequence + 1,
        supersedes_id=previous.id,
        reassessment_reason=text,
        updated_at=utcnow(),
        **{name: deepcopy(getattr(previous, name)) for name in CARRIED_OVER},
    )
    session.add(fresh)
    concurrency.insert_or_conflict(
        session,
        lambda: Conflict(
            "a colleague reassessed this referral at the same moment: its new decision record "
            "is open — reload the page"
        ),
    )
    session.refresh(referral, ["decisions"])
    audit.record(
        session,
        actor,
        "reassess",
        RECORD_TYPE,
        fresh.id,
        referral.patient_id,
        {"supersedes": previous.id, "sequence": fresh.sequence, "reason": text},
    )
    record_event(
        session,
        actor,
        "decision.reassessed",
        moved.at,
        texts.reassessed_text(fresh.sequence, text),
        (RECORD_TYPE, fresh.id),
        patient_id=referral.patient_id,
        details={"supersedes": previous.id, "sequence": fresh.sequence},
    )
    return fresh


def start_run(session: Session, actor: Actor, referral: Referral, data: StartRunIn) -> Run:
    """Create the run with the planned mode, cannulas, membrane lung and targets."""
    actor.require(Permission.SIGN_DECISION)
    actor.require(Permission.MANAGE_RUN)
    decision = decision_for(session, referral)
    mode = _startable(decision)
    found = contradictions.in_signoff(
        decision.physician_signed_at is not None, decision.perfusionist_signed_at is not None
    )
    require_reasons(found, {"missing_signoff_reason": data.missing_signoff_reason})
    run = run_service.start_run(
        session,
        actor,
        RunCreate(
            patient_id=referral.patient_id,
            support_type=referral.support_type,  # type: ignore[arg-type]
            mode=mode,  # type: ignore[arg-type]
            started_at=data.started_at,
            location=data.location,
            indication=referral.clinical_picture[:2000],
        ),
    )
    session.flush()
    _equip(session, actor, run, decision)
    decision.run_id = run.id
    decision.missing_signoff_reason = data.missing_signoff_reason if found else None
    set_status_by_decision(session, actor, referral, "accepted", f"run {run.id} started")
    audit.record(
        session,
        actor,
        "create",
        "run_from_decision",
        run.id,
        referral.patient_id,
        {"decision": decision.id, "mode": mode},
    )
    return run


def _startable(decision: InitiationDecision) -> str:
    if decision.run_id is not None:
        raise Conflict(f"run {decision.run_id} was already started from this decision")
    if decision.outcome != "accept":
        raise Conflict("only an accepted decision can start a run")
    if not decision.signed:
        raise Conflict("the decision must be signed before the run starts")
    mode = planned_mode(decision)
    assert mode is not None  # record_decision refuses accept without a mode
    return mode


def _equip(session: Session, actor: Actor, run: Run, decision: InitiationDecision) -> None:
    plan = decision.plan or {}
    for c in plan.get("cannulas") or []:
        french = c.get("french") or (
            int(CANNULAE[c["catalogue_id"]][1]) if c.get("catalogue_id") else None
        )
        model = CANNULAE[c["catalogue_id"]][0] if c.get("catalogue_id") else None
        run_service.add_cannula(
            session,
            actor,
            run,
            CannulaCreate(
                role=c["role"],
                site=c["site"],
                side=c.get("side"),
                french=french,
                model=model,
                inserted_at=run.started_at,
            ),
        )
    if plan.get("membrane_lung_make") or plan.get("membrane_lung_model"):
        run_service.add_component(
            session,
            actor,
            run,
            ComponentCreate(
                kind="membrane_lung",
                make=plan.get("membrane_lung_make"),
                model=plan.get("membrane_lung_model"),
                rated_flow_l_min=plan.get("rated_flow_l_min"),
                started_at=run.started_at,
            ),
        )
    _targets(session, actor, run, plan, decision.id)


def _targets(session: Session, actor: Actor, run: Run, plan: dict[str, object], did: int) -> None:
    source = f"initiation:{did}"
    pairs = [
        ("blood_flow", plan.get("flow_goal_low"), plan.get("flow_goal_high")),
        (
            str(plan.get("monitor_code") or "anti_xa"),
            plan.get("monitor_low"),
            plan.get("monitor_high"),
        ),
        ("spo2", plan.get("spo2_goal_low"), None),
        ("paco2", plan.get("paco2_goal_low"), plan.get("paco2_goal_high")),
    ]
    for code, low, high in pairs:
        if low is not None or high is not None:
            targets.set_target(session, actor, run, code, low, high, source)  # type: ignore[arg-type]


def decision_for_run(session: Session, run_id: int) -> InitiationDecision | None:
    return session.scalar(select(InitiationDecision).where(InitiationDecision.run_id == run_id))


def timings(
    referral: Referral, decision: InitiationDecision | None, run: Run | None
) -> dict[str, float | None]:
    def hours(at: datetime | None) -> float | None:
        return None if at is None else round((at - referral.referred_at).total_seconds() / 3600, 1)

    return {
        "referral_to_decision_h": hours(decision.decided_at if decision else None),
        "referral_to_cannulation_h": hours(run.started_at if run else None),
    }
