"""Study register pages (/research/studies, /research/studies/{id}) and their JSON API under
/api/v1/research/studies, with the discipline × CRediT role table per study and for the
programme (/api/v1/research/credit).

Reading needs EXPORT_DEIDENTIFIED (whoever may build cohorts); registering studies, data
requests and publications MANAGE_STUDIES (researcher, quality lead, physician lead).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from pydantic import ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from continuum.core import free_text
from continuum.core.people import Staff
from continuum.core.roles import Actor
from continuum.core.roles import Permission as P
from continuum.core.schemas import Out, UtcTime
from continuum.core.vocab import DISCIPLINE_LABELS, DISCIPLINES
from continuum.errors import NotFound, ValidationFailed
from continuum.research import study
from continuum.research.cohort_record import ExportJob, SavedCohort
from continuum.research.study import PublicationIn, RequestIn, StudyIn
from continuum.research.study_record import (
    CREDIT_LABELS,
    CREDIT_ROLES,
    STUDY_STATUSES,
    Publication,
    Study,
)
from continuum.web.deps import CurrentActor, DbSession, form_of, get_actor, require
from continuum.web.form_post import attempt
from continuum.web.pages import NavLink, add_nav_link, add_template_dir, redirect, render

pages = APIRouter(include_in_schema=False, dependencies=[Depends(get_actor)])
api = APIRouter(prefix="/api/v1/research", dependencies=[Depends(get_actor)], tags=["research"])
routers = [pages, api]

add_template_dir(Path(__file__).parent / "templates")
add_nav_link(NavLink("Studies", "/research/studies", P.EXPORT_DEIDENTIFIED, 71))

AUTHOR_ROWS = 6  # author lines on the publication form


class CreditOut(Out):
    publications: int = Field(description="publications counted")
    with_perfusion_author: int = Field(description="publications with a perfusion author")
    roles: list[str] = Field(description="the 14 CRediT roles, in order")
    counts: dict[str, dict[str, int]] = Field(
        description="discipline → CRediT role → number of author-role entries"
    )


class AuthorOut(Out):
    position: int
    name: str = Field(description="staff member's name, or the external author's")
    staff_id: int | None
    discipline: str
    credit_roles: list[str]


class AuthorListOut(Out):
    version: int = Field(description="1: the list as added; 2, 3 …: corrections")
    by: str = Field(description="who recorded this version")
    at: UtcTime
    reason: str | None = Field(
        description="why the list was corrected (none for version 1); free text: null for "
        "roles without identifiers"
    )
    authors: list[AuthorOut]


class PublicationOut(Out):
    id: int
    title: str
    venue: str | None
    year: int | None
    doi: str | None
    authors: list[AuthorOut] = Field(description="the current author list (its latest version)")
    authors_version: int = Field(
        1, description="the current author-list version: name it when you correct the list"
    )
    author_history: list[AuthorListOut] = Field(
        default_factory=list, description="every version of the author list, oldest first"
    )


class RequestOut(Out):
    id: int
    cohort: str = Field(description="the saved cohort's title")
    export_id: int | None = Field(description="the export issued for it (research_export)")
    export_status: str | None
    purpose: str | None = Field(description="free text: null for roles without identifiers")
    requested_at: UtcTime


class StudyOut(Out):
    id: int
    title: str
    protocol_summary: str | None = Field(
        description="free text: null for roles without identifiers"
    )
    status: str = Field(description="planned, approved, active or closed")
    ethics_body: str | None
    ethics_reference: str | None
    ethics_date: date | None
    version: int = Field(description="name it when you edit (a stale edit is refused, 409)")
    created_at: UtcTime
    data_requests: list[RequestOut]
    publications: list[PublicationOut]
    credit: CreditOut


class StudySummaryOut(Out):
    id: int
    title: str
    status: str
    ethics_reference: str | None
    publications: int
    version: int


class StudyEditIn(StudyIn):
    model_config = ConfigDict(extra="forbid")
    version: int = Field(ge=1, description="the version you read")


def _credit_out(table: study.CreditTable) -> CreditOut:
    return CreditOut(
        publications=table.publications,
        with_perfusion_author=table.with_perfusion,
        roles=list(CREDIT_ROLES),
        counts={d: {r: table.count(d, r) for r in CREDIT_ROLES} for d in table.disciplines},
    )


def _publications(
    db: Session, pubs: list[Publication], actor: Actor | None = None
) -> list[PublicationOut]:
    reader = actor or Actor(staff_id=None, name="study register", role="researcher")
    histories = {p.id: study.author_history(db, reader, p.id) for p in pubs}
    staff_ids = {a.staff_id for h in histories.values() for v in h for a in v.authors}
    staff_ids |= {v.by for h in histories.values() for v in h}
    names = study.staff_names(db, {i for i in staff_ids if i})

    def author(a: Any) -> AuthorOut:
        return AuthorOut(
            position=a.position,
            staff_id=a.staff_id,
            discipline=a.discipline,
            name=names.get(a.staff_id, "") if a.staff_id else str(a.external_name),
            credit_roles=list(a.credit_roles),
        )

    out = []
    for p in pubs:
        history = histories[p.id]
        current = history[-1] if history else None
        out.append(
            PublicationOut(
                id=p.id,
                title=p.title,
                venue=p.venue,
                year=p.year,
                doi=p.doi,
                authors=[author(a) for a in current.authors] if current else [],
                authors_version=current.version if current else 1,
                author_history=[
                    AuthorListOut(
                        version=v.version,
                        by=names.get(v.by, "") if v.by else "",
                        at=v.at,  # type: ignore[arg-type]
                        reason=free_text.for_api(actor, v.reason),
                        authors=[author(a) for a in v.authors],
                    )
                    for v in history
                ],
            )
        )
    return out


def _study_out(db: Session, actor: Actor, row: Study) -> StudyOut:
    requests = study.requests_of(db, row.id)
    cohorts = dict(db.execute(select(SavedCohort.id, SavedCohort.name)).all())  # type: ignore[arg-type]
    return StudyOut(
        id=row.id, title=row.title, status=row.status,
        protocol_summary=row.protocol_summary,  # names no patient (study.check_protocol)
        ethics_body=row.ethics_body, ethics_reference=row.ethics_reference,
        ethics_date=row.ethics_date, version=row.version, created_at=row.created_at,
        data_requests=[
            RequestOut(
                id=r.id, cohort=cohorts.get(r.cohort_id, "?"), export_id=r.export_id,
                export_status=(db.get(ExportJob, r.export_id).status  # type: ignore[union-attr]
                               if r.export_id else None),
                purpose=free_text.for_api(actor, r.purpose), requested_at=r.requested_at,
            )
            for r in requests
        ],
        publications=_publications(db, study.publications_of(db, row.id), actor),
        credit=_credit_out(study.credit_table(db, actor, row.id)),
    )  # fmt: skip


def _summary(db: Session, row: Study) -> StudySummaryOut:
    return StudySummaryOut(
        id=row.id, title=row.title, status=row.status, ethics_reference=row.ethics_reference,
        publications=len(study.publications_of(db, row.id)), version=row.version,
    )  # fmt: skip


# ---- API --------------------------------------------------------------------------------


@api.get(
    "/studies", response_model=list[StudySummaryOut],
    dependencies=[require(P.EXPORT_DEIDENTIFIED)],
)  # fmt: skip
def studies_api(db: DbSession, actor: CurrentActor) -> list[StudySummaryOut]:
    """The study register, newest first."""
    return [_summary(db, r) for r in study.list_studies(db, actor)]


@api.post(
    "/studies", status_code=201, response_model=StudyOut,
    dependencies=[require(P.MANAGE_STUDIES)],
)  # fmt: skip
def create_api(data: StudyIn, db: DbSession, actor: CurrentActor) -> StudyOut:
    """Register a study (409 if the title is taken; 422 if approved/active/closed without
    the ethics body, reference and date)."""
    return _study_out(db, actor, study.create(db, actor, data))


@api.get(
    "/studies/{study_id}", response_model=StudyOut, dependencies=[require(P.EXPORT_DEIDENTIFIED)]
)
def study_api(study_id: int, db: DbSession, actor: CurrentActor) -> StudyOut:
    """A study with its data requests, publications and CRediT table."""
    return _study_out(db, actor, study.get(db, actor, study_id))


@api.put("/studies/{study_id}", response_model=StudyOut, dependencies=[require(P.MANAGE_STUDIES)])
def edit_api(study_id: int, data: StudyEditIn, db: DbSession, actor: CurrentActor) -> StudyOut:
    """Edit a study, naming the version read (409 when saved since by someone else)."""
    fields = StudyIn.model_validate(data.model_dump(exclude={"version"}))
    return _study_out(db, actor, study.edit(db, actor, study_id, fields, data.version))


@api.post(
    "/studies/{study_id}/requests", status_code=201, response_model=RequestOut,
    dependencies=[require(P.MANAGE_STUDIES)],
)  # fmt: skip
def request_api(study_id: int, data: RequestIn, db: DbSession, actor: CurrentActor) -> RequestOut:
    """Link a saved cohort (and an export issued for it) to a study."""
    row = study.add_request(db, actor, study_id, data)
    out = _study_out(db, actor, study.get(db, actor, study_id))
    return next(r for r in out.data_requests if r.id == row.id)


@api.post(
    "/studies/{study_id}/publications", status_code=201, response_model=PublicationOut,
    dependencies=[require(P.MANAGE_STUDIES)],
)  # fmt: skip
def publication_api(
    study_id: int, data: PublicationIn, db: DbSession, actor: CurrentActor
) -> PublicationOut:
    """Add a publication with its byline: each author a staff_id or an external_name with a
    discipline, and at least one CRediT role."""
    pub = study.add_publication(db, actor, study_id, data)
    return _publications(db, [pub], actor)[0]


@api.post(
    "/publications/{publication_id}/authors", status_code=201, response_model=PublicationOut,
    dependencies=[require(P.MANAGE_STUDIES)],
)  # fmt: skip
def authors_api(
    publication_id: int, data: study.AuthorsCorrectionIn, db: DbSession, actor: CurrentActor
) -> PublicationOut:
    """Correct a publication's author list (an amendment): the whole byline again, the
    version you read (a stale correction is refused, 409) and why. The earlier list stays in
    the publication's ``author_history``; the CRediT counts read the current list."""
    study.correct_authors(db, actor, publication_id, data)
    pub = db.get_one(Publication, publication_id)
    return _publications(db, [pub], actor)[0]


