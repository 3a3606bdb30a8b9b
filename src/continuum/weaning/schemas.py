"""API and form shapes of weaning (separate from the ORM models)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field

from continuum.core.schemas import Outcome, not_future

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
