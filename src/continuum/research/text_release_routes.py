"""Free-text release review of a saved cohort: /research/cohorts/{id}/free-text (the values
of each free-text field, the decision in force, a form to release or withdraw) and its JSON
API under /api/v1/research/cohorts/{id}/free-text. Reviewers only: they read identifying
prose (VIEW_IDENTIFIERS and EXPORT_IDENTIFIED)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from continuum.core.roles import Permission as P
from continuum.core.schemas import Out, UtcTime
from continuum.errors import ValidationFailed
from continuum.research import text_release
from continuum.research.cohort_record import SavedCohort
from continuum.web.deps import CurrentActor, DbSession, form_of, get_actor, require
from continuum.web.form_post import attempt
from continuum.web.pages import redirect, render

pages = APIRouter(include_in_schema=False, dependencies=[Depends(get_actor)])
api = APIRouter(prefix="/api/v1/research", dependencies=[Depends(get_actor)], tags=["research"])
routers = [pages, api]
REVIEWER = [require(P.VIEW_IDENTIFIERS), require(P.EXPORT_IDENTIFIED)]


class ValueOut(Out):
    text: str
    runs: int = Field(description="runs of the cohort holding this value")


class FieldReviewOut(Out):
    field: str
    label: str
    released: bool = Field(description="released now: the values are the ones reviewed")
    changed_since_release: bool = Field(description="released once, values changed since")
    decided_by: str | None
    decided_at: UtcTime | None
    reason: str | None
    values: list[ValueOut]


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    fields: list[str] = Field(description="free-text fields: indication, diagnosis, …")
    released: bool = Field(True, description="true: release; false: withdraw")
    reason: str = Field(max_length=2000, description="why (what the reviewer checked)")


def _out(r: text_release.FieldReview) -> FieldReviewOut:
    d = r.decision
    return FieldReviewOut(
        field=r.field, label=r.label, released=r.released, changed_since_release=r.changed_since,
        decided_by=d.by_name if d else None, decided_at=d.at if d else None,
        reason=d.reason if d else None,
        values=[ValueOut(text=t, runs=n) for t, n in r.values],
    )  # fmt: skip


def _zone(request: Request) -> Any:
    return request.app.state.settings.zone


@api.get(
    "/cohorts/{cohort_id}/free-text", response_model=list[FieldReviewOut], dependencies=REVIEWER
)
def review_api(
    request: Request, cohort_id: int, db: DbSession, actor: CurrentActor
) -> list[FieldReviewOut]:
    """Each free-text field of the cohort: its values and the release decision in force."""
    return [_out(r) for r in text_release.review(db, actor, cohort_id, _zone(request))]


@api.post(
    "/cohorts/{cohort_id}/free-text",
    response_model=list[FieldReviewOut],
    status_code=201,
    dependencies=REVIEWER,
)
def decide_api(
    request: Request, cohort_id: int, data: DecisionIn, db: DbSession, actor: CurrentActor
) -> list[FieldReviewOut]:
    """Release (or withdraw) fields of the cohort into its de-identified exports."""
    zone = _zone(request)
    text_release.decide(db, actor, cohort_id, data.fields, data.released, data.reason, zone)
    return [_out(r) for r in text_release.review(db, actor, cohort_id, zone)]


def _page(
    request: Request, db: DbSession, actor: CurrentActor, cohort_id: int,
    error: Exception | None = None, given: dict[str, Any] | None = None,
) -> Response:  # fmt: skip
    reviews = text_release.review(db, actor, cohort_id, _zone(request))
    row = db.get(SavedCohort, cohort_id)
    return render(
        request, "research_free_text.html", actor, status_code=422 if error else 200,
        cohort=row, reviews=reviews, error=error, given=given or {},
    )  # fmt: skip


@pages.get("/research/cohorts/{cohort_id}/free-text", dependencies=REVIEWER)
def review_page(request: Request, cohort_id: int, db: DbSession, actor: CurrentActor) -> Response:
    return _page(request, db, actor, cohort_id)


@pages.post("/research/cohorts/{cohort_id}/free-text", dependencies=REVIEWER)
def decide_page(request: Request, cohort_id: int, db: DbSession, actor: CurrentActor) -> Response:
    form = form_of(request)
    fields = [str(f) for f in form.getlist("fields")]
    released = str(form.get("decision") or "release") != "withdraw"
    reason = str(form.get("reason") or "")
    zone = _zone(request)
    _, problem = attempt(
        db,
        lambda: text_release.decide(db, actor, cohort_id, fields, released, reason, zone),
        (ValidationFailed,),
    )
    if problem:
        given = {"fields": fields, "reason": reason}
        return _page(request, db, actor, cohort_id, problem, given)
    return redirect(f"/research/cohorts/{cohort_id}/free-text?saved=1")
