"""The FastAPI application factory: pages for clinicians, JSON API for integrations."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from fastapi import Depends, FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import RedirectResponse, Response
from starlette.middleware.sessions import SessionMiddleware

from continuum import __version__
from continuum.config import Settings, get_settings
from continuum.db import make_engine, make_sessionmaker
from continuum.web import errors, static_files
from continuum.web.auth_routes import router as auth_router
from continuum.web.input_guard import guard_input

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
    app.state.engine = make_engine(settings.database_url)
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
    _routes(app)

    @app.middleware("http")
    async def security_headers(request: Request, call_next):  # type: ignore[no-untyped-def]
        response: Response = await call_next(request)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if not request.url.path.startswith("/static"):
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    return app


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """While the server runs, a thread evaluates runs marked due for surveillance (console
    files uploaded here; MLLP/MQTT when no other evaluator runs): alerts appear within about
    a second. Several app processes may each run one (alerts.due). Another runs the daily
    housekeeping jobs (continuum.housekeeping)."""
    from continuum.alerts.due import DueEvaluator
    from continuum.housekeeping import Housekeeper

    settings, sessions = app.state.settings, app.state.sessionmaker
    interval = settings.evaluator_interval_s
    evaluator = DueEvaluator(sessions, interval).start() if interval else None
    hours = settings.housekeeping_interval_h
    housekeeper = Housekeeper(sessions, hours).start() if hours else None
    app.state.evaluator, app.state.housekeeper = evaluator, housekeeper
    try:
        yield
    finally:
        if evaluator is not None:
            evaluator.stop()
        if housekeeper is not None:
            housekeeper.stop()


def _routes(app: FastAPI) -> None:
    import importlib

    import continuum.models_all  # noqa: F401  (every domain's tables)
    from continuum.domains import ROUTER_MODULES

    app.include_router(auth_router)
    app.include_router(static_files.router)
    app.mount("/static", static_files.static_app(), name="static")
    app.mount("/vendor/swagger", static_files.swagger_app(), name="swagger")
    for name in ROUTER_MODULES:
        for router in importlib.import_module(name).routers:
            app.include_router(router, responses=errors.ERROR_RESPONSES)

    @app.get("/", include_in_schema=False)
    def home() -> RedirectResponse:
        return RedirectResponse("/runs", status_code=303)

    @app.get("/api/docs", include_in_schema=False)
    def api_docs() -> Response:
        return get_swagger_ui_html(
            openapi_url="/api/openapi.json",
            title="ECMO Continuum API",
            swagger_js_url="/vendor/swagger/swagger-ui-bundle.js",
            swagger_css_url="/vendor/swagger/swagger-ui.css",
            swagger_favicon_url="",
        )

    @app.get("/healthz", include_in_schema=False)
    def health() -> dict[str, str]:
        return {"status": "ok"}
