"""Transport pages (/transport: the missions; /transport/{id}: one mission with its
timeline, intervals, checklist, events in transit, handover and team, printable) and their
JSON twins under /api/v1/transport."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from continuum.core import free_text, patient_service, settings_service
from continuum.core.people import Patient, Staff
from continuum.core.roles import Actor
from continuum.core.roles import Permission as P
from continuum.core.schemas import MAX_ID
from continuum.core.vocab import DISCIPLINES
from continuum.db import utcnow
from continuum.errors import ContinuumError, FieldProblem, ValidationFailed
from continuum.transport import service
from continuum.transport.models import (
    CHECK_ITEMS,
    COMPUTED_ITEMS,
    EVENT_KINDS,
    MILESTONES,
    MISSION_TYPES,
    PRIMARY_ONLY,
    TICKED_ITEMS,
    VEHICLES,
)
from continuum.transport.schemas import (
    ChecklistIn,
    EventIn,
    HandoverIn,
    MilestoneIn,
    MissionAmend,
    MissionIn,
    MissionListOut,
    MissionOut,
)
from continuum.transport.settings import GROUP
from continuum.web.deps import CurrentActor, DbSession, get_actor, require
from continuum.web.form_post import attempt, posted_values
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
add_nav_link(NavLink("Transport", "/transport", P.VIEW_CLINICAL, 40))

pages = APIRouter(include_in_schema=False, dependencies=[Depends(get_actor)])
api = APIRouter(prefix="/api/v1", dependencies=[Depends(get_actor)], tags=["transport"])
routers = [pages, api]
TIMES = ("call_at", "at")


def _out(db: Session, actor: Actor, number: int) -> MissionOut:
    return MissionOut.model_validate(service.as_json(actor, service.view(db, actor, number)))


# --- API ------------------------------------------------------------------------------------


@api.get("/transport", response_model=MissionListOut, dependencies=[require(P.VIEW_CLINICAL)])
def api_missions(db: DbSession, actor: CurrentActor, run_id: int | None = None) -> MissionListOut:
    """Every mission (of a run), newest first, with its status and call time."""
    rows = service.list_missions(db, actor, run_id)
    return MissionListOut.model_validate(
        {
            "missions": [
                {
                    "id": m.number,
                    "patient_id": m.patient_id,
                    "run_id": m.run_id,
                    "mission_type": m.mission_type,
                    "vehicle": m.vehicle,
                    "referring_hospital": free_text.for_api(actor, m.referring_hospital),
                    "call_at": times.get("call"),
                    "status": status,
                }
                for m, times, status in rows
            ]
        }
    )


@api.post(
    "/transport",
    status_code=201,
    response_model=MissionOut,
    dependencies=[require(P.MANAGE_TRANSPORT)],
)
def api_create(data: MissionIn, db: DbSession, actor: CurrentActor) -> MissionOut:
    """Start a mission from a referral (or a run): primary or secondary, vehicle, call time."""
    row = service.create(db, actor, data)
    db.flush()
    return _out(db, actor, row.number)


@api.get(
    "/transport/{mission_id}", response_model=MissionOut, dependencies=[require(P.VIEW_CLINICAL)]
)
def api_mission(mission_id: int, db: DbSession, actor: CurrentActor) -> MissionOut:
    """One mission: milestones and intervals (min), checklist in force, events, handover."""
    return _out(db, actor, mission_id)


@api.post(
    "/transport/{mission_id}/amend",
    response_model=MissionOut,
    dependencies=[require(P.MANAGE_TRANSPORT)],
)
def api_amend(
    mission_id: int, data: MissionAmend, db: DbSession, actor: CurrentActor
) -> MissionOut:
    """Link the run, or correct the vehicle, hospital or expected duration (a new version)."""
    m = service.amend(db, actor, mission_id, data)
    return _out(db, actor, m.number)


@api.post(
    "/transport/{mission_id}/milestones",
    response_model=MissionOut,
    dependencies=[require(P.MANAGE_TRANSPORT)],
)
def api_milestone(
    mission_id: int, data: MilestoneIn, db: DbSession, actor: CurrentActor
) -> MissionOut:
    """Record a milestone time, or correct one (with a reason); out of order → 422."""
    service.record_milestone(db, actor, mission_id, data)
    return _out(db, actor, mission_id)


@api.post(
    "/transport/{mission_id}/checklist",
    response_model=MissionOut,
    dependencies=[require(P.MANAGE_TRANSPORT)],
)
def api_checklist(
    mission_id: int, data: ChecklistIn, db: DbSession, actor: CurrentActor
) -> MissionOut:
    """Sign the pre-departure checklist; a failed item needs a reason (else 422)."""
    service.sign_checklist(db, actor, mission_id, data)
    return _out(db, actor, mission_id)


@api.post(
    "/transport/{mission_id}/events",
    response_model=MissionOut,
    dependencies=[require(P.MANAGE_TRANSPORT)],
)
def api_event(mission_id: int, data: EventIn, db: DbSession, actor: CurrentActor) -> MissionOut:
    """Note an event in transit (desaturation, flow drop, power loss, circuit issue, other)."""
    service.add_event(db, actor, mission_id, data)
    return _out(db, actor, mission_id)


@api.post(
    "/transport/{mission_id}/handover",
    response_model=MissionOut,
    dependencies=[require(P.MANAGE_TRANSPORT)],
)
def api_handover(
    mission_id: int, data: HandoverIn, db: DbSession, actor: CurrentActor
) -> MissionOut:
    """Record the handover (or correct it, with a reason); sets the handover milestone."""
    service.record_handover(db, actor, mission_id, data)
    return _out(db, actor, mission_id)


# --- pages ----------------------------------------------------------------------------------


def _staff(db: Session) -> list[Staff]:
    stmt = select(Staff).where(Staff.active).order_by(Staff.name)
    return [s for s in db.scalars(stmt) if not s.is_service_account]


def _local(request: Request, t: Any) -> str:
    return t.astimezone(request.app.state.settings.zone).strftime("%Y-%m-%dT%H:%M")


@pages.get("/transport", dependencies=[require(P.VIEW_CLINICAL)])
def missions_page(
    request: Request, db: DbSession, actor: CurrentActor, run_id: int | None = None
) -> Response:
    rows = service.list_missions(db, actor, run_id)
    ident = patient_service.identities(db, actor, {m.patient_id for m, _, _ in rows}, "transport")
    patients = {
        p.id: p
        for p in db.scalars(
            select(Patient).where(Patient.id.in_({m.patient_id for m, _, _ in rows}))
        )
    }
    return render(
        request,
        "transport_list.html",
        actor,
        rows=rows,
        run_id=run_id,
        identities=ident,
        patients=patients,
        types=MISSION_TYPES,
        vehicles=VEHICLES,
    )


@pages.get("/transport/new", dependencies=[require(P.MANAGE_TRANSPORT)])
def new_page(
    request: Request,
    db: DbSession,
    actor: CurrentActor,
    referral_id: int | None = None,
    run_id: int | None = None,
    mission_type: str = "",
) -> Response:
    values: dict[str, Any] = {
        "referral_id": referral_id or "",
        "run_id": run_id or "",
        "mission_type": mission_type if mission_type in MISSION_TYPES else "",
        "call_at": _local(request, utcnow()),
    }
    return _new(request, actor, values)


def _new(
    request: Request, actor: Actor, values: dict[str, Any], error: ContinuumError | None = None
) -> Response:
    return render(
        request,
        "transport_new.html",
        actor,
        status_code=422 if error else 200,
        values=values,
        types=MISSION_TYPES,
        vehicles=VEHICLES,
        error=error,
    )


@pages.post("/transport", dependencies=[require(P.MANAGE_TRANSPORT)])
def create_form(request: Request, db: DbSession, actor: CurrentActor) -> Response:
    raw = posted_values(request)
    zone = request.app.state.settings.zone

    def act() -> Any:
        data = form_dict(_multi(raw), zone, TIMES)
        return service.create(db, actor, parse_form(MissionIn, data))

    row, problem = attempt(db, act)
    if problem or row is None:
        return _new(request, actor, raw, problem)
    return redirect(f"/transport/{row.number}")


class _multi(dict[str, Any]):
    """A plain dict read like a form (form_dict walks ``multi_items``)."""

    def multi_items(self) -> list[tuple[str, Any]]:
        return list(self.items())


@pages.get("/transport/{mission_id}", dependencies=[require(P.VIEW_CLINICAL)])
def mission_page(request: Request, mission_id: int, db: DbSession, actor: CurrentActor) -> Response:
    return _page(request, db, actor, mission_id)


def _page(
    request: Request,
    db: Session,
    actor: Actor,
    number: int,
    error: ContinuumError | None = None,
    posted: dict[str, Any] | None = None,
) -> Response:
    v = service.view(db, actor, number)
    m = v.mission
    patient = db.get_one(Patient, m.patient_id)
    ident = patient_service.identities(db, actor, [m.patient_id], "transport mission")
    cfg = settings_service.values(db, GROUP)
    milestone_keys = [k for k in MILESTONES if m.mission_type == "primary" or k not in PRIMARY_ONLY]
    return render(
        request,
        "transport.html",
        actor,
        status_code=error.status_code if error else 200,
        v=v,
        m=m,
        patient=patient,
        identity=ident.get(m.patient_id),
        types=MISSION_TYPES,
        vehicles=VEHICLES,
        milestone_labels=MILESTONES,
        milestone_keys=milestone_keys,
        check_items=CHECK_ITEMS,
        computed_items=COMPUTED_ITEMS,
        ticked_items=TICKED_ITEMS,
        event_kinds=EVENT_KINDS,
        disciplines=DISCIPLINES,
        staff=_staff(db),
        cfg=cfg,
        mission_versions=service.versions(db, m.number),
        milestone_history=service.milestone_rows(db, m.number),
        signed_checklists=service.checklists(db, m.number),
        now_local=_local(request, utcnow()),
        error=error,
        posted=posted or {},
        names={s.id: s.name for s in db.scalars(select(Staff))},
    )


def _post(request: Request, db: Session, actor: Actor, number: int, what: str) -> Response:
    raw = posted_values(request)
    zone = request.app.state.settings.zone

    def act() -> Any:
        data = form_dict(_multi(raw), zone, TIMES)
        if what == "milestone":
            return service.record_milestone(db, actor, number, parse_form(MilestoneIn, data))
        if what == "amend":
            return service.amend(db, actor, number, parse_form(MissionAmend, data))
        if what == "checklist":
            return service.sign_checklist(db, actor, number, _checklist(data))
        if what == "event":
            return service.add_event(db, actor, number, parse_form(EventIn, data))
        if what == "handover":
            return service.record_handover(db, actor, number, parse_form(HandoverIn, data))
        staff = str(data.get("staff_id") or "")
        if not staff.isdigit() or int(staff) > MAX_ID:
            raise ValidationFailed([FieldProblem("staff_id", "choose a team member", staff)])
        return service.add_team_member(db, actor, number, int(staff), data.get("contribution"))

    _, problem = attempt(db, act)
    if problem:
        return _page(request, db, actor, number, problem, raw | {"form": what})
    return redirect(f"/transport/{number}#{what}")


def _checklist(data: dict[str, Any]) -> ChecklistIn:
    """The checklist form: numbers, one pass/fail choice per ticked item, reasons."""
    ticked: dict[str, bool] = {}
    problems = []
    for key in TICKED_ITEMS:
        choice = data.pop(f"tick_{key}", None)
        if choice not in ("pass", "fail"):
            problems.append(FieldProblem(f"tick_{key}", f"'{CHECK_ITEMS[key]}': pass or fail?"))
        ticked[key] = choice == "pass"
    if problems:
        raise ValidationFailed(problems)
    reasons = {k: str(data.pop(f"reason_{k}")) for k in CHECK_ITEMS if f"reason_{k}" in data}
    return parse_form(ChecklistIn, {**data, "ticked": ticked, "reasons": reasons})


@pages.post("/transport/{mission_id}/milestone", dependencies=[require(P.MANAGE_TRANSPORT)])
def milestone_form(
    request: Request, mission_id: int, db: DbSession, actor: CurrentActor
) -> Response:
    return _post(request, db, actor, mission_id, "milestone")


@pages.post("/transport/{mission_id}/amend", dependencies=[require(P.MANAGE_TRANSPORT)])
def amend_form(request: Request, mission_id: int, db: DbSession, actor: CurrentActor) -> Response:
    return _post(request, db, actor, mission_id, "amend")


@pages.post("/transport/{mission_id}/checklist", dependencies=[require(P.MANAGE_TRANSPORT)])
def checklist_form(
    request: Request, mission_id: int, db: DbSession, actor: CurrentActor
) -> Response:
    return _post(request, db, actor, mission_id, "checklist")


@pages.post("/transport/{mission_id}/events", dependencies=[require(P.MANAGE_TRANSPORT)])
def event_form(request: Request, mission_id: int, db: DbSession, actor: CurrentActor) -> Response:
    return _post(request, db, actor, mission_id, "event")


@pages.post("/transport/{mission_id}/handover", dependencies=[require(P.MANAGE_TRANSPORT)])
def handover_form(
    request: Request, mission_id: int, db: DbSession, actor: CurrentActor
) -> Response:
    return _post(request, db, actor, mission_id, "handover")


@pages.post("/transport/{mission_id}/team", dependencies=[require(P.MANAGE_TRANSPORT)])
def team_form(request: Request, mission_id: int, db: DbSession, actor: CurrentActor) -> Response:
    return _post(request, db, actor, mission_id, "team")
