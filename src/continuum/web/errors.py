"""One handler for the error hierarchy: JSON under /api, a readable page elsewhere."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy.exc import DBAPIError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from continuum.core.accounts import PasswordChangeRequired
from continuum.db import busy_reason
from continuum.errors import MESSAGE_CHARS, ContinuumError, NotAuthenticated, clip
from continuum.web.deps import actor_or_none, is_api
from continuum.web.pages import redirect, render

log = logging.getLogger("continuum.web")
BUSY_RETRY_AFTER_S = 1


class FieldProblemOut(BaseModel):
    field: str = Field(description="the input field, dotted for nested ones")
    message: str = Field(description="what is wrong and what is allowed")
    value: Any = Field(default=None, description="the value given (absent when unsafe to echo)")


class ErrorOut(BaseModel):
    """Every error the API returns has this shape."""

    error: str = Field(description="a stable name: not_authenticated, forbidden, not_found, …")
    message: str = Field(description="a sentence a clinician can read")
    fields: list[FieldProblemOut] | None = Field(
        default=None, description="for validation_failed: each field, value and what is allowed"
    )


def _error(description: str) -> dict[str, Any]:
    return {"model": ErrorOut, "description": description}


# Declared on every route (the app factory includes each router with them), so the
# OpenAPI document lists each status an endpoint can return.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: _error("Not authenticated: no session or bearer token, or an invalid one"),
    403: _error("Forbidden: the role may not do this (or the CSRF check failed)"),
    404: _error("Not found: no such record (ids run from 1 to 2147483647)"),
    409: _error("Conflict: the record is signed, ended or otherwise closed to this change"),
    422: _error("Invalid input: each field named with the value given and what is allowed"),
    503: _error(
        "Busy: another change at the same moment got in the way (a deadlock or a lock); "
        "nothing was saved; send it again (see Retry-After)"
    ),
}


def install(app: FastAPI) -> None:
    app.add_exception_handler(ContinuumError, _continuum_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _request_validation)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, _http_error)  # type: ignore[arg-type]
    app.add_exception_handler(DBAPIError, _database_error)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, _server_error)


async def _error_page(
    request: Request,
    status_code: int,
    title: str,
    message: str,
    problems: list[Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """The error page, with the reader's navigation (their actor is read in the threadpool)."""
    response = render(
        request,
        "error.html",
        await run_in_threadpool(actor_or_none, request),
        status_code=status_code,
        title=title,
        message=message,
        problems=problems or [],
    )
    response.headers.update(headers or {})
    return response


async def _database_error(request: Request, exc: DBAPIError) -> Response:
    """The database turned this request's unit of work away because another change got in
    the way at the same moment (``db.busy_reason``): it was rolled back whole, so the answer
    is 503 with Retry-After, saying nothing was saved and to send it again, never a 500.
    Any other database error is a fault of ours: raised on, to Starlette's server-error
    middleware, which answers with ``_server_error`` and hands the traceback to the log."""
    reason = busy_reason(exc)
    if reason is None:
        raise exc
    log.warning("%s %s: %s; answered 503", request.method, request.url.path, reason)
    headers = {"Retry-After": str(BUSY_RETRY_AFTER_S)}
    writing = request.method not in ("GET", "HEAD")
    message = f"The database turned this {'change' if writing else 'request'} away: {reason}."
    if writing:
        message += " Nothing was saved."
    if is_api(request):
        body = {"error": "busy", "message": f"{message} Send it again."}
        return JSONResponse(body, status_code=503, headers=headers)
    return await _error_page(
        request,
        503,
        "Busy: nothing was saved" if writing else "Busy: try again",
        message
        + (" Go back and send the form again." if writing else " Reload the page in a moment."),
        headers=headers,
    )


async def _server_error(request: Request, exc: Exception) -> Response:
    """A fault of ours (500): a page that keeps the navigation and says nothing was lost
    silently; the traceback goes to the log, never to the reader."""
    message = "something went wrong on the server; what you entered may not have been saved"
    if is_api(request):
        return JSONResponse({"error": "server_error", "message": message}, status_code=500)
    try:
        return await _error_page(
            request,
            500,
            "Server error",
            f"Sorry: {message}. Reload the page to check, then try again.",
        )
    except Exception:  # the page itself failed: plain text, still a 500
        log.exception("the error page failed")
        return Response(f"Server error: {message}.", status_code=500, media_type="text/plain")


