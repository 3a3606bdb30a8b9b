"""Administration: staff accounts, API tokens and the audit log."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy import select

from continuum.core import accounts
from continuum.core.record import AuditEntry
from continuum.core.roles import ROLE_LABELS, Permission
from continuum.core.roles import Permission as P
from continuum.core.vocab import DISCIPLINES
from continuum.errors import Conflict, ValidationFailed
from continuum.web.deps import CurrentActor, DbSession, form_of, get_actor, require
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
    token = accounts.issue_token(db, actor, staff_id, str(form.get("label", "API token")))
    return _users(request, db, actor, new_token=token)


@router.post("/tokens/{token_id}/revoke", dependencies=[require(P.MANAGE_USERS)])
def revoke_token(token_id: int, db: DbSession, actor: CurrentActor) -> Response:
    accounts.revoke_token(db, actor, token_id)
    return redirect("/admin/users")


@router.get("/audit", dependencies=[require(P.VIEW_AUDIT)])
def audit_page(
    request: Request, db: DbSession, actor: CurrentActor, action: str | None = None
) -> Response:
    actor.require(Permission.VIEW_AUDIT)
    stmt = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(300)
    if action:
        stmt = stmt.where(AuditEntry.action == action)
    return render(request, "audit.html", actor, entries=list(db.scalars(stmt)), action=action)
