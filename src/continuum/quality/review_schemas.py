"""API and form shapes of M&M reviews (separate from the tables). Closed lists (discipline,
factor group, cause class, harm, preventability) are checked by the service, which names the
field, the value given and the values allowed."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from continuum.core.schemas import Out, UtcTime

Text200 = Annotated[str, Field(min_length=1, max_length=200)]
Text4000 = Annotated[str, Field(min_length=1, max_length=4000)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class MeetingIn(Strict):
    held_on: date
    title: Text200
    chair_id: int | None = None


class AttendanceIn(Strict):
    staff_id: int | None = None
    guest_name: Annotated[str | None, Field(max_length=200)] = None
    discipline: str
    present: bool = True


class ReviewIn(Strict):
    run_id: int
    adverse_event_id: int | None = None
    summary: Annotated[str | None, Field(max_length=4000)] = None


class ProblemIn(Strict):
    description: Text4000
    factors: list[str] = Field(default_factory=list, description="contributory factor groups")
    factor_note: Annotated[str | None, Field(max_length=4000)] = None


class VoteIn(Strict):
    cause_class: str


class ConsensusIn(Strict):
    cause_class: str | None = None
    harm: str | None = None
    preventability: str | None = None
    lessons: Annotated[str | None, Field(max_length=4000)] = None
    summary: Annotated[str | None, Field(max_length=4000)] = None


class AmendIn(Strict):
    field: str
    value: Annotated[str | None, Field(max_length=4000)] = None
    reason: Text4000


class ActionIn(Strict):
    text: Text4000
    owner_id: int
    due_on: date
    pdsa_plan: Annotated[str | None, Field(max_length=4000)] = None
    measure_name: Annotated[str | None, Field(max_length=200)] = None
    measure_unit: Annotated[str | None, Field(max_length=40)] = None


class ActionStatusIn(Strict):
    status: str
    note: Annotated[str | None, Field(max_length=4000)] = None


class MeasurementIn(Strict):
    measured_on: date
    value: float = Field(allow_inf_nan=False)
    note: Annotated[str | None, Field(max_length=4000)] = None


# --- answers ---------------------------------------------------------------------------


class AttendanceOut(Out):
    id: int
    staff_id: int | None
    name: str | None = Field(
        description="staff name or guest name; null for roles without identifiers"
    )
    guest: bool
    discipline: str
    present: bool


class MeasurementOut(Out):
    id: int
    measured_on: date
    value: float
    note: str | None


class ActionOut(Out):
    id: int
    review_id: int
    meeting_id: int
    run_id: int
    text: str
    owner_id: int
    owner: str
    due_on: date
    status: str
    overdue: bool
    pdsa: bool
    pdsa_plan: str | None
    measure_name: str | None
    measure_unit: str | None
    measurements: list[MeasurementOut]
    done_at: UtcTime | None


class FactorOut(Out):
    group: str
    label: str
    note: str | None


class ProblemOut(Out):
    id: int
    description: str
    factors: list[FactorOut]


class AmendmentOut(Out):
    field: str
    value: str | None
    reason: str
    by: str | None
    at: UtcTime


class ReviewBrief(Out):
    id: int
    run_id: int
    patient_label: str
    adverse_event_id: int | None
    status: str
    cause_class: str | None


class ReviewOut(Out):
    id: int
    meeting_id: int
    run_id: int
    patient_label: str
    adverse_event_id: int | None
    status: str
    summary: str | None
    voting_open: bool
    votes: dict[str, int] = Field(description="votes per cause class (anonymous)")
    voters: int = Field(description="attendees who have voted")
    cause_class: str | None
    harm: str | None
    preventability: str | None
    lessons: str | None
    problems: list[ProblemOut]
    actions: list[ActionOut]
    amendments: list[AmendmentOut]
    signed_at: UtcTime | None
    signed_by: str | None
    perfusion_present: bool
    version: int


class MeetingOut(Out):
    id: int
    held_on: date
    title: str
    chair_id: int | None
    chair: str | None
    perfusion_present: bool = Field(description="a perfusionist attended (present)")
    attendance: list[AttendanceOut]
    reviews: list[ReviewBrief]
    open_actions: list[ActionOut] = Field(description="open actions of earlier meetings")


class MeetingBrief(Out):
    id: int
    held_on: date
    title: str
    chair: str | None
    perfusion_present: bool
    present: int
    cases: int


class VoteOut(Out):
    review_id: int
    voters: int
    recorded: bool
