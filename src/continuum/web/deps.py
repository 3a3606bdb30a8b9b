"""Typed dependencies: the database session (the one commit boundary), the current actor,
role checks and CSRF. Routes hang off routers that require an actor by default."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from continuum.config import Settings
from continuum.core import accounts
from continuum.core.people import Staff
from continuum.core.roles import Actor, Permission, refusal
from continuum.errors import ContinuumError, Forbidden, NotAuthenticated
from continuum.web.concurrency import DbSlot
from continuum.web.signatures import resolved

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def get_settings_dep(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


@resolved  # FastAPI reads it for nearly every route (web/signatures.py)
def get_db(request: Request, _slot: DbSlot) -> Iterator[Session]:
    """Commit once when the endpoint has returned; roll back on any error.

    A plain ``def``: FastAPI runs it (and its teardown, the commit) in the threadpool, never
    on the event loop. The request first takes a database slot (``concurrency.db_slot``,
    awaited on the loop), so the connection it checks out is always free in the pool."""
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


@resolved  # FastAPI reads it for nearly every route (web/signatures.py)
async def posted_csrf(request: Request) -> str | None:
    """The CSRF token a state-changing request carries (``X-CSRF-Token`` or the form's
    ``csrf_token``). Async, and solved before any database work: the whole body is read
    here (waiting on the client) while no connection is held. The parsed form and the raw
    body are kept for the synchronous route: ``form_of(request)``, ``body_of(request)``."""
    if request.method in SAFE_METHODS:
        return None
    given = request.headers.get("x-csrf-token")
    if "form" in request.headers.get("content-type", ""):
        form = await request.form()
        request.state.posted_form = form
        if given is None:
            given = str(form.get("csrf_token", ""))
    else:
        request.state.posted_body = await request.body()
    return given


CsrfGiven = Annotated[str | None, Depends(posted_csrf)]


def form_of(request: Request) -> FormData:
    """The request's form, already read by ``posted_csrf`` (every route with an actor)."""
    form = getattr(request.state, "posted_form", None)
    if form is None:
        if "form" in request.headers.get("content-type", ""):
            raise RuntimeError("form_of: the form was not read (the route needs an actor)")
        return FormData()
    return form  # type: ignore[no-any-return]


def body_of(request: Request) -> bytes:
    """The raw body of a (non-form) request, already read by ``posted_csrf``."""
    body = getattr(request.state, "posted_body", None)
    if body is None:
        raise RuntimeError("body_of: the body was not read (the route needs an actor)")
    return body  # type: ignore[no-any-return]


def check_csrf(request: Request, given: str | None) -> None:
    expected = request.session.get("csrf")
    if not expected or not given or not secrets.compare_digest(str(expected), given):
        raise Forbidden(
            "the form has expired or did not come from this site: reload the page "
            "and try again (CSRF check)"
        )


@resolved  # FastAPI reads it for nearly every route (web/signatures.py)
def get_actor(request: Request, given: CsrfGiven, db: DbSession) -> Actor:
    """The actor behind this request: an API bearer token, or the signed session cookie.

    A plain ``def`` (run in the threadpool): it queries the database, which must never
    block the event loop. ``given`` (the CSRF token, read from the body if need be) is
    solved first, so no connection waits on a slow client."""
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
        check_csrf(request, given)
    actor = accounts.actor_for(staff, client_of(request))
    request.state.actor = actor  # error pages keep this actor's navigation
    return actor


def actor_or_none(request: Request) -> Actor | None:
    """The logged-in actor of a page request, or None; never raises. Error pages and the
    start page use it (a plain ``def``: call it in the threadpool)."""
    known = getattr(request.state, "actor", None)
    if isinstance(known, Actor):
        return known
    if "session" not in request.scope:
        return None
    try:
        with request.app.state.sessionmaker() as db:
            staff = accounts.staff_for_session(db, request.session)
            return None if staff is None else accounts.actor_for(staff, client_of(request))
    except Exception:  # an error page never fails for want of a navigation bar
        return None


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
        raise Forbidden(refusal(actor.role, permission))


__all__ = ["AppSettings", "ContinuumError", "CurrentActor", "DbSession", "require"]
