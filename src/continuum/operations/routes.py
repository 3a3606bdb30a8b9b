"""Operations pages: the ingest broker's health (``/operations/health``) and its JSON for
monitoring (``GET /api/v1/operations/broker``); docs/operations.md, *Broker health*."""

from __future__ import annotations

import asyncio
from dataclasses import asdict
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from continuum.core.roles import Actor
from continuum.core.roles import Permission as P
from continuum.ingest.nats_ingest import BrokerConfig
from continuum.operations import broker_health
from continuum.operations.schemas import BrokerHealthOut
from continuum.web.deps import CurrentActor, forbid_unless, get_actor
from continuum.web.pages import NavLink, add_nav_link, add_template_dir, render

add_template_dir(Path(__file__).parent / "templates")
add_nav_link(NavLink("Operations", "/operations/health", P.MANAGE_INTEGRATION, 79))

pages = APIRouter(include_in_schema=False, dependencies=[Depends(get_actor)])
api = APIRouter(prefix="/api/v1/operations", dependencies=[Depends(get_actor)],
                tags=["operations"])  # fmt: skip
routers = [pages, api]


def may_see_health(actor: CurrentActor) -> Actor:
    """IT (manage integration) and whoever sends device data (an integration service
    account's token, for its monitoring): counts and times only, no patient data."""
    if not actor.can(P.INGEST_DATA):
        forbid_unless(actor, P.MANAGE_INTEGRATION)
    return actor


def _health(request: Request) -> dict[str, Any]:
    """Plain ``def`` callers (the threadpool, like every route that may touch the database):
    the broker check runs on an event loop of this worker thread, never the app's own."""
    settings = request.app.state.settings
    config = BrokerConfig(
        url=settings.nats_url,
        stream=settings.nats_stream,
        subject=settings.nats_subject,
        ack_wait=settings.nats_ack_wait_s,
    )
    health = asyncio.run(broker_health.check(config, settings.ingest_via))
    return {**asdict(health), "lag_threshold_s": broker_health.LAG_S}


@api.get("/broker", response_model=BrokerHealthOut)
def broker_api(request: Request, actor: Actor = Depends(may_see_health)) -> dict[str, Any]:
    """The ingest broker's stream and consumer state, the connected workers and a status
    with what to do next (always 200: read ``status``)."""
    return _health(request)


@pages.get("/operations/health", dependencies=[Depends(may_see_health)])
def health_page(request: Request, actor: CurrentActor) -> Response:
    return render(request, "operations_health.html", actor, health=_health(request))
