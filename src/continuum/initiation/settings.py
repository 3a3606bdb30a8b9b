"""Initiation cut-offs a programme may change (ECPR selection), stored as ProgrammeSetting
``initiation.<name>``; the published default applies where none is set."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from continuum.core import audit
from continuum.core.record import ProgrammeSetting
from continuum.core.roles import Actor, Permission
from continuum.db import utcnow
from continuum.errors import FieldProblem, ValidationFailed
from continuum.initiation.trial_criteria import ECPR_THRESHOLDS

PREFIX = "initiation."


def overrides(session: Session) -> dict[str, float]:
    stmt = select(ProgrammeSetting).where(ProgrammeSetting.key.startswith(PREFIX))
    return {row.key.removeprefix(PREFIX): float(row.value) for row in session.scalars(stmt)}


def table(session: Session) -> list[dict[str, Any]]:
    over = overrides(session)
    return [
        {
            "name": name,
            "label": t.label,
            "unit": t.unit,
            "default": t.default,
            "value": over.get(name, t.default),
            "overridden": name in over,
            "allowed": f"{t.low:g}–{t.high:g} {t.unit}",
            "source": t.source,
        }
        for name, t in ECPR_THRESHOLDS.items()
    ]


def save(session: Session, actor: Actor, values: dict[str, float | None], note: str | None) -> int:
    """Set thresholds (None: back to the published default); refused outside their range."""
    actor.require(Permission.MANAGE_SETTINGS)
    _check(values)
    changed = 0
    for name, value in values.items():
        row = session.get(ProgrammeSetting, PREFIX + name)
        if value is None or value == ECPR_THRESHOLDS[name].default:
            if row is not None:
                session.delete(row)
                changed += 1
            continue
        row = row or ProgrammeSetting(key=PREFIX + name)
        row.value, row.note, row.updated_by, row.updated_at = value, note, actor.staff_id, utcnow()
        session.add(row)
        changed += 1
    session.flush()
    audit.record(session, actor, "update", "programme_setting", "initiation", None, values)
    return changed


def _check(values: dict[str, float | None]) -> None:
    problems = []
    for name, value in values.items():
        t = ECPR_THRESHOLDS.get(name)
        if t is None:
            problems.append(
                FieldProblem(
                    name, f"not an initiation setting; one of {', '.join(ECPR_THRESHOLDS)}", value
                )
            )
        elif value is not None and not t.low <= value <= t.high:
            problems.append(
                FieldProblem(name, f"{value:g} {t.unit} is outside {t.low:g}–{t.high:g}", value)
            )
    if problems:
        raise ValidationFailed(problems)
