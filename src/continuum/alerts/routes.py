"""Alert pages: the programme-wide list, a run's alerts with their explanation and chart,
acknowledge/resolve forms, and the thresholds settings page."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from continuum.alerts import chart, evidence_words, history, service, thresholds
from continuum.alerts.api import router as api_router
from continuum.alerts.models import CircuitAlert
from continuum.core import free_text, patient_service, run_service, run_view
from continuum.core.roles import Actor
from continuum.core.roles import Permission as P
from continuum.core.run_record import Component, Run
from continuum.core.run_view import RunLink, add_run_link
from continuum.core.schemas import ComponentCreate
from continuum.core.vocab import COMPONENT_STOP_REASONS, DISCIPLINES
from continuum.db import utcnow
from continuum.errors import Conflict, ContinuumError, ValidationFailed
from continuum.surveillance import rule_texts
from continuum.web.deps import CurrentActor, DbSession, form_of, get_actor, require
from continuum.web.form_post import attempt
from continuum.web.pages import (
    NavLink,
    add_nav_link,
    add_template_dir,
    form_dict,
    parse_form,
    redirect,
    render,
)

add_template_dir(Path(__file__).parent / "templates")
add_nav_link(NavLink("Alerts", "/alerts", P.VIEW_CLINICAL, 15))
add_run_link(RunLink("Alerts", "/runs/{run_id}/alerts", P.VIEW_CLINICAL, 5))

router = APIRouter(include_in_schema=False, dependencies=[Depends(get_actor)])
routers = [router, api_router]


def rules_in_force(db: Session) -> dict[str, str]:
    """Each detector's rule rendered from the programme's thresholds in force."""
    return rule_texts(thresholds.in_force(db))


def _rows(db: Session, actor: Actor, alerts: list[CircuitAlert]) -> list[dict[str, Any]]:
    runs = {a.run_id: db.get_one(Run, a.run_id) for a in alerts}
    ids = patient_service.identities(
        db, actor, sorted({r.patient_id for r in runs.values()}), "alert list"
    )
    return [
        {"alert": a, "run": runs[a.run_id], "identity": ids.get(runs[a.run_id].patient_id)}
        for a in alerts
    ]


@router.get("/alerts", dependencies=[require(P.VIEW_CLINICAL)])
def alert_list(
    request: Request, db: DbSession, actor: CurrentActor, status: str = "open"
) -> Response:
    alerts = service.list_alerts(db, actor, status)
    return render(
        request,
        "alerts.html",
        actor,
        rows=_rows(db, actor, alerts),
        status=status,
        cursor=service.last_event_id(db),
    )


@router.get("/runs/{run_id}/alerts", dependencies=[require(P.VIEW_CLINICAL)])
def run_alerts(request: Request, run_id: int, db: DbSession, actor: CurrentActor) -> Response:
    return _run_alerts(request, db, actor, run_service.get_run(db, actor, run_id))


def _run_alerts(
    request: Request,
    db: Session,
    actor: Actor,
    run: Run,
    error: ContinuumError | None = None,
    error_alert: int | None = None,
) -> Response:
    alerts = service.list_alerts(db, actor, "all", run_id=run.id)
    now = utcnow()
    ident = patient_service.identities(db, actor, [run.patient_id], "run alerts")
    readable = free_text.readable(actor)  # typed words: core.free_text
    charts = chart.charts(db, run, alerts, now, request.app.state.settings.zone, readable)
    events = _events(db, alerts)
    return render(
        request,
        "run_alerts.html",
        actor,
        status_code=422 if error else 200,
        run=run,
        identity=ident.get(run.patient_id),
        alerts=alerts,
        history={a.id: history.history(a, ev, readable) for a, ev in events},
        interventions={a.id: service.interventions(ev) for a, ev in events},
        components=[c for c in run.components if c.stopped_at is None],
        component_of=service.COMPONENT_OF,
        stop_reasons=COMPONENT_STOP_REASONS,
        disciplines=DISCIPLINES,
        can_raise_actions=run_view.can_raise_actions(actor),
        due_default=_local_input(request, now + timedelta(hours=4)),
        charts=charts,
        rules=rules_in_force(db),
        words=evidence_words,
        may_resolve=service.may_resolve,
        critical_resolvers=service.CRITICAL_RESOLVERS,
        cursor=service.last_event_id(db),
        error=error,
        error_alert=error_alert,
    )


def _local_input(request: Request, t: datetime) -> str:
    """A time as a datetime-local form value in the programme's zone."""
    return t.astimezone(request.app.state.settings.zone).strftime("%Y-%m-%dT%H:%M")