@api.get("/credit", response_model=CreditOut, dependencies=[require(P.EXPORT_DEIDENTIFIED)])
def credit_api(db: DbSession, actor: CurrentActor) -> CreditOut:
    """Programme-wide: which discipline holds which CRediT role, over every publication."""
    return _credit_out(study.credit_table(db, actor))


# ---- pages -------------------------------------------------------------------------------


def _study_fields(values: Any) -> dict[str, Any]:
    return {
        k: (str(values.get(k) or "").strip() or None)
        for k in (
            "title",
            "protocol_summary",
            "status",
            "ethics_body",
            "ethics_reference",
            "ethics_date",
        )
    } | {"protocol_summary": values.get("protocol_summary")}  # absent: keep the saved one


def _ctx(db: Session, actor: Actor) -> dict[str, Any]:
    return {
        "statuses": STUDY_STATUSES,
        "roles": CREDIT_ROLES,
        "role_labels": CREDIT_LABELS,
        "disciplines": DISCIPLINES,
        "discipline_labels": DISCIPLINE_LABELS,
        "may_manage": actor.can(P.MANAGE_STUDIES),
        "reads_free_text": free_text.readable(actor),
    }


def _list_page(
    request: Request, db: Session, actor: Actor, error: Exception | None = None,
    given: dict[str, Any] | None = None, status_code: int = 200,
) -> Response:  # fmt: skip
    rows = study.list_studies(db, actor)
    return render(
        request, "research_studies.html", actor, status_code=status_code,
        studies=[_summary(db, r) for r in rows], credit=_credit_out(study.credit_table(db, actor)),
        error=error, given=given or {}, **_ctx(db, actor),
    )  # fmt: skip


