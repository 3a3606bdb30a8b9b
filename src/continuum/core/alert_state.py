"""An alert's state as a clinician reads it, decided in one place for every page.

A stored alert has a lifecycle status (open, acknowledged, resolved) and, separately, whether
its condition is still present (``cleared_at`` empty) or has ended. The bedside needs both at
a glance, in words as well as colour:

* **active**: the condition is present and nobody has acknowledged it;
* **cleared — awaiting review**: the condition ended by itself, nobody has looked at it yet;
* **acknowledged**: someone has seen it (the words say whether the condition is still there);
* **resolved**: closed by a clinician.

Only *present* alerts (active, or acknowledged and still present) count towards a run's
"1 critical": an alert that cleared hours ago is listed for review, not counted as a current
finding. Works on ORM alerts and on the alert JSON (``run_view.open_alerts``) alike.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

# The feed-health finding (continuum.alerts.feed): a run's console has sent nothing for longer
# than the programme's limit. Its evidence names the last console value's time.
CONSOLE_SILENT = "console_silent"
STATE_KEYS = ("active", "cleared", "acknowledged", "resolved")
SEVERITIES = ("critical", "warning", "info")


@dataclass(frozen=True)
class AlertState:
    key: str  # one of STATE_KEYS: the CSS class state-<key> and the API's "state"
    words: str  # what the badge says
    detail: str  # one sentence for a tooltip or a screen reader
    present: bool  # the condition is present now

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "words": self.words,
            "detail": self.detail,
            "present": self.present,
        }


def display_state(status: str, cleared: bool) -> AlertState:
    """The one decision: lifecycle ``status`` and whether the condition has ``cleared``."""
    if status == "resolved":
        return AlertState("resolved", "resolved", "closed by a clinician", False)
    if status == "acknowledged":
        if cleared:
            return AlertState(
                "acknowledged",
                "acknowledged · cleared",
                "seen by a clinician; the condition has since cleared — resolve when reviewed",
                False,
            )
        return AlertState(
            "acknowledged",
            "acknowledged · still present",
            "seen by a clinician; the condition is still present",
            True,
        )
    if cleared:
        return AlertState(
            "cleared",
            "cleared — awaiting review",
            "the condition ended by itself; nobody has reviewed it yet",
            False,
        )
    return AlertState("active", "active", "the condition is present and not yet acknowledged", True)


def _field(alert: Any, name: str) -> Any:
    return alert.get(name) if isinstance(alert, dict) else getattr(alert, name, None)


def state_of(alert: Any) -> AlertState:
    """The display state of an alert (ORM row or alert JSON)."""
    return display_state(str(_field(alert, "status") or "open"), bool(_field(alert, "cleared_at")))


def present_counts(alerts: Iterable[Any]) -> dict[str, int]:
    """Per severity, how many alerts' conditions are present now (cleared ones do not count)."""
    out = dict.fromkeys(SEVERITIES, 0)
    for a in alerts:
        severity = str(_field(a, "severity"))
        if severity in out and state_of(a).present:
            out[severity] += 1
    return out


def state_counts(alerts: Iterable[Any]) -> dict[str, int]:
    """How many alerts are in each display state."""
    out = dict.fromkeys(STATE_KEYS, 0)
    for a in alerts:
        out[state_of(a).key] += 1
    return out


def summary_badges(alerts: Iterable[Any]) -> list[tuple[str, str]]:
    """The board's at-a-glance badges, most urgent first: (css classes, words), e.g.
    ("critical present-active", "1 critical · active"), ("state-cleared", "2 cleared —
    awaiting review"). Present conditions are counted by severity and state; ended ones by
    state only (they are for review, not current findings)."""
    rows = [(str(_field(a, "severity")), state_of(a)) for a in alerts]
    out: list[tuple[str, str]] = []
    for severity in SEVERITIES:
        for key, words, css in (
            ("active", "active", "present-active"),
            ("acknowledged", "acknowledged", "present-acknowledged"),
        ):
            n = sum(1 for sev, st in rows if sev == severity and st.key == key and st.present)
            if n:
                out.append((f"{severity} {css}", f"{n} {severity} · {words}"))
    ended = (("cleared", "cleared — awaiting review"), ("acknowledged", "acknowledged · cleared"))
    for key, words in ended:
        n = sum(1 for _, st in rows if st.key == key and not st.present)
        if n:
            out.append((f"state-{key}", f"{n} {words}"))
    return out


def as_time(value: datetime | str | None) -> datetime | None:
    """An alert time as an aware datetime (the alert JSON carries ISO text with a Z)."""
    if value is None or isinstance(value, datetime):
        return value
    parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def console_silence(alerts: Iterable[Any], now: datetime) -> str | None:
    """The words "no console data for 12 min" while the run's console-silence alert is present (not
    cleared, not resolved), from the last console value's time in its evidence; else None."""
    for a in alerts:
        if _field(a, "detector") != CONSOLE_SILENT or not state_of(a).present:
            continue
        last = as_time((_field(a, "evidence") or {}).get("last_console_at"))
        if last is None:
            return "no console data"
        return f"no console data for {silence_words(now - last)}"
    return None


def silence_words(gap: timedelta) -> str:
    minutes = int(gap.total_seconds() // 60)
    if minutes < 120:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60:02d} min"


def jinja_globals() -> dict[str, Any]:
    """What templates use to show an alert's state (registered once by the page routes)."""
    return {
        "alert_state": state_of,
        "alert_badges": summary_badges,
        "alert_dt": as_time,
        "console_silence": console_silence,
    }
