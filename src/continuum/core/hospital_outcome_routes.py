"""A run's hospital outcome (/runs/{id}/hospital-outcome) and ECPR times
(/runs/{id}/ecpr-times): the pages (value in force, history, record or correct) and their
JSON twins under /api/v1. Typed notes and reasons are hidden from roles that do not read
identifiers."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from continuum.core import ecpr_times, free_text, hospital_outcome, patient_service, run_service
from continuum.core.ecpr_times import EcprTimesIn, EcprTimesOut, EcprTimesView
from continuum.core.hospital_outcome import (
    HospitalOutcomeIn,
    HospitalOutcomeOut,
    HospitalOutcomeView,
)
from continuum.core.roles import Actor
from continuum.core.roles import Permission as P
from continuum.core.run_record import Run
from continuum.core.vocab import OUTCOME_LABELS
from continuum.errors import ContinuumError
from continuum.local_time import aware
from continuum.web.deps import CurrentActor, DbSession, get_actor, require
from continuum.web.form_post import attempt, posted_values
from continuum.web.pages import parse_form, redirect, render

pages = APIRouter(include_in_schema=False, dependencies=[Depends(get_actor)])
api = APIRouter(prefix="/api/v1", dependencies=[Depends(get_actor)], tags=["runs"])
routers = [pages, api]


def _hidden(actor: Actor, row: Any) -> Any:
    """The row with its typed words replaced by null for a role that may not read them."""
    if free_text.readable(actor):
        return row
    update = {k: None for k in ("note", "reason") if getattr(row, k, None) is not None}
    return row.model_copy(update=update)


def _outcome_view(db: DbSession, actor: Actor, run: Run) -> HospitalOutcomeView:
    rows = [_hidden(actor, hospital_outcome.out(r)) for r in hospital_outcome.history(db, run.id)]
    return HospitalOutcomeView(
        run_id=run.id,
        run_ended_at=run.ended_at,
        died_on_ecmo=run.outcome == "died_on_ecmo",
        in_force=rows[0] if rows else None,
        history=rows,
    )


def _times_view(db: DbSession, actor: Actor, run: Run) -> EcprTimesView:
    rows = [_hidden(actor, ecpr_times.out(r)) for r in ecpr_times.history(db, run.id)]
    return EcprTimesView(
        run_id=run.id,
        support_type=run.support_type,
        run_started_at=run.started_at,
        in_force=rows[0] if rows else None,
        history=rows,
    )


# --- API ------------------------------------------------------------------------------


@api.get(
    "/runs/{run_id}/hospital-outcome",
    response_model=HospitalOutcomeView,
    dependencies=[require(P.VIEW_CLINICAL)],
)
def get_hospital_outcome(run_id: int, db: DbSession, actor: CurrentActor) -> HospitalOutcomeView:
    """The run's hospital outcome in force (the latest row) and every row, newest first."""
    return _outcome_view(db, actor, run_service.get_run(db, actor, run_id))


@api.post(
    "/runs/{run_id}/hospital-outcome",
    status_code=201,
    response_model=HospitalOutcomeOut,
    dependencies=[require(P.END_RUN)],
)
def post_hospital_outcome(
    run_id: int, data: HospitalOutcomeIn, db: DbSession, actor: CurrentActor
) -> HospitalOutcomeOut:
    """Record the hospital outcome of an ended run, or correct the one in force
    (``corrects_id`` and ``reason``); on the clinical timeline."""
    run = run_service.get_run(db, actor, run_id)
    row = hospital_outcome.record(db, actor, run, data)
    return _hidden(actor, hospital_outcome.out(row))  # type: ignore[no-any-return]


@api.get(
    "/runs/{run_id}/ecpr-times",
    response_model=EcprTimesView,
    dependencies=[require(P.VIEW_CLINICAL)],
)
def get_ecpr_times(run_id: int, db: DbSession, actor: CurrentActor) -> EcprTimesView:
    """The run's ECPR times in force (CPR start, full flow, low-flow minutes) and history."""
    return _times_view(db, actor, run_service.get_run(db, actor, run_id))


