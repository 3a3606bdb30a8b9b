"""What a decision record looks like to a reader: one assembly used by the page, the
printable plan and the API (identifiers only for roles that may see them)."""

from __future__ import annotations

from itertools import pairwise
from typing import Any

from sqlalchemy.orm import Session

from continuum.core import patient_service
from continuum.core.people import Staff
from continuum.core.roles import Actor
from continuum.core.run_record import Run
from continuum.db import utcnow
from continuum.initiation import contradictions, criteria, settings
from continuum.initiation.candidacy import score_views, shared_inputs, trial_views
from continuum.initiation.configuration import acknowledgements, plan_checks
from continuum.initiation.decision import participants, timings
from continuum.initiation.modality import physiology_of, planned_mode, recommendation
from continuum.initiation.models import Referral
from continuum.initiation.record import decision_for
from continuum.initiation.referral import STATUS_LABELS, TRANSITIONS, age_text


def record_context(session: Session, actor: Actor, referral: Referral) -> dict[str, Any]:
    decision = decision_for(session, referral)
    ident = patient_service.identities(session, actor, [referral.patient_id], "referral")
    run = session.get(Run, decision.run_id) if decision.run_id else None
    advice = recommendation(decision)
    checks = plan_checks(referral, decision.plan or {}, planned_mode(decision))
    return {
        "referral": referral,
        "identity": ident.get(referral.patient_id),
        "decision": decision,
        "checklist": criteria.for_support(referral.support_type),
        "kind_labels": criteria.KIND_LABELS,
        "scores": score_views(
            decision,
            referral.support_type,
            _shared(decision, referral, ident),
            planned_mode(decision),
        ),
        "trials": trial_views(decision, settings.overrides(session)),
        "advice": advice,
        "physiology": physiology_of(decision),
        "mode": planned_mode(decision),
        "modality_contradictions": contradictions.in_modality(
            physiology_of(decision), advice.mode, decision.chosen_mode
        ),
        "checks": checks,
        "warning_reasons": acknowledgements(checks, decision.plan or {}),
        "participants": participants(session, decision),
        "timings": timings(referral, decision, run),
        "run": run,
        "status_labels": STATUS_LABELS,
        "next_statuses": TRANSITIONS[referral.status],
        "age": age_text(referral, utcnow()),
        "signers": _signers(session, decision),
        "history": history(session, referral),
        "can_reassess": referral.status == "deferred" and decision.signed,
    }


def _shared(decision: Any, referral: Referral, ident: dict[int, Any]) -> dict[str, Any]:
    """Score inputs known from the patient and shared across scores; the age only when the
    reader may see the birth date (identifiers only through patient_service.identities)."""
    identity = ident.get(referral.patient_id)
    born = identity.birth_date if identity is not None else None
    on = referral.referred_at.date()
    age = None
    if born is not None:
        age = on.year - born.year - ((on.month, on.day) < (born.month, born.day))
    patient = referral.patient
    return shared_inputs(decision, patient.weight_kg, patient.height_cm, age)


def history(session: Session, referral: Referral) -> list[dict[str, Any]]:
    """The decisions a reassessment replaced, oldest first, each with why it was reopened."""
    rows = referral.decisions
    out = []
    for earlier, later in pairwise(rows):
        signers = _signers(session, earlier)
        out.append(
            {
                "id": earlier.id,
                "sequence": earlier.sequence,
                "outcome": earlier.outcome,
                "reasons": earlier.reasons,
                "decided_at": earlier.decided_at,
                "physician_signed_by": signers["physician"],
                "physician_signed_at": earlier.physician_signed_at,
                "perfusionist_signed_by": signers["perfusionist"],
                "perfusionist_signed_at": earlier.perfusionist_signed_at,
                "amendments": [(a.at, a.note) for a in earlier.amendments],
                "reassessment_reason": later.reassessment_reason,
            }
        )
    return out


def _signers(session: Session, decision: Any) -> dict[str, str | None]:
    def name(staff_id: int | None) -> str | None:
        staff = session.get(Staff, staff_id) if staff_id else None
        return staff.name if staff else None

    return {
        "physician": name(decision.physician_signed_by),
        "perfusionist": name(decision.perfusionist_signed_by),
        "plan": name(decision.plan_by),
    }


def _iso(dt: Any) -> str | None:
    return dt.isoformat() if dt else None


