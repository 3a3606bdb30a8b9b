"""Planned-exchange pages: plan one (from a forecast on the run page or from a
membrane-lung / pump alert), the plan with its checklist, and marking it done or cancelled."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from continuum.alerts import exchanges
from continuum.alerts.exchange_record import (
    CHECK_ITEMS,
    CHECKLIST,
    STATUS_LABELS,
    TARGET_COMPONENT,
    TARGET_LABELS,
    VALUE_CODES,
    ExchangePlan,
)
from continuum.alerts.models import CircuitAlert
from continuum.core import patient_service, run_service
from continuum.core.people import Staff
from continuum.core.roles import Actor
from continuum.core.roles import Permission as P
from continuum.core.run_record import Run
from continuum.core.vocab import COMPONENT_STOP_REASONS
from continuum.db import utcnow
from continuum.errors import ContinuumError
from continuum.forecast import CRITERIA
from continuum.web.deps import CurrentActor, DbSession, form_of, get_actor, require
from continuum.web.form_post import attempt
from continuum.web.pages import form_dict, redirect, render

router = APIRouter(include_in_schema=False, dependencies=[Depends(get_actor)])
routers = [router]
# Forecast criteria argue for the oxygenator or the pump (forecast.criteria).
FORECAST_TARGET = {"oxygenator": "membrane_lung", "pump": "pump"}
TIMES = ("planned_at", "done_at")


def criterion_label(code: str | None) -> str:
    """The forecast criterion in words (forecast.criteria), else the code as given."""
    c = CRITERIA.get(code or "")
    return c.label if c is not None else (code or "").replace("_", " ")


def _staff(db: Session) -> list[Staff]:
    return list(db.scalars(select(Staff).where(Staff.active).order_by(Staff.name)))


def _local(request: Request, t: Any) -> str:
    return t.astimezone(request.app.state.settings.zone).strftime("%Y-%m-%dT%H:%M")


def _ticks(form: Any) -> set[str]:
    return {k[len("check_") :] for k in form if k.startswith("check_")}


@router.get("/runs/{run_id}/exchanges/new", dependencies=[require(P.MANAGE_CIRCUIT)])
def new_exchange(
    request: Request,
    run_id: int,
    db: DbSession,
    actor: CurrentActor,
    target: str = "",
    alert_id: int | None = None,
    criterion: str = "",
    component: str = "",
) -> Response:
    run = run_service.get_run(db, actor, run_id)
    alert = db.get(CircuitAlert, alert_id) if alert_id else None
    if alert is not None and alert.run_id != run.id:
        alert = None
    if target not in TARGET_LABELS:
        target = FORECAST_TARGET.get(component, "")
    if alert is not None and target not in TARGET_LABELS:
        target = exchanges.ALERT_TARGET.get(alert.detector, "membrane_lung")
    values = {
        "target": target or "membrane_lung",
        "planned_at": _local(request, utcnow() + timedelta(hours=4)),
        "alert_id": alert.id if alert else "",
        "criterion": criterion[:48],
    }
    return _form(request, db, actor, run, values, alert)


def _form(
    request: Request,
    db: Session,
    actor: Actor,
    run: Run,
    values: dict[str, Any],
    alert: CircuitAlert | None,
    error: ContinuumError | None = None,
) -> Response:
    ident = patient_service.identities(db, actor, [run.patient_id], "exchange plan")
    open_alerts = db.scalars(
        select(CircuitAlert)
        .where(
            CircuitAlert.run_id == run.id,
            CircuitAlert.status != "resolved",
            CircuitAlert.detector.in_(list(exchanges.ALERT_TARGET)),
        )
        .order_by(CircuitAlert.raised_at.desc())
    )
    return render(
        request,
        "exchange_new.html",
        actor,
        open_alerts=list(open_alerts),
        alert_targets=exchanges.ALERT_TARGET,
        status_code=422 if error else 200,
        run=run,
        identity=ident.get(run.patient_id),
        values=values,
        alert=alert,
        staff=_staff(db),
        targets=TARGET_LABELS,
        criterion_label=criterion_label,
        error=error,
    )


@router.post("/runs/{run_id}/exchanges", dependencies=[require(P.MANAGE_CIRCUIT)])
def create_exchange(request: Request, run_id: int, db: DbSession, actor: CurrentActor) -> Response:
    run = run_service.get_run(db, actor, run_id)
    form = form_of(request)
    raw = {k: v for k, v in form.items() if k != "csrf_token"}

    def act() -> ExchangePlan:
        values = form_dict(form, request.app.state.settings.zone, TIMES)
        return exchanges.plan(db, actor, run_id, values)

    row, problem = attempt(db, act)
    if problem or row is None:
        alert_raw = str(raw.get("alert_id") or "")
        alert = db.get(CircuitAlert, int(alert_raw)) if alert_raw.isdigit() else None
        return _form(request, db, actor, db.get_one(Run, run.id), raw, alert, problem)
    return redirect(f"/exchanges/{row.number}")


@router.get("/exchanges/{plan_id}", dependencies=[require(P.VIEW_CLINICAL)])
def exchange_page(request: Request, plan_id: int, db: DbSession, actor: CurrentActor) -> Response:
    return _page(request, db, actor, plan_id)


def _page(
    request: Request,
    db: Session,
    actor: Actor,
    plan_id: int,
    error: ContinuumError | None = None,
    posted: dict[str, Any] | None = None,
) -> Response:
    row = exchanges.get_plan(db, actor, plan_id)
    run = db.get_one(Run, row.run_id)
    ident = patient_service.identities(db, actor, [run.patient_id], "exchange plan")
    kind = TARGET_COMPONENT[row.target]
    names = {s.id: s.name for s in _staff(db)}
    after = row.values_after
    if row.status == "done" and row.done_at is not None and not after:
        after = exchanges.values_around(db, run.id, row.done_at, after=True)
    return render(
        request,
        "exchange.html",
        actor,
        status_code=422 if error else 200,
        run=run,
        identity=ident.get(run.patient_id),
        plan=row,
        versions=exchanges.versions(db, row.number),
        alert=db.get(CircuitAlert, row.alert_id) if row.alert_id else None,
        staff=_staff(db),
        names=names,
        targets=TARGET_LABELS,
        statuses=STATUS_LABELS,
        criterion_label=criterion_label,
        checklist=CHECKLIST,
        check_items=CHECK_ITEMS,
        value_codes=VALUE_CODES,
        values_before=row.values_before or exchanges.values_around(db, run.id, utcnow(), False),
        values_after=after or {},
        components=[c for c in run.components if c.stopped_at is None and c.kind == kind],
        stop_reasons=[r for r in COMPONENT_STOP_REASONS if r != "end_of_run"],
        now_local=_local(request, utcnow()),
        planned_local=_local(request, row.planned_at),
        error=error,
        posted=posted or {},
    )


def _post(request: Request, db: Session, actor: Actor, plan_id: int, what: str) -> Response:
    form = form_of(request)
    raw = {k: v for k, v in form.items() if k != "csrf_token"}

    def act() -> ExchangePlan:
        values = form_dict(form, request.app.state.settings.zone, TIMES)
        if what == "update":
            return exchanges.update(db, actor, plan_id, values, _ticks(form))
        if what == "done":
            return exchanges.mark_done(db, actor, plan_id, values, _ticks(form))
        return exchanges.cancel(db, actor, plan_id, values.get("reason"))

    _, problem = attempt(db, act)
    if problem:
        return _page(request, db, actor, plan_id, problem, raw | {"form": what})
    return redirect(f"/exchanges/{plan_id}")


@router.post("/exchanges/{plan_id}/update", dependencies=[require(P.MANAGE_CIRCUIT)])
def update_exchange(request: Request, plan_id: int, db: DbSession, actor: CurrentActor) -> Response:
    return _post(request, db, actor, plan_id, "update")


@router.post("/exchanges/{plan_id}/done", dependencies=[require(P.MANAGE_CIRCUIT)])
def exchange_done(request: Request, plan_id: int, db: DbSession, actor: CurrentActor) -> Response:
    return _post(request, db, actor, plan_id, "done")


@router.post("/exchanges/{plan_id}/cancel", dependencies=[require(P.MANAGE_CIRCUIT)])
def cancel_exchange(request: Request, plan_id: int, db: DbSession, actor: CurrentActor) -> Response:
    return _post(request, db, actor, plan_id, "cancel")
