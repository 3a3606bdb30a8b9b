"""Demo: two studies in the register, so the study pages and the discipline × CRediT role
table have something to show. The first (VV membrane-lung exchange) has a perfusionist as
first author, doing data curation and formal analysis; the second (ECPR neurological
outcome) has no perfusion author. The first paper's author list was corrected once (an
amendment: the second perfusionist's visualization role added), so its history shows two
versions. Each draws on a saved cohort; the first also has an
outcome analysis saved (Kaplan–Meier of time on ECMO) when its cohort has runs."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from continuum.core.roles import Actor
from continuum.research import cohort, study
from continuum.research.cohort_record import SavedCohort
from continuum.research.study import AuthorIn, PublicationIn, RequestIn, StudyIn


def _cohort(db: Session, actor: Actor, name: str, data: dict[str, object]) -> str:
    if db.scalar(select(SavedCohort.id).where(SavedCohort.name == name)) is None:
        cohort.save(db, actor, name, cohort.parse(data), ZoneInfo("UTC"))
    return name


def add_demo_data(db: Session, staff: dict[str, Actor], now: datetime) -> None:
    researcher = staff["researcher"]
    perf, perf2 = staff.get("Sam Okafor", staff["perfusionist"]), staff.get("Lena Park")
    icu, surgeon = staff["physician"], staff.get("Dr James Whitfield", staff["physician"])
    lead = staff["physician_lead"]
    year = now.year
    vv = _cohort(db, researcher, "VV runs, every outcome", {"modes": ["VV"]})
    all_ended = _cohort(
        db, researcher, "Ended runs (every support type)",
        {"outcomes": ["weaned_recovered", "died_on_ecmo", "bridged_to_vad",
                      "bridged_to_transplant", "transferred", "withdrawn"]},
    )  # fmt: skip

    one = study.create(db, researcher, StudyIn(
        title="Membrane lung exchange in VV-ECMO: triggers and circuit life",
        protocol_summary=(
            "Retrospective single-centre cohort of VV runs. Primary: time to first membrane "
            "lung exchange; secondary: transmembrane pressure gradient and plasma-free "
            "haemoglobin before exchange. Data curated from the 1-minute circuit record."
        ),
        status="active", ethics_body="Regional research ethics committee",
        ethics_reference=f"REC {year - 1}/0142", ethics_date=date(year - 1, 9, 12),
    ))  # fmt: skip
    study.add_request(db, researcher, one.id, RequestIn(
        cohort=vv, purpose="circuit events and membrane lung changes, de-identified",
    ))  # fmt: skip
    authors = [
        AuthorIn(staff_id=perf.staff_id, credit_roles=[
            "conceptualization", "data_curation", "formal_analysis", "writing_original_draft"]),
    ]  # fmt: skip
    if perf2 is not None:
        authors.append(AuthorIn(staff_id=perf2.staff_id, credit_roles=["data_curation",
                                                                       "validation"]))  # fmt: skip
    authors += [
        AuthorIn(staff_id=researcher.staff_id, credit_roles=["methodology", "formal_analysis"]),
        AuthorIn(staff_id=icu.staff_id, credit_roles=["writing_review_editing", "supervision"]),
    ]
    paper = study.add_publication(db, researcher, one.id, PublicationIn(
        title="Membrane lung exchange during VV-ECMO: a perfusion-led circuit-data study",
        venue="Perfusion", year=year, authors=authors,
    ))  # fmt: skip
    if perf2 is not None:  # an author-list correction: the second perfusionist's figures
        fixed = [a.model_copy() for a in authors]
        roles = ["data_curation", "validation", "visualization"]
        fixed[1] = AuthorIn(staff_id=perf2.staff_id, credit_roles=roles)
        study.correct_authors(db, researcher, paper.id, study.AuthorsCorrectionIn(
            authors=fixed, version=1,
            reason="the circuit-life figures were drawn by the second perfusionist: "
            "visualization was left out of the byline as first entered",
        ))  # fmt: skip

    two = study.create(db, lead, StudyIn(
        title="Neurological outcome after ECPR",
        protocol_summary=(
            "Observational study of ECPR runs: low-flow time, lactate at cannulation and "
            "neurological outcome at hospital discharge."
        ),
        status="approved", ethics_body="Regional research ethics committee",
        ethics_reference=f"REC {year}/0031", ethics_date=date(year, 2, 3),
    ))  # fmt: skip
    study.add_request(db, lead, two.id, RequestIn(
        cohort=all_ended, purpose="outcome at decannulation and discharge",
    ))  # fmt: skip
    study.add_publication(db, lead, two.id, PublicationIn(
        title="Low-flow time and neurological outcome after ECPR: a single-centre series",
        venue="Resuscitation (abstract)", year=year, authors=[
            AuthorIn(staff_id=lead.staff_id, credit_roles=[
                "conceptualization", "investigation", "writing_original_draft"]),
            AuthorIn(staff_id=surgeon.staff_id, credit_roles=["investigation", "resources"]),
            AuthorIn(external_name="Prof. K. Andersen", discipline="intensive_care",
                     credit_roles=["supervision", "writing_review_editing"]),
        ],
    ))  # fmt: skip
    _analyses(db, researcher, one.id, vv, two.id, all_ended)


def _analyses(db: Session, actor: Actor, one: int, vv: str, two: int, ended: str) -> None:
    """Saved analyses: time on ECMO of the VV cohort, survival and a logistic model (age) of
    the ended runs (the model only when the demo history has enough deaths and survivors).
    Support type is not a covariate here: every pulmonary run of the demo survived, which
    separates survivors from deaths (the analysis page refuses it, naming the type)."""
    from continuum.errors import ValidationFailed
    from continuum.research import analysis
    from continuum.research.analysis import AnalysisIn

    utc = ZoneInfo("UTC")
    for data in (
        AnalysisIn(cohort=vv, kind="km_time_on_ecmo", study_id=one),
        AnalysisIn(cohort=ended, kind="km_survival", study_id=two),
        AnalysisIn(cohort=ended, kind="logistic_survival", study_id=two,
                   covariates=["age_years"]),
    ):  # fmt: skip
        try:
            with db.begin_nested():
                analysis.run_analysis(db, actor, data, utc)
        except ValidationFailed:  # too few runs in the demo: leave it out
            continue
