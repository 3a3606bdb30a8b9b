"""Clinical audits: list and define (/quality/audits), one audit with its result, the
records that failed and the previous audit of the same criterion beside it
(/quality/audits/{id}); JSON at /api/v1/quality/audits. Defining needs REVIEW_CASES;
reading needs VIEW_QUALITY. A role without VIEW_IDENTIFIERS sees failing records by
pseudonymous patient label, without a link to the run."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from continuum.core.roles import Actor
from continuum.core.roles import Permission as P
from continuum.core.schemas import Out, UtcTime
from continuum.errors import FieldProblem, ValidationFailed
from continuum.quality import audits
from continuum.quality.audit_record import CRITERIA, ClinicalAudit
from continuum.web.deps import CurrentActor, DbSession, get_actor, require
from continuum.web.form_post import attempt, posted_values
from continuum.web.pages import add_template_dir, parse_form, redirect, render

pages = APIRouter(include_in_schema=False, dependencies=[Depends(get_actor)])
api = APIRouter(prefix="/api/v1", dependencies=[Depends(get_actor)], tags=["quality"])
routers = [pages, api]

add_template_dir(Path(__file__).parent / "templates")


class AuditOut(Out):
    id: int
    title: str
    criterion: str
    criterion_label: str
    standard_pct: float
    period_start: UtcTime
    period_end: UtcTime
    note: str | None
    created_at: UtcTime


class FailureOut(Out):
    run_id: int | None
    patient_label: str
    record: str
    at: UtcTime | None
    detail: str


class ResultOut(Out):
    audit: AuditOut
    units: str
    total: int
    passed: int
    measure: str
    compliance_pct: float | None
    ci_low: float | None
    ci_high: float | None
    meets_standard: bool | None
    failures: list[FailureOut]


class AuditDetailOut(Out):
    result: ResultOut
    previous: ResultOut | None


def _audit_out(row: ClinicalAudit) -> AuditOut:
    return AuditOut(
        id=row.id,
        title=row.title,
        criterion=row.criterion,
        criterion_label=audits.CRITERION_LABELS[row.criterion],
        standard_pct=row.standard_pct,
        period_start=row.period_start,
        period_end=row.period_end,
        note=row.note,
        created_at=row.created_at,
    )


def _result_out(r: audits.AuditResult, named: bool) -> ResultOut:
    return ResultOut(
        audit=_audit_out(r.audit),
        units=r.units,
        total=r.total,
        passed=r.passed,
        measure=r.measure,
        compliance_pct=r.compliance,
        ci_low=r.low,
        ci_high=r.high,
        meets_standard=r.met,
        failures=[
            FailureOut(
                run_id=f.run_id if named else None,
                patient_label=f"P-{f.patient_id:04d}",
                record=f.record,
                at=f.at if named else None,
                detail=f.detail,
            )
            for f in r.failures
        ],
    )


def _named(actor: Actor) -> bool:
    return actor.can(P.VIEW_CLINICAL) and actor.can(P.VIEW_IDENTIFIERS)


@api.get("/quality/audits", response_model=list[AuditOut], dependencies=[require(P.VIEW_QUALITY)])
def list_audits_api(db: DbSession, actor: CurrentActor) -> list[AuditOut]:
    """Every audit defined, by criterion and period."""
    return [_audit_out(a) for a in audits.list_audits(db, actor)]


@api.post(
    "/quality/audits",
    status_code=201,
    response_model=AuditOut,
    dependencies=[require(P.REVIEW_CASES)],
)
def create_audit_api(
    request: Request, data: audits.AuditIn, db: DbSession, actor: CurrentActor
) -> AuditOut:
    """Define an audit: a criterion from the closed list, a standard (0–100 %), a period
    (local days, end included) and a title."""
    return _audit_out(audits.create(db, actor, data, request.app.state.settings.zone))


@api.get(
    "/quality/audits/{audit_id}",
    response_model=AuditDetailOut,
    dependencies=[require(P.VIEW_QUALITY)],
)
def audit_api(
    request: Request, audit_id: int, db: DbSession, actor: CurrentActor
) -> AuditDetailOut:
    """The audit's compliance computed from the record now, the records that failed, and
    the previous audit of the same criterion (the one this re-audits), if any."""
    zone = request.app.state.settings.zone
    row = audits.get(db, actor, audit_id)
    before = audits.previous(db, row)
    named = _named(actor)
    return AuditDetailOut(
        result=_result_out(audits.compliance(db, actor, row, zone), named),
        previous=None
        if before is None
        else _result_out(audits.compliance(db, actor, before, zone), named),
    )


def _list_page(
    request: Request,
    db: DbSession,
    actor: Actor,
    error: Exception | None = None,
    values: dict[str, Any] | None = None,
) -> Response:
    return render(
        request,
        "audit_list.html",
        actor,
        status_code=422 if error else 200,
        rows=audits.list_audits(db, actor),
        criteria=[(c, audits.CRITERION_LABELS[c]) for c in CRITERIA],
        labels=audits.CRITERION_LABELS,
        can_define=actor.can(P.REVIEW_CASES),
        error=error,
        values=values or {},
        today=date.today().isoformat(),
    )


@pages.get("/quality/audits", dependencies=[require(P.VIEW_QUALITY)])
def audits_page(request: Request, db: DbSession, actor: CurrentActor) -> Response:
    return _list_page(request, db, actor)


@pages.post("/quality/audits", dependencies=[require(P.REVIEW_CASES)])
def define_audit(request: Request, db: DbSession, actor: CurrentActor) -> Response:
    values = posted_values(request)
    zone = request.app.state.settings.zone

    def create() -> ClinicalAudit:
        data: dict[str, Any] = {
            k: values.get(k) or None
            for k in ("title", "criterion", "standard_pct", "period_start", "period_end", "note")
        }
        missing = [
            FieldProblem(k, "required", None)
            for k in ("title", "criterion", "standard_pct", "period_start", "period_end")
            if data[k] is None
        ]
        if missing:
            raise ValidationFailed(missing)
        return audits.create(db, actor, parse_form(audits.AuditIn, data), zone)

    row, problem = attempt(db, create)
    if problem or row is None:
        return _list_page(request, db, actor, problem, values)
    return redirect(f"/quality/audits/{row.id}")


@pages.get("/quality/audits/{audit_id}", dependencies=[require(P.VIEW_QUALITY)])
def audit_page(request: Request, audit_id: int, db: DbSession, actor: CurrentActor) -> Response:
    zone = request.app.state.settings.zone
    row = audits.get(db, actor, audit_id)
    before = audits.previous(db, row)
    return render(
        request,
        "audit_detail.html",
        actor,
        result=audits.compliance(db, actor, row, zone),
        previous=None if before is None else audits.compliance(db, actor, before, zone),
        labels=audits.CRITERION_LABELS,
        named=_named(actor),
    )
