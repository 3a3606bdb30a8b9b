"""Staff competencies: the coordinator's page (who is current, who expires soon, who has
expired), a person's record with the form to add an achievement, each person's own page,
and their JSON twins under /api/v1."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from continuum.core import competencies as comp
from continuum.core.people import Staff
from continuum.core.roles import Actor
from continuum.core.roles import Permission as P
from continuum.core.schemas import RecordId
from continuum.errors import ContinuumError, NotFound
from continuum.web.deps import CurrentActor, DbSession, get_actor, require
from continuum.web.form_post import attempt, posted_values
from continuum.web.pages import parse_form, redirect, render

pages = APIRouter(include_in_schema=False, dependencies=[Depends(get_actor)])
api = APIRouter(prefix="/api/v1", dependencies=[Depends(get_actor)], tags=["competencies"])
routers = [pages, api]

# One header item for instructors ("Training", whose page links here); everyone reaches
# their own competencies from their account page (the header stays two rows on a tablet).


def _person(db: DbSession, staff_id: int) -> Staff:
    staff = db.get(Staff, staff_id)
    if staff is None or staff.is_service_account:
        raise NotFound(f"staff {staff_id} not found")
    return staff


# --- API ------------------------------------------------------------------------------


@api.get(
    "/competencies",
    response_model=comp.CompetencyBoardOut,
    dependencies=[require(P.MANAGE_COMPETENCIES)],
)
def get_board(
    db: DbSession, actor: CurrentActor, on: date | None = None
) -> comp.CompetencyBoardOut:
    """Every clinical member of staff × every competency: current, expiring, expired, none."""
    return comp.board(db, actor, on)


@api.get(
    "/competencies/mine",
    response_model=list[comp.CompetencyStatusOut],
    dependencies=[require(P.VIEW_OWN_COMPETENCIES)],
)
def get_mine(db: DbSession, actor: CurrentActor) -> list[comp.CompetencyStatusOut]:
    """The caller's own competencies and when each expires."""
    return comp.mine(db, actor)


@api.get(
    "/competencies/team-current",
    response_model=comp.TeamCurrentOut,
    dependencies=[require(P.VIEW_CLINICAL)],
)
def get_team_current(
    db: DbSession,
    competency: str,
    staff_ids: list[RecordId] = Query(default=[], max_length=100),
    on: date | None = None,
) -> comp.TeamCurrentOut:
    """Whether each of ``staff_ids`` held ``competency`` valid on the day ``on`` (default
    today)."""
    from continuum.db import utcnow

    t = comp.team_current(db, staff_ids, competency, on or utcnow().date())
    return comp.TeamCurrentOut(
        competency=t.competency,
        on=t.at,
        all_current=t.all_current,
        current=t.current,
        not_current=t.not_current,
    )


@api.get(
    "/staff/{staff_id}/competencies",
    response_model=list[comp.CompetencyOut],
    dependencies=[require(P.MANAGE_COMPETENCIES)],
)
def get_history(staff_id: int, db: DbSession) -> list[comp.CompetencyOut]:
    """Every competency record of a person (corrections included), newest first."""
    _person(db, staff_id)
    return [comp.out(db, r) for r in comp.history(db, staff_id)]


@api.post(
    "/staff/{staff_id}/competencies",
    status_code=201,
    response_model=comp.CompetencyOut,
    dependencies=[require(P.MANAGE_COMPETENCIES)],
)
def post_record(
    staff_id: int, data: comp.CompetencyIn, db: DbSession, actor: CurrentActor
) -> comp.CompetencyOut:
    """Record an achievement (or correct one: ``corrects_id`` and ``reason``)."""
    _person(db, staff_id)
    return comp.out(db, comp.record(db, actor, staff_id, data))


# --- pages ----------------------------------------------------------------------------


@pages.get("/competencies", dependencies=[require(P.MANAGE_COMPETENCIES)])
def board_page(request: Request, db: DbSession, actor: CurrentActor) -> Response:
    b = comp.board(db, actor)
    by_person: dict[int, dict[str, Any]] = {}
    for r in b.rows:
        by_person.setdefault(r.staff_id, {"name": r.staff_name, "states": {}})["states"][
            r.competency
        ] = r
    counts: dict[str, dict[str, int]] = {
        c: dict.fromkeys(comp.STATES, 0) for c in comp.COMPETENCIES
    }
    for r in b.rows:
        counts[r.competency][r.state] += 1
    soon = sorted((r for r in b.rows if r.state == "expiring"), key=lambda r: r.days_left or 0)
    expired = sorted((r for r in b.rows if r.state == "expired"), key=lambda r: r.days_left or 0)
    return render(
        request,
        "competencies.html",
        actor,
        board=b,
        people=by_person,
        counts=counts,
        soon=soon,
        expired=expired,
        labels=comp.COMPETENCIES,
        state_labels=comp.STATE_LABELS,
    )


@pages.get("/competencies/mine", dependencies=[require(P.VIEW_OWN_COMPETENCIES)])
def mine_page(request: Request, db: DbSession, actor: CurrentActor) -> Response:
    rows = comp.mine(db, actor)
    history = comp.history(db, actor.staff_id) if actor.staff_id else []
    return render(
        request,
        "competencies_mine.html",
        actor,
        rows=rows,
        history=[comp.out(db, r) for r in history],
        labels=comp.COMPETENCIES,
        state_labels=comp.STATE_LABELS,
    )


def _person_page(
    request: Request,
    db: DbSession,
    actor: Actor,
    staff: Staff,
    error: ContinuumError | None = None,
    values: dict[str, Any] | None = None,
) -> Response:
    return render(
        request,
        "competencies_person.html",
        actor,
        status_code=error.status_code if error else 200,
        person=staff,
        history=[comp.out(db, r) for r in comp.history(db, staff.id)],
        labels=comp.COMPETENCIES,
        assessors=comp.clinical_staff(db),
        evidence_kinds=comp.EVIDENCE_KINDS,
        error=error,
        error_form=error is not None,
        values=values or {},
    )


@pages.get("/competencies/staff/{staff_id}", dependencies=[require(P.MANAGE_COMPETENCIES)])
def person_page(staff_id: int, request: Request, db: DbSession, actor: CurrentActor) -> Response:
    return _person_page(request, db, actor, _person(db, staff_id))


@pages.post("/competencies/staff/{staff_id}", dependencies=[require(P.MANAGE_COMPETENCIES)])
def person_post(staff_id: int, request: Request, db: DbSession, actor: CurrentActor) -> Response:
    staff = _person(db, staff_id)
    values = posted_values(request)
    data = {k: v for k, v in values.items() if v not in ("", None)}

    def action() -> comp.CompetencyRecord:
        return comp.record(db, actor, staff.id, parse_form(comp.CompetencyIn, data))

    _, error = attempt(db, action)
    if error is not None:
        return _person_page(request, db, actor, staff, error, values)
    return redirect(f"/competencies/staff/{staff.id}")
