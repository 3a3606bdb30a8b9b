"""Simulation training pages and API: start a session, inject faults, step, end, debrief,
sign a competency off from the debrief."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from continuum.core import competencies, free_text, settings_service
from continuum.core.people import Staff
from continuum.core.roles import Actor
from continuum.core.roles import Permission as P
from continuum.db import utcnow
from continuum.errors import ContinuumError
from continuum.simulator import list_scenarios
from continuum.training import service, stream
from continuum.training.models import TrainingFault, TrainingSession
from continuum.training.schemas import (
    DebriefOut,
    EndIn,
    FaultIn,
    FaultOut,
    LibraryOut,
    ScenarioOut,
    ScoreOut,
    SessionIn,
    SessionOut,
    SignOffIn,
    SignOffOut,
    TimelineOut,
)
from continuum.training.settings import GROUP
from continuum.web.deps import CurrentActor, DbSession, form_of, get_actor, require
from continuum.web.form_post import attempt, posted_values
from continuum.web.pages import (
    NavLink,
    add_nav_link,
    add_template_dir,
    parse_form,
    redirect,
    render,
)

add_template_dir(Path(__file__).parent / "templates")
add_nav_link(NavLink("Training", "/training", P.RUN_TRAINING, 67))

pages = APIRouter(include_in_schema=False, dependencies=[Depends(get_actor)])
api = APIRouter(prefix="/api/v1", dependencies=[Depends(get_actor)], tags=["training"])
routers = [pages, api]


def _fault_out(f: TrainingFault) -> FaultOut:
    return FaultOut(
        id=f.id,
        scenario=f.scenario,
        fault=f.fault,
        onset_minute=f.onset_minute,
        injected_at=f.injected_at,
        resolved_at=f.resolved_at,
        resolved_minute=f.resolved_minute,
    )


def _out(db: DbSession, row: TrainingSession, actor: Actor | None = None) -> SessionOut:
    return SessionOut(
        id=row.id,
        run_id=row.run_id,
        title=row.title,
        scenario=row.scenario,
        mode=row.mode,
        acceleration=row.acceleration,
        status=row.status,
        started_at=row.started_at,
        ended_at=row.ended_at,
        last_minute=row.last_minute,
        sim_minutes=row.sim_minutes,
        lead_in_minutes=row.lead_in_minutes,
        trainee_ids=list(row.trainee_ids or []),
        note=free_text.for_api(actor, row.debrief_note),
        faults=[_fault_out(f) for f in service.faults(db, row.id)],
    )


def _library(db: DbSession) -> LibraryOut:
    info = {s.name: s for s in list_scenarios()}
    bases = [info[n] for n in stream.base_scenarios()]
    faults = [info[n] for n in stream.fault_scenarios()]

    def one(s: Any, fault: str | None) -> ScenarioOut:
        return ScenarioOut(name=s.name, description=s.description, modes=list(s.modes), fault=fault)

    return LibraryOut(
        bases=[one(s, None) for s in bases],
        faults=[one(s, s.faults[0]) for s in faults],
        max_acceleration=float(settings_service.values(db, GROUP)["max_acceleration"]),
    )


def _debrief_out(db: DbSession, actor: Actor, training_id: int) -> DebriefOut:
    d = service.debrief(db, actor, training_id)
    return DebriefOut(
        session=_out(db, d.row, actor),
        scores=[
            ScoreOut(
                fault=s.fault,
                remedy=s.remedy,
                onset=s.onset,
                obvious_at=s.obvious_at,
                recognised_at=s.recognised_at,
                recognised_by=s.recognised_by,
                time_to_recognise_s=s.time_to_recognise_s,
                right_action_at=s.right_action_at,
                time_to_right_action_s=s.time_to_right_action_s,
                recognised_before_obvious=s.recognised_before_obvious,
                wrong_actions=[
                    f"{w.summary} ({s.why_wrong[w.id]})" if s.why_wrong.get(w.id) else w.summary
                    for w in s.wrong_actions
                ],
                right_why=s.right_why,
                criterion=service.criterion(s.fault),
            )
            for s in d.scores
        ],
        timeline=[
            TimelineOut(at=t.at, minute=t.minute, what=t.what, kind=t.kind, by=t.by)
            for t in d.timeline
        ],
    )


# --- API ------------------------------------------------------------------------------


@api.get("/training/library", response_model=LibraryOut, dependencies=[require(P.VIEW_CLINICAL)])
def get_library(db: DbSession) -> LibraryOut:
    """Scenarios a session starts from (fault-free) and the faults an instructor injects."""
    return _library(db)


@api.get("/training", response_model=list[SessionOut], dependencies=[require(P.VIEW_CLINICAL)])
def get_sessions(db: DbSession, actor: CurrentActor) -> list[SessionOut]:
    """Training sessions, newest first."""
    return [_out(db, r, actor) for r in service.listing(db, actor)]


@api.post(
    "/training", status_code=201, response_model=SessionOut, dependencies=[require(P.RUN_TRAINING)]
)
def post_session(data: SessionIn, db: DbSession, actor: CurrentActor) -> SessionOut:
    """Start a session: a TRAINING run on a simulated patient, its history written now."""
    return _out(db, service.start(db, actor, data), actor)


@api.get(
    "/training/{training_id}", response_model=SessionOut, dependencies=[require(P.RUN_TRAINING)]
)
def get_session(training_id: int, db: DbSession, actor: CurrentActor) -> SessionOut:
    return _out(db, service.get(db, actor, training_id), actor)


@api.post(
    "/training/{training_id}/faults",
    status_code=201,
    response_model=FaultOut,
    dependencies=[require(P.RUN_TRAINING)],
)
def post_fault(training_id: int, data: FaultIn, db: DbSession, actor: CurrentActor) -> FaultOut:
    """Inject a fault from the scenario library now."""
    return _fault_out(service.inject(db, actor, training_id, data.scenario))


@api.post(
    "/training/{training_id}/step",
    response_model=SessionOut,
    dependencies=[require(P.RUN_TRAINING)],
)
def post_step(training_id: int, db: DbSession, actor: CurrentActor) -> SessionOut:
    """Write the simulated minutes due by now (the background stepper does this too)."""
    row = service.get(db, actor, training_id)
    service.catch_up(db, row, utcnow())
    return _out(db, row, actor)


@api.post(
    "/training/{training_id}/end", response_model=SessionOut, dependencies=[require(P.RUN_TRAINING)]
)
def post_end(training_id: int, data: EndIn, db: DbSession, actor: CurrentActor) -> SessionOut:
    """End the session and its training run."""
    return _out(db, service.end(db, actor, training_id, data.note), actor)


@api.get(
    "/training/{training_id}/debrief",
    response_model=DebriefOut,
    dependencies=[require(P.VIEW_CLINICAL)],  # service: instructors and named trainees
)
def get_debrief(training_id: int, db: DbSession, actor: CurrentActor) -> DebriefOut:
    """Scores against each fault's truth and one timeline of faults, alerts and actions."""
    return _debrief_out(db, actor, training_id)


