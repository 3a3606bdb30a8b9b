"""Login and logout (the public routes: everything else needs an actor) and your own
account page: change your password, issue and revoke your own API tokens."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from continuum.core import accounts
from continuum.core.people import Staff
from continuum.core.roles import Permission as P
from continuum.errors import Forbidden, NotAuthenticated, ValidationFailed
from continuum.web.deps import (
    AppSettings,
    CsrfGiven,
    CurrentActor,
    DbSession,
    check_csrf,
    client_of,
    form_of,
    login_session,
    require,
)
from continuum.web.pages import parse_form, redirect, render

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
            secret=settings.secret_key,
            max_failures_per_source=settings.login_max_failures_per_source,
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
    login_session(request, db, staff)
    if staff.must_change_password:
        return redirect("/account")
    return redirect(_safe_next(next))


@router.post("/logout")
def logout(request: Request, db: DbSession, actor: CurrentActor) -> Response:
    accounts.end_session(db, actor, request.session.get("sid"))
    request.session.clear()
    return redirect("/login")


# --- your own account: password, API tokens -------------------------------------------


def _account(
    request: Request, db: DbSession, actor: CurrentActor, status_code: int = 200, **extra: object
) -> Response:
    staff = db.get(Staff, actor.staff_id) if actor.staff_id is not None else None
    return render(
        request,
        "account.html",
        actor,
        status_code=status_code,
        staff=staff,
        tokens=accounts.list_tokens(db, actor.staff_id) if actor.staff_id else [],
        **{"error": None, "error_form": None, "new_token": None, "notice": None, **extra},
    )


@router.get("/account")
def account_page(request: Request, db: DbSession, actor: CurrentActor) -> Response:
    return _account(request, db, actor)


@router.post("/account/password")
def change_password(request: Request, db: DbSession, actor: CurrentActor) -> Response:
    form = form_of(request)
    values = {k: str(v) for k, v in form.items() if k in ("current_password", "new_password")}
    try:
        staff = accounts.change_own_password(db, actor, parse_form(accounts.PasswordChange, values))
    except ValidationFailed as exc:
        db.rollback()
        return _account(request, db, actor, 422, error=exc, error_form="password")
    csrf = request.session.get("csrf")
    login_session(request, db, staff)  # every other session has ended; this one goes on
    request.session["csrf"] = csrf or request.session["csrf"]  # open forms stay valid
    return _account(request, db, actor, notice="Password changed; your other sessions ended.")


@router.post("/account/tokens", dependencies=[require(P.ISSUE_OWN_TOKEN)])
def issue_own_token(request: Request, db: DbSession, actor: CurrentActor) -> Response:
    label = str(form_of(request).get("label", "")).strip() or "API token"
    token = accounts.issue_token(db, actor, actor.staff_id, label)
    return _account(request, db, actor, new_token=token)


@router.post("/account/tokens/{token_id}/revoke", dependencies=[require(P.ISSUE_OWN_TOKEN)])
def revoke_own_token(token_id: int, db: DbSession, actor: CurrentActor) -> Response:
    accounts.revoke_token(db, actor, token_id)
    return redirect("/account")