@pages.get("/research/studies", dependencies=[require(P.EXPORT_DEIDENTIFIED)])
def studies_page(request: Request, db: DbSession, actor: CurrentActor) -> Response:
    return _list_page(request, db, actor)


@pages.post("/research/studies", dependencies=[require(P.MANAGE_STUDIES)])
def create_page(request: Request, db: DbSession, actor: CurrentActor) -> Response:
    given = _study_fields(form_of(request))
    row, problem = attempt(
        db,
        lambda: study.create(db, actor, study.parse(StudyIn, given)),  # type: ignore[arg-type]
    )
    if problem or row is None:
        return _list_page(request, db, actor, problem, given, 422)
    return redirect(f"/research/studies/{row.id}")


def _study_page(
    request: Request, db: Session, actor: Actor, study_id: int,
    error: Exception | None = None, given: dict[str, Any] | None = None, status_code: int = 200,
) -> Response:  # fmt: skip
    row = study.get(db, actor, study_id)
    staff = db.scalars(select(Staff).where(Staff.active.is_(True)).order_by(Staff.name)).all()
    cohorts = db.scalars(select(SavedCohort).order_by(SavedCohort.name)).all()
    exports = db.scalars(
        select(ExportJob).where(ExportJob.cohort_id.is_not(None)).order_by(ExportJob.id.desc())
    ).all()
    return render(
        request, "research_study.html", actor, status_code=status_code,
        study=_study_out(db, actor, row), error=error, given=given or {},
        staff=[(s.id, s.name, s.discipline) for s in staff if s.role != "integration"],
        cohorts=[c.name for c in cohorts],
        exports=[(e.id, e.cohort_name, e.format, e.status) for e in exports
                 if not e.identified or actor.can(P.EXPORT_IDENTIFIED)],
        author_rows=AUTHOR_ROWS, **_ctx(db, actor),
    )  # fmt: skip