@api.post(
    "/training/{training_id}/signoff",
    status_code=201,
    response_model=SignOffOut,
    dependencies=[require(P.RUN_TRAINING)],
)
def post_signoff(
    training_id: int, data: SignOffIn, db: DbSession, actor: CurrentActor
) -> SignOffOut:
    """Sign a trainee's competency off with this session as evidence."""
    r = service.sign_off(db, actor, training_id, data)
    return SignOffOut(
        record_id=r.id,
        staff_id=r.staff_id,
        competency=r.competency,
        achieved_on=r.achieved_on,
        expires_on=r.expires_on,
    )


# --- pages ----------------------------------------------------------------------------


def _index(
    request: Request,
    db: DbSession,
    actor: Actor,
    error: ContinuumError | None = None,
    values: dict[str, Any] | None = None,
) -> Response:
    return render(
        request,
        "training_index.html",
        actor,
        status_code=error.status_code if error else 200,
        sessions=service.listing(db, actor),
        library=_library(db),
        staff=competencies.clinical_staff(db),
        can_run=actor.can(P.RUN_TRAINING),
        error=error,
        error_form=error is not None,
        values=values or {},
    )


@pages.get("/training", dependencies=[require(P.RUN_TRAINING)])
def index_page(request: Request, db: DbSession, actor: CurrentActor) -> Response:
    return _index(request, db, actor)


