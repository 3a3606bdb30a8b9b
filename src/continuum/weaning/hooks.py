"""Plugging weaning into the rest of the record without being imported by it: the follow-up
items planned at decannulation that are still open appear on the rounds board (through
``run_view.open_follow_ups``) after the run has ended and left the board's rows."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from continuum.core import run_view


def open_follow_ups(session: Session, now: datetime) -> list[dict[str, Any]]:
    """FOLLOW_UP_PROVIDERS entry: items of any run not done by ``now``, oldest due first."""
    from continuum.core.run_record import Run
    from continuum.weaning.models import FollowUp

    stmt = (
        select(FollowUp, Run.patient_id)
        .join(Run, Run.id == FollowUp.run_id)
        .where(or_(FollowUp.done_at.is_(None), FollowUp.done_at > now))
        .order_by(FollowUp.due_at, FollowUp.id)
    )
    return [
        {
            "id": f.id,
            "run_id": f.run_id,
            "patient_id": patient_id,
            "item": f.item,
            "due_at": f.due_at,
            "overdue": f.due_at is not None and f.due_at < now,
        }
        for f, patient_id in session.execute(stmt)
    ]


def install_hooks() -> None:
    """Idempotent; listed in ``continuum.domains.HOOK_MODULES``, so every entry point (app
    factory, alerts worker, ingest listeners, CLI) installs it through
    ``continuum.hooks.install_all_hooks``."""
    if open_follow_ups not in run_view.FOLLOW_UP_PROVIDERS:
        run_view.FOLLOW_UP_PROVIDERS.append(open_follow_ups)
