"""Alert JSON API and the live stream (Server-Sent Events).

The stream keeps no state between requests: it polls ``alert_event`` for rows after a
cursor (the last event id the page saw; ``Last-Event-ID`` on reconnect), so any number of
app processes can serve it.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Header, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse
from sqlalchemy.orm import Session, sessionmaker

from continuum.alerts import service
from continuum.alerts.models import CircuitAlert
from continuum.alerts.schemas import (
    AcknowledgeIn,
    AlertOut,
    AlertWithHistory,
    DetectorRuleOut,
    ResolveIn,
)
from continuum.alerts.thresholds import GROUP, detector_rules
from continuum.core import free_text, run_service
from continuum.core.roles import Actor
from continuum.core.roles import Permission as P
from continuum.core.settings_routes import (
    SettingGroupOut,
    SettingsIn,
    SettingsSaved,
    group_out,
    save_out,
)
from continuum.web.concurrency import db_slot
from continuum.web.deps import CurrentActor, DbSession, require

router = APIRouter(prefix="/api/v1", tags=["alerts"])
POLL_S = 1.0
KEEPALIVE_S = 15.0


# The live stream is Server-Sent Events, not JSON: documented as such.
EVENT_STREAM: dict[int | str, dict[str, Any]] = {
    200: {
        "description": 'Server-Sent Events: `event: ready` (data {"cursor": id}), then '
        "`event: alert` per alert event (data: the event with its `alert`), `id:` the cursor",
        "content": {"text/event-stream": {"schema": {"type": "string"}}},
    }
}


@router.get("/alerts", response_model=list[AlertOut], dependencies=[require(P.VIEW_CLINICAL)])
def list_alerts(db: DbSession, actor: CurrentActor, status: str = "open") -> list[dict[str, Any]]:
    """Alerts across the programme, most severe and newest first (``status``: open|all)."""
    return [_shown(actor, service.to_json(a)) for a in service.list_alerts(db, actor, status)]


def _shown(actor: Actor, out: dict[str, Any]) -> dict[str, Any]:
    """An alert's JSON as this reader may see it: typed comments null without identifiers."""
    free_text.hide_fields(actor, out, ("acknowledge_comment",))
    for event in out.get("events", []):
        free_text.hide_fields(actor, event, ("comment",))
    return out


@router.get(
    "/alerts/stream",
    response_class=StreamingResponse,
    responses=EVENT_STREAM,
    dependencies=[require(P.VIEW_CLINICAL)],
)
async def stream(
    request: Request,
    actor: CurrentActor,
    after: int | None = None,
    run_id: int | None = None,
    max_seconds: float = 300.0,
    last_event_id: Annotated[str | None, Header()] = None,
) -> StreamingResponse:
    """``event: alert`` per alert event after the cursor; the browser reconnects itself."""
    factory: sessionmaker[Session] = request.app.state.sessionmaker
    cursor = _cursor(last_event_id, after)
    if cursor is None:
        async with db_slot(request.app):
            cursor = int(await run_in_threadpool(_read, factory, service.last_event_id))
    body = _events(request, factory, cursor, run_id, min(max(max_seconds, 0.0), 3600.0), actor)
    headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    return StreamingResponse(body, media_type="text/event-stream", headers=headers)


def _cursor(header: str | None, after: int | None) -> int | None:
    if header and header.strip().isdigit():
        return int(header)
    return after


def _read(factory: sessionmaker[Session], fn: Any, *args: Any) -> Any:
    with factory() as session:
        return fn(session, *args)


LOOKBACK = 200  # ids re-read behind the cursor: a concurrent transaction may commit later


def _poll(session: Session, cursor: int, run_id: int | None) -> list[dict[str, Any]]:
    out = []
    for e in service.events_after(session, max(cursor - LOOKBACK, 0), run_id):
        alert = session.get_one(CircuitAlert, e.alert_id)
        out.append({**service.event_json(e), "alert": service.to_json(alert)})
    return out


