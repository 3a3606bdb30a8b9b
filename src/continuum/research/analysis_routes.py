"""Outcome analyses of saved cohorts: /research/analyses (saved analyses and the form),
/research/analyses/{id} (the table or curve, the cohort definition, software versions),
its plot as a PNG drawn on the server, and the JSON API under /api/v1/research/analyses.

Reading needs EXPORT_DEIDENTIFIED; running (and saving) an analysis MANAGE_STUDIES.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from pydantic import Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from continuum.core.roles import Actor
from continuum.core.roles import Permission as P
from continuum.core.schemas import Out, UtcTime
from continuum.research import analysis, study
from continuum.research.analysis import COVARIATE_LABELS, KIND_LABELS, AnalysisIn
from continuum.research.cohort_record import SavedCohort
from continuum.research.study_record import OutcomeAnalysis
from continuum.web.deps import CurrentActor, DbSession, form_of, get_actor, require
from continuum.web.form_post import attempt
from continuum.web.pages import add_template_dir, redirect, render

pages = APIRouter(include_in_schema=False, dependencies=[Depends(get_actor)])
api = APIRouter(prefix="/api/v1/research", dependencies=[Depends(get_actor)], tags=["research"])
routers = [pages, api]

add_template_dir(Path(__file__).parent / "templates")


class AnalysisOut(Out):
    id: int
    kind: str = Field(description="km_time_on_ecmo, km_survival or logistic_survival")
    cohort: str
    cohort_definition: dict[str, Any] = Field(description="the definition when it was run")
    study_id: int | None
    covariates: list[str]
    result: dict[str, Any] = Field(
        description="KM: n, events, censored, median_hours, median_ci_hours, curve; "
        "logistic: n, events (died), survived, table (term, coef, odds_ratio, ci_low, "
        "ci_high, p)"
    )
    versions: dict[str, str] = Field(description="software versions that computed it")
    created_at: UtcTime
    plot: str | None = Field(description="the curve as a PNG (Kaplan–Meier only)")


def _out(row: OutcomeAnalysis) -> AnalysisOut:
    return AnalysisOut(
        id=row.id, kind=row.kind, cohort=row.cohort_name, cohort_definition=row.definition,
        study_id=row.study_id, covariates=list(row.covariates), result=row.result,
        versions=row.versions, created_at=row.created_at,
        plot=f"/research/analyses/{row.id}/plot.png" if row.kind.startswith("km_") else None,
    )  # fmt: skip


def _zone(request: Request) -> Any:
    return request.app.state.settings.zone


@api.get(
    "/analyses", response_model=list[AnalysisOut], dependencies=[require(P.EXPORT_DEIDENTIFIED)]
)
def analyses_api(db: DbSession, actor: CurrentActor) -> list[AnalysisOut]:
    """Saved outcome analyses, newest first."""
    return [_out(r) for r in analysis.list_analyses(db, actor)]


@api.post(
    "/analyses", status_code=201, response_model=AnalysisOut,
    dependencies=[require(P.MANAGE_STUDIES)],
)  # fmt: skip
def run_api(request: Request, data: AnalysisIn, db: DbSession, actor: CurrentActor) -> AnalysisOut:
    """Run and save an analysis of a saved cohort. Refused (422): unknown cohort, a cohort
    with no runs, a logistic model with fewer than 10 runs in either outcome."""
    return _out(analysis.run_analysis(db, actor, data, _zone(request)))


@api.get(
    "/analyses/{analysis_id}", response_model=AnalysisOut,
    dependencies=[require(P.EXPORT_DEIDENTIFIED)],
)  # fmt: skip
def analysis_api(analysis_id: int, db: DbSession, actor: CurrentActor) -> AnalysisOut:
    return _out(analysis.get(db, actor, analysis_id))


def _list_page(
    request: Request, db: Session, actor: Actor, error: Exception | None = None,
    given: dict[str, Any] | None = None, status_code: int = 200,
) -> Response:  # fmt: skip
    return render(
        request, "research_analyses.html", actor, status_code=status_code,
        analyses=[_out(r) for r in analysis.list_analyses(db, actor)],
        cohorts=list(db.scalars(select(SavedCohort.name).order_by(SavedCohort.name))),
        studies=[(s.id, s.title) for s in study.list_studies(db, actor)],
        kinds=KIND_LABELS, covariates=COVARIATE_LABELS, min_events=analysis.MIN_EVENTS,
        may_manage=actor.can(P.MANAGE_STUDIES), error=error, given=given or {},
    )  # fmt: skip


@pages.get("/research/analyses", dependencies=[require(P.EXPORT_DEIDENTIFIED)])
def analyses_page(request: Request, db: DbSession, actor: CurrentActor) -> Response:
    return _list_page(request, db, actor)


@pages.post("/research/analyses", dependencies=[require(P.MANAGE_STUDIES)])
def run_page(request: Request, db: DbSession, actor: CurrentActor) -> Response:
    values = form_of(request)
    sid = str(values.get("study_id") or "").strip()
    given: dict[str, Any] = {
        "cohort": str(values.get("cohort") or ""),
        "kind": str(values.get("kind") or ""),
        "covariates": values.getlist("covariates"),
        "study_id": int(sid) if sid.isdigit() else None,
    }
    row, problem = attempt(
        db,
        lambda: analysis.run_analysis(
            db,
            actor,
            study.parse(AnalysisIn, given),
            _zone(request),  # type: ignore[arg-type]
        ),
    )
    if problem or row is None:
        return _list_page(request, db, actor, problem, given, 422)
    return redirect(f"/research/analyses/{row.id}")


@pages.get("/research/analyses/{analysis_id}", dependencies=[require(P.EXPORT_DEIDENTIFIED)])
def analysis_page(
    request: Request, analysis_id: int, db: DbSession, actor: CurrentActor
) -> Response:
    row = analysis.get(db, actor, analysis_id)
    return render(request, "research_analysis.html", actor, a=_out(row), kinds=KIND_LABELS,
                  covariates=COVARIATE_LABELS)  # fmt: skip


@pages.get(
    "/research/analyses/{analysis_id}/plot.png", dependencies=[require(P.EXPORT_DEIDENTIFIED)]
)
def plot(analysis_id: int, db: DbSession, actor: CurrentActor) -> Response:
    row = analysis.get(db, actor, analysis_id)
    if not row.kind.startswith("km_"):
        from continuum.errors import NotFound

        raise NotFound(f"analysis {analysis_id} is a {row.kind}: it has a table, not a curve")
    return Response(analysis.plot_png(row), media_type="image/png",
                    headers={"Cache-Control": "private, max-age=3600"})  # fmt: skip