@pages.get("/research/studies/{study_id}", dependencies=[require(P.EXPORT_DEIDENTIFIED)])
def study_page(request: Request, study_id: int, db: DbSession, actor: CurrentActor) -> Response:
    return _study_page(request, db, actor, study_id)


@pages.post("/research/studies/{study_id}", dependencies=[require(P.MANAGE_STUDIES)])
def edit_page(request: Request, study_id: int, db: DbSession, actor: CurrentActor) -> Response:
    values = form_of(request)
    given = _study_fields(values)

    def save() -> Study:
        try:
            version = int(str(values.get("version") or ""))
        except ValueError:
            raise ValidationFailed(
                "the form's version is missing: reload the page", "version"
            ) from None
        return study.edit(db, actor, study_id, study.parse(StudyIn, given), version)  # type: ignore[arg-type]

    row, problem = attempt(db, save)
    if problem or row is None:
        code = 409 if getattr(problem, "status_code", 0) == 409 else 422
        return _study_page(request, db, actor, study_id, problem, given, code)
    return redirect(f"/research/studies/{study_id}")


@pages.post("/research/studies/{study_id}/requests", dependencies=[require(P.MANAGE_STUDIES)])
def request_page(request: Request, study_id: int, db: DbSession, actor: CurrentActor) -> Response:
    values = form_of(request)
    export_id = str(values.get("export_id") or "").strip()
    data = {
        "cohort": str(values.get("cohort") or ""),
        "purpose": str(values.get("purpose") or "").strip(),
        "export_id": int(export_id) if export_id.isdigit() else None,
    }

    def add() -> Any:
        if export_id and not export_id.isdigit():
            raise ValidationFailed(f"'{export_id}' is not an export number", "export_id")
        return study.add_request(db, actor, study_id, study.parse(RequestIn, data))  # type: ignore[arg-type]

    row, problem = attempt(db, add)
    if problem or row is None:
        return _study_page(request, db, actor, study_id, problem, None, 422)
    return redirect(f"/research/studies/{study_id}#requests")


def _authors_from(values: Any) -> list[dict[str, Any]]:
    authors = []
    for i in range(1, 201):  # the add form has AUTHOR_ROWS lines; a correction one per author
        who = str(values.get(f"a{i}_staff") or "").strip()
        name = str(values.get(f"a{i}_name") or "").strip()
        roles = values.getlist(f"a{i}_roles")
        if not (who or name or roles):
            continue
        a: dict[str, Any] = {"credit_roles": roles}
        if who:
            a["staff_id"] = int(who) if who.isdigit() else who
        if name:
            a["external_name"] = name
            a["discipline"] = str(values.get(f"a{i}_discipline") or "") or None
        authors.append(a)
    return authors


@pages.post("/research/studies/{study_id}/publications", dependencies=[require(P.MANAGE_STUDIES)])
def publication_page(
    request: Request, study_id: int, db: DbSession, actor: CurrentActor
) -> Response:
    values = form_of(request)
    year = str(values.get("year") or "").strip()
    data = {
        "title": str(values.get("title") or "").strip(),
        "venue": str(values.get("venue") or "").strip() or None,
        "year": year or None,
        "doi": str(values.get("doi") or "").strip() or None,
        "authors": _authors_from(values),
    }
    row, problem = attempt(
        db,
        lambda: study.add_publication(db, actor, study_id, study.parse(PublicationIn, data)),  # type: ignore[arg-type]
    )
    if problem or row is None:
        return _study_page(request, db, actor, study_id, problem, None, 422)
    return redirect(f"/research/studies/{study_id}#publications")


@pages.post(
    "/research/publications/{publication_id}/authors", dependencies=[require(P.MANAGE_STUDIES)]
)
def authors_page(
    request: Request, publication_id: int, db: DbSession, actor: CurrentActor
) -> Response:
    values = form_of(request)
    pub = db.get(Publication, publication_id)
    if pub is None:
        raise NotFound(f"no publication {publication_id}")
    version = str(values.get("version") or "").strip()
    data = {
        "authors": _authors_from(values),
        "reason": str(values.get("reason") or ""),
        "version": int(version) if version.isdigit() else 0,
    }
    _, problem = attempt(
        db,
        lambda: study.correct_authors(
            db,
            actor,
            publication_id,
            study.parse(study.AuthorsCorrectionIn, data),  # type: ignore[arg-type]
        ),
    )
    if problem:
        code = 409 if getattr(problem, "status_code", 0) == 409 else 422
        return _study_page(request, db, actor, pub.study_id, problem, None, code)
    return redirect(f"/research/studies/{pub.study_id}#pub-{publication_id}")
