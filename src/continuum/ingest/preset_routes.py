"""Console-export presets on the web: the upload preview (how each column will be read,
nothing stored until the user confirms) and the administrators' preset page."""

from __future__ import annotations

import io
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict

from continuum.core import run_service
from continuum.core.roles import Permission as P
from continuum.errors import NotFound, ValidationFailed
from continuum.ingest import upload_stash
from continuum.ingest.console_preset_service import (
    get_preset,
    list_presets,
    read_with_preset,
    remove_preset,
    save_preset,
)
from continuum.ingest.console_presets import DELIMITERS, PROGRAMME_ZONE, Preset
from continuum.ingest.csv_service import check_times
from continuum.ingest.routes import upload_text
from continuum.vocabulary import CODES
from continuum.web.deps import CurrentActor, DbSession, form_of, get_actor, require
from continuum.web.form_post import FORM_PROBLEMS, attempt, posted_values
from continuum.web.pages import redirect, render

pages = APIRouter(include_in_schema=False, dependencies=[Depends(get_actor)])
api = APIRouter(prefix="/api/v1", dependencies=[Depends(get_actor)], tags=["ingest"])
routers = [pages, api]


@pages.post("/runs/{run_id}/ingest/preview", dependencies=[require(P.INGEST_DATA)])
def ingest_preview(request: Request, run_id: int, db: DbSession, actor: CurrentActor) -> Response:
    """Read the file with the chosen preset and show how it will be stored; the file is
    held (upload_stash) for the confirmation, nothing goes into the database."""
    run = run_service.get_run(db, actor, run_id)
    form = form_of(request)
    token = str(form.get("upload") or "")
    chosen = str(form.get("preset") or "") or None
    presets = list_presets(db)
    try:
        preset = get_preset(db, chosen)
        if token:
            name, text = upload_stash.get(token, run_id, actor.staff_id)
        else:
            name, text = upload_text(form)
        zone = request.app.state.settings.zone
        read = read_with_preset(io.StringIO(text, newline=""), preset, zone)
        if not token:
            token = upload_stash.put(text, name, run_id, actor.staff_id)
    except ValidationFailed as exc:
        return render(request, "ingest_upload.html", actor, 422, run=run, result=None,
                      error=exc, presets=presets, chosen=chosen)  # fmt: skip
    try:
        check_times(read.console, run.started_at)
        early = None
    except ValidationFailed as exc:
        early = exc.problems[0].message
    return render(request, "ingest_preview.html", actor, run=run, file_name=name, token=token,
                  read=read, p=read.preview, presets=presets, early=early)  # fmt: skip


def _presets_page(
    request: Request, db: DbSession, actor: CurrentActor, status: int = 200, **extra: Any
) -> Response:
    presets = list_presets(db)
    editing: Preset | None = extra.pop("editing", None)
    return render(
        request,
        "ingest_presets.html",
        actor,
        status_code=status,
        presets=presets,
        editing=editing,
        delimiters=DELIMITERS,
        programme_zone=PROGRAMME_ZONE,
        vocabulary_codes=list(CODES),
        **{"error": None, "values": None, **extra},
    )


@pages.get("/integration/presets", dependencies=[require(P.MANAGE_INTEGRATION)])
def presets_page(
    request: Request, db: DbSession, actor: CurrentActor, edit: str | None = None
) -> Response:
    editing = None
    if edit:
        try:
            editing = get_preset(db, edit)
        except ValidationFailed as exc:
            return _presets_page(request, db, actor, 404, error=exc)
    return _presets_page(request, db, actor, editing=editing)


@pages.post("/integration/presets", dependencies=[require(P.MANAGE_INTEGRATION)])
def save_preset_form(request: Request, db: DbSession, actor: CurrentActor) -> Response:
    values = posted_values(request)
    try:
        version = int(values.get("version") or 0)
    except ValueError:
        version = 0
    saved, problem = attempt(db, lambda: save_preset(db, actor, values, version))
    if problem is not None or saved is None:
        return _presets_page(request, db, actor, 422, error=problem, values=values)
    return redirect(f"/integration/presets#preset-{saved.name}")


@pages.post("/integration/presets/{name}/remove", dependencies=[require(P.MANAGE_INTEGRATION)])
def remove_preset_form(request: Request, name: str, db: DbSession, actor: CurrentActor) -> Response:
    values = posted_values(request)
    version = int(values["version"]) if str(values.get("version") or "").isdigit() else None
    _, problem = attempt(db, lambda: remove_preset(db, actor, name, version),
                         (*FORM_PROBLEMS, NotFound))  # fmt: skip
    if problem is not None:
        return _presets_page(request, db, actor, 422, error=problem)
    return redirect("/integration/presets")


class PresetColumnOut(BaseModel):
    header: str
    code: str
    unit: str


class PresetOut(BaseModel):
    """A console-export preset (docs/ingest.md "Console export presets")."""

    model_config = ConfigDict(extra="forbid")

    name: str
    title: str
    columns: list[PresetColumnOut]
    time_column: str
    time_format: str
    time_zone: str
    delimiter: str
    decimal_comma: bool
    note: str
    origin: str
    version: int


@api.get("/ingest/presets", dependencies=[require(P.INGEST_DATA)])
def presets_api(db: DbSession, actor: CurrentActor) -> list[PresetOut]:
    """The console-export presets an import may name (shipped and the site's)."""
    return [PresetOut.model_validate(p.to_dict()) for p in list_presets(db)]
