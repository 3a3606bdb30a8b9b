"""Ingest pages and endpoints: console-file upload on a run, FHIR bundles, and the
administrators' integration page (mappings, console assignments, message log)."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from starlette.datastructures import UploadFile

from continuum.core import run_service
from continuum.core.roles import Permission as P
from continuum.core.run_view import RunLink, add_run_link
from continuum.errors import Conflict, ValidationFailed
from continuum.ingest import integration_service as integration
from continuum.ingest import upload_stash
from continuum.ingest.console_preset_service import get_preset, list_presets
from continuum.ingest.csv_service import import_csv
from continuum.ingest.fhir_bundle import ingest_bundle
from continuum.ingest.schemas import AssignmentIn, MappingIn, OperationOutcome, UnitAliasIn
from continuum.vocabulary import CODES
from continuum.web.deps import CurrentActor, DbSession, body_of, form_of, get_actor, require
from continuum.web.errors import ERROR_RESPONSES
from continuum.web.form_post import attempt
from continuum.web.pages import (
    NavLink,
    add_nav_link,
    add_template_dir,
    form_dict,
    parse_form,
    redirect,
    render,
)

add_template_dir(Path(__file__).parent / "templates")
add_run_link(RunLink("Import console data", "/runs/{run_id}/ingest", P.INGEST_DATA, 60))
add_nav_link(NavLink("Integration", "/integration", P.MANAGE_INTEGRATION, 78))

pages = APIRouter(include_in_schema=False, dependencies=[Depends(get_actor)])
api = APIRouter(prefix="/api/v1", dependencies=[Depends(get_actor)], tags=["ingest"])
routers = [pages, api]
MAX_UPLOAD = 200 * 1024 * 1024


@pages.get("/runs/{run_id}/ingest", dependencies=[require(P.INGEST_DATA)])
def ingest_page(request: Request, run_id: int, db: DbSession, actor: CurrentActor) -> Response:
    run = run_service.get_run(db, actor, run_id)
    return render(request, "ingest_upload.html", actor, run=run, result=None, error=None,
                  presets=list_presets(db), chosen=None)  # fmt: skip


@pages.post("/runs/{run_id}/ingest", dependencies=[require(P.INGEST_DATA)])
def ingest_upload(request: Request, run_id: int, db: DbSession, actor: CurrentActor) -> Response:
    """Import a file: the one held since its preview (``upload`` token), or one posted
    directly; read with the chosen preset (default: the project's own layout)."""
    run = run_service.get_run(db, actor, run_id)
    form = form_of(request)
    token = str(form.get("upload") or "")
    chosen = str(form.get("preset") or "") or None
    try:
        preset = get_preset(db, chosen)
        name, text = upload_stash.get(token, run_id, actor.staff_id) if token else (
            upload_text(form))  # fmt: skip
        result = import_csv(db, actor, run_id, io.StringIO(text, newline=""), name,
                            preset=preset, zone=request.app.state.settings.zone)  # fmt: skip
    except (ValidationFailed, Conflict) as exc:
        db.rollback()
        return render(request, "ingest_upload.html", actor, 422, run=run, result=None,
                      error=exc, presets=list_presets(db), chosen=chosen)  # fmt: skip
    if token:
        upload_stash.drop(token)
    return render(request, "ingest_upload.html", actor, run=run, result=result, error=None,
                  presets=list_presets(db), chosen=preset.name)  # fmt: skip


def upload_text(form: object) -> tuple[str, str]:
    upload = form.get("file")  # type: ignore[attr-defined]
    if isinstance(upload, UploadFile) and upload.filename:
        data = upload.file.read(MAX_UPLOAD + 1)  # in the threadpool (a def route)
        if len(data) > MAX_UPLOAD:
            raise ValidationFailed("the file is larger than 200 MB: use `continuum ingest csv`")
        name = Path(upload.filename).name
    else:
        data = str(form.get("csv_text") or "").encode()  # type: ignore[attr-defined]
        name = "pasted.csv"
    if not data.strip():
        raise ValidationFailed("choose a console CSV file (or paste its text)", "file")
    try:
        return name, data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationFailed(
            "the file is not UTF-8 text (a console CSV export)", "file"
        ) from None


class FhirJSON(JSONResponse):
    media_type = "application/fhir+json"


ERROR_BODY = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}}
OUTCOME = {"schema": {"$ref": "#/components/schemas/OperationOutcome"}}
# The Bundle endpoint answers FHIR (application/fhir+json): an OperationOutcome when
# stored (200) and when refused (422). A request refused before it is read (token, role,
# input guard) gets the API's error body (application/json).
FHIR_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"model": OperationOutcome, "description": "Stored: information and warnings"},
    **{
        code: {"description": r["description"], "content": ERROR_BODY}
        for code, r in ERROR_RESPONSES.items()
    },
    422: {
        "description": "Refused: an OperationOutcome with an error issue per problem "
        "(nothing stored), or the API's error body for invalid input",
        "content": {**ERROR_BODY, "application/fhir+json": OUTCOME},
    },
}


