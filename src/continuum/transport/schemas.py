"""API and form shapes of transport missions (separate from the models)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AwareDatetime, Field

from continuum.core.schemas import Out, RecordId, Strict, UtcTime

MissionType = Literal["primary", "secondary"]
Vehicle = Literal["road", "rotor", "fixed_wing"]
Milestone = Literal[
    "call", "activation", "team_departure", "arrival_referring", "cannulation",
    "departure_patient", "arrival_base", "handover",
]  # fmt: skip
EventKind = Literal["desaturation", "flow_drop", "power_loss", "circuit_issue", "other"]
Words = Annotated[str | None, Field(default=None, max_length=2000)]
Reason = Annotated[str | None, Field(default=None, min_length=3, max_length=2000)]


class MissionIn(Strict):
    mission_type: MissionType
    vehicle: Vehicle
    referral_id: RecordId | None = Field(default=None, description="the initiation referral")
    run_id: RecordId | None = Field(default=None, description="the run, once there is one")
    patient_id: RecordId | None = Field(
        default=None, description="needed only without a referral or a run"
    )
    referring_hospital: Annotated[str | None, Field(default=None, max_length=200)] = Field(
        default=None, description="blank: the referral's referring hospital"
    )
    expected_min: int | None = Field(
        default=None, ge=1, le=1440, description="expected duration of the transfer, min"
    )
    call_at: AwareDatetime | None = Field(default=None, description="when the call came in")


class MissionAmend(Strict):
    vehicle: Vehicle | None = None
    run_id: RecordId | None = None
    referring_hospital: Annotated[str | None, Field(default=None, max_length=200)] = None
    expected_min: int | None = Field(default=None, ge=1, le=1440)
    reason: Reason = Field(default=None, description="needed when a value already recorded changes")


class MilestoneIn(Strict):
    milestone: Milestone
    at: AwareDatetime
    reason: Reason = Field(default=None, description="needed to correct a recorded time")


class ChecklistIn(Strict):
    cylinder_volume_l: float = Field(gt=0, le=50, description="cylinder water volume, L")
    cylinder_pressure_bar: float = Field(ge=0, le=300, description="cylinder pressure, bar")
    cylinders: int = Field(default=1, ge=1, le=10)
    sweep_l_min: float = Field(ge=0, le=15, description="sweep gas flow, L/min")
    ventilator_l_min: float = Field(default=0, ge=0, le=40, description="ventilator O2, L/min")
    console_battery_min: float = Field(ge=0, le=1440, description="console battery time, min")
    pump_battery_min: float = Field(ge=0, le=1440, description="pump drive battery time, min")
    expected_min: int | None = Field(
        default=None, ge=1, le=1440, description="blank: the mission's expected duration"
    )
    ticked: dict[str, bool] = Field(
        default_factory=dict, description="hand_crank, clamps, … → passed (true) or failed"
    )
    reasons: dict[str, Annotated[str, Field(max_length=2000)]] = Field(
        default_factory=dict, description="item → why the mission goes with it failed"
    )


class EventIn(Strict):
    at: AwareDatetime
    kind: EventKind
    text: Words = None


class HandoverIn(Strict):
    at: AwareDatetime
    to_name: Annotated[str, Field(min_length=1, max_length=200)]
    to_discipline: str = Field(description="a discipline (core DISCIPLINES)")
    summary: Annotated[str, Field(min_length=1, max_length=4000)]
    reason: Reason = Field(default=None, description="needed to correct a recorded handover")


class IntervalOut(Out):
    key: str
    label: str
    from_milestone: str
    to_milestone: str
    minutes: float | None = Field(description="minutes between the two milestones, min")
    shown: str


class MilestoneOut(Out):
    milestone: str
    label: str
    at: UtcTime
    corrected: bool


class ChecklistItemOut(Out):
    key: str
    label: str
    computed: bool
    passed: bool
    detail: str | None
    reason: str | None


class ChecklistOut(Out):
    id: int
    signed_at: UtcTime
    signed_by: int | None
    all_passed: bool
    oxygen_min: float = Field(description="minutes of oxygen at the planned flows, min")
    needed_min: float | None = Field(description="expected duration × safety factor, min")
    items: list[ChecklistItemOut]


class EventOut(Out):
    id: int
    at: UtcTime
    kind: str
    text: str | None


class HandoverOut(Out):
    id: int
    at: UtcTime
    to_name: str | None
    to_discipline: str
    summary: str | None


class ParticipantOut(Out):
    staff_id: int
    name: str
    discipline: str
    transport_competency_current: bool = Field(
        description="their 'transport' competency was valid on the mission's day (call time)"
    )


class MissionOut(Out):
    id: int
    version: int
    patient_id: int
    referral_id: int | None
    run_id: int | None
    mission_type: str
    vehicle: str
    referring_hospital: str | None
    expected_min: int | None = Field(description="expected duration of the transfer, min")
    arrived_on_ecmo: bool
    milestones: list[MilestoneOut]
    intervals: list[IntervalOut]
    checklist: ChecklistOut | None
    events: list[EventOut]
    handover: HandoverOut | None
    team: list[ParticipantOut]


class MissionSummaryOut(Out):
    id: int
    patient_id: int
    run_id: int | None
    mission_type: str
    vehicle: str
    referring_hospital: str | None
    call_at: UtcTime | None
    status: str


class MissionListOut(Out):
    missions: list[MissionSummaryOut]
