"""Cohort builder and exports: /research/cohorts (a definition with its count as you refine
it, saved cohorts, an export form on each), /research/exports/{id} (a background export's
progress, then its download) and the JSON API under /api/v1/research.

Building cohorts and de-identified exports need EXPORT_DEIDENTIFIED; identified exports and
their downloads EXPORT_IDENTIFIED plus a stated purpose. An export runs after the response,
on a thread of its own, and reports progress in its job row (any app process can show it).
"""

from __future__ import annotations

import io
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from fastapi import APIRouter, BackgroundTasks, Depends, Request
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from continuum.core.roles import Actor
from continuum.core.roles import Permission as P
from continuum.core.schemas import Out, UtcTime
from continuum.db import unit_of_work, utcnow
from continuum.errors import Conflict, NotFound, ValidationFailed
from continuum.research import cohort, export, text_release
from continuum.research.cohort import AGE_GROUP_LABELS, CohortDefinition
from continuum.research.cohort_record import EXPORT_FORMATS, ExportJob, SavedCohort
from continuum.web.deps import CurrentActor, DbSession, form_of, get_actor, require
from continuum.web.form_post import attempt
from continuum.web.pages import NavLink, add_nav_link, add_template_dir, redirect, render

pages = APIRouter(include_in_schema=False, dependencies=[Depends(get_actor)])
api = APIRouter(prefix="/api/v1/research", dependencies=[Depends(get_actor)], tags=["research"])
routers = [pages, api]

add_template_dir(Path(__file__).parent / "templates")
add_nav_link(NavLink("Research", "/research/cohorts", P.EXPORT_DEIDENTIFIED, 70))

LISTS = ("support_types", "modes", "outcomes", "age_groups", "diagnoses", "risk_classes")


class CountOut(Out):
    runs: int = Field(description="runs the definition holds now")
    summary: str = Field(description="the definition in words")


class CohortOut(Out):
    id: int
    title: str = Field(description="the cohort's title (names the work, never a patient)")
    definition: dict[str, Any]
    summary: str
    runs: int = Field(description="runs the cohort holds now")
    created_at: UtcTime


class CohortIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str = Field(min_length=1, max_length=120, description="names the work, never a patient")
    definition: CohortDefinition


class ExportIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    cohort: str | None = Field(None, description="a saved cohort's title (or all_runs)")
    all_runs: bool = False
    format: str = Field(description="csv, parquet, redcap, fhir, omop or clif")
    identified: bool = False
    purpose: str | None = Field(None, max_length=2000, description="why (identified exports)")


class ExportOut(Out):
    id: int
    cohort: str
    format: str
    identified: bool
    status: str = Field(description="queued, running, done, failed")
    runs_total: int
    runs_done: int
    requested_at: UtcTime
    finished_at: UtcTime | None
    error: str | None
    download: str | None = Field(description="where to download the files (a ZIP) when done")


def _zone(request: Request) -> Any:
    return request.app.state.settings.zone


def _cohort_out(db: Session, row: SavedCohort, zone: Any) -> CohortOut:
    d = cohort.definition_of(row)
    return CohortOut(
        id=row.id,
        title=row.name,
        definition=row.definition,
        summary=d.summary(),
        runs=len(cohort.run_ids(db, d, zone)),
        created_at=row.created_at,
    )


def _export_out(job: ExportJob) -> ExportOut:
    return ExportOut(
        id=job.id,
        cohort=job.cohort_name,
        format=job.format,
        identified=job.identified,
        status=job.status,
        runs_total=job.runs_total,
        runs_done=job.runs_done,
        requested_at=job.requested_at,
        finished_at=job.finished_at,
        error=job.error,
        download=f"/research/exports/{job.id}/download" if job.status == "done" else None,
    )


def _job(db: Session, actor: Actor, job_id: int) -> ExportJob:
    export.interrupted(db)  # an export whose process stopped says so, not "running"
    actor.require(P.EXPORT_DEIDENTIFIED)
    job = db.get(ExportJob, job_id)
    if job is None:
        raise NotFound(f"no export {job_id}")
    if job.identified:
        actor.require(P.EXPORT_IDENTIFIED)
    return job


