"""M&M reviews: meetings, attendance, cases, care delivery problems and their contributory
factors, anonymous voting on the cause class, consensus, signing, amendments, actions and
PDSA measurements. Every change audited; flushes, never commits.

Harm and preventability agreed at the review of an adverse event become part of that
event's history when the review is signed, written by the register's own amend service
(``adverse_events.amend``, kind "consensus", naming the review and its meeting); the values
in force of an event come from ``adverse_events.in_force`` only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from continuum.core import audit
from continuum.core.clinical_event import record_event
from continuum.core.people import Staff
from continuum.core.roles import Actor, Permission
from continuum.core.run_record import Run
from continuum.core.vocab import DISCIPLINES
from continuum.db import utcnow
from continuum.errors import Conflict, FieldProblem, Forbidden, NotFound, ValidationFailed
from continuum.quality import adverse_events
from continuum.quality.adverse_event_record import AdverseEvent
from continuum.quality.adverse_event_schemas import AmendmentIn
from continuum.quality.review_factors import (
    ACTION_STATUSES,
    AMENDABLE_FIELDS,
    CAUSE_CLASSES,
    FACTOR_GROUPS,
    cause_label,
)
from continuum.quality.review_record import (
    PdsaMeasurement,
    Review,
    ReviewAction,
    ReviewAmendment,
    ReviewAttendance,
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
from continuum.quality.taxonomy import HARMS, PREVENTABILITIES

P = Permission


def _one_of(field: str, value: object, allowed: tuple[str, ...]) -> FieldProblem:
    return FieldProblem(field, f"{value!r} is not one of: {', '.join(allowed)}", value)


def _check(field: str, value: str | None, allowed: tuple[str, ...]) -> list[FieldProblem]:
    if value is None or value in allowed:
        return []
    return [_one_of(field, value, allowed)]


# --- reading ---------------------------------------------------------------------------


def get_meeting(session: Session, actor: Actor, meeting_id: int) -> ReviewMeeting:
    actor.require(P.REVIEW_CASES)
    meeting = session.get(ReviewMeeting, meeting_id)
    if meeting is None:
        raise NotFound(f"M&M meeting {meeting_id} not found")
    return meeting


def get_review(session: Session, actor: Actor, review_id: int) -> Review:
    actor.require(P.REVIEW_CASES)
    review = session.get(Review, review_id)
    if review is None:
        raise NotFound(f"review {review_id} not found")
    return review


def get_action(session: Session, actor: Actor, action_id: int) -> ReviewAction:
    actor.require(P.REVIEW_CASES)
    action = session.get(ReviewAction, action_id)
    if action is None:
        raise NotFound(f"action {action_id} not found")
    return action


def meetings(session: Session, actor: Actor) -> list[ReviewMeeting]:
    actor.require(P.REVIEW_CASES)
    stmt = select(ReviewMeeting).order_by(ReviewMeeting.held_on.desc(), ReviewMeeting.id.desc())
    return list(session.scalars(stmt))


def attendance(session: Session, meeting_id: int) -> list[ReviewAttendance]:
    stmt = select(ReviewAttendance).where(ReviewAttendance.meeting_id == meeting_id)
    return list(session.scalars(stmt.order_by(ReviewAttendance.id)))


def perfusion_present(session: Session, meeting_id: int) -> bool:
    stmt = select(func.count(ReviewAttendance.id)).where(
        ReviewAttendance.meeting_id == meeting_id,
        ReviewAttendance.present.is_(True),
        ReviewAttendance.discipline == "perfusion",
    )
    return bool(session.scalar(stmt))


def present_count(session: Session, meeting_id: int) -> int:
    stmt = select(func.count(ReviewAttendance.id)).where(
        ReviewAttendance.meeting_id == meeting_id, ReviewAttendance.present.is_(True)
    )
    return int(session.scalar(stmt) or 0)


def reviews_of(session: Session, meeting_id: int) -> list[Review]:
    stmt = select(Review).where(Review.meeting_id == meeting_id).order_by(Review.id)
    return list(session.scalars(stmt))


def reviews_of_run(session: Session, run_id: int) -> list[Review]:
    return list(session.scalars(select(Review).where(Review.run_id == run_id).order_by(Review.id)))


def problems(session: Session, review_id: int) -> list[tuple[ReviewProblem, list[ReviewFactor]]]:
    rows = session.scalars(
        select(ReviewProblem).where(ReviewProblem.review_id == review_id).order_by(ReviewProblem.id)
    ).all()
    out = []
    for p in rows:
        factors = session.scalars(
            select(ReviewFactor).where(ReviewFactor.problem_id == p.id).order_by(ReviewFactor.id)
        ).all()
        out.append((p, list(factors)))
    return out


def tally(session: Session, review_id: int) -> dict[str, int]:
    found = dict(
        session.execute(
            select(ReviewVoteTally.cause_class, ReviewVoteTally.votes).where(
                ReviewVoteTally.review_id == review_id
            )
        ).all()
    )
    return {c: int(found.get(c, 0)) for c in CAUSE_CLASSES}


def voters(session: Session, review_id: int) -> int:
    stmt = (
        select(func.count())
        .select_from(ReviewVoteCast)
        .where(ReviewVoteCast.review_id == review_id)
    )
    return int(session.scalar(stmt) or 0)


def actions_of(session: Session, review_id: int) -> list[ReviewAction]:
    stmt = select(ReviewAction).where(ReviewAction.review_id == review_id)
    return list(session.scalars(stmt.order_by(ReviewAction.due_on, ReviewAction.id)))


def measurements(session: Session, action_id: int) -> list[PdsaMeasurement]:
    stmt = select(PdsaMeasurement).where(PdsaMeasurement.action_id == action_id)
    return list(session.scalars(stmt.order_by(PdsaMeasurement.measured_on, PdsaMeasurement.id)))


def amendments(session: Session, review_id: int) -> list[ReviewAmendment]:
    stmt = select(ReviewAmendment).where(ReviewAmendment.review_id == review_id)
    return list(session.scalars(stmt.order_by(ReviewAmendment.at, ReviewAmendment.id)))


def open_actions(
    session: Session, actor: Actor, today: date, run_id: int | None = None
) -> list[ReviewAction]:
    """Every open action (or one run's), overdue first (then by due date): the
    coordinator's list."""
    actor.require(P.REVIEW_CASES)
    stmt = select(ReviewAction).where(ReviewAction.status == "open")
    if run_id is not None:
        stmt = stmt.join(Review, Review.id == ReviewAction.review_id).where(Review.run_id == run_id)
    rows = session.scalars(stmt).all()
    return sorted(rows, key=lambda a: (a.due_on >= today, a.due_on, a.id))


def carried_actions(session: Session, meeting: ReviewMeeting) -> list[ReviewAction]:
    """Open actions agreed at earlier meetings: on this meeting's agenda until closed."""
    earlier = select(ReviewMeeting.id).where(
        (ReviewMeeting.held_on < meeting.held_on)
        | ((ReviewMeeting.held_on == meeting.held_on) & (ReviewMeeting.id < meeting.id))
    )
    stmt = (
        select(ReviewAction)
        .join(Review, Review.id == ReviewAction.review_id)
        .where(ReviewAction.status == "open", Review.meeting_id.in_(earlier))
        .order_by(ReviewAction.due_on, ReviewAction.id)
    )
    return list(session.scalars(stmt))


def staff_names(session: Session, ids: set[int | None]) -> dict[int, str]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    return dict(session.execute(select(Staff.id, Staff.name).where(Staff.id.in_(wanted))).all())


def consensus_reason(review: Review, meeting: ReviewMeeting) -> str:
    """The reason written with an event's amendment agreed at review: names the meeting."""
    return f"set by M&M review of {meeting.held_on.isoformat()} (review {review.id})"


# --- meetings and attendance -----------------------------------------------------------


def create_meeting(session: Session, actor: Actor, data: MeetingIn) -> ReviewMeeting:
    actor.require(P.REVIEW_CASES)
    if data.chair_id is not None and session.get(Staff, data.chair_id) is None:
        raise ValidationFailed([FieldProblem("chair_id", "no such staff member", data.chair_id)])
    meeting = ReviewMeeting(
        held_on=data.held_on, title=data.title, chair_id=data.chair_id, created_by=actor.staff_id
    )
    session.add(meeting)
    session.flush()
    audit.record(
        session,
        actor,
        "create",
        "review_meeting",
        meeting.id,
        None,
        {"held_on": data.held_on.isoformat(), "title": data.title},
    )
    return meeting


def add_attendance(
    session: Session, actor: Actor, meeting: ReviewMeeting, data: AttendanceIn
) -> ReviewAttendance:
    actor.require(P.REVIEW_CASES)
    problems_: list[FieldProblem] = _check("discipline", data.discipline, DISCIPLINES)
    guest = (data.guest_name or "").strip() or None
    if (data.staff_id is None) == (guest is None):
        problems_.append(
            FieldProblem("staff_id", "choose a staff member or write a guest's name (one of them)")
        )
    if data.staff_id is not None and session.get(Staff, data.staff_id) is None:
        problems_.append(FieldProblem("staff_id", "no such staff member", data.staff_id))
    if problems_:
        raise ValidationFailed(problems_)
    if data.staff_id is not None and session.scalar(
        select(ReviewAttendance.id).where(
            ReviewAttendance.meeting_id == meeting.id, ReviewAttendance.staff_id == data.staff_id
        )
    ):
        raise ValidationFailed(
            [FieldProblem("staff_id", "is already on this meeting's attendance", data.staff_id)]
        )
    row = ReviewAttendance(
        meeting_id=meeting.id,
        staff_id=data.staff_id,
        guest_name=guest,
        discipline=data.discipline,
        present=data.present,
        recorded_by=actor.staff_id,
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor,
        "add_attendance",
        "review_meeting",
        meeting.id,
        None,
        {"attendance_id": row.id, "discipline": row.discipline, "present": row.present},
    )
    return row


# --- reviews ---------------------------------------------------------------------------


def add_review(session: Session, actor: Actor, meeting: ReviewMeeting, data: ReviewIn) -> Review:
    actor.require(P.REVIEW_CASES)
    run = session.get(Run, data.run_id)
    if run is None:
        raise ValidationFailed([FieldProblem("run_id", "no such run", data.run_id)])
    if data.adverse_event_id is not None:
        event = session.get(AdverseEvent, data.adverse_event_id)
        if event is None or event.run_id != run.id:
            raise ValidationFailed(
                [
                    FieldProblem(
                        "adverse_event_id",
                        f"no such adverse event of run {run.id}",
                        data.adverse_event_id,
                    )
                ]
            )
    review = Review(
        meeting_id=meeting.id,
        run_id=run.id,
        adverse_event_id=data.adverse_event_id,
        summary=data.summary,
        created_by=actor.staff_id,
    )
    session.add(review)
    session.flush()
    audit.record(
        session,
        actor,
        "create",
        "review",
        review.id,
        run.patient_id,
        {"meeting_id": meeting.id, "run_id": run.id, "adverse_event_id": data.adverse_event_id},
    )
    return review


def _draft(review: Review) -> None:
    if review.status == "signed":
        raise Conflict(f"review {review.id} is signed: signed reviews are amended, not edited")


def add_problem(session: Session, actor: Actor, review: Review, data: ProblemIn) -> ReviewProblem:
    actor.require(P.REVIEW_CASES)
    _draft(review)
    bad = [_one_of("factors", f, FACTOR_GROUPS) for f in data.factors if f not in FACTOR_GROUPS]
    if bad:
        raise ValidationFailed(bad)
    problem = ReviewProblem(
        review_id=review.id, description=data.description, created_by=actor.staff_id
    )
    session.add(problem)
    session.flush()
    for group in dict.fromkeys(data.factors):
        session.add(ReviewFactor(problem_id=problem.id, factor_group=group, note=data.factor_note))
    review.version += 1
    audit.record(
        session,
        actor,
        "add_problem",
        "review",
        review.id,
        None,
        {"problem_id": problem.id, "factors": list(dict.fromkeys(data.factors))},
    )
    return problem


def open_voting(session: Session, actor: Actor, review: Review) -> Review:
    actor.require(P.REVIEW_CASES)
    _draft(review)
    review.voting_open = True
    audit.record(session, actor, "open_voting", "review", review.id)
    return review


def _attendee(session: Session, actor: Actor, review: Review) -> ReviewAttendance:
    row = session.scalar(
        select(ReviewAttendance).where(
            ReviewAttendance.meeting_id == review.meeting_id,
            ReviewAttendance.staff_id == actor.staff_id,
            ReviewAttendance.present.is_(True),
        )
    )
    if actor.staff_id is None or row is None:
        raise Forbidden("only attendees marked present at the meeting may vote on its reviews")
    return row


def require_attendee(session: Session, actor: Actor) -> None:
    """Voting is a right of attendance: someone on no meeting's attendance (present) may not
    open a ballot at all (checked before the review is looked up)."""
    actor.require(P.VIEW_CLINICAL)
    found = actor.staff_id is not None and session.scalar(
        select(ReviewAttendance.id)
        .where(ReviewAttendance.staff_id == actor.staff_id, ReviewAttendance.present.is_(True))
        .limit(1)
    )
    if not found:
        raise Forbidden("only attendees marked present at an M&M meeting may vote")


def cast_vote(session: Session, actor: Actor, review: Review, data: VoteIn) -> int:
    """One anonymous vote of an attendee: "has voted" and the tally are stored apart, so no
    row links the voter to the choice. Returns the number of voters so far."""
    actor.require(P.VIEW_CLINICAL)
    if data.cause_class not in CAUSE_CLASSES:
        raise ValidationFailed([_one_of("cause_class", data.cause_class, CAUSE_CLASSES)])
    _draft(review)
    if not review.voting_open:
        raise ValidationFailed([FieldProblem("vote", "voting on this review is not open")])
    who = _attendee(session, actor, review)
    if session.get(ReviewVoteCast, (review.id, who.id)) is not None:
        raise ValidationFailed(
            [FieldProblem("vote", "you have already voted on this review (one vote each)")]
        )
    session.add(ReviewVoteCast(review_id=review.id, attendance_id=who.id))
    row = session.get(ReviewVoteTally, (review.id, data.cause_class))
    if row is None:
        session.add(ReviewVoteTally(review_id=review.id, cause_class=data.cause_class, votes=1))
    else:
        row.votes += 1
    session.flush()
    # The audit says that a vote was cast, never which class.
    audit.record(session, actor, "vote", "review", review.id)
    return voters(session, review.id)


def set_consensus(session: Session, actor: Actor, review: Review, data: ConsensusIn) -> Review:
    actor.require(P.REVIEW_CASES)
    _draft(review)
    bad = (
        _check("cause_class", data.cause_class, CAUSE_CLASSES)
        + _check("harm", data.harm, HARMS)
        + _check("preventability", data.preventability, PREVENTABILITIES)
    )
    if bad:
        raise ValidationFailed(bad)
    changed = {}
    for name in ("cause_class", "harm", "preventability", "lessons", "summary"):
        value = getattr(data, name)
        if value is not None and value != getattr(review, name):
            changed[name] = value
            setattr(review, name, value)
    if changed:
        review.version += 1
        audit.record(
            session,
            actor,
            "consensus",
            "review",
            review.id,
            None,
            {k: v for k, v in changed.items() if k in ("cause_class", "harm", "preventability")},
        )
    return review


def sign(session: Session, actor: Actor, review: Review) -> Review:
    """Sign a review: refused without attendance (someone present) and without a cause class.
    Writes the clinical event ``review.signed`` and, for an adverse event, the agreed harm and
    preventability as consensus amendments of the event."""
    actor.require(P.REVIEW_CASES)
    _draft(review)
    problems_: list[FieldProblem] = []
    if present_count(session, review.meeting_id) == 0:
        problems_.append(
            FieldProblem("attendance", "record who attended the meeting before signing a review")
        )
    if review.cause_class is None:
        problems_.append(
            FieldProblem(
                "cause_class",
                "agree a cause class (" + ", ".join(CAUSE_CLASSES) + ") before signing",
            )
        )
    if problems_:
        raise ValidationFailed(problems_)
    now = utcnow()
    run = session.get_one(Run, review.run_id)
    if review.adverse_event_id is not None:
        _write_consensus(session, actor, review, ("harm", "preventability", "cause_class"))
    review.status = "signed"
    review.signed_at = now
    review.signed_by = actor.staff_id
    review.voting_open = False
    review.version += 1
    perf = "yes" if perfusion_present(session, review.meeting_id) else "no"
    record_event(
        session,
        actor,
        "review.signed",
        now,
        f"M&M review signed: cause class {cause_label(review.cause_class).lower()}; "
        f"perfusion present: {perf}",
        ("review", review.id),
        run,
    )
    audit.record(session, actor, "sign", "review", review.id, run.patient_id)
    return review


def _write_consensus(
    session: Session, actor: Actor, review: Review, names: tuple[str, ...]
) -> None:
    """What the review agreed about its adverse event (harm, preventability, cause class)
    becomes part of the event's history through the register's own amend service: kind
    "consensus", naming the review and its meeting. Values already in force are skipped."""
    if review.adverse_event_id is None:
        return
    event = session.get_one(AdverseEvent, review.adverse_event_id)
    current = adverse_events.in_force(event).values
    agreed: dict[str, str] = {}
    for name in names:
        value = in_force(session, review)[name] if name == "cause_class" else getattr(review, name)
        if value is not None and value != current.get(name):
            agreed[name] = value
    if not agreed:
        return
    meeting = session.get_one(ReviewMeeting, review.meeting_id)
    adverse_events.amend(
        session,
        actor,
        event.id,
        AmendmentIn(
            **agreed,
            reason=consensus_reason(review, meeting),
            kind="consensus",
            review_id=review.id,
        ),
    )


def amend(session: Session, actor: Actor, review: Review, data: AmendIn) -> ReviewAmendment:
    """A change to a signed review, kept beside it (field, value, reason, who, when)."""
    actor.require(P.REVIEW_CASES)
    bad = _check("field", data.field, AMENDABLE_FIELDS)
    if data.field == "cause_class":
        bad += _check("value", data.value, CAUSE_CLASSES)
    if bad:
        raise ValidationFailed(bad)
    if review.status != "signed":
        raise Conflict(f"review {review.id} is a draft: change it directly, amend once signed")
    row = ReviewAmendment(
        review_id=review.id,
        field=data.field,
        value=data.value,
        reason=data.reason,
        by=actor.staff_id,
        at=utcnow(),
    )
    session.add(row)
    review.version += 1
    session.flush()
    if data.field == "cause_class":  # the event's history follows the review's amendment
        _write_consensus(session, actor, review, ("cause_class",))
    audit.record(
        session,
        actor,
        "amend",
        "review",
        review.id,
        None,
        {"field": data.field, "reason": data.reason},
    )
    return row


def in_force(session: Session, review: Review) -> dict[str, str | None]:
    """The review's summary, cause class and lessons with its amendments applied."""
    values = {f: getattr(review, f) for f in AMENDABLE_FIELDS}
    for row in amendments(session, review.id):
        values[row.field] = row.value
    return values


# --- actions and PDSA ------------------------------------------------------------------


def add_action(session: Session, actor: Actor, review: Review, data: ActionIn) -> ReviewAction:
    actor.require(P.REVIEW_CASES)
    meeting = session.get_one(ReviewMeeting, review.meeting_id)
    bad: list[FieldProblem] = []
    if data.due_on < meeting.held_on:
        bad.append(
            FieldProblem(
                "due_on",
                f"must not be before the meeting ({meeting.held_on.isoformat()})",
                data.due_on.isoformat(),
            )
        )
    if session.get(Staff, data.owner_id) is None:
        bad.append(FieldProblem("owner_id", "no such staff member", data.owner_id))
    if bool(data.measure_name) != bool(data.measure_unit):
        bad.append(
            FieldProblem(
                "measure_unit", "a PDSA measure needs both its name and its unit", data.measure_unit
            )
        )
    if bad:
        raise ValidationFailed(bad)
    action = ReviewAction(
        review_id=review.id,
        text=data.text,
        owner_id=data.owner_id,
        due_on=data.due_on,
        pdsa_plan=data.pdsa_plan or None,
        measure_name=data.measure_name or None,
        measure_unit=data.measure_unit or None,
        created_by=actor.staff_id,
    )
    session.add(action)
    session.flush()
    audit.record(
        session,
        actor,
        "create",
        "review_action",
        action.id,
        None,
        {
            "review_id": review.id,
            "due_on": data.due_on.isoformat(),
            "pdsa": action.measure_name is not None,
        },
    )
    return action


def set_action_status(
    session: Session, actor: Actor, action: ReviewAction, data: ActionStatusIn
) -> ReviewAction:
    actor.require(P.REVIEW_CASES)
    if data.status not in ACTION_STATUSES:
        raise ValidationFailed([_one_of("status", data.status, ACTION_STATUSES)])
    before = action.status
    if data.status == before:
        return action
    action.status = data.status
    if data.status == "done":
        action.done_at, action.done_by, action.done_note = utcnow(), actor.staff_id, data.note
    else:
        action.done_at = action.done_by = action.done_note = None
    audit.record(
        session,
        actor,
        "status",
        "review_action",
        action.id,
        None,
        {"from": before, "to": data.status},
    )
    return action


def add_measurement(
    session: Session, actor: Actor, action: ReviewAction, data: MeasurementIn
) -> PdsaMeasurement:
    actor.require(P.REVIEW_CASES)
    if action.measure_name is None:
        raise ValidationFailed(
            [FieldProblem("measure", f"action {action.id} is not a PDSA cycle (no measure)")]
        )
    row = PdsaMeasurement(
        action_id=action.id,
        measured_on=data.measured_on,
        value=data.value,
        note=data.note,
        recorded_by=actor.staff_id,
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor,
        "measure",
        "review_action",
        action.id,
        None,
        {"measured_on": data.measured_on.isoformat(), "value": data.value},
    )
    return row


@dataclass(frozen=True)
class ActionRow:
    action: ReviewAction
    review: Review
    owner: str
    overdue: bool


def action_rows(session: Session, actions: list[ReviewAction], today: date) -> list[ActionRow]:
    names = staff_names(session, {a.owner_id for a in actions})
    out = []
    for a in actions:
        review = session.get_one(Review, a.review_id)
        out.append(
            ActionRow(
                a,
                review,
                names.get(a.owner_id, f"staff {a.owner_id}"),
                a.status == "open" and a.due_on < today,
            )
        )
    return out


def today_in(zone: object) -> date:
    from zoneinfo import ZoneInfo

    now: datetime = utcnow()
    return now.astimezone(zone).date() if isinstance(zone, ZoneInfo) else now.date()
