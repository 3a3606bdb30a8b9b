"""The programme's ECPR selection cut-offs as a page: published default, source, allowed
range and the programme's value; a form to change them (blank: back to the default)."""

from __future__ import annotations

import math
from collections.abc import Mapping

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from continuum.core.record import ProgrammeSetting
from continuum.core.roles import Actor
from continuum.core.roles import Permission as P
from continuum.errors import FieldProblem, ValidationFailed
from continuum.initiation import settings
from continuum.initiation.trial_criteria import ECPR_THRESHOLDS
from continuum.web.deps import CurrentActor, DbSession, form_of, get_actor, require
from continuum.web.pages import NavLink, add_nav_link, redirect, render

URL = "/settings/initiation"
FIELD = "t_"
NOTE_MAX = 2000

add_nav_link(NavLink("ECPR cut-offs", URL, P.MANAGE_SETTINGS, 76))
router = APIRouter(include_in_schema=False, dependencies=[Depends(get_actor)])


@router.get(URL, dependencies=[require(P.MANAGE_SETTINGS)])
def settings_page(
    request: Request,
    db: DbSession,
    actor: CurrentActor,
    saved: bool = False,
    unchanged: bool = False,
) -> Response:
    return _page(request, db, actor, saved=saved, unchanged=unchanged)


def _page(
    request: Request,
    db: Session,
    actor: Actor,
    error: ValidationFailed | None = None,
    values: dict[str, str] | None = None,
    note: str = "",
    saved: bool = False,
    unchanged: bool = False,
) -> Response:
    actor.require(P.MANAGE_SETTINGS)
    rows = settings.table(db)
    for row in rows:
        t = ECPR_THRESHOLDS[row["name"]]
        stored = db.get(ProgrammeSetting, settings.PREFIX + row["name"])
        row.update(low=t.low, high=t.high, note=stored.note if stored else None)
    return render(
        request,
        "initiation_settings.html",
        actor,
        status_code=422 if error else 200,
        rows=rows,
        error=error,
        problems={p.field: p.message for p in error.problems} if error else {},
        values=values or {},
        note=note,
        saved=saved and not error,
        unchanged=unchanged and not error,
    )


def parse(raw: Mapping[str, str], current: Mapping[str, float | None]) -> dict[str, float | None]:
    """The changed cut-offs from the form (blank: back to the default; an absent field is
    left alone). Every bad field is named with its value and allowed range."""
    problems: list[FieldProblem] = []
    changes: dict[str, float | None] = {}
    for name, text in raw.items():
        t = ECPR_THRESHOLDS.get(name)
        if t is None:
            known = ", ".join(ECPR_THRESHOLDS)
            problems.append(FieldProblem(name, f"not an ECPR cut-off; one of {known}", text))
            continue
        text = text.strip()
        allowed = f"allowed {t.low:g}–{t.high:g} {t.unit}"
        if not text:
            value = None
        else:
            try:
                value = float(text)
            except ValueError:
                problems.append(
                    FieldProblem(name, f"{t.label}: '{text}' is not a number; {allowed}", text)
                )
                continue
            if not math.isfinite(value) or not t.low <= value <= t.high:
                problems.append(
                    FieldProblem(name, f"{t.label}: {text} {t.unit} is outside the {allowed}", text)
                )
                continue
            if value == t.default:
                value = None
        if value != current.get(name):
            changes[name] = value
    if problems:
        raise ValidationFailed(problems)
    return changes


@router.post(URL, dependencies=[require(P.MANAGE_SETTINGS)])
def save_settings(request: Request, db: DbSession, actor: CurrentActor) -> Response:
    form = form_of(request)
    values = {k.removeprefix(FIELD): str(v) for k, v in form.multi_items() if k.startswith(FIELD)}
    note = str(form.get("note") or "").strip()
    try:
        if len(note) > NOTE_MAX:
            msg = f"{len(note)} characters; at most {NOTE_MAX}"
            raise ValidationFailed([FieldProblem("note", msg, None)])
        over = settings.overrides(db)
        changes = parse(values, {name: over.get(name) for name in ECPR_THRESHOLDS})
        if not changes:
            return redirect(f"{URL}?unchanged=1")
        settings.save(db, actor, changes, note or None)
        db.flush()
    except ValidationFailed as exc:
        db.rollback()
        return _page(request, db, actor, exc, values, note)
    return redirect(f"{URL}?saved=1")
