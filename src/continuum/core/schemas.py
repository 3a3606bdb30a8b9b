"""API and form shapes of the core record (separate from the ORM models)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    WithJsonSchema,
    field_validator,
)

from continuum.core.roles import Permission
from continuum.core.vocab import DISCIPLINES, ROLES, RUN_STATUSES

SupportType = Literal["pulmonary", "cardiac", "ecpr"]
Mode = Literal[
    "VV", "VA", "VAV", "VVA", "V-PA", "VA+Impella", "VA+IABP", "VV+IABP", "VV-ECCO2R", "VV+RVAD"
]
Sex = Literal["female", "male", "other", "unknown"]
CannulaRole = Literal["drainage", "return", "drainage_and_return", "distal_perfusion"]
Side = Literal["left", "right", "midline"]
ComponentKind = Literal["console", "pump", "membrane_lung", "heater", "tubing_set"]
StopReason = Literal[
    "end_of_run",
    "oxygenator_failure",
    "rising_transmembrane_gradient",
    "thrombus",
    "haemolysis",
    "device_malfunction",
    "air",
    "rupture",
    "end_of_product_life",
    "treatment_changed",
    "protocol",
    "other",
]
Outcome = Literal[
    "weaned_recovered",
    "died_on_ecmo",
    "bridged_to_vad",
    "bridged_to_transplant",
    "transferred",
    "withdrawn",
]
ObservationSource = Literal["console", "hl7", "lab", "manual", "csv", "mqtt", "fhir", "simulator"]
Participation = Literal["present", "consulted", "signed"]
# What anyone may enter for a colleague; "signed" comes only from the signing services
# (participation_service.record_signature), by the signer themself.
EnteredParticipation = Literal["present", "consulted"]
# The kinds of record a participation can point at (each has a run): a closed set.
RecordKind = Literal[
    "run", "initiation_decision", "round", "circuit_check", "weaning_trial", "decannulation",
    "ambulation_session",
    "transport_mission",
]  # fmt: skip
Text200 = Annotated[str, Field(min_length=1, max_length=200)]
Reason = Annotated[str, Field(min_length=3, max_length=2000)]
Optional100 = Annotated[str | None, Field(default=None, max_length=100)]

# How far ahead of the server's clock a clinical time may be: bedside devices and
# workstation clocks drift by a few minutes. Anything later is refused, never stored: a
# run "ended" tomorrow would stop its surveillance today.
FUTURE_SLACK = timedelta(minutes=10)
MAX_ID = 2**31 - 1  # ids are INTEGER columns on both databases
RecordId = Annotated[int, Field(ge=1, le=MAX_ID)]


def not_future(value: datetime | None, what: str = "time") -> datetime | None:
    if value is not None and value > datetime.now(UTC) + FUTURE_SLACK:
        limit = FUTURE_SLACK.total_seconds() / 60
        raise ValueError(
            f"{what} {value.isoformat()} is in the future (allowed: up to {limit:g} min ahead)"
        )
    return value


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, allow_inf_nan=False)


Mrn = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9\-_/.]+$")]


class PatientDetails(Strict):
    """A patient without a local MRN yet (an outside referral): a temporary identifier is
    issued (patient_service.create_with_temporary_mrn) and replaced by the MRN later."""

    name: Text200
    birth_date: date | None = None
    sex: Sex
    height_cm: Annotated[float | None, Field(default=None, ge=30, le=250)] = None
    weight_kg: Annotated[float | None, Field(default=None, ge=0.5, le=350)] = None

    @field_validator("birth_date")
    @classmethod
    def _plausible_birth(cls, value: date | None) -> date | None:
        if value is not None and not date(1900, 1, 1) <= value <= date.today():
            raise ValueError(f"birth date {value} must be between 1900-01-01 and today")
        return value


class PatientCreate(PatientDetails):
    mrn: Mrn


class PatientOut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: int
    label: str = Field(description="the patient's label (e.g. P-0001), never an identifier")
    sex: Sex
    height_cm: float | None = Field(description="Height, cm")
    weight_kg: float | None = Field(description="Weight, kg")
    mrn: str | None = None
    name: str | None = None
    birth_date: date | None = None
    identifiers_hidden: bool = Field(description="the role may not read MRN, name, birth date")


class RunCreate(Strict):
    patient_id: int | None = None
    mrn: str | None = None
    support_type: SupportType
    mode: Mode
    started_at: AwareDatetime | None = None
    indication: Annotated[str | None, Field(default=None, max_length=2000)] = None
    diagnosis: Annotated[str | None, Field(default=None, max_length=2000)] = None
    location: Optional100 = None

    @field_validator("started_at")
    @classmethod
    def _start(cls, value: datetime | None) -> datetime | None:
        return not_future(value, "start")


class ModeChange(Strict):
    mode: Mode
    at: AwareDatetime | None = None
    reason: Reason

    @field_validator("at")
    @classmethod
    def _at(cls, value: datetime | None) -> datetime | None:
        return not_future(value)


class CannulaCreate(Strict):
    role: CannulaRole
    site: Annotated[str, Field(min_length=2, max_length=64)]
    side: Side | None = None
    french: Annotated[int | None, Field(default=None, ge=6, le=40)] = None
    length_cm: Annotated[float | None, Field(default=None, gt=0, le=100)] = None
    insertion_depth_cm: Annotated[float | None, Field(default=None, gt=0, le=100)] = None
    tip_position: Optional100 = None
    make: Optional100 = None
    model: Optional100 = None
    serial: Optional100 = None
    lot: Optional100 = None
    udi: Annotated[str | None, Field(default=None, max_length=255)] = None
    inserted_at: AwareDatetime | None = None

    @field_validator("inserted_at")
    @classmethod
    def _at(cls, value: datetime | None) -> datetime | None:
        return not_future(value, "insertion time")


class ComponentCreate(Strict):
    kind: ComponentKind
    make: Optional100 = None
    model: Optional100 = None
    serial: Optional100 = None
    lot: Optional100 = None
    udi: Annotated[str | None, Field(default=None, max_length=255)] = None
    rated_flow_l_min: Annotated[float | None, Field(default=None, gt=0, le=10)] = None
    started_at: AwareDatetime | None = None
    replaces_id: int | None = None
    stop_reason: StopReason | None = None
    stop_note: Annotated[str | None, Field(default=None, max_length=2000)] = None

    @field_validator("started_at")
    @classmethod
    def _at(cls, value: datetime | None) -> datetime | None:
        return not_future(value, "start")


class ObservationIn(Strict):
    code: Annotated[str, Field(min_length=1, max_length=32)]
    value: float | str
    unit: Annotated[str | None, Field(default=None, max_length=16)] = None
    time: AwareDatetime
    source: ObservationSource = "manual"

    @field_validator("time")
    @classmethod
    def _t(cls, value: datetime) -> datetime:
        result = not_future(value, "observation time")
        assert result is not None
        return result


class ObservationBatch(Strict):
    observations: Annotated[list[ObservationIn], Field(min_length=1, max_length=10000)]


class AmendmentIn(Strict):
    value: float | str
    unit: Annotated[str | None, Field(default=None, max_length=16)] = None
    reason: Reason


class ParticipantIn(Strict):
    staff_id: int
    how: EnteredParticipation = "present"
    contribution: Annotated[str | None, Field(default=None, max_length=2000)] = None


class RunEnd(Strict):
    ended_at: AwareDatetime | None = None
    outcome: Outcome
    stop_reason: Reason

    @field_validator("ended_at")
    @classmethod
    def _end(cls, value: datetime | None) -> datetime | None:
        return not_future(value, "end")


class ObservationOut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: int
    code: str
    time: AwareDatetime
    value: float = Field(description="in the code's unit (docs/contracts.md §1)")
    unit: str
    source: str
    status: str
    entered_by: int | None = None
    amends_id: int | None = None
    entered_value: float | None = Field(
        default=None, description="as entered, when entered in another unit (else null)"
    )
    entered_unit: str | None = Field(
        default=None, description="the unit it was entered in, when not the code's unit"
    )


# --- response shapes: what the API answers (the OpenAPI document and the data dictionary
# are generated from these) --------------------------------------------------------------


def _iso(value: datetime) -> str:
    return value.isoformat()


# A UTC time as the record has always sent it (ISO 8601 with "+00:00"); documented as
# date-time. Responses are checked against it: a naive time is a server error in tests.
UtcTime = Annotated[
    AwareDatetime,
    PlainSerializer(_iso, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]
RunStatus = Literal[RUN_STATUSES]  # type: ignore[valid-type]
Role = Literal[ROLES]  # type: ignore[valid-type]
Discipline = Literal[DISCIPLINES]  # type: ignore[valid-type]


class Out(BaseModel):
    """A response shape. Every key an endpoint sends is declared here: a key a handler
    returns that the shape does not name is refused (a test fails), never silently sent
    undocumented or dropped."""

    model_config = ConfigDict(extra="forbid")


class Created(Out):
    id: int = Field(description="id of the record created (or acted on)")


class Stored(Out):
    stored: int = Field(description="how many observations were stored")


class MeOut(Out):
    staff_id: int | None = Field(description="null for a token of no staff member")
    name: str
    role: Role = Field(description="the role that decides access")
    discipline: Discipline | None
    permissions: list[Permission] = Field(description="every permission the role holds, sorted")


class RunListItem(Out):
    id: int
    patient_id: int
    support: SupportType
    mode: Mode | None = Field(description="the current support configuration")
    status: RunStatus
    started_at: UtcTime
    ecmo_day: int = Field(description="day of ECMO support, day 1 = the first 24 h")
    ended_at: UtcTime | None
    outcome: Outcome | None


class ModeSegment(Out):
    mode: Mode
    started_at: UtcTime
    ended_at: UtcTime | None
    reason: str | None


class CannulaOut(Out):
    id: int
    role: CannulaRole
    site: str
    side: Side | None
    french: int | None = Field(description="cannula size, Fr")
    length_cm: float | None = Field(description="cannula length, cm")
    inserted_at: UtcTime
    removed_at: UtcTime | None
    stop_reason: str | None


class ComponentOut(Out):
    id: int
    kind: ComponentKind
    make: str | None
    model: str | None
    serial: str | None
    lot: str | None
    udi: str | None
    started_at: UtcTime
    stopped_at: UtcTime | None
    stop_reason: str | None
    replaces_id: int | None
    age_hours: float = Field(description="time in use, hours (one decimal)")


class LatestValue(Out):
    time: UtcTime
    value: float = Field(description="in the code's unit (docs/contracts.md §1)")
    unit: str
    source: str
    entered_value: float | None = Field(
        default=None, description="as entered, when entered in another unit (else null)"
    )
    entered_unit: str | None = Field(
        default=None, description="the unit it was entered in, when not the code's unit"
    )


class CodeSummary(Out):
    count: int = Field(description="observations stored for the code")
    latest: LatestValue


class RunParticipant(Out):
    staff: str
    discipline: str | None
    how: Participation
    record: str = Field(description="the record taken part in, as type:id")
    contribution: str | None
    entered_by: str | None = Field(description="who entered it, when not the person")


class OpenAlert(BaseModel):
    """An unresolved alert as its domain sends it: the docs/contracts.md §3 alert JSON
    (these keys) plus the stored alert's identity and lifecycle (GET /api/v1/alerts/{id})."""

    model_config = ConfigDict(extra="allow")

    detector: str
    severity: Literal["info", "warning", "critical"]
    raised_at: AwareDatetime
    cleared_at: AwareDatetime | None
    summary: str
    evidence: dict[str, Any] = Field(description="the values that raised it, per detector")