@api.post(
    "/fhir/Bundle",
    response_class=FhirJSON,
    responses=FHIR_RESPONSES,
    dependencies=[require(P.INGEST_DATA)],
)
def fhir_bundle(request: Request, db: DbSession, actor: CurrentActor) -> JSONResponse:
    """A FHIR R4 Bundle of Observations; answers an OperationOutcome (422 on refusal)."""
    result = ingest_bundle(db, actor, body_of(request))
    return JSONResponse(result.body, status_code=result.status,
                        media_type="application/fhir+json")  # fmt: skip


def _integration(request: Request, db: DbSession, actor: CurrentActor, **extra: object) -> Response:
    status = 422 if extra.get("error") else 200
    return render(
        request,
        "integration.html",
        actor,
        status_code=status,
        mappings=integration.list_mappings(db, actor),
        unit_aliases=integration.list_unit_aliases(db, actor),
        assignments=integration.list_assignments(db, actor),
        runs=integration.active_runs(db, actor),
        messages=integration.recent_messages(db, actor),
        retention=integration.log_retention(db),
        log_size=integration.message_log_size(db, actor),
        vocabulary_codes=list(CODES),
        **{"error": None, "values": {}, "section": None, **extra},
    )


@pages.get("/integration", dependencies=[require(P.MANAGE_INTEGRATION)])
def integration_page(request: Request, db: DbSession, actor: CurrentActor) -> Response:
    return _integration(request, db, actor)


def _save_switchable(
    request: Request,
    db: DbSession,
    actor: CurrentActor,
    save: Callable[[dict[str, Any]], object],
    section: str,
    anchor: str,
) -> Response:
    """A mapping or a unit alias posted from the Integration page (an "active" checkbox);
    bad input shows the page again with the values entered, nothing changed."""
    values = form_dict(form_of(request), request.app.state.settings.zone)
    values["active"] = values.get("active", "off") in ("on", "true", "1", True)
    _, problem = attempt(db, lambda: save(values))
    if problem is not None:
        return _integration(request, db, actor, error=problem, values=values, section=section)
    return redirect(f"/integration#{anchor}")


@pages.post("/integration/mappings", dependencies=[require(P.MANAGE_INTEGRATION)])
def save_mapping(request: Request, db: DbSession, actor: CurrentActor) -> Response:
    return _save_switchable(
        request,
        db,
        actor,
        lambda v: integration.save_mapping(db, actor, parse_form(MappingIn, v)),
        "mapping",
        "mappings",
    )


@pages.post("/integration/units", dependencies=[require(P.MANAGE_INTEGRATION)])
def save_unit_alias(request: Request, db: DbSession, actor: CurrentActor) -> Response:
    return _save_switchable(
        request,
        db,
        actor,
        lambda v: integration.save_unit_alias(db, actor, parse_form(UnitAliasIn, v)),
        "unit",
        "units",
    )


@pages.post("/integration/consoles", dependencies=[require(P.MANAGE_INTEGRATION)])
def assign_console(request: Request, db: DbSession, actor: CurrentActor) -> Response:
    values = form_dict(form_of(request), request.app.state.settings.zone)
    try:
        integration.assign_console(db, actor, parse_form(AssignmentIn, values))
    except (ValidationFailed, Conflict) as exc:
        db.rollback()
        return _integration(request, db, actor, error=exc, values=values, section="console")
    return redirect("/integration#consoles")


@pages.post(
    "/integration/consoles/{assignment_id}/unassign",
    dependencies=[require(P.MANAGE_INTEGRATION)],
)
def unassign_console(assignment_id: int, db: DbSession, actor: CurrentActor) -> Response:
    integration.unassign_console(db, actor, assignment_id)
    return redirect("/integration#consoles")
