"""Append-only audit log: reads of identifying data, every change, logins."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from continuum.core.record import AuditEntry
from continuum.core.roles import Actor
from continuum.db import utcnow


def record(
    session: Session,
    actor: Actor,
    action: str,
    entity: str | None = None,
    entity_id: object = None,
    patient_id: int | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Add one audit row to the current unit of work (committed with the change itself)."""
    session.add(entry(actor, action, entity, entity_id, patient_id, detail))


def entry(
    actor: Actor,
    action: str,
    entity: str | None = None,
    entity_id: object = None,
    patient_id: int | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEntry:
    """The audit row ``record`` adds, for callers that write rows in bulk themselves."""
    return AuditEntry(
        at=utcnow(),
        actor_id=actor.staff_id,
        actor=f"{actor.name} ({actor.role})",
        action=action,
        entity=entity,
        entity_id=None if entity_id is None else str(entity_id),
        patient_id=patient_id,
        detail=detail,
        client=actor.client[:64],
    )
