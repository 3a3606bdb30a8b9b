"""One handler for the error hierarchy: JSON under /api, a readable page elsewhere."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from continuum.core.accounts import PasswordChangeRequired
from continuum.errors import ContinuumError, NotAuthenticated
from continuum.web.deps import is_api
from continuum.web.pages import redirect, render

log = logging.getLogger("continuum.web")


def install(app: FastAPI) -> None:
    app.add_exception_handler(ContinuumError, _continuum_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _request_validation)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, _http_error)  # type: ignore[arg-type]


async def _continuum_error(request: Request, exc: ContinuumError) -> Response:
    if is_api(request):
        headers = {"WWW-Authenticate": "Bearer"} if isinstance(exc, NotAuthenticated) else None
        return JSONResponse(exc.as_dict(), status_code=exc.status_code, headers=headers)
    if isinstance(exc, NotAuthenticated):
        return redirect(f"/login?next={request.url.path}")
    if isinstance(exc, PasswordChangeRequired):
        return redirect("/account")
    return render(
        request,
        "error.html",
        None,
        status_code=exc.status_code,
        title=exc.name.replace("_", " ").capitalize(),
        message=exc.message,
        problems=getattr(exc, "problems", []),
    )


async def _request_validation(request: Request, exc: RequestValidationError) -> Response:
    problems = []
    for err in exc.errors():
        loc = ".".join(str(x) for x in err["loc"] if x not in ("body",))
        problems.append(
            {
                "field": loc,
                "message": err["msg"].removeprefix("Value error, "),
                "value": _jsonable(err.get("input")),
            }
        )
    message = "; ".join(f"{p['field']}: {p['message']}" for p in problems)
    return JSONResponse(
        {"error": "validation_failed", "message": message, "fields": problems}, status_code=422
    )


async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
    if is_api(request):
        return JSONResponse(
            {"error": "http_error", "message": str(exc.detail)}, status_code=exc.status_code
        )
    return render(
        request,
        "error.html",
        None,
        status_code=exc.status_code,
        title="Not found" if exc.status_code == 404 else "Error",
        message=str(exc.detail),
        problems=[],
    )


def _jsonable(value: object) -> object:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)[:200]
