"""API and form shapes of simulation training."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import Field

from continuum.core.competencies import Competency
from continuum.core.schemas import Out, RecordId, Strict, UtcTime


class SessionIn(Strict):
    title: Annotated[str, Field(min_length=3, max_length=200)] = "Circuit emergency drill"
    scenario: Annotated[str, Field(min_length=1, max_length=64)] = "control_vv"
    acceleration: float = Field(default=1.0, description="× real time (1 = real time)")
    seed: Annotated[int, Field(ge=0, le=1_000_000)] = 7
    trainee_ids: Annotated[list[RecordId], Field(default_factory=list, max_length=20)]


class FaultIn(Strict):
    scenario: Annotated[str, Field(min_length=1, max_length=64)]


class EndIn(Strict):
    note: Annotated[str | None, Field(default=None, max_length=2000)] = None


class SignOffIn(Strict):
    staff_id: RecordId
    competency: Competency = "simulation_response"
    note: Annotated[str | None, Field(default=None, max_length=2000)] = None


class FaultOut(Out):
    id: int
    scenario: str
    fault: str
    onset_minute: int = Field(description="simulated minute of onset, min")
    injected_at: UtcTime
    resolved_at: UtcTime | None
    resolved_minute: int | None = Field(description="simulated minute put right, min")


class SessionOut(Out):
    id: int
    run_id: int
    title: str
    scenario: str
    mode: str
    acceleration: float = Field(description="× real time")
    status: str
    started_at: UtcTime
    ended_at: UtcTime | None
    last_minute: int = Field(description="last simulated minute written, min")
    sim_minutes: int = Field(description="length of the simulated run, min")
    lead_in_minutes: int = Field(description="simulated history before the start, min")
    trainee_ids: list[int]
    note: str | None = Field(description="the instructor's debrief note (typed text)")
    faults: list[FaultOut]


class ScoreOut(Out):
    fault: str
    remedy: str
    onset: UtcTime
    obvious_at: UtcTime | None
    recognised_at: UtcTime | None
    recognised_by: str | None
    time_to_recognise_s: float | None = Field(description="from onset, s")
    right_action_at: UtcTime | None
    time_to_right_action_s: float | None = Field(description="from onset, s")
    recognised_before_obvious: bool | None
    wrong_actions: list[str] = Field(description="each with why it does not fit the fault")
    right_why: str | None = Field(default=None, description="why the right action counted")
    criterion: str = Field(default="", description="when the fault counts as obvious (truth)")


class TimelineOut(Out):
    at: UtcTime
    minute: int = Field(description="simulated minute, min")
    what: str
    kind: str
    by: str


class DebriefOut(Out):
    session: SessionOut
    scores: list[ScoreOut]
    timeline: list[TimelineOut]


class ScenarioOut(Out):
    name: str
    description: str
    modes: list[str]
    fault: str | None


class LibraryOut(Out):
    bases: list[ScenarioOut]
    faults: list[ScenarioOut]
    max_acceleration: float = Field(description="× real time")


class SignOffOut(Out):
    record_id: int
    staff_id: int
    competency: str
    achieved_on: date
    expires_on: date
