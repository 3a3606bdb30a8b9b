"""Ambulation pages: a run's sessions, recording a session, the session with its circuit
values and events, correcting it (a new version with a reason) and a printable sheet."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from continuum.ambulation import service
from continuum.ambulation import settings as amb_settings
from continuum.ambulation.models import (
    DISCIPLINE_GROUPS,
    EVENT_LABELS,
    IMS_LABELS,
    SAFETY_ITEMS,
    AmbulationSession,
)
from continuum.ambulation.schemas import AmendIn, SessionIn
from continuum.core import patient_service, run_service
from continuum.core.people import Staff
from continuum.core.roles import ROLE_PERMISSIONS, Actor
from continuum.core.roles import Permission as P
from continuum.core.run_record import Run
from continuum.core.run_view import RunLink, add_run_link
from continuum.db import utcnow
from continuum.errors import ContinuumError, FieldProblem, ValidationFailed
from continuum.local_time import aware
from continuum.web.deps import CurrentActor, DbSession, form_of, get_actor, require
from continuum.web.form_post import attempt
from continuum.web.pages import add_template_dir, parse_form, redirect, render

add_template_dir(Path(__file__).parent / "templates")
add_run_link(RunLink("Ambulation", "/runs/{run_id}/ambulation", P.VIEW_CLINICAL, 62))
router = APIRouter(include_in_schema=False, dependencies=[Depends(get_actor)])
routers = [router]
EVENT_ROWS = 4  # empty event rows on the form
LOCAL = "%Y-%m-%dT%H:%M"


def _staff(db: Session) -> dict[str, list[Staff]]:
    """Active bedside clinicians (roles that record sessions) by discipline group,
    physiotherapy first."""
    people = [
        s
        for s in db.scalars(select(Staff).where(Staff.active).order_by(Staff.name))
        if not s.is_service_account and P.RECORD_AMBULATION in ROLE_PERMISSIONS.get(s.role, ())
    ]
    return {
        g: [s for s in people if service.group_of(s.discipline) == g] for g in DISCIPLINE_GROUPS
    }


def _local(request: Request, t: datetime) -> str:
    return t.astimezone(request.app.state.settings.zone).strftime(LOCAL)


def _values_of(request: Request, row: AmbulationSession, db: Session) -> dict[str, Any]:
    """A session as the form shows it (local times), for a correction."""
    zone = request.app.state.settings.zone
    values: dict[str, Any] = {
        "started_at": _local(request, row.started_at),
        "ended_at": _local(request, row.ended_at),
        "ims_level": str(row.ims_level),
        "safety_reason": row.safety_reason or "",
        "stopped_early": row.stopped_early,
        "stop_reason": row.stop_reason or "",
        "note": row.note or "",
        "staff": [s.id for s, _ in service.staff_present(db, row.number)],
    }
    for key, answer in (row.safety or {}).items():
        values[f"safety_{key}"] = answer
    for i, e in enumerate(row.events or [], start=1):
        at = datetime.fromisoformat(e["at"]).astimezone(zone)
        values[f"event_kind_{i}"] = e["kind"]
        values[f"event_at_{i}"] = at.strftime("%H:%M")
        values[f"event_note_{i}"] = e.get("note") or ""
    return values


def _read_form(request: Request, amend: bool) -> SessionIn:
    """The posted form as the API's input shape; bad times and levels name their field."""
    form = form_of(request)
    zone = request.app.state.settings.zone
    bad: list[FieldProblem] = []
    data: dict[str, Any] = {"safety": {}, "events": []}
    for name in ("started_at", "ended_at"):
        raw = str(form.get(name) or "").strip()
        if not raw:
            bad.append(FieldProblem(name, f"say when the session {name[:-3]}ed"))
            continue
        try:
            data[name] = aware(raw, zone, name)
        except ValidationFailed as exc:
            bad += exc.problems
    level = str(form.get("ims_level") or "").strip()
    if not level.lstrip("-").isdigit():
        bad.append(FieldProblem("ims_level", "choose the ICU Mobility Scale level, 0–10", level))
    else:
        data["ims_level"] = int(level)
    for key in SAFETY_ITEMS:
        answer = str(form.get(f"safety_{key}") or "")
        if answer:
            data["safety"][key] = answer
    start = data.get("started_at")
    for i in range(1, service.MAX_EVENTS + 1):
        kind = str(form.get(f"event_kind_{i}") or "").strip()
        if not kind:
            continue
        raw = str(form.get(f"event_at_{i}") or "").strip()
        at = _event_time(raw, start, zone)
        if at is None:
            bad.append(FieldProblem(f"event_at_{i}", "say when it happened (hh:mm)", raw))
            continue
        note = str(form.get(f"event_note_{i}") or "").strip() or None
        data["events"].append({"kind": kind, "at": at, "note": note})
    data["staff_ids"] = [int(x) for x in form.getlist("staff_id") if str(x).isdigit()]
    data["stopped_early"] = bool(form.get("stopped_early"))
    for name in ("safety_reason", "stop_reason", "note") + (("reason",) if amend else ()):
        text = str(form.get(name) or "").strip()
        if text:
            data[name] = text
    if amend and not data.get("reason"):
        bad.append(FieldProblem("reason", "say why the session is corrected"))
    if bad:
        raise ValidationFailed(bad)
    return parse_form(AmendIn if amend else SessionIn, data)


def _event_time(raw: str, start: datetime | None, zone: Any) -> datetime | None:
    """hh:mm on the session's day (the next day when earlier than the start), or a full
    local date-time."""
    if start is None or not raw:
        return None
    try:
        if "T" in raw:
            return aware(raw, zone, "event_at")
        clock = time.fromisoformat(raw)
    except (ValueError, ValidationFailed):
        return None
    local_start = start.astimezone(zone)
    at = datetime.combine(local_start.date(), clock, tzinfo=zone)
    if at < local_start.replace(second=0, microsecond=0):
        at += timedelta(days=1)
    return at


