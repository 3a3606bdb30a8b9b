"""Login and logout (the public routes: everything else needs an actor)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from continuum.core import accounts, audit
from continuum.errors import Forbidden, NotAuthenticated
from continuum.web.deps import (
    AppSettings,
    CsrfGiven,
    CurrentActor,
    DbSession,
    check_csrf,
    client_of,
    login_session,
)
from continuum.web.pages import redirect, render

router = APIRouter(include_in_schema=False)


def _safe_next(url: str | None) -> str:
    return url if url and url.startswith("/") and not url.startswith("//") else "/"


@router.get("/login")
def login_page(request: Request, next: str | None = None) -> Response:
    return render(request, "login.html", None, next=_safe_next(next), error=None)


@router.post("/login")  # a plain def: argon2 and the database run in the threadpool
def login(
    request: Request,
    given: CsrfGiven,
    db: DbSession,
    settings: AppSettings,
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    try:
        check_csrf(request, given)
        staff = accounts.authenticate(
            db,
            username.strip(),
            password,
            client_of(request),
            settings.login_max_failures,
            settings.login_window_minutes,
        )
    except (NotAuthenticated, accounts.TooManyAttempts, Forbidden) as exc:
        db.commit()  # keep the failed attempt and its audit row
        return render(
            request,
            "login.html",
            None,
            status_code=exc.status_code,
            next=_safe_next(next),
            error=exc.message,
            username=username,
        )
    login_session(request, staff)
    return redirect(_safe_next(next))


@router.post("/logout")
def logout(request: Request, db: DbSession, actor: CurrentActor) -> Response:
    audit.record(db, actor, "logout", "staff", actor.staff_id)
    request.session.clear()
    return redirect("/login")
