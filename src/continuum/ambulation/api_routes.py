"""JSON API of ambulation sessions (/api/v1). Roles declared on each route and checked in
the service; typed free text (reasons, notes) is hidden from roles that may not read it."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from sqlalchemy.orm import Session

from continuum.ambulation import service
from continuum.ambulation import settings as amb_settings
from continuum.ambulation.models import AmbulationSession
from continuum.ambulation.schemas import AmendIn, SessionIn, SessionListOut, SessionOut
from continuum.core import free_text
from continuum.core.roles import Actor
from continuum.core.roles import Permission as P
from continuum.web.deps import CurrentActor, DbSession, get_actor, require

router = APIRouter(prefix="/api/v1", dependencies=[Depends(get_actor)], tags=["ambulation"])
routers = [router]
TEXT_FIELDS = ("safety_reason", "stop_reason", "note", "amend_reason")


def _out(db: Session, actor: Actor, row: AmbulationSession) -> dict[str, Any]:
    data = service.as_dict(db, row, amb_settings.in_force(db))
    for name in TEXT_FIELDS:
        data[name] = free_text.for_api(actor, data[name])
    for event in data["events"]:
        event["note"] = free_text.for_api(actor, event["note"])
    return data


@router.get(
    "/runs/{run_id}/ambulation",
    response_model=SessionListOut,
    dependencies=[require(P.VIEW_CLINICAL)],
)
def list_sessions(run_id: int, db: DbSession, actor: CurrentActor) -> dict[str, Any]:
    rows = service.run_sessions(db, actor, run_id)
    best = service.highest(rows)
    return {
        "run_id": run_id,
        "highest_ims": best.ims_level if best else None,
        "sessions": [_out(db, actor, r) for r in rows],
    }


@router.post(
    "/runs/{run_id}/ambulation",
    status_code=201,
    response_model=SessionOut,
    dependencies=[require(P.RECORD_AMBULATION)],
)
def create_session(
    run_id: int, data: SessionIn, db: DbSession, actor: CurrentActor
) -> dict[str, Any]:
    row = service.record(db, actor, run_id, data)
    return _out(db, actor, row)


@router.get(
    "/ambulation/{number}",
    response_model=SessionOut,
    dependencies=[require(P.VIEW_CLINICAL)],
)
def get_session(number: int, db: DbSession, actor: CurrentActor) -> dict[str, Any]:
    return _out(db, actor, service.get(db, actor, number))


@router.post(
    "/ambulation/{number}/amendments",
    status_code=201,
    response_model=SessionOut,
    dependencies=[require(P.RECORD_AMBULATION)],
)
def amend_session(number: int, data: AmendIn, db: DbSession, actor: CurrentActor) -> dict[str, Any]:
    return _out(db, actor, service.amend(db, actor, number, data))
