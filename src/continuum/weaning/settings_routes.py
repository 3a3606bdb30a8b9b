"""The programme's weaning thresholds (published defaults, overridable)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from continuum.core.roles import Actor
from continuum.core.roles import Permission as P
from continuum.errors import ValidationFailed
from continuum.weaning import settings
from continuum.web.deps import CurrentActor, DbSession, form_of, get_actor, require
from continuum.web.pages import NavLink, add_nav_link, form_dict, render

router = APIRouter(include_in_schema=False, dependencies=[Depends(get_actor)])
add_nav_link(NavLink("Weaning thresholds", "/weaning/settings", P.MANAGE_SETTINGS, 82))


@router.get("/weaning/settings", dependencies=[require(P.MANAGE_SETTINGS)])
def settings_page(request: Request, db: DbSession, actor: CurrentActor) -> Response:
    return _settings(request, db, actor, None, None)


def _settings(
    request: Request,
    db: DbSession,
    actor: Actor,
    error: ValidationFailed | None,
    saved: int | None,
) -> Response:
    actor.require(P.MANAGE_SETTINGS)
    return render(
        request,
        "weaning_settings.html",
        actor,
        status_code=422 if error else 200,
        rows=settings.table(db),
        error=error,
        saved=saved,
    )


@router.post("/weaning/settings", dependencies=[require(P.MANAGE_SETTINGS)])
def settings_form(request: Request, db: DbSession, actor: CurrentActor) -> Response:
    values = form_dict(form_of(request), request.app.state.settings.zone)
    note = values.pop("note", None)
    form = form_of(request)
    for key in form:
        if key not in ("csrf_token", "note"):
            values.setdefault(key, "")
    err: ValidationFailed | None = None
    changed = None
    try:
        changed = settings.save(db, actor, values, note)
        db.flush()
    except ValidationFailed as exc:
        db.rollback()
        err = exc
    return _settings(request, db, actor, err, changed)