def run_job(factory: sessionmaker[Session], settings: Any, actor: Actor, job_id: int) -> None:
    """The background export: writes the files, reporting progress in the job row."""
    with unit_of_work(factory) as db:
        job = db.get(ExportJob, job_id)
        if job is None or job.status != "queued":
            return
        job.status = "running"
        job.heartbeat_at = utcnow()
        # A fresh directory per job (ids restart with a new database; never mix files).
        out = Path(settings.export_dir) / f"export-{job_id}-{uuid.uuid4().hex[:12]}"
        job.directory = str(out)
        name, fmt, identified, purpose = job.cohort_name, job.format, job.identified, job.purpose

    def tick(done: int, total: int) -> None:
        with unit_of_work(factory) as db:
            row = db.get(ExportJob, job_id)
            if row is not None:
                row.runs_done = done
                row.heartbeat_at = utcnow()

    try:
        with unit_of_work(factory) as db:
            p = export.plan(
                db, actor, settings.zone, fmt=fmt, identified=identified, purpose=purpose,
                cohort_name=None if name == export.ALL_RUNS else name,
                all_runs=name == export.ALL_RUNS,
            )  # fmt: skip
            released = text_release.released_fields(db, p.cohort_id, p.run_ids, settings.zone)
            policy = export.policy_for(settings, identified, released)
            result = export.write_export(db, actor, p, policy, out, settings.zone, job_id, tick)
        with unit_of_work(factory) as db:
            export.finish(db, job_id, result, None)
    except Exception as exc:  # the job says why; the page shows it
        with unit_of_work(factory) as db:
            export.finish(db, job_id, None, f"{type(exc).__name__}: {exc}"[:1000])


def _start(
    request: Request, db: Session, actor: Actor, data: ExportIn, background: BackgroundTasks
) -> ExportJob:
    settings = request.app.state.settings
    p = export.plan(
        db, actor, settings.zone, fmt=data.format, cohort_name=data.cohort,
        all_runs=data.all_runs, identified=data.identified, purpose=data.purpose,
    )  # fmt: skip
    released = text_release.released_fields(db, p.cohort_id, p.run_ids, settings.zone)
    job = export.create_job(db, actor, p, export.policy_for(settings, data.identified, released))
    background.add_task(run_job, request.app.state.sessionmaker, settings, actor, job.id)
    return job


# ---- API --------------------------------------------------------------------------------


@api.post("/cohorts/count", response_model=CountOut, dependencies=[require(P.EXPORT_DEIDENTIFIED)])
def count_api(
    request: Request, definition: CohortDefinition, db: DbSession, actor: CurrentActor
) -> CountOut:
    """How many runs a definition holds now (refine it and ask again)."""
    return CountOut(
        runs=cohort.count(db, actor, definition, _zone(request)), summary=definition.summary()
    )


@api.get("/cohorts", response_model=list[CohortOut], dependencies=[require(P.EXPORT_DEIDENTIFIED)])
def cohorts_api(request: Request, db: DbSession, actor: CurrentActor) -> list[CohortOut]:
    """Saved cohorts, newest first, each with its count now."""
    return [_cohort_out(db, r, _zone(request)) for r in cohort.list_saved(db, actor)]


@api.post(
    "/cohorts",
    status_code=201,
    response_model=CohortOut,
    dependencies=[require(P.EXPORT_DEIDENTIFIED)],
)
def save_api(request: Request, data: CohortIn, db: DbSession, actor: CurrentActor) -> CohortOut:
    """Save a definition under a new name (409 if the name is taken)."""
    row = cohort.save(db, actor, data.title, data.definition, _zone(request))
    return _cohort_out(db, row, _zone(request))


@api.post(
    "/exports", status_code=201, response_model=ExportOut,
    dependencies=[require(P.EXPORT_DEIDENTIFIED)],
)  # fmt: skip
def export_api(
    request: Request,
    data: ExportIn,
    background: BackgroundTasks,
    db: DbSession,
    actor: CurrentActor,
) -> ExportOut:
    """Start an export in the background; follow it at GET /api/v1/research/exports/{id}.
    Refused: unknown format (422), a cohort with no runs (422), identified without the
    permission (403) or without a purpose (422)."""
    return _export_out(_start(request, db, actor, data, background))


@api.get(
    "/exports/{export_id}", response_model=ExportOut,
    dependencies=[require(P.EXPORT_DEIDENTIFIED)],
)  # fmt: skip
def export_status_api(export_id: int, db: DbSession, actor: CurrentActor) -> ExportOut:
    """An export's status and progress (runs done of runs total)."""
    return _export_out(_job(db, actor, export_id))


# ---- pages -------------------------------------------------------------------------------


def _definition_from(values: Any) -> dict[str, Any]:
    data: dict[str, Any] = {k: values.getlist(k) for k in LISTS if values.getlist(k)}
    for k in ("started_from", "started_to", "complications", "membrane_lung_model",
              "device_model"):  # fmt: skip
        if values.get(k):
            data[k] = values.get(k)
    if values.get("has_minute_data"):
        data["has_minute_data"] = True
    return data


