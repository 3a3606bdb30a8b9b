"""API and form shapes of ambulation sessions (separate from the ORM model). Ranges and
closed lists are checked by the service, so a refusal names the field, the value and what
is allowed (ICU Mobility Scale 0–10) the same way for the page and the API."""

from __future__ import annotations

from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from continuum.core.schemas import Out, RecordId, UtcTime

OptText = Annotated[str | None, Field(default=None, max_length=2000)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, allow_inf_nan=False)


class EventIn(Strict):
    kind: str = Field(
        description="flow_drop, desaturation, cannula_movement, chattering, fall, other"
    )
    at: AwareDatetime = Field(description="when it happened, within the session")
    note: OptText = None


class SessionIn(Strict):
    started_at: AwareDatetime
    ended_at: AwareDatetime
    ims_level: int = Field(description="ICU Mobility Scale level reached, 0–10")
    safety: dict[str, str] = Field(
        default_factory=dict,
        description="pre-session safety check: item → pass or fail (every item answered)",
    )
    safety_reason: OptText = Field(
        default=None, description="why the session started with a failed item (required then)"
    )
    staff_ids: list[RecordId] = Field(
        default_factory=list, max_length=50, description="staff present (staff ids)"
    )
    events: list[EventIn] = Field(default_factory=list, max_length=20)
    stopped_early: bool = False
    stop_reason: OptText = None
    note: OptText = None


class AmendIn(SessionIn):
    reason: Annotated[str, Field(min_length=1, max_length=2000)] = Field(
        description="why the session is corrected"
    )


class EventOut(Out):
    kind: str
    label: str
    at: UtcTime
    note: str | None


class StaffOut(Out):
    staff_id: int
    name: str
    discipline: str
    group: str = Field(description="Physiotherapy, Perfusion, Nursing, Medicine or Other")
    ambulation_competency_current: bool = Field(
        description="their 'ambulation' competency was valid on the session's day"
    )


class WindowValue(Out):
    value: float
    time: UtcTime


class DuringValue(Out):
    low: float
    high: float
    count: int
    low_time: UtcTime
    high_time: UtcTime


class CircuitValueOut(Out):
    code: str
    label: str
    unit: str
    before: WindowValue | None = Field(description="null: not recorded in the window")
    during: DuringValue | None = Field(description="null: not recorded during the session")
    after: WindowValue | None = Field(description="null: not recorded in the window")


class SessionOut(Out):
    id: int = Field(description="the session's number (its first version's id)")
    version_id: int = Field(description="id of the version in force")
    run_id: int
    started_at: UtcTime
    ended_at: UtcTime
    minutes: float = Field(description="duration, min")
    ims_level: int = Field(description="ICU Mobility Scale level reached, 0–10")
    ims_label: str
    safety: dict[str, str]
    safety_reason: str | None
    staff: list[StaffOut]
    events: list[EventOut]
    stopped_early: bool
    stop_reason: str | None
    note: str | None
    amend_reason: str | None
    versions: int
    recorded_at: UtcTime
    circuit_values: list[CircuitValueOut]
    windows_min: dict[str, int] = Field(description="before and after windows in force, min")


class SessionListOut(Out):
    run_id: int
    highest_ims: int | None = Field(description="highest ICU Mobility Scale level reached")
    sessions: list[SessionOut]
