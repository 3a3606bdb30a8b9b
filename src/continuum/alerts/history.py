"""An alert's history as a clinician reads it: each step at its clinical time (when the data
said so, not when the row was written) with a sentence instead of the stored detail."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from continuum.alerts.models import AlertEvent, CircuitAlert
from continuum.core.clinical_backfill import alert_time
from continuum.core.free_text import HIDDEN

# Why a condition ended, as stored by the lifecycle → as a sentence ends.
BECAUSE = {
    "back to normal": "values back within the thresholds",
    "component changed": "the component was changed",
    "no longer applies": "this check no longer applies to the run's mode",
    "console data returned": "console data are arriving again",
}
RECORDED_LATE_S = 300  # show the recorded time too when it is this much after the clinical time


@dataclass(frozen=True)
class HistoryLine:
    at: datetime  # clinical time
    recorded_at: datetime  # when the row was written
    kind: str
    severity: str
    by: str
    text: str
    event_id: int

    @property
    def recorded_late(self) -> bool:
        return abs((self.recorded_at - self.at).total_seconds()) >= RECORDED_LATE_S


def clinical_at(alert: CircuitAlert, e: AlertEvent, is_last: bool) -> datetime:
    """The step's clinical time: the detail's own time if the lifecycle stored one, else the
    condition's times on the alert (``clinical_backfill.alert_time``), else the row's."""
    stored = (e.detail or {}).get("clinical_at")
    if stored:
        return datetime.fromisoformat(str(stored).replace("Z", "+00:00"))
    return alert_time(e.kind, e.at, e.severity, e.detail, alert, is_last)


def sentence(e: AlertEvent, readable: bool = True) -> str:
    """The step in words; ``readable`` False (a role without identifiers): its typed
    comment and linked intervention read "hidden for your role" (core.free_text)."""
    d: dict[str, Any] = e.detail or {}
    note = f": “{e.comment if readable else HIDDEN}”" if e.comment else ""
    if e.kind == "raised":
        text = f"{e.severity.capitalize()} raised"
        if d.get("worse_than_resolved"):
            text += f" again, worse than alert {d['worse_than_resolved']} (resolved while present)"
        return text
    if e.kind == "escalated":
        return f"Escalated from {d.get('from', '?')} to {d.get('to', e.severity)}"
    if e.kind == "updated":
        if d.get("returned"):
            return f"Condition came back after it had cleared ({e.severity})"
        was = d.get("severity_was")
        if was and was != e.severity:
            return f"Severity now {e.severity} (was {was})"
        return "Evidence updated"
    if e.kind == "cleared":
        because = str(d.get("because") or "")
        return f"Condition cleared: {BECAUSE.get(because, because or 'ended')}"
    if e.kind == "acknowledged":
        return f"Acknowledged{note}"
    if e.kind == "resolved":
        text = f"Resolved{note}"
        link = d.get("intervention")
        if isinstance(link, dict) and link.get("text"):
            text += f" — {link['text'] if readable else HIDDEN}"
        return text
    return e.kind


def history(
    alert: CircuitAlert, events: list[AlertEvent], readable: bool = True
) -> list[HistoryLine]:
    """The alert's steps in clinical-time order (``readable``: see ``sentence``)."""
    last = {e.kind: e.id for e in events}
    lines = [
        HistoryLine(
            clinical_at(alert, e, last[e.kind] == e.id),
            e.at,
            e.kind,
            e.severity,
            e.by_name,
            sentence(e, readable),
            e.id,
        )
        for e in events
    ]
    return sorted(lines, key=lambda x: (x.at, x.event_id))
