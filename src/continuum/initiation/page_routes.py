"""Server-rendered pages: the referral list, a new referral, the decision record, the
printable plan, and the run page's link back to its decision."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from continuum.calculators import CALCULATORS
from continuum.core import accounts, concurrency, patient_service, run_service
from continuum.core.concurrency import StaleRecord
from continuum.core.roles import Actor
from continuum.core.roles import Permission as P
from continuum.core.schemas import ParticipantIn
from continuum.core.vocab import MODES
from continuum.db import utcnow
from continuum.errors import Conflict, ValidationFailed
from continuum.initiation import candidacy, configuration, decision, forms, modality, referral
from continuum.initiation.decision import decision_for_run
from continuum.initiation.models import URGENCIES
from continuum.initiation.schemas import (
    AmendmentIn,
    CandidacyIn,
    ConfirmMrnIn,
    DecisionIn,
    ModalityIn,
    PlanIn,
    ReassessIn,
    ReferralCreate,
    SignIn,
    StartRunIn,
    StatusChange,
)
from continuum.initiation.view import record_context
from continuum.physiology.cannula_catalogue import CANNULAE, device_type
from continuum.web.deps import CurrentActor, DbSession, form_of, get_actor, require
from continuum.web.form_post import attempt
from continuum.web.pages import form_dict, parse_form, redirect, render

SCORE_SPECS = {name: CALCULATORS[name] for name in candidacy.SCORES}
router = APIRouter(include_in_schema=False, dependencies=[Depends(get_actor)])


@router.get("/referrals", dependencies=[require(P.VIEW_IDENTIFIERS)])
def referrals_page(request: Request, db: DbSession, actor: CurrentActor) -> Response:
    rows = referral.list_referrals(db, actor)
    ids = patient_service.identities(db, actor, [r.patient_id for r in rows], "referral list")
    now = utcnow()
    return render(
        request,
        "referrals.html",
        actor,
        rows=rows,
        ids=ids,
        now=now,
        age=lambda r: referral.age_text(r, now),
        labels=referral.STATUS_LABELS,
        open_statuses=referral.OPEN,
    )


@router.get("/referrals/new", dependencies=[require(P.MANAGE_REFERRAL)])
def new_referral_page(request: Request, db: DbSession, actor: CurrentActor) -> Response:
    return _new(request, db, actor, {}, None)


def _new(
    request: Request,
    db: DbSession,
    actor: Actor,
    values: dict[str, Any],
    error: ValidationFailed | Conflict | None,
) -> Response:
    patients = patient_service.list_patients(db, actor)
    ids = patient_service.identities(db, actor, [p.id for p in patients], "new referral form")
    return render(
        request,
        "referral_new.html",
        actor,
        status_code=422 if error else 200,
        patients=patients,
        ids=ids,
        values=values,
        error=error,
        urgencies=URGENCIES,
    )


@router.post("/referrals/new", dependencies=[require(P.MANAGE_REFERRAL)])
def create_referral(request: Request, db: DbSession, actor: CurrentActor) -> Response:
    values = form_dict(form_of(request), request.app.state.settings.zone, ("referred_at",))
    data = {k: v for k, v in values.items() if not k.startswith("new_")}
    new = {k[4:]: v for k, v in values.items() if k.startswith("new_")}
    if new.pop("outside", None):  # no local MRN yet: a temporary identifier is issued
        new.pop("mrn", None)
        data["new_outside_patient"] = new
    elif new.get("mrn") or new.get("name"):
        data["new_patient"] = new
    try:
        row = referral.create_referral(db, actor, parse_form(ReferralCreate, data))
        db.flush()
    except (ValidationFailed, Conflict) as exc:
        db.rollback()
        return _new(request, db, actor, values, exc)
    return redirect(f"/referrals/{row.id}")


@router.get("/referrals/{referral_id}", dependencies=[require(P.VIEW_IDENTIFIERS)])
def record_page(request: Request, referral_id: int, db: DbSession, actor: CurrentActor) -> Response:
    return _record(request, db, actor, referral_id)


def _record(
    request: Request,
    db: DbSession,
    actor: Actor,
    referral_id: int,
    error: ValidationFailed | Conflict | None = None,
    form: str | None = None,
    values: dict[str, Any] | None = None,
) -> Response:
    row = referral.get_referral(db, actor, referral_id)
    ctx = record_context(db, actor, row)
    stale = isinstance(error, StaleRecord)
    return render(
        request,
        "referral.html",
        actor,
        status_code=409 if stale else 422 if error else 200,
        stale_rows=_stale_rows(row, form, values or {}) if stale else None,
        error=error,
        error_form=form,
        values=values or {},
        modes=MODES,
        cannulae=CANNULAE,
        device_types=device_type,
        staff=accounts.list_staff(db),
        score_specs=SCORE_SPECS,
        **ctx,
    )


# What each section of the decision record stores (shown beside a stale save's entries).
SECTION_FIELDS = {
    "candidacy": ("checklist", "checklist_note", "score_inputs", "trial_inputs", "score_reason"),
    "modality": ("physiology", "chosen_mode", "choice_reason"),
    "plan": ("plan",),
    "decision": ("outcome", "reasons", "override_reason"),
}


def _stale_rows(row: Any, form: str | None, values: dict[str, Any]) -> list[tuple[str, str, str]]:
    d = row.decision
    names = SECTION_FIELDS.get(form or "", ())
    saved: dict[str, Any] = {}
    for name in names:
        value = getattr(d, name)
        saved.update(value if name == "plan" and isinstance(value, dict) else {name: value})
    yours = {k: v for k, v in values.items() if k != "version"}
    return concurrency.side_by_side(yours, saved)


@router.get("/referrals/{referral_id}/print", dependencies=[require(P.VIEW_IDENTIFIERS)])
def print_page(request: Request, referral_id: int, db: DbSession, actor: CurrentActor) -> Response:
    row = referral.get_referral(db, actor, referral_id)
    return render(request, "plan_print.html", actor, **record_context(db, actor, row))


Action = Callable[[Any, dict[str, Any]], Any]


def _section(
    request: Request,
    db: DbSession,
    actor: Actor,
    referral_id: int,
    form: str,
    parse: Callable[[Any], dict[str, Any]],
    action: Action,
    goto: str | None = None,
) -> Response:
    row = referral.get_referral(db, actor, referral_id)
    raw = form_of(request)
    values = parse(raw)
    if raw.get("version"):  # the version of the record the form was opened on
        values["version"] = str(raw.get("version"))
    result, problem = attempt(db, lambda: action(row, values))
    if problem:
        return _record(request, db, actor, referral_id, problem, form, dict(forms.items(raw)))
    return redirect(goto.format(result=result) if goto else f"/referrals/{referral_id}#{form}")


def _flat(raw: Any) -> dict[str, Any]:
    return {k: v for k, v in forms.items(raw) if v != ""}


@router.post("/referrals/{referral_id}/status", dependencies=[require(P.MANAGE_REFERRAL)])
def status(request: Request, referral_id: int, db: DbSession, actor: CurrentActor) -> Response:
    return _section(
        request,
        db,
        actor,
        referral_id,
        "status",
        _flat,
        lambda r, v: referral.change_status(db, actor, r, parse_form(StatusChange, v)),
    )


@router.post("/referrals/{referral_id}/candidacy", dependencies=[require(P.MANAGE_REFERRAL)])
def save_candidacy(
    request: Request, referral_id: int, db: DbSession, actor: CurrentActor
) -> Response:
    return _section(
        request,
        db,
        actor,
        referral_id,
        "candidacy",
        forms.candidacy,
        lambda r, v: candidacy.save_candidacy(db, actor, r, parse_form(CandidacyIn, v)),
    )


@router.post("/referrals/{referral_id}/modality", dependencies=[require(P.MANAGE_REFERRAL)])
def save_modality(
    request: Request, referral_id: int, db: DbSession, actor: CurrentActor
) -> Response:
    return _section(
        request,
        db,
        actor,
        referral_id,
        "modality",
        forms.modality,
        lambda r, v: modality.save_modality(db, actor, r, parse_form(ModalityIn, v)),
    )


@router.post("/referrals/{referral_id}/plan", dependencies=[require(P.MANAGE_CIRCUIT)])
def save_plan(request: Request, referral_id: int, db: DbSession, actor: CurrentActor) -> Response:
    return _section(
        request,
        db,
        actor,
        referral_id,
        "plan",
        forms.plan,
        lambda r, v: configuration.save_plan(db, actor, r, parse_form(PlanIn, v)),
    )


@router.post(
    "/referrals/{referral_id}/participants", dependencies=[require(P.RECORD_PARTICIPATION)]
)
def add_participant(
    request: Request, referral_id: int, db: DbSession, actor: CurrentActor
) -> Response:
    return _section(
        request,
        db,
        actor,
        referral_id,
        "participants",
        _flat,
        lambda r, v: decision.add_participant(db, actor, r, parse_form(ParticipantIn, v)),
    )


@router.post("/referrals/{referral_id}/decision", dependencies=[require(P.SIGN_DECISION)])
def record_decision(
    request: Request, referral_id: int, db: DbSession, actor: CurrentActor
) -> Response:
    return _section(
        request,
        db,
        actor,
        referral_id,
        "decision",
        _flat,
        lambda r, v: decision.record_decision(db, actor, r, parse_form(DecisionIn, v)),
    )


@router.post("/referrals/{referral_id}/sign", dependencies=[require(P.SIGN_DECISION)])
def sign(request: Request, referral_id: int, db: DbSession, actor: CurrentActor) -> Response:
    return _section(
        request,
        db,
        actor,
        referral_id,
        "decision",
        _flat,
        lambda r, v: decision.sign(db, actor, r, parse_form(SignIn, v)),
    )


@router.post("/referrals/{referral_id}/amendments", dependencies=[require(P.MANAGE_REFERRAL)])
def amend(request: Request, referral_id: int, db: DbSession, actor: CurrentActor) -> Response:
    return _section(
        request,
        db,
        actor,
        referral_id,
        "amendments",
        _flat,
        lambda r, v: decision.amend(db, actor, r, parse_form(AmendmentIn, v)),
    )


@router.post("/referrals/{referral_id}/mrn", dependencies=[require(P.MANAGE_REFERRAL)])
def confirm_mrn(request: Request, referral_id: int, db: DbSession, actor: CurrentActor) -> Response:
    """The hospital MRN replaces an outside patient's temporary identifier."""
    return _section(
        request,
        db,
        actor,
        referral_id,
        "mrn",
        _flat,
        lambda r, v: referral.confirm_mrn(db, actor, r, parse_form(ConfirmMrnIn, v)),
        goto=f"/referrals/{referral_id}#referral",
    )


