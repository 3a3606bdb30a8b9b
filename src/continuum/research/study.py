"""The study register: studies (protocol, status, ethics approval), data requests linked to
saved cohorts and the exports issued, publications with author lists and CRediT roles, and
the count of which discipline holds which CRediT role (per study and programme-wide).

Managing the register needs MANAGE_STUDIES (researcher, quality lead, physician lead);
reading it EXPORT_DEIDENTIFIED. A study's edit names the version it was made on (a stale
save is refused, nothing overwritten); every change is audited.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from continuum.core import audit
from continuum.core.concurrency import claim_version
from continuum.core.people import PatientIdentity, Staff
from continuum.core.roles import Actor, Permission
from continuum.core.vocab import DISCIPLINES
from continuum.errors import Conflict, FieldProblem, NotFound, ValidationFailed
from continuum.research.cohort_record import ExportJob, SavedCohort
from continuum.research.study_record import (
    CREDIT_ROLES,
    STUDY_STATUSES,
    AuthorListVersion,
    DataRequest,
    Publication,
    PublicationAuthor,
    Study,
)

StudyStatus = Literal[STUDY_STATUSES]  # type: ignore[valid-type]
CreditRole = Literal[CREDIT_ROLES]  # type: ignore[valid-type]
Discipline = Literal[DISCIPLINES]  # type: ignore[valid-type]


class StudyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str = Field(min_length=1, max_length=300)
    protocol_summary: str | None = Field(
        None, max_length=5000, description="free text; null on an edit keeps the saved one"
    )
    status: StudyStatus = "planned"
    ethics_body: str | None = Field(None, max_length=200, description="the approving body")
    ethics_reference: str | None = Field(None, max_length=100)
    ethics_date: date | None = Field(None, description="date of approval")

    @field_validator("title", "ethics_body", "ethics_reference")
    @classmethod
    def _strip(cls, value: str | None) -> str | None:
        return (value.strip() or None) if value is not None else None

    @model_validator(mode="after")
    def _approval(self) -> StudyIn:
        if not self.title:
            raise ValueError("title is blank")
        if self.status != "planned" and not (
            self.ethics_body and self.ethics_reference and self.ethics_date
        ):
            raise ValueError(
                f"status '{self.status}' needs the approval: ethics body, reference and date "
                "(only a planned study may have none)"
            )
        if self.ethics_date and self.ethics_date > date.today():
            raise ValueError(f"ethics_date {self.ethics_date} is in the future")
        return self


class AuthorIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    staff_id: int | None = Field(None, description="a staff member (discipline from the record)")
    external_name: str | None = Field(None, max_length=200, description="an author from outside")
    discipline: Discipline | None = Field(None, description="for an external author")
    credit_roles: list[CreditRole] = Field(min_length=1, description="CRediT roles (14)")

    @model_validator(mode="after")
    def _who(self) -> AuthorIn:
        if self.external_name is not None:
            self.external_name = self.external_name.strip() or None
        if (self.staff_id is None) == (self.external_name is None):
            raise ValueError("each author is either a staff_id or an external_name, not both")
        if self.external_name and self.discipline is None:
            raise ValueError(f"external author '{self.external_name}' needs a discipline")
        if len(set(self.credit_roles)) != len(self.credit_roles):
            raise ValueError("a CRediT role is listed twice for one author")
        return self


class PublicationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str = Field(min_length=1, max_length=500)
    venue: str | None = Field(None, max_length=300)
    year: int | None = Field(None, ge=1950, le=2100)
    doi: str | None = Field(None, max_length=200)
    authors: list[AuthorIn] = Field(min_length=1, max_length=200, description="byline order")


class RequestIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    cohort: str = Field(min_length=1, max_length=120, description="a saved cohort's title")
    purpose: str = Field(min_length=1, max_length=2000)
    export_id: int | None = Field(None, description="an export of that cohort already issued")


def parse(model: type[BaseModel], data: object) -> BaseModel:
    """Validate input into ``model`` or raise ValidationFailed naming field and value."""
    from pydantic import ValidationError

    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ValidationFailed(
            [
                FieldProblem(
                    ".".join(str(p) for p in e["loc"]) or "input",
                    e["msg"].removeprefix("Value error, "),
                    e.get("input") if not isinstance(e.get("input"), dict) else None,
                )
                for e in exc.errors()
            ]
        ) from None


def get(db: Session, actor: Actor, study_id: int) -> Study:
    actor.require(Permission.EXPORT_DEIDENTIFIED)
    row = db.get(Study, study_id)
    if row is None:
        raise NotFound(f"no study {study_id}")
    return row


def list_studies(db: Session, actor: Actor) -> list[Study]:
    actor.require(Permission.EXPORT_DEIDENTIFIED)
    return list(db.scalars(select(Study).order_by(Study.created_at.desc(), Study.id.desc())))


def _fields(data: StudyIn, row: Study | None = None) -> dict[str, object]:
    fields = data.model_dump()
    if fields["protocol_summary"] is None:  # not given: keep it
        fields["protocol_summary"] = row.protocol_summary if row is not None else ""
    return fields


def check_protocol(db: Session, text: str | None) -> None:
    """A protocol is study-level prose every member of the research team reads, researchers
    included: it may not name a patient. Refused (422) when it holds a patient's MRN or full
    name known to the record, naming what was found."""
    if not text:
        return
    folded = text.casefold()
    found: list[str] = []
    for mrn, name in db.execute(select(PatientIdentity.mrn, PatientIdentity.name)):
        if mrn and len(mrn) >= 4 and mrn.casefold() in folded:
            found.append(f"an MRN ({mrn[:2]}…)")
        if name and " " in name.strip() and name.casefold() in folded:
            found.append(f"a patient's name ({name.split()[0][0]}. …)")
    if found:
        raise ValidationFailed([FieldProblem(
            "protocol_summary",
            f"the protocol names a patient: it holds {', '.join(sorted(set(found)))}; a "
            "protocol is read by the whole research team, so describe patients as a cohort "
            "and remove the identifier",
            None,
        )])  # fmt: skip


def create(db: Session, actor: Actor, data: StudyIn) -> Study:
    actor.require(Permission.MANAGE_STUDIES)
    if db.scalar(select(Study.id).where(Study.title == data.title)) is not None:
        raise Conflict(f"a study titled '{data.title}' exists: choose another title")
    check_protocol(db, data.protocol_summary)
    row = Study(**_fields(data), created_by=actor.staff_id, version=1)
    db.add(row)
    try:
        db.flush()
    except IntegrityError:
        raise Conflict(f"a study titled '{data.title}' exists: choose another title") from None
    audit.record(db, actor, "study.create", "research_study", row.id,
                 detail={k: str(v) for k, v in _fields(data).items()})  # fmt: skip
    return row


def edit(db: Session, actor: Actor, study_id: int, data: StudyIn, version: int | None) -> Study:
    """A versioned edit: refused (409) when the study was saved since ``version``."""
    actor.require(Permission.MANAGE_STUDIES)
    row = get(db, actor, study_id)
    clash = db.scalar(select(Study.id).where(Study.title == data.title, Study.id != study_id))
    if clash is not None:
        raise Conflict(f"a study titled '{data.title}' exists: choose another title")
    check_protocol(db, data.protocol_summary)
    new = _fields(data, row)
    changed = {
        k: {"from": str(getattr(row, k)), "to": str(v)}
        for k, v in new.items()
        if getattr(row, k) != v
    }
    claim_version(db, row, version, actor.staff_id, f"study {study_id}")
    for k, v in new.items():
        setattr(row, k, v)
    audit.record(db, actor, "study.edit", "research_study", row.id,
                 detail={"version": row.version, "changed": changed})  # fmt: skip
    return row


def add_request(db: Session, actor: Actor, study_id: int, data: RequestIn) -> DataRequest:
    actor.require(Permission.MANAGE_STUDIES)
    study = get(db, actor, study_id)
    cohort = db.scalar(select(SavedCohort).where(SavedCohort.name == data.cohort))
    if cohort is None:
        names = ", ".join(db.scalars(select(SavedCohort.name).order_by(SavedCohort.name)))
        raise ValidationFailed(
            [
                FieldProblem(
                    "cohort", f"no saved cohort titled this (saved: {names or 'none'})", data.cohort
                )
            ]
        )
    if data.export_id is not None:
        job = db.get(ExportJob, data.export_id)
        if job is None or job.cohort_id != cohort.id:
            raise ValidationFailed(
                [
                    FieldProblem(
                        "export_id",
                        f"no export of cohort '{cohort.name}' has this id",
                        data.export_id,
                    )
                ]
            )
        if job.identified:
            actor.require(Permission.EXPORT_IDENTIFIED)
    row = DataRequest(
        study_id=study.id, cohort_id=cohort.id, export_id=data.export_id,
        purpose=data.purpose.strip(), requested_by=actor.staff_id,
    )  # fmt: skip
    db.add(row)
    db.flush()
    audit.record(db, actor, "study.data_request", "research_study", study.id,
                 detail={"request": row.id, "cohort": cohort.name, "export": data.export_id,
                         "purpose": row.purpose})  # fmt: skip
    return row


def _disciplines(db: Session, authors: list[AuthorIn]) -> list[str]:
    """Each author's discipline (a staff member's from the staff record); refused naming
    every staff id that is no staff member."""
    problems: list[FieldProblem] = []
    disciplines: list[str] = []
    for i, a in enumerate(authors):
        if a.staff_id is not None:
            staff = db.get(Staff, a.staff_id)
            if staff is None:
                problems.append(
                    FieldProblem(f"authors.{i}.staff_id", "no staff member", a.staff_id)
                )
                continue
            disciplines.append(staff.discipline)
        else:
            disciplines.append(str(a.discipline))
    if problems:
        raise ValidationFailed(problems)
    return disciplines


def add_publication(db: Session, actor: Actor, study_id: int, data: PublicationIn) -> Publication:
    actor.require(Permission.MANAGE_STUDIES)
    study = get(db, actor, study_id)
    disciplines = _disciplines(db, data.authors)
    pub = Publication(
        study_id=study.id, title=data.title.strip(), venue=data.venue, year=data.year,
        doi=data.doi, added_by=actor.staff_id,
    )  # fmt: skip
    db.add(pub)
    db.flush()
    for i, (a, d) in enumerate(zip(data.authors, disciplines, strict=True), start=1):
        db.add(PublicationAuthor(
            publication_id=pub.id, position=i, staff_id=a.staff_id,
            external_name=a.external_name, discipline=d, credit_roles=list(a.credit_roles),
        ))  # fmt: skip
    db.flush()
    audit.record(db, actor, "study.publication", "research_study", study.id,
                 detail={"publication": pub.id, "title": pub.title,
                         "authors": len(data.authors)})  # fmt: skip
    return pub


def requests_of(db: Session, study_id: int) -> list[DataRequest]:
    return list(
        db.scalars(
            select(DataRequest).where(DataRequest.study_id == study_id).order_by(DataRequest.id)
        )
    )


def publications_of(db: Session, study_id: int) -> list[Publication]:
    return list(
        db.scalars(
            select(Publication).where(Publication.study_id == study_id).order_by(Publication.id)
        )
    )


def list_versions(db: Session, publication_ids: list[int]) -> dict[int, int]:
    """Each publication's current author-list version (1 until a correction)."""
    out = dict.fromkeys(publication_ids, 1)
    if publication_ids:
        for pub_id, version in db.execute(
            select(PublicationAuthor.publication_id, func.max(PublicationAuthor.list_version))
            .where(PublicationAuthor.publication_id.in_(publication_ids))
            .group_by(PublicationAuthor.publication_id)
        ):
            out[pub_id] = int(version)
    return out