def _events(db: Session, alerts: list[CircuitAlert]) -> list[tuple[CircuitAlert, Any]]:
    events = service.events_of(db, [a.id for a in alerts])
    return [(a, events[a.id]) for a in alerts]


def _back(form: Any, alert: CircuitAlert) -> str:
    target = str(form.get("next") or "")
    if target.startswith("/") and not target.startswith("//"):
        return target
    return f"/runs/{alert.run_id}/alerts#alert-{alert.id}"


@router.post("/alerts/{alert_id}/replace-component", dependencies=[require(P.MANAGE_CIRCUIT)])
def replace_component(
    request: Request, alert_id: int, db: DbSession, actor: CurrentActor
) -> Response:
    """Replace the component the alert points at and resolve the alert with a link to it."""
    alert = service.get_alert(db, actor, alert_id)
    values = form_dict(form_of(request), request.app.state.settings.zone, ("started_at",))
    note = values.pop("note", None)
    replaces = str(values.get("replaces_id") or "")
    old = db.get(Component, int(replaces)) if replaces.isdigit() else None
    values["kind"] = old.kind if old is not None and old.run_id == alert.run_id else "membrane_lung"

    def act() -> Any:
        return service.replace_component(
            db, actor, alert_id, parse_form(ComponentCreate, values), note
        )

    _, problem = attempt(db, act)
    if problem:
        return _run_alerts(request, db, actor, db.get_one(Run, alert.run_id), problem, alert_id)
    return redirect(f"/runs/{alert.run_id}/alerts#alert-{alert_id}")


@router.post("/alerts/{alert_id}/raise-action", dependencies=[require(P.RECORD_ROUND)])
def raise_action(request: Request, alert_id: int, db: DbSession, actor: CurrentActor) -> Response:
    """Raise a rounds action from the alert; the alert shows the link."""
    alert = service.get_alert(db, actor, alert_id)
    values = form_dict(form_of(request), request.app.state.settings.zone, ("due_at",))

    def act() -> Any:
        return service.raise_action(
            db,
            actor,
            alert_id,
            str(values.get("text") or ""),
            values.get("owner_discipline"),
            values.get("due_at"),
        )

    _, problem = attempt(db, act)
    if problem:
        return _run_alerts(request, db, actor, db.get_one(Run, alert.run_id), problem, alert_id)
    return redirect(f"/runs/{alert.run_id}/alerts#alert-{alert_id}")


@router.post("/alerts/{alert_id}/acknowledge", dependencies=[require(P.ACKNOWLEDGE_ALERT)])
def acknowledge(request: Request, alert_id: int, db: DbSession, actor: CurrentActor) -> Response:
    form = form_of(request)
    alert = service.get_alert(db, actor, alert_id)
    try:
        service.acknowledge(db, actor, alert_id, str(form.get("comment", "")))
    except (ValidationFailed, Conflict) as exc:
        db.rollback()
        return _run_alerts(request, db, actor, db.get_one(Run, alert.run_id), exc, alert_id)
    return redirect(_back(form, alert))


@router.post("/alerts/{alert_id}/resolve", dependencies=[require(P.ACKNOWLEDGE_ALERT)])
def resolve(request: Request, alert_id: int, db: DbSession, actor: CurrentActor) -> Response:
    form = form_of(request)
    alert = service.get_alert(db, actor, alert_id)
    try:
        service.resolve(db, actor, alert_id, str(form.get("note", "")))
    except (ValidationFailed, Conflict) as exc:
        db.rollback()
        return _run_alerts(request, db, actor, db.get_one(Run, alert.run_id), exc, alert_id)
    return redirect(_back(form, alert))