@router.post("/referrals/{referral_id}/reassess", dependencies=[require(P.SIGN_DECISION)])
def reassess(request: Request, referral_id: int, db: DbSession, actor: CurrentActor) -> Response:
    return _section(
        request,
        db,
        actor,
        referral_id,
        "reassess",
        _flat,
        lambda r, v: decision.reassess(db, actor, r, parse_form(ReassessIn, v).reason),
    )


@router.post("/referrals/{referral_id}/start-run", dependencies=[require(P.SIGN_DECISION)])
def start_run(request: Request, referral_id: int, db: DbSession, actor: CurrentActor) -> Response:
    zone = request.app.state.settings.zone

    def parse(raw: Any) -> dict[str, Any]:
        return form_dict(raw, zone, ("started_at",))

    return _section(
        request,
        db,
        actor,
        referral_id,
        "start",
        parse,
        lambda r, v: decision.start_run(db, actor, r, parse_form(StartRunIn, v)),
        goto="/runs/{result.id}",
    )


@router.get("/runs/{run_id}/initiation", dependencies=[require(P.VIEW_IDENTIFIERS)])
def run_initiation(request: Request, run_id: int, db: DbSession, actor: CurrentActor) -> Response:
    run = run_service.get_run(db, actor, run_id)
    found = decision_for_run(db, run.id)
    if found is not None:
        return redirect(f"/referrals/{found.referral_id}")
    return render(request, "no_decision.html", actor, run=run)