def authors_of(db: Session, publication_ids: list[int]) -> dict[int, list[PublicationAuthor]]:
    """The current author list of each publication (its latest version), in byline order."""
    out: dict[int, list[PublicationAuthor]] = {i: [] for i in publication_ids}
    current = list_versions(db, publication_ids)
    if publication_ids:
        for a in db.scalars(
            select(PublicationAuthor)
            .where(PublicationAuthor.publication_id.in_(publication_ids))
            .order_by(PublicationAuthor.publication_id, PublicationAuthor.position)
        ):
            if a.list_version == current[a.publication_id]:
                out[a.publication_id].append(a)
    return out


class AuthorsCorrectionIn(BaseModel):
    """A corrected author list: the whole byline again, the version it corrects (a stale
    correction is refused) and why."""

    model_config = ConfigDict(extra="forbid")
    authors: list[AuthorIn] = Field(min_length=1, max_length=200, description="byline order")
    reason: str = Field(max_length=2000, description="why the list is corrected")
    version: int = Field(ge=1, description="the author-list version this correction was made on")

    @field_validator("reason")
    @classmethod
    def _reason(cls, value: str) -> str:
        value = value.strip()
        if len(value) < 5:
            raise ValueError("say why the author list is corrected (5 characters or more)")
        return value


