"""API and form shapes of the core record (separate from the ORM models)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

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
    "run", "initiation_decision", "round", "circuit_check", "weaning_trial", "decannulation"
]
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
    id: int
    label: str
    sex: str
    height_cm: float | None
    weight_kg: float | None
    mrn: str | None = None
    name: str | None = None
    birth_date: date | None = None
    identifiers_hidden: bool


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
    id: int
    code: str
    time: datetime
    value: float
    unit: str
    source: str
    status: str
    entered_by: int | None = None
    amends_id: int | None = None
