"""API and form shapes of the initiation record (separate from the ORM models)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, Field, field_validator

from continuum.core.schemas import (
    Mode,
    Mrn,
    PatientCreate,
    PatientDetails,
    Strict,
    SupportType,
    not_future,
)

Status = Literal["new", "under_assessment", "accepted", "declined", "deferred", "withdrawn"]
Urgency = Literal["emergency", "urgent", "routine"]
Outcome = Literal["accept", "decline", "defer"]
Text200 = Annotated[str, Field(min_length=2, max_length=200)]
LongText = Annotated[str | None, Field(default=None, max_length=4000)]
Reason = Annotated[str | None, Field(default=None, max_length=2000)]


# The version of the decision record the form was opened on (core.concurrency): required
# for every edit and signature; one made on an older version is refused (409).
Version = Annotated[int | None, Field(default=None, ge=1, le=2**31 - 1)]


class ReferralCreate(Strict):
    patient_id: int | None = None
    new_patient: PatientCreate | None = None
    # An outside patient without a local MRN: a temporary identifier is issued.
    new_outside_patient: PatientDetails | None = None
    referring_hospital: Text200
    referring_clinician: Text200
    contact: Annotated[str | None, Field(default=None, max_length=200)] = None
    referred_at: AwareDatetime | None = None
    support_type: SupportType
    urgency: Urgency = "urgent"
    clinical_picture: Annotated[str, Field(min_length=3, max_length=4000)]

    @field_validator("referred_at")
    @classmethod
    def _at(cls, value: datetime | None) -> datetime | None:
        return not_future(value, "referral time")


class StatusChange(Strict):
    status: Status
    reason: Reason = None


class CandidacyIn(Strict):
    """Ticked checklist items, raw score inputs (name → inputs) and trial-criteria inputs."""

    checked: list[str] = Field(default_factory=list, max_length=200)
    note: LongText = None
    scores: dict[Literal["murray", "resp", "preserve", "save"], dict[str, Any]] = Field(
        default_factory=dict
    )
    eolia: dict[str, Any] = Field(default_factory=dict)
    ecpr: dict[str, Any] = Field(default_factory=dict)
    score_reason: Reason = None
    version: Version = None


class PhysiologyIn(Strict):
    respiratory_failure: bool = False
    adequate_cardiac_function: bool = False
    cardiogenic_shock: bool = False
    cardiac_arrest: bool = False
    rv_failure: bool = False
    lv_distension: bool = False
    native_cardiac_recovery: bool = False
    differential_hypoxaemia: bool = False
    current_mode: Mode | None = None
    femoral_return: bool = False
    prefer_iabp: bool = False


class ModalityIn(Strict):
    physiology: PhysiologyIn
    chosen_mode: Mode | None = None
    choice_reason: Reason = None
    version: Version = None


Flow = Annotated[float | None, Field(default=None, gt=0, le=10)]
WarningText = Annotated[str, Field(min_length=3, max_length=400)]


class PlannedCannula(Strict):
    role: Literal["drainage", "return", "drainage_and_return", "distal_perfusion"]
    site: Annotated[str, Field(min_length=2, max_length=64)]
    side: Literal["left", "right", "midline"] | None = None
    catalogue_id: Annotated[str | None, Field(default=None, max_length=64)] = None
    french: Annotated[int | None, Field(default=None, ge=6, le=40)] = None


class PlanIn(Strict):
    """The perfusionist's configuration plan."""

    weight_kg: Annotated[float | None, Field(default=None, ge=0.5, le=350)] = None
    height_cm: Annotated[float | None, Field(default=None, ge=30, le=250)] = None
    cannulas: list[PlannedCannula] = Field(default_factory=list, max_length=4)
    membrane_lung_make: Annotated[str | None, Field(default=None, max_length=100)] = None
    membrane_lung_model: Annotated[str | None, Field(default=None, max_length=100)] = None
    rated_flow_l_min: Flow = None
    prime_volume_ml: Annotated[float | None, Field(default=None, ge=0, le=5000)] = None
    hct_pct: Annotated[float | None, Field(default=None, ge=5, le=75)] = None
    blood_products: LongText = None
    anticoagulant: Literal["ufh", "bivalirudin", "none"] = "ufh"
    anticoagulation_plan: LongText = None
    monitor_code: Literal["anti_xa", "aptt"] = "anti_xa"
    monitor_low: Annotated[float | None, Field(default=None, ge=0, le=300)] = None
    monitor_high: Annotated[float | None, Field(default=None, ge=0, le=300)] = None
    flow_goal_low: Flow = None
    flow_goal_high: Flow = None
    sweep_goal_l_min: Annotated[float | None, Field(default=None, ge=0, le=20)] = None
    spo2_goal_low: Annotated[float | None, Field(default=None, ge=50, le=100)] = None
    paco2_goal_low: Annotated[float | None, Field(default=None, ge=10, le=150)] = None
    paco2_goal_high: Annotated[float | None, Field(default=None, ge=10, le=150)] = None
    rated_flow_reason: Reason = None
    # Each warning of the plan's checks (e.g. "… TOO SMALL …", flow above the rated flow),
    # by its exact text → why the plan stands. Every warning needs one before an accepted
    # decision is signed; a warning whose text changes (new flow, new cannula) needs a new one.
    warning_reasons: dict[WarningText, Reason] = Field(default_factory=dict, max_length=12)
    version: Version = None


class DecisionIn(Strict):
    outcome: Outcome
    reasons: Annotated[str, Field(min_length=3, max_length=4000)]
    override_reason: Reason = None
    version: Version = None


class SignIn(Strict):
    """Sign as the responsible physician or the perfusionist (default: the signer's role)."""

    as_role: Literal["physician", "perfusionist"] | None = None
    version: Version = None


class AmendmentIn(Strict):
    note: Annotated[str, Field(min_length=3, max_length=4000)]


class ConfirmMrnIn(Strict):
    """The hospital MRN that replaces an outside patient's temporary identifier."""

    mrn: Mrn
    reason: Annotated[str, Field(min_length=3, max_length=2000)]


class ReassessIn(Strict):
    """Reopen a signed deferral: why, now (e.g. "lactate back: 2.1 mmol/L")."""

    reason: Annotated[str, Field(min_length=3, max_length=2000)]


class StartRunIn(Strict):
    started_at: AwareDatetime | None = None
    location: Annotated[str | None, Field(default=None, max_length=100)] = None
    missing_signoff_reason: Reason = None

    @field_validator("started_at")
    @classmethod
    def _at(cls, value: datetime | None) -> datetime | None:
        return not_future(value, "start")