async def _events(
    request: Request,
    factory: sessionmaker[Session],
    cursor: int,
    run_id: int | None,
    max_seconds: float,
    actor: Actor | None = None,
) -> AsyncIterator[str]:
    """Events after ``cursor``; ids a little behind it are re-read so that an event whose
    transaction committed after a newer one is not missed (``seen`` drops duplicates)."""
    loop = asyncio.get_running_loop()
    deadline, quiet_since = loop.time() + max_seconds, loop.time()
    seen: set[int] = set()
    first, start = True, cursor
    yield f"retry: 3000\nevent: ready\ndata: {json.dumps({'cursor': cursor})}\n\n"
    while True:
        # a connection only for the poll itself (in a thread, within a database slot);
        # none is held while the stream sleeps or waits on the client
        async with db_slot(request.app):
            items = await run_in_threadpool(_read, factory, _poll, cursor, run_id)
        for item in items:
            if item["id"] in seen:
                continue
            seen.add(item["id"])
            if first and item["id"] <= start:
                continue  # the page already showed it
            cursor = max(cursor, item["id"])
            quiet_since = loop.time()
            free_text.hide_fields(actor, item, ("comment",))  # as the alert's own JSON
            item["alert"] = _shown(actor, item["alert"])
            yield f"id: {cursor}\nevent: alert\ndata: {json.dumps(item)}\n\n"
        first = False
        seen = {i for i in seen if i > cursor - LOOKBACK}
        if loop.time() >= deadline or await request.is_disconnected():
            return
        if loop.time() - quiet_since > KEEPALIVE_S:
            quiet_since = loop.time()
            yield ": keep-alive\n\n"
        await asyncio.sleep(POLL_S)


@router.get(
    "/alerts/{alert_id}", response_model=AlertWithHistory, dependencies=[require(P.VIEW_CLINICAL)]
)
def get_alert(alert_id: int, db: DbSession, actor: CurrentActor) -> dict[str, Any]:
    """One alert with its history (raised, escalated, updated, acknowledged, cleared …)."""
    alert = service.get_alert(db, actor, alert_id)
    events = service.events_of(db, [alert.id])[alert.id]
    out = {**service.to_json(alert), "events": [service.event_json(e) for e in events]}
    return _shown(actor, out)


@router.post(
    "/alerts/{alert_id}/acknowledge",
    response_model=AlertOut,
    dependencies=[require(P.ACKNOWLEDGE_ALERT)],
)
def acknowledge(
    alert_id: int, data: AcknowledgeIn, db: DbSession, actor: CurrentActor
) -> dict[str, Any]:
    return service.to_json(service.acknowledge(db, actor, alert_id, data.comment))


@router.post(
    "/alerts/{alert_id}/resolve",
    response_model=AlertOut,
    dependencies=[require(P.ACKNOWLEDGE_ALERT)],
)
def resolve(alert_id: int, data: ResolveIn, db: DbSession, actor: CurrentActor) -> dict[str, Any]:
    return service.to_json(service.resolve(db, actor, alert_id, data.note))


@router.get(
    "/runs/{run_id}/alerts", response_model=list[AlertOut], dependencies=[require(P.VIEW_CLINICAL)]
)
def run_alerts(
    run_id: int, db: DbSession, actor: CurrentActor, status: str = "all"
) -> list[dict[str, Any]]:
    """A run's alerts (``status``: open|all), most severe and newest first."""
    run_service.get_run(db, actor, run_id)
    alerts = service.list_alerts(db, actor, status, run_id=run_id)
    return [_shown(actor, service.to_json(a)) for a in alerts]


@router.get("/surveillance/thresholds")
def get_thresholds(db: DbSession, actor: CurrentActor) -> SettingGroupOut:
    """Former path of ``GET /api/v1/settings/surveillance`` (same answer)."""
    return group_out(db, actor, GROUP)


@router.get(
    "/surveillance/rules",
    response_model=list[DetectorRuleOut],
    dependencies=[require(P.VIEW_CLINICAL)],
)
def get_rules(db: DbSession) -> list[dict[str, Any]]:
    """Every detector's rule text with the programme's thresholds in force, and the modes
    (support configurations) it runs for."""
    return detector_rules(db)


@router.post("/surveillance/thresholds")
def set_thresholds(data: SettingsIn, db: DbSession, actor: CurrentActor) -> SettingsSaved:
    """Former path of ``PUT /api/v1/settings/surveillance`` (same body and answer)."""
    return save_out(db, actor, GROUP, data)