@api.post(
    "/runs/{run_id}/ecpr-times",
    status_code=201,
    response_model=EcprTimesOut,
    dependencies=[require(P.MANAGE_RUN)],
)
def post_ecpr_times(
    run_id: int, data: EcprTimesIn, db: DbSession, actor: CurrentActor
) -> EcprTimesOut:
    """Record (or correct) when CPR started and when full ECMO flow was reached."""
    run = run_service.get_run(db, actor, run_id)
    return _hidden(actor, ecpr_times.out(ecpr_times.record(db, actor, run, data)))  # type: ignore[no-any-return]


# --- pages ----------------------------------------------------------------------------


def _page(
    request: Request,
    db: DbSession,
    actor: Actor,
    run: Run,
    template: str,
    error: ContinuumError | None = None,
    values: dict[str, Any] | None = None,
) -> Response:
    ident = patient_service.identities(db, actor, [run.patient_id], "hospital outcome")
    if template == "hospital_outcome.html":
        rows: list[Any] = hospital_outcome.history(db, run.id)
        can = actor.can(P.END_RUN)
    else:
        rows = ecpr_times.history(db, run.id)
        can = actor.can(P.MANAGE_RUN)
    return render(
        request,
        template,
        actor,
        status_code=error.status_code if error else 200,
        run=run,
        identity=ident.get(run.patient_id),
        mode=run_service.current_mode(run),
        rows=rows,
        current=rows[0] if rows else None,
        statuses=hospital_outcome.STATUS_LABELS,
        destinations=hospital_outcome.DESTINATION_LABELS,
        supports=ecpr_times.SUPPORTS,
        run_outcomes=OUTCOME_LABELS,
        max_low_flow=ecpr_times.MAX_LOW_FLOW_MIN,
        error=error,
        error_form="record" if error else None,
        values=values or {},
        can_record=can,
    )


@pages.get("/runs/{run_id}/hospital-outcome", dependencies=[require(P.VIEW_CLINICAL)])
def hospital_outcome_page(
    request: Request, run_id: int, db: DbSession, actor: CurrentActor
) -> Response:
    run = run_service.get_run(db, actor, run_id)
    return _page(request, db, actor, run, "hospital_outcome.html")


@pages.post("/runs/{run_id}/hospital-outcome", dependencies=[require(P.END_RUN)])
def hospital_outcome_form(
    request: Request, run_id: int, db: DbSession, actor: CurrentActor
) -> Response:
    run = run_service.get_run(db, actor, run_id)
    values = posted_values(request)
    zone = request.app.state.settings.zone

    def save() -> hospital_outcome.HospitalOutcome:
        data: dict[str, Any] = {
            k: values.get(k) or None
            for k in ("status", "destination", "note", "corrects_id", "reason")
        }
        data["status"] = data["status"] or ""
        if values.get("at"):
            data["at"] = aware(str(values["at"]), zone, "at")
        return hospital_outcome.record(db, actor, run, parse_form(HospitalOutcomeIn, data))

    row, problem = attempt(db, save)
    if problem or row is None:
        return _page(request, db, actor, run, "hospital_outcome.html", problem, values)
    return redirect(f"/runs/{run.id}/hospital-outcome#row-{row.id}")


@pages.get("/runs/{run_id}/ecpr-times", dependencies=[require(P.VIEW_CLINICAL)])
def ecpr_times_page(request: Request, run_id: int, db: DbSession, actor: CurrentActor) -> Response:
    run = run_service.get_run(db, actor, run_id)
    return _page(request, db, actor, run, "ecpr_times.html")


@pages.post("/runs/{run_id}/ecpr-times", dependencies=[require(P.MANAGE_RUN)])
def ecpr_times_form(request: Request, run_id: int, db: DbSession, actor: CurrentActor) -> Response:
    run = run_service.get_run(db, actor, run_id)
    values = posted_values(request)
    zone = request.app.state.settings.zone

    def save() -> ecpr_times.EcprTimes:
        data: dict[str, Any] = {k: values.get(k) or None for k in ("corrects_id", "reason")}
        for name in ("cpr_started_at", "full_flow_at"):
            text = str(values.get(name) or "")
            data[name] = aware(text, zone, name) if text else None
        return ecpr_times.record(db, actor, run, parse_form(EcprTimesIn, data))

    row, problem = attempt(db, save)
    if problem or row is None:
        return _page(request, db, actor, run, "ecpr_times.html", problem, values)
    return redirect(f"/runs/{run.id}/ecpr-times#row-{row.id}")
