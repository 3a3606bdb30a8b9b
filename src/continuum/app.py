"""The FastAPI application factory: pages for clinicians, JSON API for integrations."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.middleware.sessions import SessionMiddleware

from continuum import __version__
from continuum.config import Settings, get_settings
from continuum.core.roles import start_page
from continuum.db import make_engine, make_sessionmaker
from continuum.web import errors, static_files
from continuum.web.auth_routes import router as auth_router
from continuum.web.concurrency import configure_threadpool, pool_args
from continuum.web.deps import actor_or_none
from continuum.web.input_guard import guard_input
from continuum.web.routing import path_filtered
from continuum.web.security import BodyLimit, SecurityHeaders

API_DESCRIPTION = """ECMO Continuum JSON API. Authenticate with `Authorization: Bearer <token>`
(tokens are issued by an administrator). Errors carry `error`, `message` and, for invalid
input, `fields` naming each field, the value given and what is allowed."""


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    settings.check_secret()
    app = FastAPI(
        lifespan=_lifespan,
        title="ECMO Continuum",
        version=__version__,
        description=API_DESCRIPTION,
        docs_url=None,
        openapi_url="/api/openapi.json",
        redoc_url=None,
        dependencies=[Depends(guard_input)],  # every route: ids, NUL, NaN (web/input_guard)
    )
    app.state.settings = settings
    app.state.engine = make_engine(
        settings.database_url, **pool_args(settings.database_url, settings.db_connections)
    )
    app.state.sessionmaker = make_sessionmaker(app.state.engine)
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.secret_key,
        session_cookie="continuum_session",
        max_age=int(timedelta(hours=settings.session_hours).total_seconds()),
        same_site="lax",
        https_only=settings.secure_cookies,
    )
    errors.install(app)
    _domains()
    _routes(app)

    _outermost(app, settings)
    return app


# The larger body limit: the console CSV upload page and the FHIR Bundle endpoint.
UPLOAD_PATHS = (r"/runs/\d+/ingest", r"/api/v1/fhir/Bundle")


def _outermost(app: FastAPI, settings: Settings) -> None:
    """Security headers and the body limit wrap the whole stack, Starlette's error
    middleware included: 500 responses carry the headers, oversized bodies never reach it."""
    build = app.build_middleware_stack

    def wrapped():  # type: ignore[no-untyped-def]
        inner = BodyLimit(build(), settings.max_body_bytes, settings.max_upload_bytes, UPLOAD_PATHS)
        return SecurityHeaders(inner, settings.secure_cookies)

    app.build_middleware_stack = wrapped  # type: ignore[method-assign]


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """While the server runs, a thread evaluates runs marked due for surveillance (console
    files uploaded here; MLLP/MQTT when no other evaluator runs): alerts appear within about
    a second. Several app processes may each run one (alerts.due). Another runs the daily
    housekeeping jobs (continuum.housekeeping)."""
    from continuum.alerts.due import DueEvaluator
    from continuum.housekeeping import Housekeeper

    settings, sessions = app.state.settings, app.state.sessionmaker
    configure_threadpool(settings.db_connections)
    interval = settings.evaluator_interval_s
    evaluator = DueEvaluator(sessions, interval).start() if interval else None
    hours = settings.housekeeping_interval_h
    housekeeper = Housekeeper(sessions, hours).start() if hours else None
    app.state.evaluator, app.state.housekeeper = evaluator, housekeeper
    from continuum.training.stepper import Stepper

    step_s = settings.training_step_s
    app.state.training_stepper = Stepper(sessions, step_s).start() if step_s else None
    from continuum.heap import tune_collector

    tune_collector(settings.gc_young_threshold)  # no 100+ ms pauses (continuum.heap)
    try:
        yield
    finally:
        if app.state.training_stepper is not None:
            app.state.training_stepper.stop()
        if evaluator is not None:
            evaluator.stop()
        if housekeeper is not None:
            housekeeper.stop()


SWAGGER_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link type="text/css" rel="stylesheet" href="/vendor/swagger/swagger-ui.css">
<title>ECMO Continuum API</title>
</head>
<body>
<div id="swagger-ui"></div>
<script src="/vendor/swagger/swagger-ui-bundle.js"></script>
<script src="/static/swagger_init.js"></script>
</body>
</html>
"""


def _domains() -> None:
    """Every domain's tables and cross-domain hooks (domains.MODEL_MODULES, HOOK_MODULES)."""
    import importlib

    from continuum.domains import MODEL_MODULES
    from continuum.hooks import install_all_hooks

    for name in MODEL_MODULES:
        importlib.import_module(name)
    install_all_hooks()


def _routes(app: FastAPI) -> None:
    import importlib

    from continuum.domains import ROUTER_MODULES

    app.include_router(path_filtered(auth_router))
    app.mount("/static", static_files.static_app(), name="static")
    app.mount("/vendor/swagger", static_files.swagger_app(), name="swagger")
    for name in ROUTER_MODULES:
        for router in importlib.import_module(name).routers:
            app.include_router(path_filtered(router), responses=errors.ERROR_RESPONSES)

    @app.get("/", include_in_schema=False)
    def home(request: Request) -> RedirectResponse:
        """Each role's start page (core.roles.start_page); the login page when logged out."""
        actor = actor_or_none(request)
        return RedirectResponse(start_page(actor.role) if actor else "/login", status_code=303)

    @app.get("/api/docs", include_in_schema=False)
    def api_docs() -> Response:
        """Swagger UI from local files, started by a static script (no inline script)."""
        return HTMLResponse(SWAGGER_PAGE)

    @app.api_route("/healthz", methods=["GET", "HEAD"], include_in_schema=False)
    def health() -> dict[str, str]:
        """Liveness for the reverse proxy and monitoring; ``process`` tells which app
        process answered (several run behind one proxy: docs/operations.md). HEAD answers
        the same status and headers without the body, for monitors that check with HEAD."""
        return {"status": "ok", "process": str(os.getpid())}
