"""One settings page pattern and one settings API for every domain's group.

Pages: ``/settings`` lists the groups the actor may see; ``/settings/<group>`` shows each
setting (value in force, default, allowed range, unit, provenance, source) and, for an
actor who may change the group, a form (blank: back to the default). A refused form comes
back with 422, each bad field named and every value kept.
API: ``GET /api/v1/settings``, ``GET`` and ``PUT /api/v1/settings/<group>``.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from continuum.core import free_text
from continuum.core import settings_service as svc
from continuum.core.roles import Actor
from continuum.core.schemas import UtcTime
from continuum.errors import ValidationFailed
from continuum.web.deps import CurrentActor, DbSession, form_of, get_actor
from continuum.web.pages import NavLink, add_nav_link, redirect, render

FIELD = "t_"
add_nav_link(NavLink("Settings", "/settings", None, 76))

pages = APIRouter(include_in_schema=False, dependencies=[Depends(get_actor)])
api = APIRouter(prefix="/api/v1", tags=["settings"], dependencies=[Depends(get_actor)])


# --- shapes -----------------------------------------------------------------------------


class SettingOut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: str
    label: str
    kind: str = Field(description="number, integer or flag (1 yes, 0 no)")
    value: float = Field(description="the value in force (programme's own, else default)")
    default: float = Field(description="the published default")
    overridden: bool
    low: float = Field(description="lowest allowed value")
    high: float = Field(description="highest allowed value")
    unit: str
    allowed: str
    provenance: str = Field(description="P primary source, S secondary, U no published source")
    provenance_label: str
    source: str
    note: str | None
    updated_at: UtcTime | None = Field(description="when the programme last changed it")


class SettingGroupOut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    group: str
    title: str
    description: str
    changed_by: str = Field(description="the permission that governs a change")
    may_change: bool
    settings: list[SettingOut]


class SettingGroupBrief(BaseModel):
    model_config = ConfigDict(extra="forbid")

    group: str
    title: str
    description: str
    changed_by: str
    may_change: bool
    count: int


class ChangeOut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: str
    old: float
    new: float
    unit: str


class SettingsSaved(SettingGroupOut):
    changed: list[ChangeOut]


class SettingsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    values: dict[str, float | bool | str | None] = Field(
        description="setting key → the programme's value (null or blank: back to the default; "
        "a flag takes true/false, yes/no or 1/0)"
    )
    note: str | None = Field(default=None, max_length=svc.NOTE_MAX)


# --- shared by the API and the domains' former paths -----------------------------------


def group_out(db: Session, actor: Actor, name: str) -> SettingGroupOut:
    g = svc.group(name)
    rows = svc.describe(db, actor, name)
    return SettingGroupOut(
        group=g.name,
        title=g.title,
        description=g.description,
        changed_by=g.change.value,
        may_change=g.may_change(actor),
        # the note on a change is typed (it may name people): null for a role that neither
        # reads identifiers nor changes the group (core.free_text)
        settings=[SettingOut(**{**r.as_dict(), "note": r.note if g.may_change(actor)
                                else free_text.for_api(actor, r.note)}) for r in rows],
    )  # fmt: skip


def save_out(db: Session, actor: Actor, name: str, data: SettingsIn) -> SettingsSaved:
    changes = svc.save(db, actor, name, data.values, data.note)
    out = group_out(db, actor, name)
    return SettingsSaved(**out.model_dump(), changed=[ChangeOut(**c.__dict__) for c in changes])


@api.get("/settings")
def list_groups(actor: CurrentActor) -> list[SettingGroupBrief]:
    """The settings groups the caller may see."""
    return [
        SettingGroupBrief(
            group=g.name,
            title=g.title,
            description=g.description,
            changed_by=g.change.value,
            may_change=g.may_change(actor),
            count=len(g.settings),
        )
        for g in svc.visible_groups(actor)
    ]


@api.get("/settings/{group}")
def get_group(group: str, db: DbSession, actor: CurrentActor) -> SettingGroupOut:
    """Every setting of a group: value in force, default, range, unit, provenance, source."""
    return group_out(db, actor, group)


@api.put("/settings/{group}")
def put_group(group: str, data: SettingsIn, db: DbSession, actor: CurrentActor) -> SettingsSaved:
    """Set some settings of a group (null: back to the default); all or nothing, audited
    with old and new value. 422 names each bad key with its value, range and unit."""
    return save_out(db, actor, group, data)


# --- pages ------------------------------------------------------------------------------


@pages.get("/settings")
def settings_index(request: Request, actor: CurrentActor) -> Response:
    shown = svc.visible_groups(actor)
    return render(request, "settings_index.html", actor, groups=shown)


@pages.get("/settings/{group}")
def settings_page(
    request: Request,
    group: str,
    db: DbSession,
    actor: CurrentActor,
    saved: int | None = None,
    unchanged: bool = False,
) -> Response:
    return _page(request, db, actor, group, saved=saved, unchanged=unchanged)


def _page(
    request: Request,
    db: Session,
    actor: Actor,
    name: str,
    error: ValidationFailed | None = None,
    values: dict[str, str] | None = None,
    note: str = "",
    saved: int | None = None,
    unchanged: bool = False,
) -> Response:
    g = svc.group(name)
    rows = svc.describe(db, actor, name)
    return render(
        request,
        "settings.html",
        actor,
        status_code=422 if error else 200,
        group=g,
        groups=svc.visible_groups(actor),
        rows=rows,
        may_change=g.may_change(actor),
        error=error,
        problems={p.field: p.message for p in error.problems} if error else {},
        values=values or {},
        shown=svc.shown,
        note=note,
        saved=None if error else saved,
        unchanged=unchanged and not error,
        field=FIELD,
        explained=g.explain(db) if g.explain else None,
    )


@pages.post("/settings/{group}")
def save_page(request: Request, group: str, db: DbSession, actor: CurrentActor) -> Response:
    g = svc.group(group)
    svc.require_change(actor, g)
    form = form_of(request)
    raw = {k.removeprefix(FIELD): str(v) for k, v in form.multi_items() if k.startswith(FIELD)}
    note = str(form.get("note") or "").strip()
    # Only fields whose text differs from what the page showed count as a change request.
    shown = {r.key: r for r in svc.describe(db, actor, group)}
    asked = {k: v for k, v in raw.items() if k not in shown or _differs(shown[k], v)}
    try:
        changes = svc.save(db, actor, group, asked, note) if asked else []
        db.flush()
    except ValidationFailed as exc:
        db.rollback()
        return _page(request, db, actor, group, exc, raw, note)
    if not changes:
        return redirect(f"/settings/{group}?unchanged=1")
    return redirect(f"/settings/{group}?saved={len(changes)}")


def _differs(row: svc.SettingView, text: str) -> bool:
    """A blank field for a default, or the number shown, is no change."""
    text = text.strip()
    if not text:
        return row.overridden
    value = svc.parse(text, row.kind)
    return value is None or float(value) != float(row.value)


routers = [pages, api]
