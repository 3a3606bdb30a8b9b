"""M&M review services on SQLite and PostgreSQL: a meeting with attendance (perfusion
present), a case with a care delivery problem and its factors, anonymous voting, consensus
written into the adverse event's history on signing, actions with a PDSA measure, open
actions carried to the next meeting; bad input refused naming the field, nothing changed."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from continuum.core.clinical_event import ClinicalEvent
from continuum.core.record import AuditEntry
from continuum.core.roles import Actor
from continuum.db import utcnow
from continuum.errors import Conflict, Forbidden, ValidationFailed
from continuum.quality import adverse_events
from continuum.quality import review_service as svc
from continuum.quality.adverse_event_record import AdverseEvent, AdverseEventAmendment
from continuum.quality.review_record import (
    Review,
    ReviewAction,
    ReviewFactor,
    ReviewMeeting,
    ReviewProblem,
    ReviewVoteCast,
    ReviewVoteTally,
)
from continuum.quality.review_schemas import (
    ActionIn,
    ActionStatusIn,
    AmendIn,
    AttendanceIn,
    ConsensusIn,
    MeasurementIn,
    MeetingIn,
    ProblemIn,
    ReviewIn,
    VoteIn,
)

QA = Actor(staff_id=5, name="Test qa_lead", role="qa_lead", discipline="other")
PERF = Actor(staff_id=1, name="Test perfusionist", role="perfusionist", discipline="perfusion")
DAY = date(2026, 11, 2)


def _event(db) -> AdverseEvent:  # type: ignore[no-untyped-def]
    ev = AdverseEvent(
        run_id=1,
        patient_id=1,
        code="mech_ml_clot",
        category="mechanical",
        event_class="incident",
        harm="mild",
        occurred_at=utcnow() - timedelta(days=1),
        detected_by="alert",
        description="clot seen on the membrane lung",
        recorded_by=1,
    )
    db.add(ev)
    db.flush()
    return ev


def count(db, model) -> int:  # type: ignore[no-untyped-def]
    return int(db.scalar(select(func.count()).select_from(model)) or 0)


def test_a_review_from_meeting_to_signed_with_consensus_and_pdsa(sessions) -> None:  # type: ignore[no-untyped-def]
    with sessions() as db:
        ev = _event(db)
        m = svc.create_meeting(db, QA, MeetingIn(held_on=DAY, title="November M&M", chair_id=5))
        svc.add_attendance(db, QA, m, AttendanceIn(staff_id=5, discipline="other"))
        svc.add_attendance(db, QA, m, AttendanceIn(staff_id=1, discipline="perfusion"))
        svc.add_attendance(
            db,
            QA,
            m,
            AttendanceIn(guest_name="Visiting perfusionist", discipline="perfusion", present=False),
        )
        assert svc.perfusion_present(db, m.id)
        r = svc.add_review(db, QA, m, ReviewIn(run_id=1, adverse_event_id=ev.id))
        svc.add_problem(
            db,
            QA,
            r,
            ProblemIn(
                description="alert acknowledged late", factors=["team", "ecmo_alarm_configuration"]
            ),
        )
        assert count(db, ReviewFactor) == 2
        svc.open_voting(db, QA, r)
        assert svc.cast_vote(db, QA, r, VoteIn(cause_class="technical")) == 1
        assert svc.cast_vote(db, PERF, r, VoteIn(cause_class="technical")) == 2
        assert svc.tally(db, r.id)["technical"] == 2
        # The stored votes name no voter beside a choice.
        assert {c.name for c in ReviewVoteTally.__table__.columns} == {
            "review_id",
            "cause_class",
            "votes",
        }
        assert "cause_class" not in {c.name for c in ReviewVoteCast.__table__.columns}
        svc.set_consensus(
            db,
            QA,
            r,
            ConsensusIn(
                cause_class="technical",
                harm="moderate",
                preventability="probably",
                lessons="check alarms",
            ),
        )
        svc.sign(db, QA, r)
        db.flush()
        assert r.status == "signed"
        force = adverse_events.in_force(ev)
        assert [(c.field, c.new, c.kind, c.review_id) for c in force.history] == [
            ("harm", "moderate", "consensus", r.id),
            ("preventability", "probably", "consensus", r.id),
            ("cause_class", "technical", "consensus", r.id),
        ]
        meeting_day = db.get_one(ReviewMeeting, r.meeting_id).held_on.isoformat()
        assert {c.reason for c in force.history} == {
            f"set by M&M review of {meeting_day} (review {r.id})"
        }
        assert force.values["harm"] == "moderate"
        assert force.values["cause_class"] == "technical"
        kinds = set(db.scalars(select(ClinicalEvent.kind).where(ClinicalEvent.run_id == 1)))
        assert {"review.signed", "adverse_event.amended"} <= kinds
        # Signed: amended, not edited
        with pytest.raises(Conflict):
            svc.set_consensus(db, QA, r, ConsensusIn(lessons="changed"))
        svc.amend(db, QA, r, AmendIn(field="lessons", value="check alarm limits", reason="typo"))
        assert svc.in_force(db, r)["lessons"] == "check alarm limits"
        # An action as a PDSA cycle with measurements
        a = svc.add_action(
            db,
            QA,
            r,
            ActionIn(
                text="Alarm limits audit",
                owner_id=1,
                due_on=DAY + timedelta(days=30),
                pdsa_plan="weekly audit",
                measure_name="alerts acknowledged < 5 min",
                measure_unit="%",
            ),
        )
        svc.add_measurement(db, QA, a, MeasurementIn(measured_on=DAY + timedelta(days=7), value=60))
        svc.add_measurement(
            db, QA, a, MeasurementIn(measured_on=DAY + timedelta(days=14), value=80)
        )
        assert [x.value for x in svc.measurements(db, a.id)] == [60, 80]
        # Open actions: the coordinator's list (overdue first) and the next meeting's agenda
        late = svc.add_action(db, QA, r, ActionIn(text="Update protocol", owner_id=2, due_on=DAY))
        listed = svc.open_actions(db, QA, DAY + timedelta(days=1))
        assert [x.id for x in listed] == [late.id, a.id]
        nxt = svc.create_meeting(db, QA, MeetingIn(held_on=DAY + timedelta(days=28), title="Dec"))
        assert {x.id for x in svc.carried_actions(db, nxt)} == {a.id, late.id}
        svc.set_action_status(db, QA, late, ActionStatusIn(status="done", note="published"))
        assert {x.id for x in svc.carried_actions(db, nxt)} == {a.id}
        assert svc.carried_actions(db, m) == []
        # Audit: every change, and the vote without its choice
        votes = db.scalars(select(AuditEntry).where(AuditEntry.action == "vote")).all()
        assert len(votes) == 2 and all(v.detail is None for v in votes)


def _draft(db):  # type: ignore[no-untyped-def]
    m = svc.create_meeting(db, QA, MeetingIn(held_on=DAY, title="M&M"))
    r = svc.add_review(db, QA, m, ReviewIn(run_id=1))
    db.flush()
    return m, r


def test_signing_without_attendance_or_cause_is_refused(sessions) -> None:  # type: ignore[no-untyped-def]
    with sessions() as db:
        _, r = _draft(db)
        svc.set_consensus(db, QA, r, ConsensusIn(cause_class="management"))
        before = count(db, ClinicalEvent)
        with pytest.raises(ValidationFailed) as exc:
            svc.sign(db, QA, r)
        assert [p.field for p in exc.value.problems] == ["attendance"]
        assert r.status == "draft" and count(db, ClinicalEvent) == before
        m2, r2 = _draft(db)
        svc.add_attendance(db, QA, m2, AttendanceIn(staff_id=5, discipline="other"))
        with pytest.raises(ValidationFailed) as exc:
            svc.sign(db, QA, r2)
        assert [p.field for p in exc.value.problems] == ["cause_class"]
        assert r2.status == "draft"


def test_one_vote_per_attendee_and_only_attendees(sessions) -> None:  # type: ignore[no-untyped-def]
    with sessions() as db:
        m, r = _draft(db)
        svc.add_attendance(db, QA, m, AttendanceIn(staff_id=5, discipline="other"))
        svc.open_voting(db, QA, r)
        svc.cast_vote(db, QA, r, VoteIn(cause_class="disease"))
        with pytest.raises(ValidationFailed) as exc:
            svc.cast_vote(db, QA, r, VoteIn(cause_class="technical"))
        assert exc.value.problems[0].field == "vote"
        assert svc.tally(db, r.id) == {
            "disease": 1,
            "management": 0,
            "technical": 0,
            "misadventure": 0,
        }
        with pytest.raises(Forbidden):
            svc.cast_vote(db, PERF, r, VoteIn(cause_class="disease"))  # not on the attendance
        with pytest.raises(Forbidden):
            svc.require_attendee(db, PERF)
        with pytest.raises(ValidationFailed) as exc:
            svc.cast_vote(db, QA, r, VoteIn(cause_class="fate"))
        assert exc.value.problems[0].field == "cause_class" and "fate" in exc.value.message
        assert svc.voters(db, r.id) == 1


def test_bad_input_is_refused_naming_the_field(sessions) -> None:  # type: ignore[no-untyped-def]
    with sessions() as db:
        m, r = _draft(db)
        with pytest.raises(ValidationFailed) as exc:
            svc.add_problem(db, QA, r, ProblemIn(description="x", factors=["team", "weather"]))
        assert exc.value.problems[0].field == "factors" and "weather" in exc.value.message
        assert count(db, ReviewProblem) == 0
        with pytest.raises(ValidationFailed) as exc:
            svc.add_action(
                db, QA, r, ActionIn(text="x", owner_id=1, due_on=DAY - timedelta(days=1))
            )
        assert exc.value.problems[0].field == "due_on"
        assert str(DAY) in exc.value.message
        assert count(db, ReviewAction) == 0
        with pytest.raises(ValidationFailed) as exc:
            svc.add_attendance(db, QA, m, AttendanceIn(staff_id=5, discipline="astrology"))
        assert exc.value.problems[0].field == "discipline"
        with pytest.raises(ValidationFailed) as exc:
            svc.add_review(db, QA, m, ReviewIn(run_id=999))
        assert exc.value.problems[0].field == "run_id"
        assert count(db, Review) == 1
        with pytest.raises(ValidationFailed) as exc:
            svc.set_consensus(db, QA, r, ConsensusIn(harm="catastrophic"))
        assert exc.value.problems[0].field == "harm"
        assert count(db, AdverseEventAmendment) == 0
