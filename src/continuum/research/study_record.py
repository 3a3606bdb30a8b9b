"""Study register tables: studies (protocol, status, ethics approval), their data requests
(a saved cohort, and the exports issued for it), publications with their author lists and
each author's CRediT roles, and saved outcome analyses.

A study's protocol and approval are versioned edits (``core.concurrency.claim_version``):
a save made on an older version is refused, and every save is audited with what changed.
Requests, publications, authors and analyses are appended, never overwritten. A
publication's author list is corrected by an amendment: a new version of the whole list
(``research_publication_author.list_version``) with who, when and why
(``research_author_list``); the earlier versions stay, and counts read the current one.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from continuum.core.vocab import sql_in
from continuum.db import Base, UTCDateTime, utcnow

STUDY_STATUSES: tuple[str, ...] = ("planned", "approved", "active", "closed")
# The 14 roles of the CRediT taxonomy (ANSI/NISO Z39.104-2022), in its order.
CREDIT_ROLES: tuple[str, ...] = (
    "conceptualization", "data_curation", "formal_analysis", "funding_acquisition",
    "investigation", "methodology", "project_administration", "resources", "software",
    "supervision", "validation", "visualization", "writing_original_draft",
    "writing_review_editing",
)  # fmt: skip
CREDIT_LABELS: dict[str, str] = {
    "conceptualization": "Conceptualization",
    "data_curation": "Data curation",
    "formal_analysis": "Formal analysis",
    "funding_acquisition": "Funding acquisition",
    "investigation": "Investigation",
    "methodology": "Methodology",
    "project_administration": "Project administration",
    "resources": "Resources",
    "software": "Software",
    "supervision": "Supervision",
    "validation": "Validation",
    "visualization": "Visualization",
    "writing_original_draft": "Writing – original draft",
    "writing_review_editing": "Writing – review & editing",
}
ANALYSIS_KINDS: tuple[str, ...] = ("km_time_on_ecmo", "km_survival", "logistic_survival")


class Study(Base):
    __tablename__ = "research_study"
    __table_args__ = (CheckConstraint(sql_in("status", STUDY_STATUSES), name="status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(300), unique=True)
    protocol_summary: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="planned")
    ethics_body: Mapped[str | None] = mapped_column(String(200))
    ethics_reference: Mapped[str | None] = mapped_column(String(100))
    ethics_date: Mapped[date | None] = mapped_column(Date)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class DataRequest(Base):
    """A study's request for data: a saved cohort and, once issued, the export made of it."""

    __tablename__ = "research_data_request"
    __table_args__ = (Index("ix_research_data_request_study", "study_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("research_study.id"))
    cohort_id: Mapped[int] = mapped_column(ForeignKey("research_cohort.id"))
    export_id: Mapped[int | None] = mapped_column(ForeignKey("research_export.id"))
    purpose: Mapped[str] = mapped_column(Text)
    requested_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Publication(Base):
    __tablename__ = "research_publication"
    __table_args__ = (Index("ix_research_publication_study", "study_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("research_study.id"))
    title: Mapped[str] = mapped_column(String(500))
    venue: Mapped[str | None] = mapped_column(String(300))
    year: Mapped[int | None] = mapped_column(Integer)
    doi: Mapped[str | None] = mapped_column(String(200))
    added_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PublicationAuthor(Base):
    """One author of a publication, in byline order: a staff member (their discipline is
    copied at the time of entry) or an external name with a discipline; CRediT roles."""

    __tablename__ = "research_publication_author"
    __table_args__ = (
        CheckConstraint(
            "staff_id IS NOT NULL OR external_name IS NOT NULL", name="staff_or_external"
        ),
        Index("ix_research_publication_author_pub", "publication_id", "position"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    publication_id: Mapped[int] = mapped_column(ForeignKey("research_publication.id"))
    position: Mapped[int] = mapped_column(Integer)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    external_name: Mapped[str | None] = mapped_column(String(200))
    discipline: Mapped[str] = mapped_column(String(32))
    credit_roles: Mapped[list[str]] = mapped_column(JSON, default=list)
    # the author list's version this row belongs to (1: as the publication was added)
    list_version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")


class AuthorListVersion(Base):
    """A correction of a publication's author list: version 2, 3 … with who, when and why
    (version 1 is the list as added, with the publication's ``added_by``/``added_at``)."""

    __tablename__ = "research_author_list"
    __table_args__ = (
        UniqueConstraint("publication_id", "version"),
        CheckConstraint("version >= 2", name="version"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    publication_id: Mapped[int] = mapped_column(ForeignKey("research_publication.id"))
    version: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text)
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class OutcomeAnalysis(Base):
    """One saved outcome analysis of a cohort: the cohort's definition as it was, the runs
    it held, the result (tables and curves) and the software versions that computed it."""

    __tablename__ = "research_analysis"
    __table_args__ = (CheckConstraint(sql_in("kind", ANALYSIS_KINDS), name="kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    study_id: Mapped[int | None] = mapped_column(ForeignKey("research_study.id"))
    cohort_id: Mapped[int] = mapped_column(ForeignKey("research_cohort.id"))
    cohort_name: Mapped[str] = mapped_column(String(120))
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    kind: Mapped[str] = mapped_column(String(32))
    covariates: Mapped[list[str]] = mapped_column(JSON, default=list)
    result: Mapped[dict[str, Any]] = mapped_column(JSON)
    versions: Mapped[dict[str, str]] = mapped_column(JSON)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
