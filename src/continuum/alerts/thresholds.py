"""The programme's surveillance thresholds: every published default with its source, and
the programme's own value where it set one (ProgrammeSetting ``surveillance.<name>``)."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from continuum import support_configuration
from continuum.alerts.inputs import SETTING_PREFIX, programme_settings
from continuum.core import audit
from continuum.core.record import ProgrammeSetting
from continuum.core.roles import Actor, Permission
from continuum.db import utcnow
from continuum.errors import FieldProblem, ValidationFailed
from continuum.support_configuration import MODES
from continuum.surveillance import rule_texts
from continuum.surveillance.settings import DEFAULT_SETTINGS


def allowed_range(name: str) -> tuple[float, float]:
    """A plausible range around the default: same sign, at most ten times as far from 0;
    fractions stay within 0–1 (rises may go to 5, i.e. +500 %)."""
    default = float(getattr(DEFAULT_SETTINGS, name))
    unit = _unit(name)
    if unit.startswith("fraction"):
        return (0.0, 5.0 if "rise" in name or "drift" in name else 1.0)
    if default < 0:
        return (10 * default, 0.0)
    return (0.0, 10 * default if default > 0 else 10.0)


def _unit(name: str) -> str:
    field = next(f for f in dataclasses.fields(DEFAULT_SETTINGS) if f.name == name)
    return str(field.metadata["unit"])


def overrides(session: Session) -> dict[str, ProgrammeSetting]:
    rows = session.scalars(
        select(ProgrammeSetting).where(ProgrammeSetting.key.like(SETTING_PREFIX + "%"))
    )
    return {r.key.removeprefix(SETTING_PREFIX): r for r in rows}


def detector_rules(session: Session) -> list[dict[str, Any]]:
    """Every detector's rule as rendered from the thresholds in force, and the support
    configurations (modes) it runs for."""
    texts = rule_texts(programme_settings(session))
    return [
        {
            "detector": code,
            "rule": text,
            "modes": [m for m in MODES if support_configuration.of(m).applies(code)],
        }
        for code, text in texts.items()
    ]


def describe(session: Session, actor: Actor) -> list[dict[str, Any]]:
    """Every threshold: default, unit, source, allowed range and the programme's value."""
    if not actor.can(Permission.MANAGE_SETTINGS):
        actor.require(Permission.VIEW_CLINICAL)
    own = overrides(session)
    out = []
    for item in DEFAULT_SETTINGS.describe():
        row = own.get(item["name"])
        low, high = allowed_range(item["name"])
        out.append(
            {
                **item,
                "default": item["value"],
                "override": None if row is None else row.value,
                "value": item["value"] if row is None else row.value,
                "note": None if row is None else row.note,
                "low": low,
                "high": high,
            }
        )
    return out


def check(values: Mapping[str, Any]) -> dict[str, float | None]:
    """Validate every given value (blank: back to the default); one error names them all."""
    problems: list[FieldProblem] = []
    clean: dict[str, float | None] = {}
    known = {f.name for f in dataclasses.fields(DEFAULT_SETTINGS)}
    for name, raw in values.items():
        if name not in known:
            problems.append(FieldProblem(name, f"unknown surveillance threshold '{name}'", raw))
            continue
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            clean[name] = None
            continue
        number = _number(raw)
        low, high = allowed_range(name)
        if number is None or not low <= number <= high:
            msg = f"{name} {raw} {_unit(name)} is outside {low:g}–{high:g} {_unit(name)}"
            problems.append(FieldProblem(name, msg, raw))
            continue
        clean[name] = number
    if problems:
        raise ValidationFailed(problems)
    return clean


def _number(raw: Any) -> float | None:
    try:
        value = float(raw)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) and not isinstance(raw, bool) else None


def save(
    session: Session, actor: Actor, values: Mapping[str, Any], note: str | None = None
) -> dict[str, float | None]:
    """Set (or clear, with a blank) the programme's thresholds; all or nothing, audited."""
    actor.require(Permission.MANAGE_SETTINGS)
    clean = check(values)
    own = overrides(session)
    changed: dict[str, dict[str, Any]] = {}
    for name, value in clean.items():
        row = own.get(name)
        before = None if row is None else row.value
        if value == before or (value is not None and before is not None and float(before) == value):
            continue
        changed[name] = {"from": before, "to": value, "default": getattr(DEFAULT_SETTINGS, name)}
        _store(session, actor, name, value, row, note)
    if changed:
        session.flush()
        audit.record(session, actor, "update", "surveillance_threshold", None, None, changed)
    return {k: v["to"] for k, v in changed.items()}


def _store(
    session: Session,
    actor: Actor,
    name: str,
    value: float | None,
    row: ProgrammeSetting | None,
    note: str | None,
) -> None:
    if value is None:
        if row is not None:
            session.delete(row)
        return
    row = row or ProgrammeSetting(key=SETTING_PREFIX + name)
    row.value, row.note = value, note
    row.updated_by, row.updated_at = actor.staff_id, utcnow()
    session.add(row)
