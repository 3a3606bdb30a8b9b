"""A run's transfusions: the page (/runs/{id}/transfusions, list and hand-entry form) and
its JSON twin (/api/v1/runs/{id}/transfusions)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from continuum.core import free_text, patient_service, run_service, run_view
from continuum.core.roles import Actor
from continuum.core.roles import Permission as P
from continuum.core.run_record import Run
from continuum.core.run_view import RunLink, add_run_link
from continuum.errors import ContinuumError
from continuum.local_time import aware
from continuum.rounds import transfusion
from continuum.rounds.transfusion import TransfusionIn, TransfusionOut
from continuum.web.deps import CurrentActor, DbSession, get_actor, require
from continuum.web.form_post import attempt, posted_values
from continuum.web.pages import parse_form, redirect, render

pages = APIRouter(include_in_schema=False, dependencies=[Depends(get_actor)])
api = APIRouter(prefix="/api/v1", dependencies=[Depends(get_actor)], tags=["rounds"])
routers = [pages, api]

add_run_link(RunLink("Transfusions", "/runs/{run_id}/transfusions", P.VIEW_CLINICAL, 22))


def _out(row: transfusion.Transfusion) -> TransfusionOut:
    return TransfusionOut.model_validate(row, from_attributes=True)


@api.get(
    "/runs/{run_id}/transfusions",
    response_model=list[TransfusionOut],
    dependencies=[require(P.VIEW_CLINICAL)],
)
def list_transfusions(run_id: int, db: DbSession, actor: CurrentActor) -> list[TransfusionOut]:
    """The run's hand-entered transfusions, newest first (circuit checks carry their own)."""
    run = run_service.get_run(db, actor, run_id)
    rows = [_out(t) for t in transfusion.for_run(db, run.id)]
    if not free_text.readable(actor):  # the reason is typed: the pages' placeholder
        rows = [r.model_copy(update={"reason": free_text.HIDDEN}) for r in rows]
    return rows


@api.post(
    "/runs/{run_id}/transfusions",
    status_code=201,
    response_model=TransfusionOut,
    dependencies=[require(P.ENTER_OBSERVATION)],
)
def add_transfusion(
    run_id: int, data: TransfusionIn, db: DbSession, actor: CurrentActor
) -> TransfusionOut:
    """Record a transfusion (product, units and/or mL, when, why); on the clinical timeline."""
    run = run_service.get_run(db, actor, run_id)
    return _out(transfusion.record_transfusion(db, actor, run, data))


def _page(
    request: Request,
    db: DbSession,
    actor: Actor,
    run: Run,
    error: ContinuumError | None = None,
    values: dict[str, Any] | None = None,
) -> Response:
    ident = patient_service.identities(db, actor, [run.patient_id], "transfusions")
    return render(
        request,
        "transfusions.html",
        actor,
        status_code=422 if error else 200,
        run=run,
        identity=ident.get(run.patient_id),
        mode=run_service.current_mode(run),
        rows=transfusion.for_run(db, run.id),
        products=transfusion.PRODUCT_LABELS,
        max_units=transfusion.MAX_UNITS,
        max_volume=transfusion.MAX_VOLUME_ML,
        error=error,
        error_form="transfusion" if error else None,
        values=values or {},
        can_enter=actor.can(P.ENTER_OBSERVATION),
        # Transfusions the quality layer offers as an adverse event (above its threshold).
        offers=run_view.adverse_event_offers(db, run.id)
        if actor.can(P.RECORD_ADVERSE_EVENT)
        else set(),
    )


@pages.get("/runs/{run_id}/transfusions", dependencies=[require(P.VIEW_CLINICAL)])
def transfusions_page(
    request: Request, run_id: int, db: DbSession, actor: CurrentActor
) -> Response:
    return _page(request, db, actor, run_service.get_run(db, actor, run_id))


@pages.post("/runs/{run_id}/transfusions", dependencies=[require(P.ENTER_OBSERVATION)])
def transfusion_form(request: Request, run_id: int, db: DbSession, actor: CurrentActor) -> Response:
    run = run_service.get_run(db, actor, run_id)
    values = posted_values(request)
    zone = request.app.state.settings.zone

    def record() -> transfusion.Transfusion:
        data: dict[str, Any] = {
            k: values.get(k) or None for k in ("product", "units", "volume_ml", "reason")
        }
        data["reason"] = data["reason"] or ""
        given = str(values.get("given_at") or "")
        if given:
            data["given_at"] = aware(given, zone, "given_at")
        return transfusion.record_transfusion(db, actor, run, parse_form(TransfusionIn, data))

    row, problem = attempt(db, record)
    if problem or row is None:
        return _page(request, db, actor, run, problem, values)
    return redirect(f"/runs/{run.id}/transfusions#tx-{row.id}")
