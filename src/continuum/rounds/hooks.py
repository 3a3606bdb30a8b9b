"""Rounds in other domains' pages, through core's hooks: an alert page raises an action in
one step (``run_view.raise_action``) without importing rounds."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy.orm import Session

from continuum.core import run_view
from continuum.core.roles import Actor
from continuum.core.run_record import Run
from continuum.errors import validation_failed


def raise_action(
    session: Session,
    actor: Actor,
    run_id: int,
    text: str,
    owner_discipline: str | None,
    due_at: datetime | None,
) -> dict[str, Any]:
    """ACTION_RAISERS entry: a rounds action on the run (checked as any action is)."""
    from continuum.rounds import actions
    from continuum.rounds.schemas import ActionIn

    try:
        data = ActionIn(text=text, owner_discipline=owner_discipline or None, due_at=due_at)
    except ValidationError as exc:
        raise validation_failed(exc) from None
    row = actions.add_action(session, actor, session.get_one(Run, run_id), data)
    session.flush()
    return {
        "id": row.id,
        "text": row.text,
        "owner_discipline": row.owner_discipline,
        "due_at": row.due_at.isoformat().replace("+00:00", "Z"),
        "href": f"/runs/{run_id}/rounds#actions",
    }


def install_hooks() -> None:
    """Idempotent; listed in ``continuum.domains.HOOK_MODULES``."""
    if raise_action not in run_view.ACTION_RAISERS:
        run_view.ACTION_RAISERS.append(raise_action)
