"""Server-rendered pages of the core record: runs, the run page, patients."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from jinja2 import pass_context
from jinja2.runtime import Context

from continuum import vocabulary
from continuum.core import (
    accounts,
    alert_state,
    ecpr_times,
    free_text,
    hospital_outcome,
    observation_service,
    participation_service,
    patient_service,
    run_service,
    run_trends,
    run_view,
    timeline_view,
)
from continuum.core.clinical_event import KIND_LABELS
from continuum.core.roles import Actor, Permission
from continuum.core.roles import Permission as P
from continuum.core.run_record import Run
from continuum.core.schemas import (
    AmendmentIn,
    CannulaCreate,
    ComponentCreate,
    ModeChange,
    ObservationIn,
    ParticipantIn,
    PatientCreate,
    RunCreate,
    RunEnd,
)
from continuum.core.vocab import (
    CANNULA_ROLES,
    COMPONENT_KINDS,
    COMPONENT_STOP_REASONS,
    MODES,
    OUTCOME_LABELS,
    SUPPORT_TYPES,
)
from continuum.db import utcnow
from continuum.errors import Conflict, ValidationFailed
from continuum.web.deps import CurrentActor, DbSession, form_of, get_actor, require
from continuum.web.form_post import attempt
from continuum.web.pages import form_dict, parse_form, redirect, render, templates

router = APIRouter(include_in_schema=False, dependencies=[Depends(get_actor)])
routers = [router]
templates.env.globals.update(alert_state.jinja_globals())


@pass_context
def _free_text(context: Context, text: Any) -> Any:
    """``{{ run.indication|free_text }}``: shown only to roles that may read free text."""
    return free_text.for_page(context.get("actor"), text)


templates.env.filters["free_text"] = _free_text


@router.get("/runs", dependencies=[require(P.VIEW_CLINICAL)])
def runs_page(request: Request, db: DbSession, actor: CurrentActor) -> Response:
    runs = run_service.list_runs(db, actor)
    ids = patient_service.identities(db, actor, [r.patient_id for r in runs], "run list")
    rows = [
        {
            "run": r,
            "identity": ids.get(r.patient_id),
            "mode": run_service.current_mode(r),
            "day": run_view.ecmo_day(r),
        }
        for r in runs
    ]
    return render(request, "runs.html", actor, rows=rows, outcome_labels=OUTCOME_LABELS)


@router.get("/runs/new", dependencies=[require(P.MANAGE_RUN)])
def new_run_page(
    request: Request, db: DbSession, actor: CurrentActor, patient_id: int | None = None
) -> Response:
    actor.require(Permission.MANAGE_RUN)
    return _new_run(request, db, actor, {"patient_id": patient_id}, None)


def _new_run(
    request: Request,
    db: DbSession,
    actor: Actor,
    values: dict[str, Any],
    error: ValidationFailed | None,
) -> Response:
    patients = patient_service.list_patients(db, actor)
    ids = patient_service.identities(db, actor, [p.id for p in patients], "new run form")
    return render(
        request,
        "run_new.html",
        actor,
        status_code=422 if error else 200,
        patients=patients,
        ids=ids,
        values=values,
        error=error,
        modes=MODES,
        supports=SUPPORT_TYPES,
    )


@router.post("/runs/new", dependencies=[require(P.MANAGE_RUN)])
def create_run(request: Request, db: DbSession, actor: CurrentActor) -> Response:
    values = form_dict(form_of(request), request.app.state.settings.zone, ("started_at",))
    try:
        run = run_service.start_run(db, actor, parse_form(RunCreate, values))
    except ValidationFailed as exc:
        db.rollback()
        return _new_run(request, db, actor, values, exc)
    return redirect(f"/runs/{run.id}")


@router.get("/runs/{run_id}", dependencies=[require(P.VIEW_CLINICAL)])
def run_page(
    request: Request,
    run_id: int,
    db: DbSession,
    actor: CurrentActor,
    replace: int | None = None,
    participants: Literal["all"] | None = None,
) -> Response:
    """``replace``: a component id whose replacement form opens ready (from a circuit check);
    ``participants=all``: every contribution, not only the newest."""
    run = run_service.get_run(db, actor, run_id)
    if replace is not None:
        old = next((c for c in run.components if c.id == replace and not c.stopped_at), None)
        if old is not None:
            values = {"replaces_id": old.id, "kind": old.kind}
            return _run_page(request, db, actor, run, None, "components", values)
    return _run_page(request, db, actor, run, every_participant=participants == "all")


# The newest contributions on the run page (a 30-day run gathers hundreds, and every one
# was read and drawn on every view); ``?participants=all`` shows them all.
PARTICIPANTS_SHOWN = 30


def _run_page(
    request: Request,
    db: DbSession,
    actor: Actor,
    run: Run,
    error: ValidationFailed | Conflict | None = None,
    form: str | None = None,
    values: dict[str, Any] | None = None,
    every_participant: bool = False,
) -> Response:
    ident = patient_service.identities(db, actor, [run.patient_id], "run page")
    shown = participation_service.for_run(
        db, run.id, None if every_participant else PARTICIPANTS_SHOWN
    )
    latest = observation_service.latest_per_code(db, run.id)
    manual = observation_service.recent_manual(db, run.id)
    now = utcnow()
    ctx = {
        "run": run,
        "identity": ident.get(run.patient_id),
        "mode": run_service.current_mode(run),
        "day": run_view.ecmo_day(run, now),
        "latest": latest,
        "codes": vocabulary.CODES,
        "groups": _grouped(latest),
        "manual": manual,
        "amendments": observation_service.amendments_for(db, [o.id for o in manual]),
        "timeline": timeline_view.newest_first(db, run, 30, actor),
        "event_labels": KIND_LABELS,
        "participants": shown,
        "participants_total": (
            len(shown)
            if every_participant or len(shown) < PARTICIPANTS_SHOWN
            else participation_service.count_for_run(db, run.id)
        ),
        "entered_by": participation_service.entered_by_names(db, run.id, [p.id for p, _ in shown]),
        "staff": accounts.list_staff(db),
        "alerts": run_view.open_alerts(db, run.id),
        "forecasts": (forecasts := run_view.exchange_forecasts(db, run.id)),
        "forecast_charts": run_trends.forecast_charts(forecasts, request.app.state.settings.zone),
        "age": lambda c: run_view.component_age_hours(c, now),
        "now": now,
        "modes": MODES,
        "kinds": COMPONENT_KINDS,
        "stop_reasons": COMPONENT_STOP_REASONS,
        "cannula_roles": CANNULA_ROLES,
        "outcomes": OUTCOME_LABELS,
        "run_chart": run_trends.run_chart(
            db, run, request.app.state.settings.zone, free_text.readable(actor)
        ),
        "error": error,
        "error_form": form,
        "values": values or {},
        "run_links": run_view.run_links(actor, run.id),
        "hospital_outcome": hospital_outcome.in_force(db, run.id) if run.ended_at else None,
        "ecpr_in_force": ecpr_times.in_force(db, run.id),
        "run_notes": run_view.run_notes(db, actor, [run.id]).get(run.id, []),
        "run_summaries": run_view.run_summaries(db, actor, run.id),
    }
    status = error.status_code if error else 200  # 422 bad input, 409 already changed
    return render(request, "run.html", actor, status_code=status, **ctx)


def _grouped(latest: dict[str, Any]) -> dict[str, list[str]]:
    groups: dict[str, list[str]] = {}
    for code in latest:
        groups.setdefault(vocabulary.CODES[code].group, []).append(code)
    return groups


def _run_form(
    request: Request,
    db: DbSession,
    actor: Actor,
    run_id: int,
    form: str,
    action: Any,
    time_fields: tuple[str, ...] = (),
) -> Response:
    """Run one run-page form; on bad input show the page again with the message."""
    run = run_service.get_run(db, actor, run_id)
    values = form_dict(form_of(request), request.app.state.settings.zone, time_fields)
    _, problem = attempt(db, lambda: action(run, values))
    if problem:
        run = run_service.get_run(db, actor, run_id)
        return _run_page(request, db, actor, run, problem, form, values)
    return redirect(f"/runs/{run_id}#{form}")


@router.post("/runs/{run_id}/mode", dependencies=[require(P.MANAGE_RUN)])
def mode_form(request: Request, run_id: int, db: DbSession, actor: CurrentActor) -> Response:
    return _run_form(
        request,
        db,
        actor,
        run_id,
        "mode",
        lambda run, v: run_service.change_mode(db, actor, run, parse_form(ModeChange, v)),
        ("at",),
    )


@router.post("/runs/{run_id}/components", dependencies=[require(P.MANAGE_CIRCUIT)])
def component_form(request: Request, run_id: int, db: DbSession, actor: CurrentActor) -> Response:
    return _run_form(
        request,
        db,
        actor,
        run_id,
        "components",
        lambda run, v: run_service.add_component(db, actor, run, parse_form(ComponentCreate, v)),
        ("started_at",),
    )


@router.post("/runs/{run_id}/cannulas", dependencies=[require(P.MANAGE_RUN)])
def cannula_form(request: Request, run_id: int, db: DbSession, actor: CurrentActor) -> Response:
    return _run_form(
        request,
        db,
        actor,
        run_id,
        "cannulas",
        lambda run, v: run_service.add_cannula(db, actor, run, parse_form(CannulaCreate, v)),
        ("inserted_at",),
    )


@router.post("/runs/{run_id}/observations", dependencies=[require(P.ENTER_OBSERVATION)])
def observation_form(request: Request, run_id: int, db: DbSession, actor: CurrentActor) -> Response:
    def store(run: Run, v: dict[str, Any]) -> None:
        v.setdefault("time", utcnow())
        item = parse_form(ObservationIn, {**v, "source": "manual"})
        observation_service.record_observations(db, actor, run, [item])

    return _run_form(request, db, actor, run_id, "observations", store, ("time",))


@router.post("/runs/{run_id}/participants", dependencies=[require(P.RECORD_PARTICIPATION)])
def participant_form(request: Request, run_id: int, db: DbSession, actor: CurrentActor) -> Response:
    return _run_form(
        request,
        db,
        actor,
        run_id,
        "participants",
        lambda run, v: participation_service.add_participant(
            db, actor, "run", run.id, parse_form(ParticipantIn, v), run_id=run.id
        ),
    )


@router.post("/runs/{run_id}/end", dependencies=[require(P.END_RUN)])
def end_form(request: Request, run_id: int, db: DbSession, actor: CurrentActor) -> Response:
    return _run_form(
        request,
        db,
        actor,
        run_id,
        "end",
        lambda run, v: run_service.end_run(db, actor, run, parse_form(RunEnd, v)),
        ("ended_at",),
    )


@router.get("/observations/{observation_id}/amend", dependencies=[require(P.AMEND_OBSERVATION)])
def amend_page(
    request: Request, observation_id: int, db: DbSession, actor: CurrentActor
) -> Response:
    return _amend(request, db, actor, observation_id, None, {})


def _amend(
    request: Request,
    db: DbSession,
    actor: Actor,
    observation_id: int,
    error: ValidationFailed | None,
    values: dict[str, Any],
) -> Response:
    actor.require(Permission.AMEND_OBSERVATION)
    obs = observation_service.get_observation(db, observation_id)
    return render(
        request,
        "amend.html",
        actor,
        status_code=422 if error else 200,
        obs=obs,
        spec=vocabulary.CODES[obs.code],
        error=error,
        values=values,
    )


@router.post("/observations/{observation_id}/amend", dependencies=[require(P.AMEND_OBSERVATION)])
def amend_form(
    request: Request, observation_id: int, db: DbSession, actor: CurrentActor
) -> Response:
    values = form_dict(form_of(request), request.app.state.settings.zone)
    try:
        new = observation_service.amend(db, actor, observation_id, parse_form(AmendmentIn, values))
    except ValidationFailed as exc:
        db.rollback()
        return _amend(request, db, actor, observation_id, exc, values)
    return redirect(f"/runs/{new.run_id}#observations")


@router.get("/patients", dependencies=[require(P.VIEW_CLINICAL)])
def patients_page(request: Request, db: DbSession, actor: CurrentActor) -> Response:
    patients = patient_service.list_patients(db, actor)
    ids = patient_service.identities(db, actor, [p.id for p in patients], "patient list")
    runs = {r.patient_id: r for r in reversed(run_service.list_runs(db, actor, 5000))}
    return render(request, "patients.html", actor, patients=patients, ids=ids, runs=runs)


@router.get("/patients/new", dependencies=[require(P.CREATE_PATIENT)])
def new_patient_page(request: Request, actor: CurrentActor) -> Response:
    actor.require(Permission.CREATE_PATIENT)
    return render(request, "patient_new.html", actor, values={}, error=None)


@router.post("/patients/new", dependencies=[require(P.CREATE_PATIENT)])
def create_patient(request: Request, db: DbSession, actor: CurrentActor) -> Response:
    values = form_dict(form_of(request), request.app.state.settings.zone)
    try:
        patient = patient_service.create_patient(db, actor, parse_form(PatientCreate, values))
    except ValidationFailed as exc:
        db.rollback()
        return render(request, "patient_new.html", actor, status_code=422, values=values, error=exc)
    return redirect(f"/runs/new?patient_id={patient.id}")
