"""Typed dependencies: the database session (the one commit boundary), the current actor,
role checks and CSRF. Routes hang off routers that require an actor by default."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from continuum.config import Settings
from continuum.core import accounts
from continuum.core.people import Staff
from continuum.core.roles import Actor, Permission
from continuum.errors import ContinuumError, Forbidden, NotAuthenticated

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def get_settings_dep(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


def get_db(request: Request) -> Iterator[Session]:
    """Commit once when the endpoint has returned; roll back on any error."""
    session: Session = request.app.state.sessionmaker()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


DbSession = Annotated[Session, Depends(get_db, scope="function")]
AppSettings = Annotated[Settings, Depends(get_settings_dep)]


def client_of(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return str(token)


async def _check_csrf(request: Request) -> None:
    expected = request.session.get("csrf")
    given = request.headers.get("x-csrf-token")
    if given is None and "form" in request.headers.get("content-type", ""):
        given = str((await request.form()).get("csrf_token", ""))
    if not expected or not given or not secrets.compare_digest(str(expected), given):
        raise Forbidden(
            "the form has expired or did not come from this site: reload the page "
            "and try again (CSRF check)"
        )


async def get_actor(request: Request, db: DbSession) -> Actor:
    """The actor behind this request: an API bearer token, or the signed session cookie."""
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        staff = accounts.staff_for_token(db, header[7:].strip())
        accounts.check_may_act(staff, request.url.path)
        return accounts.actor_for(staff, f"api:{client_of(request)}")
    staff = accounts.staff_for_session(db, request.session)  # ended sessions are refused
    if staff is None:
        request.session.pop("staff_id", None)
        raise NotAuthenticated("please log in")
    accounts.check_may_act(staff, request.url.path)
    if request.method not in SAFE_METHODS:
        await _check_csrf(request)
    return accounts.actor_for(staff, client_of(request))


def login_session(request: Request, db: Session, staff: Staff) -> None:
    """A new server-side session (core/accounts.py) named in the signed cookie."""
    request.session.clear()
    request.session.update(accounts.start_session(db, staff, client_of(request)))
    request.session["csrf"] = secrets.token_urlsafe(32)


CurrentActor = Annotated[Actor, Depends(get_actor)]


def require(permission: Permission):  # type: ignore[no-untyped-def]
    """Dependency factory: the actor must hold this permission."""

    def check(actor: CurrentActor) -> Actor:
        actor.require(permission)
        return actor

    return Depends(check)


def is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def forbid_unless(actor: Actor, permission: Permission) -> None:
    if not actor.can(permission):
        raise Forbidden(f"the {actor.role} role may not {permission.value.replace('_', ' ')}")


__all__ = ["AppSettings", "ContinuumError", "CurrentActor", "DbSession", "require"]