@dataclass
class AuthorListEntry:
    """One version of a publication's author list, with who made it, when and why."""

    version: int
    by: int | None
    at: object
    reason: str | None
    authors: list[PublicationAuthor]


def correct_authors(
    db: Session, actor: Actor, publication_id: int, data: AuthorsCorrectionIn
) -> AuthorListEntry:
    """Correct a publication's author list as an amendment: the new list is appended as the
    next version with who, when and why; the old rows stay (its history). Refused: a role
    that may not manage studies (403), an unknown publication (404), a correction made on an
    older version than the current one (409), an unknown staff member or an unchanged list
    (422); nothing is written then."""
    actor.require(Permission.MANAGE_STUDIES)
    pub = db.get(Publication, publication_id)
    if pub is None:
        raise NotFound(f"no publication {publication_id}")
    current = list_versions(db, [pub.id])[pub.id]
    if data.version != current:
        raise Conflict(
            f"the author list of publication {pub.id} is at version {current}, not "
            f"{data.version}: someone corrected it since you opened it; reload and correct "
            "the current list"
        )
    disciplines = _disciplines(db, data.authors)
    old = authors_of(db, [pub.id])[pub.id]
    new = [
        (a.staff_id, a.external_name, d, list(a.credit_roles))
        for a, d in zip(data.authors, disciplines, strict=True)
    ]
    if new == [(a.staff_id, a.external_name, a.discipline, list(a.credit_roles)) for a in old]:
        raise ValidationFailed([FieldProblem(
            "authors", "the corrected list is the same as the current one: nothing to correct",
            None,
        )])  # fmt: skip
    version = current + 1
    row = AuthorListVersion(publication_id=pub.id, version=version, reason=data.reason,
                            recorded_by=actor.staff_id)  # fmt: skip
    db.add(row)
    rows = [
        PublicationAuthor(
            publication_id=pub.id, position=i, staff_id=staff_id, external_name=name,
            discipline=d, credit_roles=roles, list_version=version,
        )
        for i, (staff_id, name, d, roles) in enumerate(new, start=1)
    ]  # fmt: skip
    db.add_all(rows)
    db.flush()

    def summary(items: list[tuple[int | None, str | None, str, list[str]]]) -> list[str]:
        return [f"{s or n} ({d}): {', '.join(r)}" for s, n, d, r in items]

    audit.record(db, actor, "study.authors_corrected", "research_study", pub.study_id,
                 detail={"publication": pub.id, "version": version, "reason": data.reason,
                         "from": summary([(a.staff_id, a.external_name, a.discipline,
                                           list(a.credit_roles)) for a in old]),
                         "to": summary(new)})  # fmt: skip
    return AuthorListEntry(version, actor.staff_id, row.recorded_at, data.reason, rows)


