"""M&M reviews: the tables.

A ``review_meeting`` (date, title, chair) has its ``review_attendance`` (a staff member or a
named guest, with a discipline; present or sent apologies) and its ``review`` rows, one per
case (a run, optionally one adverse event of it). A review holds its care delivery problems
(``review_problem``) with their contributory factors (``review_factor``, London Protocol
groups plus the ECMO additions of ``quality.review_factors``), the cause class agreed, the
harm and preventability agreed (for an adverse event these are also written to the event's
history as ``adverse_event_amendment`` rows of kind "consensus"), the lessons and the
actions (``review_action``), each optionally a PDSA cycle with its measurements
(``pdsa_measurement``).

Anonymous voting on the cause class: ``review_vote_cast`` says only that an attendee has
voted (one vote each); ``review_vote_tally`` counts the votes per class. Nothing links a
voter to a choice. A signed review is not edited: later changes are ``review_amendment``
rows (field, value, reason, who, when).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from continuum.core.vocab import DISCIPLINES, sql_in
from continuum.db import Base, UTCDateTime, utcnow
from continuum.quality.review_factors import (
    ACTION_STATUSES,
    AMENDABLE_FIELDS,
    CAUSE_CLASSES,
    FACTOR_GROUPS,
    REVIEW_STATUSES,
)
from continuum.quality.taxonomy import HARMS, PREVENTABILITIES


class ReviewMeeting(Base):
    __tablename__ = "review_meeting"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    held_on: Mapped[date] = mapped_column(Date, index=True)
    title: Mapped[str] = mapped_column(String(200))
    chair_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ReviewAttendance(Base):
    """One attendee: a staff member (``staff_id``) or a named guest (``guest_name``)."""

    __tablename__ = "review_attendance"
    __table_args__ = (
        CheckConstraint(sql_in("discipline", DISCIPLINES), name="discipline"),
        CheckConstraint("(staff_id IS NULL) <> (guest_name IS NULL)", name="staff_or_guest"),
        UniqueConstraint("meeting_id", "staff_id", name="uq_review_attendance_staff"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("review_meeting.id"), index=True)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    guest_name: Mapped[str | None] = mapped_column(String(200))
    discipline: Mapped[str] = mapped_column(String(32))
    present: Mapped[bool] = mapped_column(Boolean, default=True)
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Review(Base):
    """One case reviewed at a meeting."""

    __tablename__ = "review"
    __table_args__ = (
        CheckConstraint(sql_in("status", REVIEW_STATUSES), name="status"),
        CheckConstraint(
            f"cause_class IS NULL OR {sql_in('cause_class', CAUSE_CLASSES)}", name="cause_class"
        ),
        CheckConstraint(f"harm IS NULL OR {sql_in('harm', HARMS)}", name="harm"),
        CheckConstraint(
            f"preventability IS NULL OR {sql_in('preventability', PREVENTABILITIES)}",
            name="preventability",
        ),
        CheckConstraint("(status = 'signed') = (signed_at IS NOT NULL)", name="signed"),
        CheckConstraint("version >= 1", name="version"),
        Index("ix_review_run", "run_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("review_meeting.id"), index=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("run.id"))
    adverse_event_id: Mapped[int | None] = mapped_column(ForeignKey("adverse_event.id"))
    status: Mapped[str] = mapped_column(String(16), default="draft")
    summary: Mapped[str | None] = mapped_column(Text)
    voting_open: Mapped[bool] = mapped_column(Boolean, default=False)
    cause_class: Mapped[str | None] = mapped_column(String(16))
    harm: Mapped[str | None] = mapped_column(String(24))
    preventability: Mapped[str | None] = mapped_column(String(24))
    lessons: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    signed_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)


class ReviewProblem(Base):
    """A care delivery problem: where care went beyond safe practice."""

    __tablename__ = "review_problem"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("review.id"), index=True)
    description: Mapped[str] = mapped_column(Text)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ReviewFactor(Base):
    """A contributory factor of a care delivery problem."""

    __tablename__ = "review_factor"
    __table_args__ = (
        CheckConstraint(sql_in("factor_group", FACTOR_GROUPS), name="factor_group"),
        UniqueConstraint("problem_id", "factor_group", name="uq_review_factor_group"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    problem_id: Mapped[int] = mapped_column(ForeignKey("review_problem.id"), index=True)
    factor_group: Mapped[str] = mapped_column(String(40))
    note: Mapped[str | None] = mapped_column(Text)


class ReviewVoteCast(Base):
    """That an attendee has voted on a review's cause class (never what they chose)."""

    __tablename__ = "review_vote_cast"

    review_id: Mapped[int] = mapped_column(ForeignKey("review.id"), primary_key=True)
    attendance_id: Mapped[int] = mapped_column(ForeignKey("review_attendance.id"), primary_key=True)


class ReviewVoteTally(Base):
    """Votes per cause class of a review (no voter, no time)."""

    __tablename__ = "review_vote_tally"
    __table_args__ = (
        CheckConstraint(sql_in("cause_class", CAUSE_CLASSES), name="cause_class"),
        CheckConstraint("votes >= 0", name="votes"),
    )

    review_id: Mapped[int] = mapped_column(ForeignKey("review.id"), primary_key=True)
    cause_class: Mapped[str] = mapped_column(String(16), primary_key=True)
    votes: Mapped[int] = mapped_column(Integer, default=0)


class ReviewAction(Base):
    """An action agreed at review; with ``measure_name`` it is a PDSA cycle."""

    __tablename__ = "review_action"
    __table_args__ = (
        CheckConstraint(sql_in("status", ACTION_STATUSES), name="status"),
        CheckConstraint("(status = 'done') = (done_at IS NOT NULL)", name="done"),
        CheckConstraint("(measure_name IS NULL) = (measure_unit IS NULL)", name="measure_has_unit"),
        Index("ix_review_action_open", "status", "due_on"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("review.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    owner_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    due_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(8), default="open")
    pdsa_plan: Mapped[str | None] = mapped_column(Text)
    measure_name: Mapped[str | None] = mapped_column(String(200))
    measure_unit: Mapped[str | None] = mapped_column(String(40))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    done_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    done_note: Mapped[str | None] = mapped_column(Text)


class PdsaMeasurement(Base):
    """A follow-up measurement of a PDSA action's measure."""

    __tablename__ = "pdsa_measurement"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    action_id: Mapped[int] = mapped_column(ForeignKey("review_action.id"), index=True)
    measured_on: Mapped[date] = mapped_column(Date)
    value: Mapped[float] = mapped_column(Float)
    note: Mapped[str | None] = mapped_column(Text)
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ReviewAmendment(Base):
    """A change to a signed review (it is never edited once signed)."""

    __tablename__ = "review_amendment"
    __table_args__ = (CheckConstraint(sql_in("field", AMENDABLE_FIELDS), name="field"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("review.id"), index=True)
    field: Mapped[str] = mapped_column(String(32))
    value: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)
    by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
