"""Demo M&M: two past meetings. The earlier one had a perfusionist present and reviewed an
ended run (signed, cause class technical, an action that is an open PDSA cycle with three
follow-up measurements); the later one had no perfusionist (shown prominently) and reviewed
another run (signed, management), with an action carried to the next meeting. Runs with an
adverse event are chosen first (the demo's history has them, so this module runs after
``demo_history`` and ``demo_events``): the review concerns the run's first event, and the
agreed harm, preventability and cause class enter that event's history on signing."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from continuum.core.clinical_event import ClinicalEvent
from continuum.core.roles import Actor
from continuum.core.run_record import Run
from continuum.quality import review_service as svc
from continuum.quality.adverse_event_record import AdverseEvent
from continuum.quality.review_record import Review
from continuum.quality.review_schemas import (
    ActionIn,
    AttendanceIn,
    ConsensusIn,
    MeasurementIn,
    MeetingIn,
    ProblemIn,
    ReviewIn,
)


def _who(staff: dict[str, Actor], name: str, role: str) -> Actor:
    return staff.get(name) or staff[role]


def _review(
    db: Session, qa: Actor, meeting_id: int, run: Run, problem: ProblemIn, consensus: ConsensusIn
) -> Review:
    meeting = svc.get_meeting(db, qa, meeting_id)
    event = db.scalar(
        select(AdverseEvent).where(AdverseEvent.run_id == run.id).order_by(AdverseEvent.id)
    )
    review = svc.add_review(
        db, qa, meeting, ReviewIn(run_id=run.id, adverse_event_id=event.id if event else None)
    )
    svc.add_problem(db, qa, review, problem)
    svc.set_consensus(db, qa, review, consensus)
    svc.sign(db, qa, review)
    db.flush()
    # Back-dated to the meeting (the demo writes its clinical events itself: the loader
    # defers record_event and its back-fill does not know M&M reviews).
    at = datetime.combine(meeting.held_on, time(13), tzinfo=UTC)
    review.signed_at = at
    db.add(
        ClinicalEvent(
            patient_id=run.patient_id,
            run_id=run.id,
            kind="review.signed",
            clinical_time=at,
            recorded_at=at,
            staff_id=qa.staff_id,
            by_name=qa.name,
            discipline=qa.discipline,
            record_type="review",
            record_id=review.id,
            summary=f"M&M review signed: cause class {review.cause_class}",
        )
    )
    return review


def add_demo_data(db: Session, staff: dict[str, Actor], now: datetime) -> None:
    # The two earliest ended runs that had an adverse event (the review discusses it and its
    # consensus enters the event's history), else the two earliest ended runs.
    ended = select(Run).where(Run.status == "ended").order_by(Run.ended_at, Run.id)
    with_events = ended.where(Run.id.in_(select(AdverseEvent.run_id)))
    runs = list(db.scalars(with_events.limit(2)))
    if len(runs) < 2:
        runs = list(db.scalars(ended.limit(2)))
    if len(runs) < 2:
        return
    qa = _who(staff, "Daniel Costa", "qa_lead")
    perf = _who(staff, "Sam Okafor", "perfusionist")
    icu = _who(staff, "Dr Maria Rossi", "physician")
    nurse = _who(staff, "Grace Mwangi", "nurse")
    coord = _who(staff, "Priya Nair", "coordinator")
    today = now.date()
    # Each case is reviewed after its run ended, never in the future.
    ended = [r.ended_at.date() if r.ended_at else today for r in runs]
    first_day = min(ended[0] + timedelta(days=1), today)
    second_day = min(max(ended[1] + timedelta(days=1), first_day + timedelta(days=1)), today)
    room = (today - first_day).days

    first = svc.create_meeting(
        db, qa, MeetingIn(held_on=first_day, title="ECMO M&M: circuit events", chair_id=qa.staff_id)
    )
    for who, discipline in (
        (qa, "other"),
        (perf, "perfusion"),
        (icu, "intensive_care"),
        (nurse, "nursing"),
    ):
        svc.add_attendance(
            db, qa, first, AttendanceIn(staff_id=who.staff_id, discipline=discipline)
        )
    svc.add_attendance(
        db,
        qa,
        first,
        AttendanceIn(guest_name="Visiting cardiac surgeon", discipline="cardiac_surgery"),
    )
    r1 = _review(
        db,
        qa,
        first.id,
        runs[0],
        ProblemIn(
            description="Rising membrane-lung pressure drop alerted overnight; the "
            "acknowledgement took 40 minutes and the lung was changed urgently.",
            factors=["ecmo_alarm_configuration", "work_environment", "team"],
            factor_note="alarm routed to the bedside console only",
        ),
        ConsensusIn(
            cause_class="technical",
            harm="mild",
            preventability="probably",
            summary="Urgent membrane-lung change after a late acknowledgement.",
            lessons="Route circuit alerts to the perfusionist on call as well.",
        ),
    )
    pdsa = svc.add_action(
        db,
        qa,
        r1,
        ActionIn(
            text="Route critical circuit alerts to the on-call perfusionist's phone",
            owner_id=perf.staff_id or 0,
            due_on=today + timedelta(days=21),
            pdsa_plan="Plan: add the on-call phone to the alert route for two months. "
            "Do: from the next week. Study: weekly share of critical alerts acknowledged "
            "within 5 minutes. Act: keep, widen or drop at the next M&M.",
            measure_name="Critical alerts acknowledged within 5 min",
            measure_unit="%",
        ),
    )
    for k, value in ((1, 55.0), (2, 72.0), (3, 86.0)):
        on = first_day + timedelta(days=round(k * room / 3))
        svc.add_measurement(db, qa, pdsa, MeasurementIn(measured_on=on, value=value))
    done = svc.add_action(
        db,
        qa,
        r1,
        ActionIn(
            text="Add the lung's pressure-drop baseline to the handover sheet",
            owner_id=nurse.staff_id or 0,
            due_on=first_day + timedelta(days=14),
        ),
    )
    done.status, done.done_by = "done", qa.staff_id
    done.done_at = min(datetime.combine(first_day, time(16), tzinfo=UTC), now)

    second = svc.create_meeting(
        db,
        qa,
        MeetingIn(held_on=second_day, title="ECMO M&M: anticoagulation", chair_id=icu.staff_id),
    )
    for who, discipline in (
        (qa, "other"),
        (icu, "intensive_care"),
        (nurse, "nursing"),
        (coord, "intensive_care"),
    ):
        svc.add_attendance(
            db, qa, second, AttendanceIn(staff_id=who.staff_id, discipline=discipline)
        )
    svc.add_attendance(
        db, qa, second, AttendanceIn(staff_id=perf.staff_id, discipline="perfusion", present=False)
    )
    r2 = _review(
        db,
        qa,
        second.id,
        runs[1],
        ProblemIn(
            description="Anti-Xa above range for 18 hours before the infusion was "
            "reduced; cannula-site oozing needed two units of red cells.",
            factors=["ecmo_anticoagulation_protocol", "task_technology", "ecmo_perfusion_coverage"],
        ),
        ConsensusIn(
            cause_class="management",
            harm="moderate",
            preventability="possibly",
            lessons="Anti-Xa results to be reviewed at each circuit check.",
        ),
    )
    svc.add_action(
        db,
        qa,
        r2,
        ActionIn(
            text="Revise the heparin nomogram with pharmacy and perfusion",
            owner_id=_who(staff, "Hannah Liu", "nurse").staff_id or 0,
            due_on=second_day + timedelta(days=10),
        ),
    )
    db.flush()