class RunSummaryOut(Out):
    """One run: docs/contracts.md §4 (identifiers only for roles that may see them)."""

    id: int
    patient_id: int
    patient: PatientOut
    support: SupportType
    mode: Mode | None
    status: RunStatus
    started_at: UtcTime
    ended_at: UtcTime | None
    ecmo_day: int = Field(description="day of ECMO support, day 1 = the first 24 h")
    outcome: Outcome | None
    location: str | None
    modes: list[ModeSegment]
    cannulas: list[CannulaOut]
    components: list[ComponentOut]
    observations: dict[str, CodeSummary] = Field(description="observation code → count, latest")
    participants: list[RunParticipant]
    open_alerts: list[OpenAlert]


class RunEnded(Out):
    id: int
    status: RunStatus
    outcome: Outcome | None


# (time, value): a value of one code in the code's unit, oldest first.
SeriesPoint = tuple[UtcTime, float]


class AmendmentNote(Out):
    reason: str | None = Field(
        description="why it was corrected; null for roles without identifiers"
    )
    replacement_id: int = Field(description="the observation that replaced this one")
    amended_at: UtcTime
    amended_by: int | None = Field(description="staff id of who amended it")


class ObservationDetail(Out):
    id: int
    code: str
    time: AwareDatetime
    value: float = Field(description="in the code's unit (docs/contracts.md §1)")
    unit: str
    source: ObservationSource
    status: Literal["final", "superseded", "entered_in_error"]
    entered_by: int | None = None
    amends_id: int | None = None
    entered_value: float | None = Field(
        default=None, description="as entered, when entered in another unit (else null)"
    )
    entered_unit: str | None = Field(
        default=None, description="the unit it was entered in, when not the code's unit"
    )
    amendment: AmendmentNote | None = Field(
        default=None, description="present when this value was amended (absent otherwise)"
    )


class StaffOut(Out):
    id: int
    name: str
    discipline: Discipline | None
    role: Role


class AuditOut(Out):
    id: int
    at: UtcTime
    actor: str
    action: str
    entity: str | None
    entity_id: str | None
    patient_id: int | None
    detail: dict[str, Any] | None = Field(description="what changed (old and new values)")
    client: str | None


class ScorePoint(Out):
    item: str
    input: Any = Field(description="the input that drove the item")
    points: float


class CalculationOut(Out):
    """A calculator's answer (docs/contracts.md §5): the same shape from the API, the
    command line and the records that store one."""

    name: str = Field(description="the calculator (GET /api/v1/calculators)")
    value: float = Field(description="the result, in ``unit``")
    unit: str = Field(description="e.g. L/min for a flow target, m² for BSA")
    interpretation: dict[str, Any] = Field(description="the calculator's own reading of it")
    inputs: dict[str, Any] = Field(description="inputs as used, in the calculator's units")
    formula: str
    source: str = Field(description="the reference, with [P] primary / [S] secondary / [U]")
    warnings: list[str]
    points: list[ScorePoint] = Field(description="a score's working (empty otherwise)")
