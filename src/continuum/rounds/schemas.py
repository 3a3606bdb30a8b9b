"""API and form shapes of the rounds domain (separate from the stored models)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from continuum.core.schemas import Out, RecordId, Strict, UtcTime, not_future

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


# --- response shapes ----------------------------------------------------------------------


class Attendee(Out):
    name: str
    discipline: str | None
    how: list[Literal["present", "consulted", "signed"]] = Field(description="how they took part")


class AlertReviewed(BaseModel):
    """An alert reviewed at the round, as stored with it."""

    model_config = ConfigDict(extra="allow")

    detector: str
    severity: str | None = None
    summary: str | None = None
    disposition: Disposition
    note: str | None = None
    alert_acknowledgement: Literal["acknowledged", "not_permitted"] | None = Field(
        default=None, description="whether saving the round acknowledged the open alert"
    )


class GoalOut(Out):
    low: float | None = Field(description="lower goal, in the code's unit")
    high: float | None = Field(description="upper goal, in the code's unit")


class RoundOut(Out):
    id: int
    run_id: int
    round_date: date = Field(description="the programme's local date of the round")
    held_at: UtcTime
    status: Literal["draft", "signed"]
    version: int = Field(description="claim it when editing the draft (If-Match)")
    signed_at: UtcTime | None
    attendance: list[Attendee]
    perfusion_present: bool = Field(description="a perfusionist was present")
    problems: str | None
    alerts_reviewed: list[AlertReviewed]
    therapy_review: dict[str, str | None] = Field(
        description="section (anticoagulation, ventilation, sedation, fluids, blood_products)"
        " → text"
    )
    goals: dict[str, GoalOut] = Field(description="code → daily goal (fluid_balance_ml in mL)")


class ActionOut(Out):
    id: int
    text: str
    owner_discipline: str
    due_at: UtcTime
    round_id: int | None
    circuit_check_id: int | None
    completed_at: UtcTime | None
    overdue: bool = Field(description="open past its due time (board rows only)")


class RoundsOut(Out):
    rounds: list[RoundOut]
    actions: list[ActionOut]


class RoundAmendmentOut(Out):
    id: int
    round_id: int
    section: str
    text: str


class Reading(Out):
    """A circuit reading: pre-filled from the latest observation or entered at the check."""

    value: float = Field(description="in the code's unit (docs/contracts.md §1)")
    unit: str
    time: UtcTime
    entered: bool = Field(description="typed at the check (false: pre-filled)")
    entered_value: float | None = Field(
        default=None, description="as entered, when the observation was in another unit"
    )
    entered_unit: str | None = Field(default=None, description="the unit it was entered in")


class PrefillValue(Out):
    value: float = Field(description="in the code's unit (docs/contracts.md §1)")
    unit: str
    time: UtcTime
    entered_value: float | None = Field(
        default=None, description="as entered, when the observation was in another unit"
    )
    entered_unit: str | None = Field(default=None, description="the unit it was entered in")


class CircuitCheckOut(Out):
    id: int
    run_id: int
    checked_at: UtcTime
    shift: Shift
    inspection: dict[str, ClotGrade] = Field(description="inspection site → clot grade")
    readings: dict[str, Reading] = Field(description="code → reading")
    o2_transfer: dict[str, Any] | None = Field(
        description="membrane-lung O2 transfer: the calculator's result (mL/min), or "
        "{missing, message} naming what was missing"
    )
    heater: str | None
    transfusions: dict[str, float] = Field(
        description="product → amount (units; fibrinogen_g in g)"
    )
    findings: str | None


class CircuitChecksOut(Out):
    prefill: dict[str, PrefillValue] = Field(description="latest value of each checked code")
    checks: list[CircuitCheckOut]


class LatestPoint(Out):
    time: UtcTime
    value: float = Field(description="in the code's unit (docs/contracts.md §1)")
    entered: str | None = Field(
        default=None, description="the value and unit as entered, when in another unit: 62 kPa"
    )


class BoardTarget(Out):
    low: float | None = Field(description="lower target, in ``unit``")
    high: float | None = Field(description="upper target, in ``unit``")
    unit: str


class Trend(Out):
    points: str = Field(description="SVG polyline points of the sparkline")
    min: float = Field(description="lowest value shown, in the code's unit")
    max: float = Field(description="highest value shown, in the code's unit")
    last: float | None = Field(description="latest value, in the code's unit")


class BoardGoal(Out):
    low: float | None = Field(description="lower goal, in the code's unit")
    high: float | None = Field(description="upper goal, in the code's unit")


class BoardReading(Out):
    value: float | None = Field(description="latest value, in the code's unit; null if none")
    time: UtcTime | None = Field(description="when it was measured")
    state: Literal["ok", "off", "stale", "none"] = Field(
        description="ok; off goal; stale (older than the rounds setting allows); none recorded"
    )
    goal: BoardGoal | None


class BoardRunOut(Out):
    run_id: int
    patient: str | None = Field(description="the label, when identifiers are hidden")
    patient_label: str
    name: str | None
    mrn: str | None
    support: str
    mode: str | None
    ecmo_day: int
    level: Literal["critical", "warning", "ok"]
    latest: dict[str, LatestPoint] = Field(description="code → latest value")
    oxy_delta_p_change_24h: float | None = Field(description="change in ΔP over 24 h, mmHg")
    targets: dict[str, BoardTarget]
    out_of_target: list[str] = Field(description="codes whose latest value is off target")
    alerts: list[dict[str, Any]] = Field(description="open alerts (GET /api/v1/alerts shape)")
    alert_counts: dict[str, int] = Field(
        description="severity → alerts whose condition is present now"
    )
    alert_states: dict[str, int] = Field(
        description="display state (active, cleared, acknowledged, resolved) → alerts"
    )
    goals: dict[str, GoalOut]
    goals_from: str | None = Field(description="date of the round the goals come from")
    perfusion_at_round: bool | None
    bed: str | None
    weaning: bool = Field(description="the run is in a weaning phase")
    goal_family: Literal["VA", "VV"] = Field(
        description="which board goals apply: VA when the pump carries the circulation"
    )
    membrane_lung_age_h: float | None = Field(description="hours since the membrane lung went in")
    circuit_age_h: float | None = Field(description="hours since the circuit went in")
    readings: dict[str, BoardReading] = Field(
        description="code → bedside reading (ventilation, vasoactives, labs, fluid balance)"
    )
    open_actions: list[ActionOut]
    overdue_actions: int
    trends: dict[str, Trend]


class FollowUpItem(Out):
    id: int
    run_id: int
    patient: str | None
    patient_label: str
    name: str | None
    mrn: str | None
    item: str
    due_at: UtcTime | None
    overdue: bool
    href: str


class BoardOut(Out):
    day: date
    as_of: UtcTime
    runs: list[BoardRunOut] = Field(description="active runs, most urgent first")
    follow_ups: list[FollowUpItem] = Field(description="open follow-ups, oldest due first")