async def _continuum_error(request: Request, exc: ContinuumError) -> Response:
    if is_api(request):
        headers = {"WWW-Authenticate": "Bearer"} if isinstance(exc, NotAuthenticated) else None
        return JSONResponse(exc.as_dict(), status_code=exc.status_code, headers=headers)
    if isinstance(exc, NotAuthenticated):
        return redirect(f"/login?next={request.url.path}")
    if isinstance(exc, PasswordChangeRequired):
        return redirect("/account")
    return await _error_page(
        request,
        exc.status_code,
        _TITLES.get(exc.name, exc.name.replace("_", " ").capitalize()),
        exc.message,
        getattr(exc, "problems", []),
    )


async def _request_validation(request: Request, exc: RequestValidationError) -> Response:
    problems = []
    for err in exc.errors():
        loc = ".".join(str(x) for x in err["loc"] if x not in ("body",))
        problems.append(
            {
                "field": clip(loc),
                "message": clip(err["msg"].removeprefix("Value error, "), MESSAGE_CHARS),
                "value": _jsonable(err.get("input")),
            }
        )
    message = "; ".join(f"{p['field']}: {p['message']}" for p in problems)
    if is_api(request):
        return JSONResponse(
            {"error": "validation_failed", "message": message, "fields": problems},
            status_code=422,
        )
    # A page (a link with a value it cannot read, or a form posted with one): the same
    # problems on the error page, with the navigation, never a JSON body in the browser.
    reading = request.method in ("GET", "HEAD")
    return await _error_page(
        request,
        422,
        "This address cannot be read" if reading else _TITLES["validation_failed"],
        (
            "The page's address holds a value it cannot use: correct or remove it and open "
            "the page again."
            if reading
            else "The form holds a value that cannot be used: go back, correct it and send "
            "it again."
        ),
        [_page_problem(p, reading) for p in problems],
    )


def _page_problem(problem: dict[str, Any], reading: bool) -> dict[str, str]:
    """One problem for the error page: the field as a clinician calls it and what is wrong;
    for a value in the address, the parameter and value as the address spells them. A
    form's value is not echoed (it may be a password), nor a header's or a cookie's."""
    source, _, name = problem["field"].partition(".")  # query.days → query, days
    if source not in ("query", "path", "header", "cookie"):  # a form field ("body" dropped)
        source, name = "form", problem["field"]
    value = problem["value"]
    if not (reading and source in ("query", "path")):
        return {"field": name, "message": problem["message"]}
    given = "" if value is None else clip(str(value), 80).replace("\x00", "\\0")
    where = f"{name}={given}" if given else name
    return {"field": name, "message": f"{problem['message']} (the address has {where})"}


async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
    """HTTP errors keep their headers; a 405's ``Allow`` names every method of the path."""
    if exc.status_code == 405:
        exc.headers = {**(exc.headers or {}), "Allow": _allowed(request)}
    if is_api(request):
        return JSONResponse(
            {"error": _HTTP_NAMES.get(exc.status_code, "http_error"), "message": str(exc.detail)},
            status_code=exc.status_code,
            headers=exc.headers,
        )
    return await _error_page(
        request,
        exc.status_code,
        _HTTP_TITLES.get(exc.status_code, "Error"),
        str(exc.detail),
        headers=exc.headers,
    )


METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def _allowed(request: Request) -> str:
    """Every method some route answers at this path (Starlette names only the first
    matching route's, and FastAPI nests included routers)."""
    from starlette.routing import Match

    routes = request.app.router.routes
    return ", ".join(
        m
        for m in METHODS
        if any(r.matches({**request.scope, "method": m})[0] == Match.FULL for r in routes)
    )


_TITLES = {
    "forbidden": "Not allowed for your role",
    "not_found": "Not found",
    "conflict": "Already changed",
    "validation_failed": "Nothing was saved",
}
_HTTP_NAMES = {405: "method_not_allowed", 413: "payload_too_large"}
_HTTP_TITLES = {404: "Not found", 405: "Method not allowed", 413: "Too large"}


def _jsonable(value: object) -> object:
    """The given value as the 422 echoes it: clipped (never a whole oversized field)."""
    if value is None or isinstance(value, int | float | bool):
        return value
    return clip(value if isinstance(value, str | bytes) else str(value))
