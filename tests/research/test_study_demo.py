"""The demo's study register: two studies, one with a perfusionist first author doing data
curation and formal analysis, one without a perfusion author; saved analyses with their
cohort definition and software versions."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from continuum.core.roles import Actor
from continuum.db import make_engine, make_sessionmaker
from continuum.research import study
from continuum.research.study_record import OutcomeAnalysis, Publication, Study

READER = Actor(None, "test", "researcher")


@pytest.fixture(scope="module")
def db(demo_url: str) -> Iterator[Session]:
    engine = make_engine(demo_url)
    with make_sessionmaker(engine)() as session:
        yield session
    engine.dispose()


def test_two_studies_one_led_by_perfusion(db: Session) -> None:
    studies = {s.title: s for s in db.scalars(select(Study))}
    assert len(studies) == 2
    membrane = studies["Membrane lung exchange in VV-ECMO: triggers and circuit life"]
    ecpr = studies["Neurological outcome after ECPR"]
    pub = db.scalars(select(Publication).where(Publication.study_id == membrane.id)).one()
    first = study.authors_of(db, [pub.id])[pub.id][0]
    assert first.discipline == "perfusion"
    assert {"data_curation", "formal_analysis"} <= set(first.credit_roles)
    table = study.credit_table(db, READER, ecpr.id)
    assert table.with_perfusion == 0 and sum(table.counts["perfusion"].values()) == 0
    programme = study.credit_table(db, READER)
    assert (programme.publications, programme.with_perfusion) == (2, 1)
    assert programme.count("perfusion", "data_curation") >= 1


def test_saved_analyses_carry_definition_and_versions(db: Session) -> None:
    rows = db.scalars(select(OutcomeAnalysis)).all()
    assert {r.kind for r in rows} == {"km_time_on_ecmo", "km_survival", "logistic_survival"}
    model = next(r for r in rows if r.kind == "logistic_survival")
    assert model.covariates == ["age_years"] and model.result["converged"]
    assert [t["term"] for t in model.result["table"]] == ["const", "age_years"]
    for r in rows:
        assert r.definition["_summary"] and r.versions["lifelines"] != "unknown"
        assert r.result["n"] > 0


def test_the_demo_paper_shows_an_author_list_correction(db: Session) -> None:
    pub = db.scalars(
        select(Publication).where(Publication.title.like("Membrane lung exchange during%"))
    ).one()
    history = study.author_history(db, READER, pub.id)
    assert [v.version for v in history] == [1, 2]
    assert history[1].reason and "visualization" in history[1].reason
    second = study.authors_of(db, [pub.id])[pub.id][1]
    assert second.discipline == "perfusion" and "visualization" in second.credit_roles
    assert "visualization" not in history[0].authors[1].credit_roles
    assert study.credit_table(db, READER).count("perfusion", "visualization") >= 1
