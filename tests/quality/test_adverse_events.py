"""The adverse-event register's service, on SQLite and PostgreSQL: record, amend, the
values in force with their history, every refusal changing nothing, the pre-fill per
source, the possible-events screen and its dismissals, the timeline back-fill.

The seeded template has run 1 (VV, started two days ago) with component 1 (membrane lung)
and cannula 1, alerts 1 (haemolysis, pfHb 60) and 2 on it, and adverse event 1."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from continuum.alerts.models import CircuitAlert
from continuum.core import clinical_backfill, run_service, settings_service
from continuum.core.clinical_event import ClinicalEvent
from continuum.core.concurrency import StaleRecord
from continuum.core.people import Staff
from continuum.core.record import AuditEntry as AuditLog
from continuum.core.roles import Actor
from continuum.core.run_record import Component, Run
from continuum.core.schemas import ComponentCreate, RunCreate, RunEnd
from continuum.db import unit_of_work, utcnow
from continuum.errors import Forbidden, ValidationFailed
from continuum.quality import adverse_event_prefill as pre
from continuum.quality import adverse_events as ae
from continuum.quality import possible_events
from continuum.quality.adverse_event_record import AdverseEvent, AdverseEventAmendment
from continuum.quality.adverse_event_schemas import AdverseEventIn, AmendmentIn, DismissIn
from continuum.quality.adverse_event_screen import AdverseEventScreen
from continuum.rounds.models import CircuitCheck
from continuum.rounds.transfusion import Transfusion
from continuum.weaning.models import WeaningTrial
from tests.seed import RUN_START


def who(db: Session, role: str) -> Actor:
    staff = db.scalars(select(Staff).where(Staff.name == f"Test {role}")).one()
    return Actor(staff_id=staff.id, name=staff.name, role=role, discipline=staff.discipline)


def event_in(**over: Any) -> AdverseEventIn:
    data: dict[str, Any] = {
        "code": "mech_pump_clot",
        "event_class": "incident",
        "harm": "mild",
        "occurred_at": RUN_START + timedelta(hours=5),
        "detected_by": "circuit_check",
        "component_id": 1,
        "description": "Clot on the pump head at the torch check",
    }
    return AdverseEventIn(**(data | over))


def counts(db: Session) -> tuple[int, ...]:
    return tuple(
        db.scalar(select(func.count()).select_from(m)) or 0
        for m in (AdverseEvent, AdverseEventAmendment, ClinicalEvent, AuditLog, AdverseEventScreen)
    )


def second_run(db: Session) -> Run:
    """Run 2 on patient 2 with its own pump (component 2)."""
    doc = Actor(staff_id=None, name="t", role="physician")
    run = run_service.start_run(
        db,
        doc,
        RunCreate(
            patient_id=2,
            support_type="cardiac",
            mode="VA",
            started_at=RUN_START + timedelta(hours=1),
        ),
    )
    db.flush()
    run_service.add_component(
        db, doc, run, ComponentCreate(kind="pump", started_at=RUN_START + timedelta(hours=1))
    )
    db.flush()
    return run


def test_record_derives_the_category_and_writes_timeline_and_audit(sessions: Any) -> None:
    with unit_of_work(sessions) as db:
        nurse = who(db, "nurse")
        event = ae.record(db, nurse, 1, event_in())
        assert event.category == "mechanical" and event.version == 1
        assert event.recorded_by == nurse.staff_id and event.patient_id == 1
        timeline = db.scalars(
            select(ClinicalEvent).where(
                ClinicalEvent.record_type == "adverse_event", ClinicalEvent.record_id == event.id
            )
        ).all()
        assert [t.kind for t in timeline] == ["adverse_event.recorded"]
        assert timeline[0].clinical_time == RUN_START + timedelta(hours=5)
        audit = db.scalars(
            select(AuditLog).where(
                AuditLog.entity == "adverse_event", AuditLog.entity_id == str(event.id)
            )
        ).all()
        assert len(audit) == 1


def test_amend_keeps_history_and_consensus_rules(sessions: Any) -> None:
    with unit_of_work(sessions) as db:
        nurse, qa = who(db, "nurse"), who(db, "qa_lead")
        event = ae.record(db, nurse, 1, event_in())
        ae.amend(
            db,
            nurse,
            event.id,
            AmendmentIn(
                harm="moderate", time_estimated=True, reason="pfHb rose afterwards", version=1
            ),
        )
        ae.amend(
            db,
            qa,
            event.id,
            AmendmentIn(
                harm="severe",
                preventability="probably",
                kind="consensus",
                review_id=7,
                reason="agreed at M&M",
                version=2,
            ),
        )
        amendments = ae.amendments_of(db, [event.id])[event.id]
        force = ae.in_force(event, amendments)
        assert force.values["harm"] == "severe"
        assert force.values["preventability"] == "probably"
        assert force.values["time_estimated"] is True
        assert force.values["code"] == "mech_pump_clot"  # the report itself never changed
        assert event.harm == "mild" and event.version == 3
        harm = [(c.old, c.new, c.kind, c.by) for c in force.history if c.field == "harm"]
        assert harm == [
            ("mild", "moderate", "correction", nurse.staff_id),
            ("moderate", "severe", "consensus", qa.staff_id),
        ]
        assert force.reviewed
        assert [c.review_id for c in force.history if c.kind == "consensus"] == [7, 7]
        kinds = db.scalars(
            select(ClinicalEvent.kind).where(
                ClinicalEvent.record_id == event.id, ClinicalEvent.record_type == "adverse_event"
            )
        ).all()
        assert sorted(kinds) == ["adverse_event.amended"] * 2 + ["adverse_event.recorded"]
        # A correction may not undo what the review agreed.
        before = counts(db)
        with pytest.raises(ValidationFailed) as err:
            ae.amend(db, nurse, event.id, AmendmentIn(harm="mild", reason="x is wrong", version=3))
        assert err.value.problems[0].field == "harm"
        assert "consensus" in err.value.problems[0].message
        assert counts(db) == before
        # The code changes the category with it.
        ae.amend(
            db, nurse, event.id, AmendmentIn(code="mech_ml_clot", reason="was the ML", version=3)
        )
        force = ae.in_force(event, ae.amendments_of(db, [event.id])[event.id])
        assert force.values["category"] == "mechanical" and force.values["code"] == "mech_ml_clot"


def _end_run_1(db: Session) -> None:
    run = db.get_one(Run, 1)
    run_service.end_run(
        db,
        Actor(staff_id=None, name="t", role="physician"),
        run,
        RunEnd(
            ended_at=RUN_START + timedelta(hours=30),
            outcome="weaned_recovered",
            stop_reason="recovered",
        ),
    )
    db.flush()


BAD: list[tuple[str, dict[str, Any], str, str]] = [
    (
        "before start",
        {"occurred_at": RUN_START - timedelta(hours=1)},
        "occurred_at",
        "before the run started",
    ),
    (
        "after end",
        {"occurred_at": RUN_START + timedelta(hours=31)},
        "occurred_at",
        "after the run ended",
    ),
    ("future", {"occurred_at": utcnow() + timedelta(days=1)}, "occurred_at", "in the future"),
    (
        "wrong category",
        {"code": "haem_gi", "category": "mechanical"},
        "code",
        "code haem_gi is a haemorrhagic code, not mechanical",
    ),
    ("unknown code", {"code": "mech_banana"}, "code", "not in the adverse-event taxonomy"),
    ("unknown category", {"category": "plumbing"}, "category", "not one of"),
    (
        "component of another run",
        {"component_id": 2},
        "component_id",
        "belongs to run 2, not run 1",
    ),
    ("no such cannula", {"cannula_id": 99}, "cannula_id", "there is no cannula 99"),
    (
        "source of nothing",
        {"source_type": "alert", "source_id": 999},
        "source_id",
        "there is no alert 999",
    ),
    ("source without id", {"source_type": "alert"}, "source_id", "give both"),
]


@pytest.mark.parametrize("case", BAD, ids=[b[0] for b in BAD])
def test_bad_input_is_refused_naming_the_field_and_changes_nothing(
    sessions: Any, case: tuple[str, dict[str, Any], str, str]
) -> None:
    name, over, field, words = case
    with unit_of_work(sessions) as db:
        second_run(db)
        if name == "after end":
            _end_run_1(db)
        before = counts(db)
        with pytest.raises(ValidationFailed) as err:
            ae.record(db, who(db, "nurse"), 1, event_in(**over))
        problem = err.value.problems[0]
        assert problem.field == field
        assert words in problem.message
        if field == "occurred_at":
            assert "run 1:" in problem.message  # names the run's start and end
        assert counts(db) == before


def test_stale_version_and_consensus_without_review_right_change_nothing(sessions: Any) -> None:
    with unit_of_work(sessions) as db:
        nurse, doc = who(db, "nurse"), who(db, "physician")
        event = ae.record(db, nurse, 1, event_in())
        ae.amend(db, doc, event.id, AmendmentIn(harm="moderate", reason="seen by me", version=1))
        before = counts(db)
        with pytest.raises(StaleRecord) as err:
            ae.amend(db, nurse, event.id, AmendmentIn(harm="severe", reason="late", version=1))
        assert err.value.as_dict()["current_version"] == 2
        assert "Test physician" in str(err.value)
        assert counts(db) == before
        with pytest.raises(Forbidden):
            ae.amend(
                db,
                nurse,
                event.id,
                AmendmentIn(harm="severe", kind="consensus", reason="agreed", version=2),
            )
        assert counts(db) == before
        with pytest.raises(ValidationFailed) as bad:
            ae.amend(
                db,
                nurse,
                event.id,
                AmendmentIn(occurred_at=RUN_START - timedelta(days=1), reason="earlier", version=2),
            )
        assert bad.value.problems[0].field == "occurred_at"
        with pytest.raises(ValidationFailed) as none:
            ae.amend(db, nurse, event.id, AmendmentIn(reason="nothing given", version=2))
        assert none.value.problems[0].field == "fields"
        with pytest.raises(ValidationFailed) as cleared:
            ae.amend(db, nurse, event.id, AmendmentIn(harm=None, reason="clear", version=2))
        assert cleared.value.problems[0].field == "harm"
        assert counts(db) == before
        assert db.get_one(AdverseEvent, event.id).version == 2


def test_the_register_lists_by_values_in_force(sessions: Any) -> None:
    with unit_of_work(sessions) as db:
        nurse, qa = who(db, "nurse"), who(db, "qa_lead")
        a = ae.record(db, nurse, 1, event_in())
        b = ae.record(
            db,
            nurse,
            1,
            event_in(code="haem_gi", component_id=None, occurred_at=RUN_START + timedelta(hours=9)),
        )
        ae.amend(
            db, qa, a.id, AmendmentIn(harm="severe", kind="consensus", reason="M&M", version=1)
        )
        ids = [x.event.id for x in ae.list_events(db, nurse, run_id=1)]
        assert ids[:2] == [b.id, a.id]  # newest first
        assert [x.event.id for x in ae.list_events(db, nurse, harm="severe")] == [a.id]
        assert [x.event.id for x in ae.list_events(db, nurse, category="haemorrhagic")] == [b.id]
        assert [x.event.id for x in ae.list_events(db, nurse, reviewed=True)] == [a.id]
        assert a.id not in [x.event.id for x in ae.list_events(db, nurse, reviewed=False)]
        late = ae.list_events(db, nurse, since=RUN_START + timedelta(hours=8))
        assert [x.event.id for x in late] == [b.id]


def _alert(db: Session, detector: str, severity: str = "critical", **evidence: Any) -> CircuitAlert:
    a = CircuitAlert(
        run_id=1,
        detector=detector,
        severity=severity,
        peak_severity=severity,
        status="open",
        raised_at=RUN_START + timedelta(hours=4),
        summary=f"{detector} summary",
        evidence=evidence,
    )
    db.add(a)
    db.flush()
    return a


def test_prefill_per_source(sessions: Any) -> None:
    with unit_of_work(sessions) as db:
        doc = Actor(staff_id=None, name="t", role="perfusionist")
        run = db.get_one(Run, 1)
        pump = run_service.add_component(
            db, doc, run, ComponentCreate(kind="pump", started_at=RUN_START)
        )
        db.flush()
        p = pre.for_alert(db, _alert(db, "pump_thrombosis"))
        assert (p.code, p.detected_by, p.component_id) == ("mech_pump_clot", "alert", pump.id)
        assert p.at == RUN_START + timedelta(hours=4)
        p = pre.for_alert(db, _alert(db, "oxygenator_dysfunction"))
        assert (p.code, p.component_id) == ("mech_ml_failure", 1)
        assert pre.for_alert(db, _alert(db, "hemolysis", at_peak={"pfhb": 60})).code == (
            "metab_haemolysis_moderate"
        )
        assert pre.for_alert(db, _alert(db, "hemolysis", at_peak={"pfhb": 140})).code == (
            "metab_haemolysis_severe"
        )
        assert pre.for_alert(db, _alert(db, "differential_hypoxia")).code is None
        check = CircuitCheck(
            run_id=1,
            checked_at=RUN_START + timedelta(hours=6),
            shift="day",
            inspection={"pump_head": "fibrin", "ml_inlet": "large_clot"},
            readings={},
            transfusions={},
        )
        db.add(check)
        db.flush()
        p = pre.for_circuit_check(db, check)
        assert (p.code, p.detected_by, p.component_id) == ("mech_ml_clot", "circuit_check", 1)
        assert "ml inlet large clot" in p.description
        new_ml = run_service.add_component(
            db,
            doc,
            run,
            ComponentCreate(
                kind="membrane_lung",
                replaces_id=1,
                stop_reason="oxygenator_failure",
                started_at=RUN_START + timedelta(hours=7),
            ),
        )
        db.flush()
        old = db.get_one(Component, 1)
        p = pre.for_component(db, old)
        assert (p.code, p.component_id, p.at) == ("mech_ml_failure", 1, old.stopped_at)
        assert new_ml.id != 1
        trial = WeaningTrial(
            run_id=1,
            kind="sweep_off",
            status="aborted",
            started_at=RUN_START + timedelta(hours=8),
            ended_at=RUN_START + timedelta(hours=9),
            outcome_reason="SpO2 fell to 82 %",
        )
        db.add(trial)
        db.flush()
        p = pre.for_weaning_trial(db, trial)
        assert (p.code, p.detected_by, p.at) == (None, "weaning", RUN_START + timedelta(hours=9))
        assert "aborted: SpO2 fell to 82 %" in p.description
        tx = Transfusion(
            run_id=1,
            product="red_cells",
            units=3,
            given_at=RUN_START + timedelta(hours=10),
            reason="bleeding at the cannula site",
        )
        db.add(tx)
        db.flush()
        p = pre.for_transfusion(db, tx)
        assert (p.code, p.at) == ("haem_major_other", RUN_START + timedelta(hours=10))
        assert p.description.startswith("Red cells 3 units within 24 h.")
        # A record of another run, or none, pre-fills nothing.
        assert pre.prefill(db, 1, "transfusion", tx.id) is not None
        assert pre.prefill(db, 2, "transfusion", tx.id) is None
        assert pre.prefill(db, 1, "alert", 9999) is None
        # Severe haemolysis follows the programme's threshold.
        settings_service.save(
            db, who(db, "qa_lead"), "quality_events", {"pfhb_severe_mg_dl": 50}, "stricter"
        )
        assert pre.for_alert(db, _alert(db, "hemolysis", at_peak={"pfhb": 60})).code == (
            "metab_haemolysis_severe"
        )


def test_possible_events_found_in_the_record_then_recorded_or_dismissed(sessions: Any) -> None:
    with unit_of_work(sessions) as db:
        doc = Actor(staff_id=None, name="t", role="perfusionist")
        qa, nurse = who(db, "qa_lead"), who(db, "nurse")
        run = db.get_one(Run, 1)
        crit = _alert(db, "pump_thrombosis")
        _alert(db, "flow_below_target", severity="warning")  # not critical: not listed
        run_service.add_component(
            db,
            doc,
            run,
            ComponentCreate(
                kind="membrane_lung",
                replaces_id=1,
                stop_reason="thrombus",
                started_at=RUN_START + timedelta(hours=7),
            ),
        )
        db.add(
            WeaningTrial(
                run_id=1,
                kind="sweep_off",
                status="aborted",
                started_at=RUN_START + timedelta(hours=8),
                ended_at=RUN_START + timedelta(hours=9),
            )
        )
        db.add(
            WeaningTrial(
                run_id=1,
                kind="sweep_off",
                status="failed",
                started_at=RUN_START + timedelta(hours=10),
                ended_at=RUN_START + timedelta(hours=11),
            )
        )
        given = RUN_START + timedelta(hours=12)
        for i, units in enumerate((1, 1, 1)):  # 3 units in 3 h: above 2 at the third
            db.add(
                Transfusion(
                    run_id=1,
                    product="red_cells",
                    units=units,
                    given_at=given + timedelta(hours=i),
                    reason="low Hb",
                )
            )
        db.add(
            CircuitCheck(
                run_id=1,
                checked_at=RUN_START + timedelta(hours=6),
                shift="day",
                inspection={"pump_head": "small_clot"},
                readings={},
                transfusions={},
            )
        )
        db.add(
            CircuitCheck(
                run_id=1,
                checked_at=RUN_START + timedelta(hours=6, minutes=5),
                shift="day",
                inspection={"pump_head": "fibrin"},
                readings={},
                transfusions={},
            )
        )
        db.flush()
        with pytest.raises(Forbidden):
            possible_events.find(db, nurse)
        found = possible_events.find(db, qa)
        kinds = sorted(p.source_type for p in found)
        assert kinds == ["alert", "circuit_check", "component", "transfusion", "weaning_trial"]
        tx = next(p for p in found if p.source_type == "transfusion")
        assert "3 units within 24 h" in tx.what and tx.suggested_code == "haem_major_other"
        assert tx.at == given + timedelta(hours=2)
        assert all(p.record_href.startswith("/runs/1/adverse-events/new?source=") for p in found)
        assert found == sorted(found, key=lambda p: p.at, reverse=True)
        # Recorded from the alert: gone from the list.
        ae.record(
            db, nurse, 1, event_in(source_type="alert", source_id=crit.id, detected_by="alert")
        )
        # Dismissed (reason required): gone, audited; a second dismissal is refused.
        trial = next(p for p in found if p.source_type == "weaning_trial")
        before = counts(db)
        possible_events.dismiss(
            db,
            qa,
            DismissIn(
                source_type="weaning_trial",
                source_id=trial.source_id,
                reason="planned stop, not harm",
            ),
        )
        assert counts(db)[3:] == (before[3] + 1, before[4] + 1)
        with pytest.raises(ValidationFailed):
            possible_events.dismiss(
                db,
                qa,
                DismissIn(source_type="weaning_trial", source_id=trial.source_id, reason="again"),
            )
        with pytest.raises(ValidationFailed):
            possible_events.dismiss(
                db, qa, DismissIn(source_type="alert", source_id=crit.id, reason="already an event")
            )
        left = sorted(p.source_type for p in possible_events.find(db, qa))
        assert left == ["circuit_check", "component", "transfusion"]
        # The transfusion page's offer: the same rule, run by run.
        assert possible_events.offers_for_run(db, 1) == {("transfusion", tx.source_id)}
        assert possible_events.offers_for_run(db, 2) == set()


def test_back_fill_writes_the_same_events_once(sessions: Any) -> None:
    with unit_of_work(sessions) as db:
        nurse, qa = who(db, "nurse"), who(db, "qa_lead")
        event = ae.record(db, nurse, 1, event_in())
        ae.amend(
            db,
            qa,
            event.id,
            AmendmentIn(
                harm="moderate",
                preventability="possibly",
                kind="consensus",
                reason="M&M",
                version=1,
            ),
        )
    with unit_of_work(sessions) as db:
        only = frozenset({"adverse_event.recorded", "adverse_event.amended"})
        assert clinical_backfill.backfill(db.connection(), only) == 0  # same text: no new row
        rows = db.scalars(
            select(ClinicalEvent).where(ClinicalEvent.record_type == "adverse_event")
        ).all()
        amended = [r for r in rows if r.kind == "adverse_event.amended"]
        assert len(amended) == 1
        assert "harm → moderate; preventability → possibly" in amended[0].summary


def test_time_checks_name_value_and_run_span() -> None:
    run = Run(
        id=5,
        patient_id=1,
        support_type="pulmonary",
        started_at=datetime(2026, 1, 1, 8, 0, tzinfo=RUN_START.tzinfo),
        ended_at=None,
    )
    [p] = ae.check_time(run, datetime(2026, 1, 1, 7, 0, tzinfo=RUN_START.tzinfo))
    assert p.message == (
        "2026-01-01T07:00+00:00 is before the run started (run 5: 2026-01-01T08:00+00:00 – ongoing)"
    )
    assert ae.check_code("haem_gi", "mechanical")[0].message == (
        "code haem_gi is a haemorrhagic code, not mechanical"
    )