def author_history(db: Session, actor: Actor, publication_id: int) -> list[AuthorListEntry]:
    """Every version of the publication's author list, oldest first, with who/when/why."""
    actor.require(Permission.EXPORT_DEIDENTIFIED)
    pub = db.get(Publication, publication_id)
    if pub is None:
        raise NotFound(f"no publication {publication_id}")
    by_version: dict[int, list[PublicationAuthor]] = {}
    for a in db.scalars(
        select(PublicationAuthor)
        .where(PublicationAuthor.publication_id == pub.id)
        .order_by(PublicationAuthor.list_version, PublicationAuthor.position)
    ):
        by_version.setdefault(a.list_version, []).append(a)
    headers = {
        h.version: h
        for h in db.scalars(
            select(AuthorListVersion).where(AuthorListVersion.publication_id == pub.id)
        )
    }
    out = []
    for version, authors in sorted(by_version.items()):
        h = headers.get(version)
        out.append(
            AuthorListEntry(version, h.recorded_by, h.recorded_at, h.reason, authors)
            if h
            else AuthorListEntry(version, pub.added_by, pub.added_at, None, authors)
        )
    return out


@dataclass
class CreditTable:
    """Which discipline holds which CRediT role: author-role counts over publications."""

    counts: dict[str, Counter[str]] = field(default_factory=dict)
    publications: int = 0
    with_perfusion: int = 0

    def count(self, discipline: str, role: str) -> int:
        return self.counts.get(discipline, Counter())[role]

    @property
    def disciplines(self) -> list[str]:
        return [d for d in DISCIPLINES if d in self.counts]


def credit_table(db: Session, actor: Actor, study_id: int | None = None) -> CreditTable:
    """The discipline × CRediT role table for one study, or programme-wide (None)."""
    actor.require(Permission.EXPORT_DEIDENTIFIED)
    q = select(Publication.id)
    if study_id is not None:
        q = q.where(Publication.study_id == study_id)
    ids = list(db.scalars(q))
    table = CreditTable(publications=len(ids))
    table.counts["perfusion"] = Counter()  # always shown: the discipline this is about
    for authors in authors_of(db, ids).values():
        if any(a.discipline == "perfusion" for a in authors):
            table.with_perfusion += 1
        for a in authors:
            table.counts.setdefault(a.discipline, Counter()).update(a.credit_roles)
    return table


def staff_names(db: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return dict(db.execute(select(Staff.id, Staff.name).where(Staff.id.in_(ids))).all())  # type: ignore[arg-type]
