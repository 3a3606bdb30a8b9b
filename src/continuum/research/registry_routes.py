"""The ELSO-shaped run record on the web: the programme's completeness
(/research/registry), one run's record grouped by registry table, missing required fields
first with where to record them, confirm/correct forms and "ready for submission"
(/research/registry/runs/{id}), the relational bundle (zip) and JSON under
/api/v1/research/registry. Reading needs VIEW_QUALITY (a researcher reads it de-identified);
confirming, correcting and marking ready need REVIEW_REGISTRY."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from pydantic import Field

from continuum.core.roles import Actor
from continuum.core.roles import Permission as P
from continuum.core.schemas import Out, Strict, UtcTime
from continuum.errors import ContinuumError, FieldProblem, ValidationFailed
from continuum.research import registry_export, registry_service
from continuum.research.registry_build import TABLES, RegistryField, RegistryRecord
from continuum.research.registry_service import Review
from continuum.web.deps import CurrentActor, DbSession, get_actor, require
from continuum.web.form_post import FORM_PROBLEMS, attempt, posted_values
from continuum.web.pages import NavLink, add_nav_link, add_template_dir, redirect, render

pages = APIRouter(include_in_schema=False, dependencies=[Depends(get_actor)])
api = APIRouter(prefix="/api/v1", dependencies=[Depends(get_actor)], tags=["research"])
routers = [pages, api]

add_template_dir(Path(__file__).parent / "templates")
add_nav_link(NavLink("Registry", "/research/registry", P.VIEW_QUALITY, 65))

Status = Literal["filled", "missing", "no_code", "confirmed", "corrected"]


# --- response and request shapes -------------------------------------------------------------


class AmendmentOut(Out):
    id: int
    action: Literal["confirm", "correct"]
    old: str | None = Field(description="the value shown before (null for a researcher on text)")
    new: str | None = Field(description="the corrected value (null for a confirmation)")
    reason: str | None = Field(description="why (null for a role that reads no free text)")
    by: str
    at: UtcTime


class FieldOut(Out):
    field: str = Field(description="'<table>.<row>.<name>' (no row for one-row tables)")
    table: str
    row: str | None
    name: str
    label: str
    kind: Literal["number", "time", "code", "flag", "text"]
    unit: str | None
    required: bool = Field(description="required for the registry (our reading, [U])")
    value: str | None
    status: Status
    source: str | None = Field(description="the observation, record, rule or amendment")
    source_kind: Literal["observation", "record", "rule", "amendment"] | None
    source_id: str | None
    source_time: str | None = Field(description="UTC time of the source, ISO 8601")
    our_value: str | None = Field(description="the platform's value a code was looked up for")
    note: str | None
    where: str | None = Field(description="where to record it while it is missing")
    code_list: str | None
    allowed: list[str] | None = Field(description="the values a correction may take")
    history: list[AmendmentOut]


class SubmissionOut(Out):
    id: int
    completeness_pct: float
    by: str
    at: UtcTime


class RecordOut(Out):
    run_id: int
    patient_label: str
    status: str
    completeness_pct: float = Field(description="required fields filled, %")
    filled_without_typing_pct: float = Field(
        description="required fields filled from the captured record (not typed), %"
    )
    required: int
    work_list: list[str] = Field(description="required fields still missing")
    complications_without_elso_code: list[str]
    windows: dict[str, str]
    versions: dict[str, str]
    fields: list[FieldOut]
    ready_for_submission: list[SubmissionOut]


class RunScoreOut(Out):
    run_id: int
    patient_label: str
    status: str
    started_at: UtcTime
    ended_at: UtcTime | None
    required: int
    filled: int
    completeness_pct: float
    filled_without_typing_pct: float
    missing: list[str]
    ready_at: UtcTime | None


class ProgrammeOut(Out):
    runs: list[RunScoreOut]
    required: int
    filled: int
    completeness_pct: float
    filled_without_typing_pct: float
    ready: int


class ReviewIn(Strict):
    field: str = Field(min_length=1, max_length=120, description="a field key of the record")
    action: Literal["confirm", "correct"]
    value: Annotated[str, Field(max_length=500)] | float | None = None
    reason: str | None = Field(default=None, max_length=1000)


class ReviewsIn(Strict):
    reviews: list[ReviewIn] = Field(min_length=1, max_length=300)


def _history(f: RegistryField) -> list[AmendmentOut]:
    return [
        AmendmentOut(
            id=h["id"],
            action=h["action"],
            old=h["old"],
            new=h["new"],
            reason=h["reason"],
            by=h["by"],
            at=h["at"],
        )
        for h in f.history
    ]


def _record_out(db: DbSession, rec: RegistryRecord) -> RecordOut:
    data = registry_export.as_json(rec)
    fields = [
        FieldOut(
            **registry_export.field_dict(f),
            allowed=list(a) if (a := registry_service.allowed_for(f)) else None,
            history=_history(f),
        )
        for f in rec.fields
    ]
    subs = [
        SubmissionOut(id=s.id, completeness_pct=s.completeness_pct, by=s.by_name, at=s.at)
        for s in registry_service.submissions(db, rec.run_id)
    ]
    return RecordOut(**{**data, "fields": fields, "ready_for_submission": subs})


def _programme_out(prog: registry_service.Programme) -> ProgrammeOut:
    return ProgrammeOut(
        runs=[
            RunScoreOut(
                run_id=r.run_id,
                patient_label=r.patient_label,
                status=r.status,
                started_at=r.started_at,
                ended_at=r.ended_at,
                required=r.required,
                filled=r.filled,
                completeness_pct=r.completeness_pct,
                filled_without_typing_pct=r.untyped_pct,
                missing=r.missing,
                ready_at=r.ready_at,
            )
            for r in prog.runs
        ],
        required=prog.required,
        filled=prog.filled,
        completeness_pct=prog.completeness_pct,
        filled_without_typing_pct=prog.untyped_pct,
        ready=prog.ready,
    )


def _bundle(rec: RegistryRecord) -> Response:
    return Response(
        registry_export.bundle(rec),
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="registry-run-{rec.run_id}.zip"'},
    )


# --- API --------------------------------------------------------------------------------------


@api.get("/research/registry", response_model=ProgrammeOut, dependencies=[require(P.VIEW_QUALITY)])
def programme_api(db: DbSession, actor: CurrentActor) -> ProgrammeOut:
    """Every run's registry completeness and the programme's (pooled over required fields)."""
    return _programme_out(registry_service.programme(db, actor))


@api.get(
    "/research/registry/runs/{run_id}",
    response_model=RecordOut,
    dependencies=[require(P.VIEW_QUALITY)],
)
def record_api(run_id: int, db: DbSession, actor: CurrentActor) -> RecordOut:
    """The run's ELSO-shaped record: every field with value, unit, status and source, the
    work list of required fields still missing, and completeness."""
    return _record_out(db, registry_service.record_for(db, actor, run_id))


@api.get(
    "/research/registry/runs/{run_id}/bundle",
    dependencies=[require(P.VIEW_QUALITY)],
    response_class=Response,
    responses={
        200: {
            "content": {"application/zip": {"schema": {"type": "string", "format": "binary"}}},
            "description": "a zip: one CSV per registry table, fields.csv, record.json, "
            "manifest.json",
        }
    },
)
def bundle_api(run_id: int, db: DbSession, actor: CurrentActor) -> Response:
    """The relational bundle: a zip with one CSV per registry table, fields.csv (every
    field's provenance), record.json and manifest.json."""
    return _bundle(registry_service.record_for(db, actor, run_id))


@api.post(
    "/research/registry/runs/{run_id}/amendments",
    status_code=201,
    response_model=RecordOut,
    dependencies=[require(P.REVIEW_REGISTRY)],
)
def review_api(
    request: Request, run_id: int, data: ReviewsIn, db: DbSession, actor: CurrentActor
) -> RecordOut:
    """Confirm or correct fields (one amendment row each; nothing overwritten). A
    correction needs a value of the field's type and a reason; every problem is named."""
    zone = request.app.state.settings.zone
    reviews = [
        Review(
            field=r.field,
            action=r.action,
            value=r.value,
            reason=r.reason,
            names={p: f"reviews.{i}.{p}" for p in ("field", "action", "value", "reason")},
        )
        for i, r in enumerate(data.reviews)
    ]
    registry_service.review(db, actor, run_id, reviews, zone)
    return _record_out(db, registry_service.record_for(db, actor, run_id))


@api.post(
    "/research/registry/runs/{run_id}/ready",
    status_code=201,
    response_model=SubmissionOut,
    dependencies=[require(P.REVIEW_REGISTRY)],
)
def ready_api(run_id: int, db: DbSession, actor: CurrentActor) -> SubmissionOut:
    """Mark the run ready for submission: refused (422) while required fields are missing,
    each named; 409 when already marked and nothing changed since."""
    s = registry_service.mark_ready(db, actor, run_id)
    return SubmissionOut(id=s.id, completeness_pct=s.completeness_pct, by=s.by_name, at=s.at)


# --- pages ------------------------------------------------------------------------------------


CONFIRM_ALL = "*"  # the review form's confirm_table value for "every table"


@pages.get("/research/registry", dependencies=[require(P.VIEW_QUALITY)])
def programme_page(request: Request, db: DbSession, actor: CurrentActor) -> Response:
    prog = registry_service.programme(db, actor)
    return render(request, "registry_programme.html", actor, prog=prog)


def _groups(rec: RegistryRecord) -> list[tuple[str, str, list[RegistryField]]]:
    """Fields by table; in each, required missing first, then other missing, then filled."""

    def order(f: RegistryField) -> tuple[int, int]:
        return (0 if f.required and not f.filled else 1 if not f.filled else 2, 0)

    return [(t, title, sorted(rec.table(t), key=order)) for t, title in TABLES.items()]


def _run_page(
    request: Request,
    db: DbSession,
    actor: Actor,
    run_id: int,
    error: ContinuumError | None = None,
    values: dict[str, Any] | None = None,
) -> Response:
    rec = registry_service.record_for(db, actor, run_id)
    return render(
        request,
        "registry_run.html",
        actor,
        status_code=error.status_code if error else 200,
        rec=rec,
        groups=_groups(rec),
        allowed={f.key: registry_service.allowed_for(f) for f in rec.fields},
        submissions=registry_service.submissions(db, run_id),
        can_review=actor.can(P.REVIEW_REGISTRY),
        error=error,
        values=values or {},
        now=datetime.now().astimezone(),
    )


@pages.get("/research/registry/runs/{run_id}", dependencies=[require(P.VIEW_QUALITY)])
def run_page(request: Request, run_id: int, db: DbSession, actor: CurrentActor) -> Response:
    return _run_page(request, db, actor, run_id)


@pages.get("/research/registry/runs/{run_id}/bundle.zip", dependencies=[require(P.VIEW_QUALITY)])
def bundle_page(run_id: int, db: DbSession, actor: CurrentActor) -> Response:
    return _bundle(registry_service.record_for(db, actor, run_id))


def _form_reviews(values: dict[str, Any]) -> list[Review]:
    """One field's form (field, action, value, reason), or the work list's (``v.<field>``
    inputs, blanks skipped, one reason for all)."""
    if values.get("field"):
        return [
            Review(
                field=str(values["field"]),
                action=str(values.get("action") or "correct"),
                value=values.get("value"),
                reason=values.get("reason"),
            )
        ]
    reason = values.get("reason")
    return [
        Review(
            field=key[2:],
            action="correct",
            value=value,
            reason=reason,
            names={"field": key, "value": key},
        )
        for key, value in values.items()
        if key.startswith("v.") and str(value).strip()
    ]


@pages.post("/research/registry/runs/{run_id}/review", dependencies=[require(P.REVIEW_REGISTRY)])
def review_page(request: Request, run_id: int, db: DbSession, actor: CurrentActor) -> Response:
    values = posted_values(request)
    zone = request.app.state.settings.zone

    def save() -> int:
        table = values.get("confirm_table")
        if table == CONFIRM_ALL:  # one step: every value filled from the record, all tables
            rec = registry_service.record_for(db, actor, run_id)
            reviews = [Review(f.key, "confirm") for f in rec.fields if f.status == "filled"]
        elif table:  # one click confirms every value the table shows (filled, not yet confirmed)
            rec = registry_service.record_for(db, actor, run_id)
            reviews = [
                Review(f.key, "confirm") for f in rec.table(str(table)) if f.status == "filled"
            ]
        else:
            reviews = _form_reviews(values)
        if not reviews:
            raise ValidationFailed(
                [FieldProblem("reason", "type at least one value to save", None)]
            )
        return len(registry_service.review(db, actor, run_id, reviews, zone))

    saved, problem = attempt(db, save)
    if problem or not saved:
        return _run_page(request, db, actor, run_id, problem, values)
    anchor = (
        f"#f-{values['field']}"
        if values.get("field")
        else "#ready"
        if values.get("confirm_table") == CONFIRM_ALL
        else f"#t-{values['confirm_table']}"
        if values.get("confirm_table")
        else "#work-list"
    )
    return redirect(f"/research/registry/runs/{run_id}?saved={saved}{anchor}")


@pages.post("/research/registry/runs/{run_id}/ready", dependencies=[require(P.REVIEW_REGISTRY)])
def ready_page(request: Request, run_id: int, db: DbSession, actor: CurrentActor) -> Response:
    _, problem = attempt(db, lambda: registry_service.mark_ready(db, actor, run_id), FORM_PROBLEMS)
    if problem:
        return _run_page(request, db, actor, run_id, problem)
    return redirect(f"/research/registry/runs/{run_id}?ready=1#ready")
