"""Audits computed from the record: each criterion on the hand-worked cohort with the record
that failed, the re-audit beside its predecessor, and bad definitions refused."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from continuum.core.record import AuditEntry
from continuum.db import unit_of_work
from continuum.errors import Forbidden, ValidationFailed
from continuum.quality import audits
from continuum.quality.audit_record import ClinicalAudit
from tests.quality import metrics_cohort as cohort

UTC_ZONE = ZoneInfo("UTC")


def _define(db, criterion: str, standard: float = 90, month: int = 1):  # type: ignore[no-untyped-def]
    qa = cohort.staff(db)["qa_lead"]
    data = audits.AuditIn(
        title=f"{criterion} {month}",
        criterion=criterion,
        standard_pct=standard,
        period_start=date(2025, month, 1),
        period_end=date(2025, month, 28),
    )
    return audits.create(db, qa, data, UTC_ZONE)


@pytest.fixture
def built(sessions):  # type: ignore[no-untyped-def]
    with unit_of_work(sessions) as db:
        ids = cohort.build(db)
    return sessions, ids


def _result(sessions, criterion: str, standard: float = 90):  # type: ignore[no-untyped-def]
    with unit_of_work(sessions) as db:
        row = _define(db, criterion, standard)
        qa = cohort.staff(db)["qa_lead"]
        return audits.compliance(db, qa, row, UTC_ZONE)


def test_perfusion_at_rounds_lists_the_round_without_perfusion(built) -> None:  # type: ignore[no-untyped-def]
    sessions, ids = built
    r = _result(sessions, "perfusion_at_rounds")
    assert (r.total, r.passed, r.compliance, r.met) == (4, 3, pytest.approx(75.0), False)
    assert r.low is not None and r.high is not None  # Wilson interval
    assert [f.run_id for f in r.failures] == [ids["A"]]
    assert r.failures[0].detail == "no perfusion participant"


def test_membrane_lung_changes_planned_or_urgent(built) -> None:  # type: ignore[no-untyped-def]
    sessions, ids = built
    r = _result(sessions, "ml_changes_planned", 80)
    assert (r.total, r.passed) == (2, 1)
    assert [f.run_id for f in r.failures] == [ids["A"]]
    assert r.failures[0].detail == "urgent: oxygenator failure"


def test_decannulation_checklist_names_what_is_missing(built) -> None:  # type: ignore[no-untyped-def]
    sessions, ids = built
    r = _result(sessions, "decannulation_checklist", 100)
    assert (r.total, r.passed, r.met) == (2, 1, False)
    (failure,) = r.failures
    assert failure.run_id == ids["C"]
    assert "coagulation results" in failure.detail and "perfusionist sign-off" in failure.detail


def test_anticoagulation_in_range_against_the_standard(built) -> None:  # type: ignore[no-untyped-def]
    sessions, ids = built
    r = _result(sessions, "anticoagulation_in_range", 60)
    assert r.compliance == pytest.approx(50.0)  # pooled time in range of run A
    assert r.met is False
    assert [f.run_id for f in r.failures] == [ids["A"]]
    assert "50 %" in r.failures[0].detail
    met = _result(sessions, "anticoagulation_in_range", 50)
    assert met.met is True and met.failures == []


def test_circuit_check_every_shift(built) -> None:  # type: ignore[no-untyped-def]
    sessions, ids = built
    r = _result(sessions, "circuit_check_every_shift", 95)
    # Complete 12-h shifts (07:00/19:00): A 7, B 3, C 3; only A's first day shift has a check.
    assert (r.total, r.passed) == (13, 1)
    assert {f.run_id for f in r.failures} == set(ids.values())
    assert r.failures[0].detail.startswith("no circuit check between 10 Jan 19:00")


def test_a_re_audit_sits_beside_the_previous_audit_of_its_criterion(built) -> None:  # type: ignore[no-untyped-def]
    sessions, _ = built
    with unit_of_work(sessions) as db:
        first = _define(db, "perfusion_at_rounds", month=1)
        again = _define(db, "perfusion_at_rounds", month=2)
        other = _define(db, "ml_changes_planned", month=2)
        assert audits.previous(db, again).id == first.id
        assert audits.previous(db, first) is None
        assert audits.previous(db, other) is None
        qa = cohort.staff(db)["qa_lead"]
        later = audits.compliance(db, qa, again, UTC_ZONE)
        assert later.total == 0 and later.met is None  # nothing to audit in February


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"standard_pct": 120}, "standard_pct", "outside 0–100 %"),
        ({"standard_pct": -1}, "standard_pct", "outside 0–100 %"),
        ({"criterion": "hand_hygiene"}, "criterion", "one of anticoagulation_in_range"),
        ({"period_end": date(2024, 12, 1)}, "period_end", "before it starts"),
    ],
)
def test_bad_definitions_are_refused_and_change_nothing(
    built, change: dict[str, object], field: str, words: str
) -> None:  # type: ignore[no-untyped-def]
    sessions, _ = built
    data = {
        "title": "Bad audit",
        "criterion": "perfusion_at_rounds",
        "standard_pct": 90,
        "period_start": date(2025, 1, 1),
        "period_end": date(2025, 1, 31),
        **change,
    }
    with sessions() as db:
        before = db.scalar(select(func.count()).select_from(ClinicalAudit))
        logged = db.scalar(select(func.count()).select_from(AuditEntry))
        with pytest.raises(ValidationFailed) as err:
            audits.create(db, cohort.staff(db)["qa_lead"], audits.AuditIn(**data), UTC_ZONE)
        problem = {p.field: p for p in err.value.problems}[field]
        assert words in problem.message
        assert problem.value == change[field] or str(problem.value) == str(change[field])
        db.rollback()
        assert db.scalar(select(func.count()).select_from(ClinicalAudit)) == before
        assert db.scalar(select(func.count()).select_from(AuditEntry)) == logged


def test_defining_needs_review_cases_and_is_audited(built) -> None:  # type: ignore[no-untyped-def]
    sessions, _ = built
    with unit_of_work(sessions) as db:
        people = cohort.staff(db)
        data = audits.AuditIn(
            title="Rounds",
            criterion="perfusion_at_rounds",
            standard_pct=90,
            period_start=date(2025, 1, 1),
            period_end=date(2025, 1, 31),
        )
        with pytest.raises(Forbidden):
            audits.create(db, people["researcher"], data, UTC_ZONE)
        row = audits.create(db, people["coordinator"], data, UTC_ZONE)
        entry = db.scalars(select(AuditEntry).where(AuditEntry.entity == "quality_audit")).one()
        assert entry.entity_id == str(row.id)
        assert entry.detail["standard_pct"] == 90
