"""API and form shapes of the initiation record (separate from the ORM models)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, Field, field_validator

from continuum.core.schemas import (
    CalculationOut,
    Mode,
    Mrn,
    Out,
    PatientCreate,
    PatientDetails,
    PatientOut,
    Strict,
    SupportType,
    UtcTime,
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
    # the last arterial gas and ventilator settings before ECLS (any support)
    pre_ecls: dict[str, Any] = Field(default_factory=dict)
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
# A dictionary value takes no default: the constraint alone (a ``Reason`` here would warn).
WarningReason = Annotated[str | None, Field(max_length=2000)]


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
    warning_reasons: dict[WarningText, WarningReason] = Field(default_factory=dict, max_length=12)
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


# --- response shapes ----------------------------------------------------------------------


class ReferralOut(Out):
    id: int
    patient: PatientOut
    referring_hospital: str
    referring_clinician: str
    contact: str | None
    referred_at: UtcTime | None
    support_type: SupportType
    urgency: Urgency
    clinical_picture: str
    status: Status
    time_since_referral: str = Field(description="e.g. '45 min', '3 h 10 min'")


class StatusStep(Out):
    from_: Status | None = Field(alias="from", serialization_alias="from")
    to: Status
    reason: str | None
    at: UtcTime | None


class CheckedCriterion(Out):
    id: str
    kind: str
    text: str
    source: str


class ScoreOut(Out):
    name: Literal["murray", "resp", "preserve", "save"]
    status: Literal["computed", "missing inputs", "not entered"]
    entered: dict[str, Any] = Field(description="the inputs entered")
    missing: list[str] = Field(description="inputs still needed")
    result: CalculationOut | None


class TrialItem(Out):
    text: str
    met: bool | None


class TrialCriteriaOut(Out):
    name: str
    status: Literal["met", "not met", "incomplete"]
    source: str
    note: str
    items: list[TrialItem]


class CandidacyOut(Out):
    checked: list[CheckedCriterion]
    note: str | None
    scores: list[ScoreOut]
    score_reason: str | None
    trials: list[TrialCriteriaOut] = Field(description="trial entry criteria (EOLIA, ECPR)")


class RuleFiredOut(Out):
    rule: str
    suggests: str
    reasoning: str
    source: str


class Recommendation(Out):
    recommended: Mode | None = Field(description="the support configuration the rules give")
    rules_fired: list[RuleFiredOut]


class ModalityOut(Recommendation):
    physiology: dict[str, Any] | None = Field(description="the physiology entered (PhysiologyIn)")
    chosen: Mode | None
    choice_reason: str | None


class CannulaCheck(Out):
    cannula: dict[str, Any] = Field(description="the planned cannula (PlannedCannula)")
    check: CalculationOut | None = Field(description="pressure drop at the target flow")
    verdict: str


class WarningAcknowledgement(Out):
    warning: str = Field(description="the plan warning as the checks worded it")
    reason: str | None = Field(
        description="why the team accepts it; null until given (required before signing)"
    )


class ConfigurationPlanOut(Out):
    plan: dict[str, Any] | None = Field(description="the plan as entered (PlanIn)")
    flow_target: CalculationOut | None = Field(description="target blood flow, L/min")
    design_flow_l_min: float | None = Field(description="flow the circuit is sized for, L/min")
    cannula_checks: list[CannulaCheck]
    priming: CalculationOut | None = Field(description="prime dilution: haematocrit after prime")
    warnings: list[str]
    warning_acknowledgements: list[WarningAcknowledgement] = Field(
        description="each plan warning with the reason it is accepted"
    )
    missing: list[str]


class DecisionParticipant(Out):
    staff: str
    discipline: str | None
    how: Literal["present", "consulted", "signed"]
    contribution: str | None
    at: UtcTime | None


class AmendmentOut(Out):
    note: str
    at: UtcTime | None
    by: int | None = Field(default=None, description="staff id of who wrote it")


class DecisionOut(Out):
    id: int
    sequence: int = Field(description="1, then one more per reassessment")
    version: int = Field(description="claim it when editing or signing (If-Match or body)")
    supersedes_id: int | None
    reassessment_reason: str | None
    outcome: Outcome | None
    reasons: str | None
    override_reason: str | None
    decided_at: UtcTime | None
    physician_signed_at: UtcTime | None
    physician_signed_by: str | None
    perfusionist_signed_at: UtcTime | None
    perfusionist_signed_by: str | None
    missing_signoff_reason: str | None
    run_id: int | None
    referral_to_decision_h: float | None = Field(description="hours from referral to decision")
    referral_to_cannulation_h: float | None = Field(
        description="hours from referral to the start of the run"
    )
    participants: list[DecisionParticipant]
    amendments: list[AmendmentOut]


class EarlierDecision(Out):
    id: int
    sequence: int
    outcome: Outcome | None
    reasons: str | None
    decided_at: UtcTime | None
    physician_signed_by: str | None
    physician_signed_at: UtcTime | None
    perfusionist_signed_by: str | None
    perfusionist_signed_at: UtcTime | None
    amendments: list[AmendmentOut]
    reassessment_reason: str | None = Field(description="why it was reopened")


class InitiationRecordOut(Out):
    """The whole decision record of a referral (identifiers only for roles that see them)."""

    referral: ReferralOut
    status_history: list[StatusStep]
    candidacy: CandidacyOut
    modality: ModalityOut
    configuration_plan: ConfigurationPlanOut
    decision: DecisionOut
    earlier_decisions: list[EarlierDecision] = Field(description="replaced by reassessment")
