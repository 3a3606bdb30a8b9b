"""API and form shapes for alerts (separate from the stored rows)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from continuum.alerts.models import EVENT_KINDS, SEVERITIES, STATUSES
from continuum.core.schemas import Mode, Out

Severity = Literal[SEVERITIES]  # type: ignore[valid-type]
AlertStatus = Literal[STATUSES]  # type: ignore[valid-type]
EventKind = Literal[EVENT_KINDS]  # type: ignore[valid-type]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, allow_inf_nan=False)


class AcknowledgeIn(Strict):
    comment: str = Field(min_length=1, max_length=2000, description="what was seen or done")


class ResolveIn(Strict):
    note: str | None = Field(default=None, max_length=2000)


class AlertOut(Out):
    """docs/contracts.md §3 alert JSON plus the stored alert's identity and lifecycle.
    Times are UTC ("Z")."""

    detector: str = Field(description="the detector's stable code (GET /surveillance/rules)")
    severity: Severity = Field(description="the severity now")
    raised_at: AwareDatetime
    cleared_at: AwareDatetime | None = Field(description="when the condition stopped holding")
    summary: str
    evidence: dict[str, Any] = Field(
        description="the values that raised it (each detector's own keys, values in the "
        "vocabulary units of docs/contracts.md §1)"
    )
    id: int
    run_id: int
    status: AlertStatus
    peak_severity: Severity = Field(description="the highest severity it reached")
    acknowledged_at: AwareDatetime | None
    acknowledged_by: int | None = Field(description="staff id")
    acknowledge_comment: str | None
    resolved_at: AwareDatetime | None
    resolved_by: int | None = Field(description="staff id")
    state: Literal["active", "cleared", "acknowledged", "resolved"] = Field(
        description="display state: active; cleared by itself, awaiting review; "
        "acknowledged; resolved (continuum.core.alert_state)"
    )
    state_words: str = Field(description="the state as the pages word it")


class AlertEventOut(Out):
    """One step of an alert's history."""

    id: int = Field(description="event id: the live stream's cursor")
    alert_id: int
    run_id: int
    kind: EventKind
    severity: Severity
    at: AwareDatetime
    by: str = Field(description="who (or which service) did it")
    comment: str | None
    detail: dict[str, Any] | None


class AlertWithHistory(AlertOut):
    events: list[AlertEventOut] = Field(description="oldest first")


class DetectorRuleOut(Out):
    detector: str
    rule: str = Field(description="the rule as text, with the programme's thresholds in force")
    modes: list[Mode] = Field(description="support configurations the detector runs for")