def _page(
    request: Request,
    db: Session,
    actor: Actor,
    definition: CohortDefinition | None,
    given: dict[str, Any],
    error: Exception | None = None,
    status_code: int = 200,
    name: str = "",
) -> Response:
    from continuum.core.vocab import MODES, OUTCOME_LABELS, SUPPORT_TYPES

    zone = _zone(request)
    export.interrupted(db)
    jobs = db.scalars(select(ExportJob).order_by(ExportJob.requested_at.desc()).limit(10)).all()
    return render(
        request,
        "research_cohorts.html",
        actor,
        status_code=status_code,
        definition=definition,
        given=given,
        count=None if definition is None else len(cohort.run_ids(db, definition, zone)),
        saved=[_cohort_out(db, r, zone) for r in cohort.list_saved(db, actor)],
        jobs=[j for j in jobs if not j.identified or actor.can(P.EXPORT_IDENTIFIED)],
        support_types=SUPPORT_TYPES,
        modes=MODES,
        outcomes=[*((o, OUTCOME_LABELS[o]) for o in OUTCOME_LABELS), ("ongoing", "ongoing")],
        age_groups=list(AGE_GROUP_LABELS.items()),
        diagnoses=list(cohort.DIAGNOSIS_LABELS.items()),
        risk_classes=cohort.RISK_CLASSES,
        formats=EXPORT_FORMATS,
        may_identify=actor.can(P.EXPORT_IDENTIFIED),
        may_read_identifiers=actor.can(P.VIEW_IDENTIFIERS),
        error=error,
        cohort_name=name,
    )


@pages.get("/research/cohorts", dependencies=[require(P.EXPORT_DEIDENTIFIED)])
def cohorts_page(request: Request, db: DbSession, actor: CurrentActor) -> Response:
    params = request.query_params
    given = _definition_from(params)
    if not params.get("count"):
        return _page(request, db, actor, None, given)
    try:
        definition = cohort.parse(given)
    except ValidationFailed as exc:
        return _page(request, db, actor, None, given, exc, 422)
    return _page(request, db, actor, definition, given)


@pages.post("/research/cohorts", dependencies=[require(P.EXPORT_DEIDENTIFIED)])
def save_page(request: Request, db: DbSession, actor: CurrentActor) -> Response:
    values = form_of(request)
    given = _definition_from(values)
    name = str(values.get("title") or "")

    def save() -> SavedCohort:
        return cohort.save(db, actor, name, cohort.parse(given), _zone(request))

    row, problem = attempt(db, save, (ValidationFailed, Conflict))
    if problem or row is None:
        try:
            definition = cohort.parse(given)
        except ValidationFailed:
            definition = None
        return _page(request, db, actor, definition, given, problem, 422, name)
    return redirect(f"/research/cohorts#cohort-{row.id}")


@pages.post("/research/exports", dependencies=[require(P.EXPORT_DEIDENTIFIED)])
def export_page(
    request: Request, background: BackgroundTasks, db: DbSession, actor: CurrentActor
) -> Response:
    values = form_of(request)
    target = str(values.get("cohort") or "")
    data = ExportIn(
        cohort=None if target == export.ALL_RUNS else target or None,
        all_runs=target == export.ALL_RUNS,
        format=str(values.get("format") or ""),
        identified=bool(values.get("identified")),
        purpose=str(values.get("purpose") or "") or None,
    )
    job, problem = attempt(db, lambda: _start(request, db, actor, data, background))
    if problem or job is None:
        return _page(request, db, actor, None, {}, problem, 422)
    return redirect(f"/research/exports/{job.id}")


@pages.get("/research/exports/{export_id}", dependencies=[require(P.EXPORT_DEIDENTIFIED)])
def export_status_page(
    request: Request, export_id: int, db: DbSession, actor: CurrentActor
) -> Response:
    job = _job(db, actor, export_id)
    return render(request, "research_export.html", actor, job=job, out=_export_out(job))


class _Sink(io.RawIOBase):
    """A write-only, unseekable stream the ZIP writer fills and the response drains."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []
        self.pos = 0

    def writable(self) -> bool:
        return True

    def write(self, b: Any) -> int:
        data = bytes(b)
        self.chunks.append(data)
        self.pos += len(data)
        return len(data)

    def tell(self) -> int:
        return self.pos

    def take(self) -> bytes:
        out, self.chunks = b"".join(self.chunks), []
        return out


def _zip(directory: Path) -> Iterator[bytes]:
    """The export's files as a ZIP, streamed block by block (never whole in memory)."""
    sink = _Sink()
    with zipfile.ZipFile(sink, "w", zipfile.ZIP_DEFLATED) as z:
        for path in sorted(directory.iterdir()):
            with path.open("rb") as src, z.open(path.name, "w", force_zip64=True) as dst:
                for block in iter(lambda src=src: src.read(1 << 20), b""):
                    dst.write(block)
                    yield sink.take()
    yield sink.take()


@pages.get("/research/exports/{export_id}/download", dependencies=[require(P.EXPORT_DEIDENTIFIED)])
def download(request: Request, export_id: int, db: DbSession, actor: CurrentActor) -> Response:
    from continuum.core import audit

    job = _job(db, actor, export_id)
    if job.status != "done" or not job.directory or not Path(job.directory).is_dir():
        raise Conflict(f"export {export_id} is {job.status}: nothing to download yet")
    audit.record(db, actor, "export.download", "research_export", job.id,
                 detail={"cohort": job.cohort_name, "identified": job.identified})  # fmt: skip
    return StreamingResponse(
        _zip(Path(job.directory)),
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="export-{job.id}.zip"'},
    )
