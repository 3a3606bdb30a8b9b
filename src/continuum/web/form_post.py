"""One way a page form is posted, shared by core's and every domain's page routes.

:func:`posted_values` reads the submitted fields (without the CSRF token); :func:`attempt`
runs the form's action in the request's unit of work and flushes it. Bad input (by default
``ValidationFailed`` and ``Conflict``) is rolled back and handed back, so the page is shown
again with the message beside the values entered; nothing is changed. What succeeds is
committed by the request dependency (``web.deps.get_db``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import Request
from sqlalchemy.orm import Session

from continuum.errors import Conflict, ContinuumError, ValidationFailed
from continuum.web.deps import form_of

T = TypeVar("T")
FORM_PROBLEMS: tuple[type[ContinuumError], ...] = (ValidationFailed, Conflict)


def attempt(
    db: Session,
    action: Callable[[], T],
    problems: tuple[type[ContinuumError], ...] = FORM_PROBLEMS,
) -> tuple[T | None, ContinuumError | None]:
    """``(result, None)`` after ``action()`` and a flush; ``(None, problem)`` when it raised
    one of ``problems``, the unit of work rolled back."""
    try:
        result = action()
        db.flush()
    except problems as exc:
        db.rollback()
        return None, exc
    return result, None


def posted_values(request: Request) -> dict[str, Any]:
    """The submitted fields (last value per name, blanks kept), without the CSRF token.
    The form was read before any database work (``web.deps.posted_csrf``)."""
    return {k: v for k, v in form_of(request).items() if k != "csrf_token"}
