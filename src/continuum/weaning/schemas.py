"""API and form shapes of weaning (separate from the ORM models)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field

from continuum.core.schemas import Out, Outcome, RunStatus, UtcTime, not_future

Text = Annotated[str, Field(min_length=1, max_length=2000)]
OptText = Annotated[str | None, Field(default=None, max_length=2000)]
Past = Annotated[AwareDatetime, AfterValidator(not_future)]
TrialKind = Literal["fdo2_reduction", "sweep_reduction", "sweep_off", "va_flow_reduction"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, allow_inf_nan=False)


class ReviewIn(Strict):
    """Values the clinician adds that no observation holds (pulsatility, pulse pressure)."""

    pulsatile_hours: Annotated[float | None, Field(default=None, ge=0, le=2000)] = None
    pulse_pressure: Annotated[float | None, Field(default=None, ge=0, le=200)] = None
    note: OptText = None


class TrialStart(Strict):
    kind: TrialKind
    started_at: Past | None = None
    planned_minutes: Annotated[int | None, Field(default=None, ge=5, le=24 * 60)] = None


class StepIn(Strict):
    stage: Annotated[str, Field(min_length=1, max_length=24)]
    at: Past | None = None
    values: dict[str, float] = Field(default_factory=dict)
    pulse_pressure: Annotated[float | None, Field(default=None, ge=0, le=200)] = None
    note: OptText = None


class TrialFinish(Strict):
    outcome: Literal["passed", "failed"]
    reason: Text
    at: Past | None = None


class TrialAbort(Strict):
    reason: Text
    at: Past | None = None


class AssessmentIn(Strict):
    flow_safe: bool
    anticoagulation_ok: bool
    assessment: Text


class DecannulationIn(Strict):
    decannulated_at: Past | None = None
    trial_id: int | None = None
    no_trial_reason: OptText = None
    anticoagulation_stopped_at: Past | None = None
    anticoagulation_note: OptText = None
    blood_products_available: bool
    positioning: Annotated[str, Field(min_length=1, max_length=200)]
    closure_technique: Annotated[str, Field(min_length=1, max_length=200)]
    haemostasis_minutes: Annotated[float, Field(ge=0, le=600)]
    limb_perfusion: Text
    doppler: OptText = None
    outcome: Outcome = "weaned_recovered"
    stop_reason: Text = "Weaned from ECMO; decannulated"
    note: OptText = None


class SignIn(Strict):
    part: Literal["physician", "perfusionist"] | None = None


class FollowUpDone(Strict):
    result: Text
    at: Past | None = None


# --- response shapes ----------------------------------------------------------------------

Family = Literal["VV", "VA"]
Verdict = Literal["met", "not_met", "unknown"]
TrialStatus = Literal["in_progress", "passed", "failed", "aborted"]


class Counts(Out):
    met: int
    not_met: int
    unknown: int = Field(description="criteria with no value to judge")


class Judged(BaseModel):
    """One readiness or trial criterion judged on a value (stored with the review or step,
    so older rows may carry further keys)."""

    model_config = ConfigDict(extra="allow")

    name: str
    label: str
    value: float | None = Field(description="the value judged, in ``unit``")
    unit: str
    status: Verdict
    threshold: str = Field(description="the threshold in force, as text")
    source: str = Field(description="where the threshold comes from ([P]/[S]/[U])")
    note: str = ""


class ReadinessRow(Judged):
    at: UtcTime | None = Field(description="time of the value")
    how: Literal["observation", "cuff (non-invasive)", "derived", "calculated", "entered", "none"]


class ReadinessOut(Out):
    family: Family = Field(description="weaning protocol family of the support configuration")
    rows: list[ReadinessRow]
    counts: Counts


class StepJudged(Judged):
    carried_from: UtcTime | None = Field(
        default=None, description="time of an earlier observation used (value not given)"
    )


class StepOut(Out):
    id: int
    seq: int
    stage: str
    judged: list[StepJudged]


class ReviewOut(Out):
    id: int
    at: UtcTime
    by: str
    met: int
    not_met: int
    unknown: int
    criteria: list[ReadinessRow]
    note: str | None


class PerfusionAssessment(Out):
    by: str | None
    at: UtcTime | None
    flow_safe: bool | None = Field(description="minimum flow judged safe for the circuit")
    anticoagulation_ok: bool | None = Field(description="anticoagulation adequate at low flow")
    text: str | None


class TrialStepOut(Out):
    seq: int
    stage: str
    at: UtcTime
    measurements: dict[str, float] = Field(description="code → value, in the code's unit")
    judged: list[StepJudged]
    note: str | None


class TrialOut(Out):
    id: int
    kind: TrialKind
    title: str
    status: TrialStatus
    started_at: UtcTime
    ended_at: UtcTime | None
    reason: str | None
    baseline_flow: float | None = Field(description="blood flow at the start, L/min")
    perfusion_assessment: PerfusionAssessment
    steps: list[TrialStepOut]


class CoagulationValue(Out):
    code: str
    value: float = Field(description="in ``unit`` (anti-Xa IU/mL, aPTT s, ACT s …)")
    unit: str
    at: UtcTime


class Signature(Out):
    name: str | None
    at: UtcTime | None


class DecannulationOut(Out):
    id: int
    trial_id: int | None
    no_trial_reason: str | None
    decannulated_at: UtcTime | None
    anticoagulation_stopped_at: UtcTime | None
    coagulation: list[CoagulationValue] = Field(description="latest coagulation values")
    blood_products_available: bool
    positioning: str
    closure_technique: str
    haemostasis_minutes: float = Field(description="time to haemostasis, min")
    limb_perfusion: str
    doppler: str | None
    outcome: Outcome
    signed: bool
    physician: Signature
    perfusionist: Signature


class FollowUpOut(Out):
    id: int
    item: str
    due_at: UtcTime | None
    done_at: UtcTime | None
    result: str | None


class TrialBand(Out):
    start: UtcTime
    end: UtcTime
    label: str
    status: TrialStatus
    steps: list[tuple[UtcTime, str]] = Field(description="(time, stage) of each step")


class WeaningChart(Out):
    series: dict[str, list[tuple[UtcTime, float]]] = Field(
        description="code → (time, value) over the trials' span, in the code's unit"
    )
    bands: list[TrialBand]


class WeaningHistoryOut(Out):
    run_id: int
    status: RunStatus
    outcome: Outcome | None
    family: Family
    reviews: list[ReviewOut]
    trials: list[TrialOut]
    decannulations: list[DecannulationOut]
    follow_ups: list[FollowUpOut]
    chart: WeaningChart


class Signed(Out):
    signed: bool = Field(description="both parts signed")
    run_ended: bool = Field(description="this signature ended the run")
