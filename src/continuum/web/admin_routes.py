"""Administration: staff accounts (create, reset password, deactivate, change role, end
sessions, unlock), service-account API tokens and the audit log."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from continuum.core import accounts
from continuum.core.record import AuditEntry
from continuum.core.roles import ROLE_LABELS, Actor, Permission
from continuum.core.roles import Permission as P
from continuum.core.vocab import DISCIPLINES
from continuum.errors import Conflict, Forbidden, NotFound, ValidationFailed
from continuum.web.deps import CurrentActor, DbSession, form_of, get_actor, require
from continuum.web.form_post import attempt
from continuum.web.pages import form_dict, parse_form, redirect, render

router = APIRouter(prefix="/admin", include_in_schema=False, dependencies=[Depends(get_actor)])
routers = [router]


def _users(request: Request, db: DbSession, actor: CurrentActor, **extra: object) -> Response:
    actor.require(Permission.MANAGE_USERS)
    status = 422 if extra.get("error") else 200
    return render(
        request,
        "admin_users.html",
        actor,
        status_code=status,
        staff=accounts.list_staff(db),
        tokens=accounts.list_tokens(db),
        roles=ROLE_LABELS,
        disciplines=DISCIPLINES,
        **{"error": None, "values": {}, "new_token": None, **extra},
    )


@router.get("/users", dependencies=[require(P.MANAGE_USERS)])
def users_page(request: Request, db: DbSession, actor: CurrentActor) -> Response:
    return _users(request, db, actor)


@router.post("/users", dependencies=[require(P.MANAGE_USERS)])
def create_user(request: Request, db: DbSession, actor: CurrentActor) -> Response:
    values = form_dict(form_of(request), request.app.state.settings.zone)
    try:
        accounts.create_staff(db, actor, parse_form(accounts.StaffCreate, values))
    except (ValidationFailed, Conflict) as exc:
        db.rollback()
        values.pop("password", None)
        return _users(request, db, actor, error=exc, values=values)
    return redirect("/admin/users")


@router.post("/tokens", dependencies=[require(P.MANAGE_USERS)])
def issue_token(request: Request, db: DbSession, actor: CurrentActor) -> Response:
    form = form_of(request)
    try:
        staff_id = int(str(form.get("staff_id", "")))
    except ValueError:
        return _users(
            request, db, actor, error=ValidationFailed("choose a staff member", "staff_id")
        )
    try:
        token = accounts.issue_token(db, actor, staff_id, str(form.get("label", "API token")))
    except (Forbidden, NotFound) as exc:
        db.rollback()
        return _users(request, db, actor, error=ValidationFailed(exc.message, "staff_id"))
    return _users(request, db, actor, new_token=token)


@router.post("/tokens/{token_id}/revoke", dependencies=[require(P.MANAGE_USERS)])
def revoke_token(token_id: int, db: DbSession, actor: CurrentActor) -> Response:
    accounts.revoke_token(db, actor, token_id)
    return redirect("/admin/users")


def _user(
    request: Request, db: DbSession, actor: CurrentActor, staff_id: int, **extra: object
) -> Response:
    staff = accounts.get_staff(db, staff_id)
    settings = request.app.state.settings
    status = 422 if extra.get("error") else 200
    return render(
        request,
        "admin_user.html",
        actor,
        status_code=status,
        staff=staff,
        roles=ROLE_LABELS,
        locked=accounts.is_locked(
            db,
            staff,
            settings.secret_key,
            settings.login_max_failures,
            settings.login_window_minutes,
        ),
        open_sessions=accounts.open_sessions(db, staff.id, settings.session_hours),
        tokens=accounts.list_tokens(db, staff.id),
        **{"error": None, "temporary": None, **extra},
    )


@router.get("/users/{staff_id}", dependencies=[require(P.MANAGE_USERS)])
def user_page(request: Request, staff_id: int, db: DbSession, actor: CurrentActor) -> Response:
    return _user(request, db, actor, staff_id)


@router.post("/users/{staff_id}/reset", dependencies=[require(P.MANAGE_USERS)])
def reset_password(request: Request, staff_id: int, db: DbSession, actor: CurrentActor) -> Response:
    temporary, problem = attempt(
        db, lambda: accounts.reset_password(db, actor, staff_id), (ValidationFailed,)
    )
    if problem:
        return _user(request, db, actor, staff_id, error=problem)
    return _user(request, db, actor, staff_id, temporary=temporary)


@router.post("/users/{staff_id}/active", dependencies=[require(P.MANAGE_USERS)])
def set_active(request: Request, staff_id: int, db: DbSession, actor: CurrentActor) -> Response:
    active = str(form_of(request).get("active", "")) == "yes"
    return _change(
        request, db, actor, staff_id, lambda: accounts.set_active(db, actor, staff_id, active)
    )


@router.post("/users/{staff_id}/role", dependencies=[require(P.MANAGE_USERS)])
def change_role(request: Request, staff_id: int, db: DbSession, actor: CurrentActor) -> Response:
    role = str(form_of(request).get("role", ""))
    return _change(
        request, db, actor, staff_id, lambda: accounts.change_role(db, actor, staff_id, role)
    )


def _change(
    request: Request, db: Session, actor: Actor, staff_id: int, change: Callable[[], object]
) -> Response:
    """One change to an account: back to its page, or the page again with the problem."""
    _, problem = attempt(db, change, (ValidationFailed,))
    if problem:
        return _user(request, db, actor, staff_id, error=problem)
    return redirect(f"/admin/users/{staff_id}")


@router.post("/users/{staff_id}/end-sessions", dependencies=[require(P.MANAGE_USERS)])
def end_sessions(staff_id: int, db: DbSession, actor: CurrentActor) -> Response:
    accounts.end_all_sessions(db, actor, staff_id)
    return redirect(f"/admin/users/{staff_id}")


@router.post("/users/{staff_id}/unlock", dependencies=[require(P.MANAGE_USERS)])
def unlock(request: Request, staff_id: int, db: DbSession, actor: CurrentActor) -> Response:
    accounts.unlock(db, actor, staff_id, request.app.state.settings.secret_key)
    return redirect(f"/admin/users/{staff_id}")


@router.get("/audit", dependencies=[require(P.VIEW_AUDIT)])
def audit_page(
    request: Request, db: DbSession, actor: CurrentActor, action: str | None = None
) -> Response:
    actor.require(Permission.VIEW_AUDIT)
    stmt = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(300)
    if action:
        stmt = stmt.where(AuditEntry.action == action)
    return render(request, "audit.html", actor, entries=list(db.scalars(stmt)), action=action)
