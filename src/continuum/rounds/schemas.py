"""API and form shapes of the rounds domain (separate from the stored models)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, AwareDatetime, Field, field_validator

from continuum.core.schemas import RecordId, Strict, not_future

Text = Annotated[str | None, Field(default=None, max_length=4000)]
# What the round decided about an alert. Every disposition but "left_open" acknowledges
# the alert in the saver's name (through core's ALERT_REVIEWERS hook); "left_open" records
# the review and leaves the alert open for the bedside. Resolving is done on the alert.
Disposition = Literal["acknowledged", "action_raised", "escalated", "not_relevant", "left_open"]
LEAVE_OPEN = "left_open"
Shift = Literal["day", "night", "round"]
ClotGrade = Literal["none", "fibrin", "small_clot", "large_clot", "not_present"]

GOAL_CODES = ("blood_flow", "sweep_flow", "spo2", "pao2", "paco2", "anti_xa", "aptt")
FLUID_BALANCE = "fluid_balance_ml"
FLUID_BALANCE_RANGE = (-10000.0, 10000.0)
THERAPY_SECTIONS = ("anticoagulation", "ventilation", "sedation", "fluids", "blood_products")
INSPECTION_SITES = (
    "pump_head",
    "ml_inlet",
    "ml_outlet",
    "connectors",
    "bridge",
    "drainage_cannula_site",
    "return_cannula_site",
)
SITE_LABELS = {
    "pump_head": "Pump head",
    "ml_inlet": "Membrane lung inlet",
    "ml_outlet": "Membrane lung outlet",
    "connectors": "Connectors",
    "bridge": "Bridge",
    "drainage_cannula_site": "Drainage cannula site",
    "return_cannula_site": "Return cannula site",
}
GRADE_ORDER = {"not_present": 0, "none": 0, "fibrin": 1, "small_clot": 2, "large_clot": 3}
GRADES = ("none", "fibrin", "small_clot", "large_clot")
# Sites whose component a circuit may lack (no bridge; one site for a dual-lumen cannula):
# they may be graded "not_present". The pump head and the membrane lung are in every circuit.
OPTIONAL_SITES = ("connectors", "bridge", "drainage_cannula_site", "return_cannula_site")
CANNULA_SITES = ("drainage_cannula_site", "return_cannula_site")
PRODUCTS = ("red_cells", "platelets", "plasma", "cryoprecipitate", "fibrinogen_g")


class GoalRange(Strict):
    low: float | None = None
    high: float | None = None


class ActionIn(Strict):
    """Owner and due time are checked by the service, so the message can say what is needed."""

    text: Annotated[str, Field(min_length=1, max_length=1000)]
    owner_discipline: str | None = None
    due_at: AwareDatetime | None = None


class AlertReview(Strict):
    detector: Annotated[str, Field(min_length=1, max_length=64)]
    severity: str | None = None
    summary: Text = None
    # Required for every open alert of the run (the service names the one missing); no
    # default, so nothing is acknowledged that nobody chose to acknowledge.
    disposition: Disposition | None = None
    note: Text = None


class TherapyReview(Strict):
    anticoagulation: Text = None
    ventilation: Text = None
    sedation: Text = None
    fluids: Text = None
    blood_products: Text = None


class RoundIn(Strict):
    round_date: date | None = None  # the programme's local date; default today
    held_at: Annotated[AwareDatetime | None, AfterValidator(not_future)] = None
    attendees: list[RecordId] = Field(default_factory=list)
    problems: Text = None
    alerts_reviewed: list[AlertReview] = Field(default_factory=list)
    therapy: TherapyReview = Field(default_factory=TherapyReview)
    goals: dict[str, GoalRange] = Field(default_factory=dict)
    actions: list[ActionIn] = Field(default_factory=list)
    # The version of the day's draft the form was opened on (core.concurrency); omitted
    # when creating the day's round. A save on an older version is refused (409).
    version: Annotated[int | None, Field(default=None, ge=1, le=2**31 - 1)] = None


class AmendmentIn(Strict):
    section: Annotated[str, Field(min_length=1, max_length=64)]
    text: Annotated[str, Field(min_length=1, max_length=4000)]


class CompleteIn(Strict):
    note: Text = None


class CircuitCheckIn(Strict):
    checked_at: AwareDatetime | None = None
    shift: Shift = "round"  # the form defaults it from the clock (rounds.settings)
    inspection: dict[str, ClotGrade] = Field(default_factory=dict)
    readings: dict[str, float] = Field(default_factory=dict)
    heater: Text = None
    transfusions: dict[str, float] = Field(default_factory=dict)
    findings: Text = None
    action: ActionIn | None = None

    @field_validator("checked_at")
    @classmethod
    def _at(cls, value: datetime | None) -> datetime | None:
        return not_future(value, "check time")