@pages.post("/training", dependencies=[require(P.RUN_TRAINING)])
def start_post(request: Request, db: DbSession, actor: CurrentActor) -> Response:
    values = posted_values(request)
    data: dict[str, Any] = {k: v for k, v in values.items() if v not in ("", None)}
    picked = form_of(request).getlist("trainee_ids")
    data["trainee_ids"] = [int(x) for x in picked if str(x).isdigit()]

    def action() -> TrainingSession:
        return service.start(db, actor, parse_form(SessionIn, data))

    row, error = attempt(db, action)
    if error is not None or row is None:
        return _index(request, db, actor, error, values)
    return redirect(f"/training/{row.id}")


def _console(
    request: Request,
    db: DbSession,
    actor: Actor,
    row: TrainingSession,
    error: ContinuumError | None = None,
) -> Response:
    names = {
        s.id: s.name for s in db.query(Staff).filter(Staff.id.in_(list(row.trainee_ids or [])))
    }
    return render(
        request,
        "training_session.html",
        actor,
        status_code=error.status_code if error else 200,
        s=row,
        faults=service.faults(db, row.id),
        library=_library(db),
        trainees=names,
        shown_at=stream.wall_time(
            row.started_at, row.lead_in_minutes, row.acceleration, max(row.last_minute, 0)
        ),
        error=error,
        error_form=error is not None,
        values={},
    )


@pages.get("/training/{training_id}", dependencies=[require(P.RUN_TRAINING)])
def session_page(
    training_id: int, request: Request, db: DbSession, actor: CurrentActor
) -> Response:
    row = service.get(db, actor, training_id)
    service.catch_up(db, row, utcnow())
    return _console(request, db, actor, row)


@pages.post("/training/{training_id}/faults", dependencies=[require(P.RUN_TRAINING)])
def fault_post(training_id: int, request: Request, db: DbSession, actor: CurrentActor) -> Response:
    values = posted_values(request)
    _, error = attempt(
        db, lambda: service.inject(db, actor, training_id, str(values.get("scenario", "")))
    )
    if error is not None:
        return _console(request, db, actor, service.get(db, actor, training_id), error)
    return redirect(f"/training/{training_id}")


@pages.post("/training/{training_id}/end", dependencies=[require(P.RUN_TRAINING)])
def end_post(training_id: int, request: Request, db: DbSession, actor: CurrentActor) -> Response:
    values = posted_values(request)
    note = str(values.get("note") or "").strip() or None
    _, error = attempt(db, lambda: service.end(db, actor, training_id, note))
    if error is not None:
        return _console(request, db, actor, service.get(db, actor, training_id), error)
    return redirect(f"/training/{training_id}/debrief")


def _debrief_page(
    request: Request,
    db: DbSession,
    actor: Actor,
    training_id: int,
    error: ContinuumError | None = None,
) -> Response:
    d = _debrief_out(db, actor, training_id)
    names = {s.id: s.name for s in db.query(Staff).filter(Staff.id.in_(d.session.trainee_ids))}
    return render(
        request,
        "training_debrief.html",
        actor,
        status_code=error.status_code if error else 200,
        d=d,
        trainees=names,
        signoffs=[competencies.out(db, r) for r in service.signoffs(db, training_id)],
        competencies=competencies.COMPETENCIES,
        can_sign=actor.can(P.RUN_TRAINING),
        error=error,
        error_form=error is not None,
        values={},
    )


# instructors and the session's named trainees (service.may_read_debrief)
@pages.get("/training/{training_id}/debrief", dependencies=[require(P.VIEW_CLINICAL)])
def debrief_page(
    training_id: int, request: Request, db: DbSession, actor: CurrentActor
) -> Response:
    return _debrief_page(request, db, actor, training_id)


@pages.post("/training/{training_id}/signoff", dependencies=[require(P.RUN_TRAINING)])
def signoff_post(
    training_id: int, request: Request, db: DbSession, actor: CurrentActor
) -> Response:
    values = posted_values(request)
    data = {k: v for k, v in values.items() if v not in ("", None)}
    _, error = attempt(
        db, lambda: service.sign_off(db, actor, training_id, parse_form(SignOffIn, data))
    )
    if error is not None:
        return _debrief_page(request, db, actor, training_id, error)
    return redirect(f"/training/{training_id}/debrief")