# --- pages ----------------------------------------------------------------------------


@router.get("/runs/{run_id}/ambulation", dependencies=[require(P.VIEW_CLINICAL)])
def run_sessions(request: Request, run_id: int, db: DbSession, actor: CurrentActor) -> Response:
    run = run_service.get_run(db, actor, run_id)
    rows = service.run_sessions(db, actor, run_id)
    ident = patient_service.identities(db, actor, [run.patient_id], "ambulation sessions")
    return render(
        request,
        "ambulation_run.html",
        actor,
        run=run,
        identity=ident.get(run.patient_id),
        sessions=rows,
        best=service.highest(rows),
        ims=IMS_LABELS,
        events=EVENT_LABELS,
        safety_items=SAFETY_ITEMS,
    )


@router.get("/runs/{run_id}/ambulation/new", dependencies=[require(P.RECORD_AMBULATION)])
def new_session(request: Request, run_id: int, db: DbSession, actor: CurrentActor) -> Response:
    run = run_service.get_run(db, actor, run_id)
    now = utcnow()
    values = {
        "started_at": _local(request, now - timedelta(minutes=45)),
        "ended_at": _local(request, now - timedelta(minutes=5)),
        "staff": [actor.staff_id] if actor.staff_id else [],
    }
    return _form(request, db, actor, run, values, None, None)


def _form(
    request: Request,
    db: Session,
    actor: Actor,
    run: Run,
    values: dict[str, Any],
    row: AmbulationSession | None,
    error: ContinuumError | None,
) -> Response:
    ident = patient_service.identities(db, actor, [run.patient_id], "ambulation session")
    shown = max([EVENT_ROWS] + [int(k.rsplit("_", 1)[1]) + 1 for k in values
                                if k.startswith("event_kind_") and values[k]])  # fmt: skip
    return render(
        request,
        "ambulation_form.html",
        actor,
        status_code=422 if error else 200,
        run=run,
        identity=ident.get(run.patient_id),
        row=row,
        values=values,
        staff=_staff(db),
        ims=IMS_LABELS,
        events=EVENT_LABELS,
        safety_items=SAFETY_ITEMS,
        event_rows=min(shown, service.MAX_EVENTS),
        error=error,
    )


def _posted(request: Request) -> dict[str, Any]:
    form = form_of(request)
    values: dict[str, Any] = {k: v for k, v in form.items() if k != "csrf_token"}
    values["staff"] = [int(x) for x in form.getlist("staff_id") if str(x).isdigit()]
    return values


@router.post("/runs/{run_id}/ambulation", dependencies=[require(P.RECORD_AMBULATION)])
def create_session(request: Request, run_id: int, db: DbSession, actor: CurrentActor) -> Response:
    run_service.get_run(db, actor, run_id)

    def act() -> AmbulationSession:
        return service.record(db, actor, run_id, _read_form(request, amend=False))

    row, problem = attempt(db, act)
    if problem or row is None:
        run = run_service.get_run(db, actor, run_id)
        return _form(request, db, actor, run, _posted(request), None, problem)
    return redirect(f"/ambulation/{row.number}")


@router.get("/ambulation/{number}", dependencies=[require(P.VIEW_CLINICAL)])
def session_page(request: Request, number: int, db: DbSession, actor: CurrentActor) -> Response:
    return _page(request, db, actor, number, "ambulation_session.html")


@router.get("/ambulation/{number}/print", dependencies=[require(P.VIEW_CLINICAL)])
def session_print(request: Request, number: int, db: DbSession, actor: CurrentActor) -> Response:
    return _page(request, db, actor, number, "ambulation_print.html")


def _page(request: Request, db: Session, actor: Actor, number: int, template: str) -> Response:
    row = service.get(db, actor, number)
    run = db.get_one(Run, row.run_id)
    ident = patient_service.identities(db, actor, [run.patient_id], "ambulation session")
    windows = amb_settings.in_force(db)
    return render(
        request,
        template,
        actor,
        run=run,
        identity=ident.get(run.patient_id),
        row=row,
        staff=service.staff_present(db, row.number),
        current=service.competency_current(db, row),
        versions=service.versions(db, row.number),
        values=service.circuit_values(db, row, windows),
        windows=windows,
        ims=IMS_LABELS,
        events=EVENT_LABELS,
        safety_items=SAFETY_ITEMS,
        as_time=datetime.fromisoformat,
    )


@router.get("/ambulation/{number}/amend", dependencies=[require(P.RECORD_AMBULATION)])
def amend_form(request: Request, number: int, db: DbSession, actor: CurrentActor) -> Response:
    row = service.get(db, actor, number)
    run = db.get_one(Run, row.run_id)
    return _form(request, db, actor, run, _values_of(request, row, db), row, None)


@router.post("/ambulation/{number}/amend", dependencies=[require(P.RECORD_AMBULATION)])
def amend_session(request: Request, number: int, db: DbSession, actor: CurrentActor) -> Response:
    row = service.get(db, actor, number)

    def act() -> AmbulationSession:
        data = _read_form(request, amend=True)
        assert isinstance(data, AmendIn)
        return service.amend(db, actor, number, data)

    done, problem = attempt(db, act)
    if problem or done is None:
        row = service.get(db, actor, number)
        run = db.get_one(Run, row.run_id)
        return _form(request, db, actor, run, _posted(request), row, problem)
    return redirect(f"/ambulation/{done.number}")
