"""Weaning thresholds: published defaults with the programme's overrides (ProgrammeSetting)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from continuum.core import audit
from continuum.core.record import ProgrammeSetting
from continuum.core.roles import Actor, Permission
from continuum.db import utcnow
from continuum.errors import FieldProblem, ValidationFailed
from continuum.weaning.criteria import ALL_CRITERIA, threshold_of

PREFIX = "weaning."


def overrides(session: Session) -> dict[str, Any]:
    stmt = select(ProgrammeSetting).where(ProgrammeSetting.key.startswith(PREFIX))
    return {row.key: row.value for row in session.scalars(stmt)}


def table(session: Session) -> list[dict[str, Any]]:
    """Every threshold: its default, the programme's value and the source."""
    over = overrides(session)
    rows = []
    for crit in ALL_CRITERIA.values():
        low, high = threshold_of(crit, over)
        rows.append(
            {
                "name": crit.name,
                "label": crit.label,
                "op": crit.op,
                "unit": crit.unit,
                "default": crit.default,
                "default_high": crit.default_high,
                "value": low,
                "high": high,
                "overridden": crit.setting_key in over,
                "source": crit.source,
            }
        )
    return rows


def save(session: Session, actor: Actor, values: dict[str, str], note: str | None) -> int:
    """Store changed thresholds (blank: back to the published default). Returns changes."""
    actor.require(Permission.MANAGE_SETTINGS)
    parsed = _parse(values)
    current = overrides(session)
    changed = 0
    for name, value in parsed.items():
        crit = ALL_CRITERIA[name]
        key = crit.setting_key
        if value is None or value == crit.default:
            if key in current:
                session.delete(session.get(ProgrammeSetting, key))
                changed += 1
            continue
        if current.get(key) == value:
            continue
        row = session.get(ProgrammeSetting, key) or ProgrammeSetting(key=key)
        row.value, row.note, row.updated_by, row.updated_at = value, note, actor.staff_id, utcnow()
        session.add(row)
        changed += 1
    session.flush()
    audit.record(session, actor, "update", "programme_setting", "weaning", None, parsed)
    return changed


def _parse(values: dict[str, str]) -> dict[str, float | None]:
    problems: list[FieldProblem] = []
    out: dict[str, float | None] = {}
    for name, raw in values.items():
        if name not in ALL_CRITERIA:
            problems.append(FieldProblem(name, "not a weaning threshold", raw))
            continue
        if raw in ("", None):
            out[name] = None
            continue
        try:
            number = float(raw)
        except ValueError:
            problems.append(FieldProblem(name, f"'{raw}' is not a number", raw))
            continue
        if not -1000 <= number <= 10000:
            problems.append(FieldProblem(name, f"{number:g} is outside -1000–10000", number))
        out[name] = number
    if problems:
        raise ValidationFailed(problems)
    return out
