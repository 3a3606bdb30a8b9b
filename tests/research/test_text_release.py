"""A reviewer releases a cohort's free-text field into its de-identified exports: the
researcher's export then holds that column (and no other free text); the release lapses when
the cohort's values change (a corrected stop reason) until reviewed again; researchers may
neither read nor release; bad decisions are refused naming the field (SQLite and
PostgreSQL)."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

import pyarrow.parquet as pq
import pytest
from sqlalchemy import select

from continuum.core.record import AuditEntry
from continuum.core.run_record import Run
from continuum.db import unit_of_work
from continuum.errors import Forbidden, ValidationFailed
from continuum.research import cohort, export, text_release
from continuum.research.deidentify import Policy
from tests.quality import metrics_cohort as hand

UTC = ZoneInfo("UTC")
KEY = b"k" * 32
JAN = {"started_from": "2025-01-01", "started_to": "2025-01-31"}


@pytest.fixture
def built(sessions):  # type: ignore[no-untyped-def]
    with unit_of_work(sessions) as db:
        ids = hand.build(db)
        people = hand.staff(db)
        for name, text in (("A", "ARDS, influenza A"), ("B", "cardiogenic shock, myocarditis")):
            db.get_one(Run, ids[name]).diagnosis = text
        row = cohort.save(db, people["researcher"], "January", cohort.parse(JAN), UTC)
    return sessions, ids, row.id


def _export_columns(db, people, tmp_path: Path, cohort_id: int) -> list[str]:  # type: ignore[no-untyped-def]
    p = export.plan(db, people["researcher"], UTC, fmt="parquet", cohort_name="January")
    released = text_release.released_fields(db, cohort_id, p.run_ids, UTC)
    policy = Policy(key=KEY, released=released)
    export.write_export(db, people["researcher"], p, policy, tmp_path, UTC, None, None)
    return pq.read_table(tmp_path / "runs.parquet").column_names


def test_a_released_field_reaches_the_export_until_its_values_change(built, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    sessions, ids, cohort_id = built
    with unit_of_work(sessions) as db:
        people = hand.staff(db)
        assert "diagnosis" not in _export_columns(db, people, tmp_path / "1", cohort_id)
        qa = people["qa_lead"]
        reviews = {r.field: r for r in text_release.review(db, qa, cohort_id, UTC)}
        assert [t for t, _ in reviews["diagnosis"].values] == [
            "ARDS, influenza A", "cardiogenic shock, myocarditis"]  # fmt: skip
        text_release.decide(db, qa, cohort_id, ["diagnosis"], True,
                            "read both values: clinical terms only", UTC)  # fmt: skip
    with unit_of_work(sessions) as db:
        people = hand.staff(db)
        columns = _export_columns(db, people, tmp_path / "2", cohort_id)
        assert "diagnosis" in columns and "indication" not in columns and "mrn" not in columns
        table = pq.read_table(tmp_path / "2" / "runs.parquet").to_pydict()
        assert "ARDS, influenza A" in table["diagnosis"]
        actions = set(db.scalars(select(AuditEntry.action).where(
            AuditEntry.entity == "research_text_release")))  # fmt: skip
        assert {"read", "text.released"} <= actions
        db.get_one(Run, ids["A"]).diagnosis = "ARDS, influenza A — Dr Smith's patient"
    with unit_of_work(sessions) as db:
        people = hand.staff(db)
        assert "diagnosis" not in _export_columns(db, people, tmp_path / "3", cohort_id)
        review = {r.field: r for r in text_release.review(db, people["qa_lead"], cohort_id, UTC)}
        assert review["diagnosis"].changed_since and not review["diagnosis"].released


def test_researchers_may_not_review_and_bad_decisions_are_refused(built) -> None:  # type: ignore[no-untyped-def]
    sessions, _, cohort_id = built
    with unit_of_work(sessions) as db:
        people = hand.staff(db)
        with pytest.raises(Forbidden):
            text_release.review(db, people["researcher"], cohort_id, UTC)
        with pytest.raises(Forbidden):
            text_release.decide(db, people["researcher"], cohort_id, ["diagnosis"], True,
                                "looked at it closely", UTC)  # fmt: skip
        with pytest.raises(ValidationFailed) as bad:
            text_release.decide(db, people["qa_lead"], cohort_id, ["mrn", "diagnosis"], True,
                                "ok", UTC)  # fmt: skip
        assert {p.field for p in bad.value.problems} == {"fields", "reason"}
        assert "'mrn' is not a free-text field" in bad.value.problems[0].message


def test_the_review_page_lists_values_and_releases_with_a_reason(web) -> None:  # type: ignore[no-untyped-def]
    web.login("qa_lead")
    page = web.client.get("/research/cohorts/1/free-text")
    assert page.status_code == 200 and "Bed or unit" in page.text
    r = web.post_form("/research/cohorts/1/free-text", {"fields": "location", "reason": "x"},
                      "/research/cohorts/1/free-text")  # fmt: skip
    assert r.status_code == 422 and "at least 10 characters" in r.text
    r = web.post_form("/research/cohorts/1/free-text",
                      {"fields": "location", "reason": "read every value: unit names only"},
                      "/research/cohorts/1/free-text")  # fmt: skip
    assert r.status_code == 303
    api = web.client.get("/api/v1/research/cohorts/1/free-text").json()
    location = next(f for f in api if f["field"] == "location")
    assert location["released"] and location["decided_by"] == "Test qa_lead"
    web.login("researcher")
    assert web.client.get("/research/cohorts/1/free-text").status_code == 403
    assert web.client.get("/api/v1/research/cohorts/9999/free-text").status_code == 403