def as_json(session: Session, actor: Actor, referral: Referral) -> dict[str, Any]:
    ctx = record_context(session, actor, referral)
    d, checks = ctx["decision"], ctx["checks"]
    return {
        "referral": referral_json(referral, ctx["identity"]),
        "status_history": [
            {"from": c.from_status, "to": c.to_status, "reason": c.reason, "at": _iso(c.at)}
            for c in referral.changes
        ],
        "candidacy": {
            "checked": [
                {
                    "id": i,
                    "kind": criteria.CRITERIA[i].kind,
                    "text": criteria.CRITERIA[i].text,
                    "source": criteria.CRITERIA[i].source,
                }
                for i in (d.checklist or {})
                if i in criteria.CRITERIA
            ],
            "note": d.checklist_note,
            "scores": [_score(s) for s in ctx["scores"]],
            "score_reason": d.score_reason,
            "trials": [_trial(t) for t in ctx["trials"]],
        },
        "modality": {
            "physiology": d.physiology,
            "recommended": ctx["advice"].mode,
            "rules_fired": [vars(r) for r in ctx["advice"].fired],
            "chosen": d.chosen_mode,
            "choice_reason": d.choice_reason,
        },
        "configuration_plan": {
            "plan": d.plan,
            "flow_target": checks.flow.as_dict() if checks.flow else None,
            "design_flow_l_min": checks.design_flow,
            "cannula_checks": [
                {"cannula": c, "check": r.as_dict() if r else None, "verdict": v}
                for c, r, v in checks.cannulas
            ],
            "priming": checks.priming.as_dict() if checks.priming else None,
            "warnings": checks.warnings,
            "warning_acknowledgements": [
                {"warning": w, "reason": r} for w, r in ctx["warning_reasons"]
            ],
            "missing": checks.missing,
        },
        "decision": {
            "id": d.id,
            "sequence": d.sequence,
            "version": d.version,
            "supersedes_id": d.supersedes_id,
            "reassessment_reason": d.reassessment_reason,
            "outcome": d.outcome,
            "reasons": d.reasons,
            "override_reason": d.override_reason,
            "decided_at": _iso(d.decided_at),
            "physician_signed_at": _iso(d.physician_signed_at),
            "physician_signed_by": ctx["signers"]["physician"],
            "perfusionist_signed_at": _iso(d.perfusionist_signed_at),
            "perfusionist_signed_by": ctx["signers"]["perfusionist"],
            "missing_signoff_reason": d.missing_signoff_reason,
            "run_id": d.run_id,
            **ctx["timings"],
            "participants": [
                {
                    "staff": s.name,
                    "discipline": p.discipline,
                    "how": p.how,
                    "contribution": p.contribution,
                    "at": _iso(p.at),
                }
                for p, s in ctx["participants"]
            ],
            "amendments": [{"note": a.note, "at": _iso(a.at), "by": a.by} for a in d.amendments],
        },
        "earlier_decisions": [
            {
                **h,
                "decided_at": _iso(h["decided_at"]),
                "physician_signed_at": _iso(h["physician_signed_at"]),
                "perfusionist_signed_at": _iso(h["perfusionist_signed_at"]),
                "amendments": [{"note": note, "at": _iso(at)} for at, note in h["amendments"]],
            }
            for h in ctx["history"]
        ],
    }


def referral_json(referral: Referral, identity: Any) -> dict[str, Any]:
    return {
        "id": referral.id,
        "patient": patient_service.patient_out(referral.patient, identity).model_dump(mode="json"),
        "referring_hospital": referral.referring_hospital,
        "referring_clinician": referral.referring_clinician,
        "contact": referral.contact,
        "referred_at": _iso(referral.referred_at),
        "support_type": referral.support_type,
        "urgency": referral.urgency,
        "clinical_picture": referral.clinical_picture,
        "status": referral.status,
        "time_since_referral": age_text(referral, utcnow()),
    }


def _score(s: Any) -> dict[str, Any]:
    return {
        "name": s.name,
        "status": s.status,
        "entered": s.entered,
        "missing": s.missing,
        "result": s.result.as_dict() if s.result else None,
    }


def _trial(t: Any) -> dict[str, Any]:
    return {
        "name": t.name,
        "status": t.status,
        "source": t.source,
        "note": t.note,
        "items": [{"text": i.text, "met": i.met} for i in t.items],
    }
