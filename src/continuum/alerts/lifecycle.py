"""An alert's life: raised → (updated | escalated)* → cleared? ; acknowledged (who, with a
comment) → resolved. One unresolved alert per run and detector: a new finding updates it;
only a severity above its peak re-raises it (escalation, which asks for a new
acknowledgement). Every step is appended to ``alert_event`` and audited."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from continuum.alerts.history import BECAUSE
from continuum.alerts.models import AlertEvent, CircuitAlert
from continuum.core import audit, concurrency
from continuum.core.clinical_backfill import alert_time
from continuum.core.clinical_event import alert_summary, record_event
from continuum.core.roles import Actor
from continuum.core.run_record import Run
from continuum.db import utcnow
from continuum.surveillance import Alert

SURVEILLANCE = Actor(
    staff_id=None, name="circuit surveillance", role="integration", client="surveillance"
)
RANK = {"info": 1, "warning": 2, "critical": 3}
KEEP_FROM_RAISE = ("at_raise", "condition_since")


def when(t: np.datetime64 | None) -> datetime | None:
    if t is None:
        return None
    stamp: datetime = np.asarray(t).astype("datetime64[us]").item()
    return stamp.replace(tzinfo=UTC)


def log(
    session: Session,
    alert: CircuitAlert,
    kind: str,
    actor: Actor,
    comment: str | None = None,
    detail: dict[str, Any] | None = None,
) -> AlertEvent:
    event = AlertEvent(
        alert_id=alert.id,
        run_id=alert.run_id,
        kind=kind,
        severity=alert.severity,
        by_id=actor.staff_id,
        by_name=actor.name,
        comment=comment,
        detail=detail,
        at=utcnow(),
    )
    session.add(event)
    _clinical_event(session, alert, event, actor)
    return event


def _clinical_event(session: Session, alert: CircuitAlert, event: AlertEvent, actor: Actor) -> None:
    """The step on the run's clinical timeline, at its clinical time (the condition's own
    times for raised, escalated and cleared; now for a person's acknowledgement)."""
    if event.kind == "updated":
        return
    run = session.get_one(Run, alert.run_id)
    at = alert_time(event.kind, event.at, event.severity, None, alert, True)
    because = (event.detail or {}).get("because")
    because = BECAUSE.get(str(because), because) if because else None
    extra = None if event.kind == "raised" else (event.comment or because)
    text = alert_summary(f"alert.{event.kind}", alert.detector, event.severity, extra)
    record_event(
        session,
        actor,
        f"alert.{event.kind}",
        at,
        text,
        ("alert", alert.id),
        run,
        details={"severity": event.severity},
    )


def _audit(session: Session, run: Run, alert: CircuitAlert, action: str, actor: Actor) -> None:
    audit.record(
        session,
        actor,
        action,
        "alert",
        alert.id,
        run.patient_id,
        {"detector": alert.detector, "severity": alert.severity, "status": alert.status},
    )


def unresolved(session: Session, run_id: int) -> dict[str, CircuitAlert]:
    return current(session, run_id)[0]


def current(
    session: Session, run_id: int
) -> tuple[dict[str, CircuitAlert], dict[str, CircuitAlert]]:
    """Per detector: the unresolved alert, and the last one a clinician resolved while its
    condition was still present (one query)."""
    rows = session.scalars(
        select(CircuitAlert)
        .where(
            CircuitAlert.run_id == run_id,
            (CircuitAlert.status != "resolved") | CircuitAlert.cleared_at.is_(None),
        )
        .order_by(CircuitAlert.id)
    )
    open_: dict[str, CircuitAlert] = {}
    lingering: dict[str, CircuitAlert] = {}
    for a in rows:
        (open_ if a.status != "resolved" else lingering)[a.detector] = a
    return open_, lingering


def all_of(session: Session, run_id: int) -> list[CircuitAlert]:
    return list(session.scalars(select(CircuitAlert).where(CircuitAlert.run_id == run_id)))


def raise_alert(
    session: Session, run: Run, found: Alert, detail: dict[str, Any] | None = None
) -> CircuitAlert:
    alert = CircuitAlert(
        run_id=run.id,
        detector=found.detector,
        severity=found.severity,
        peak_severity=found.severity,
        status="open",
        raised_at=when(found.raised_at),
        cleared_at=when(found.cleared_at),
        summary=found.summary,
        evidence=found.evidence,
        updated_at=utcnow(),
    )
    session.add(alert)
    session.flush()
    log(session, alert, "raised", SURVEILLANCE, detail=detail)
    if alert.cleared_at is not None:
        detail = {"because": _because(found), "clinical_at": _iso(alert.cleared_at)}
        log(session, alert, "cleared", SURVEILLANCE, detail=detail)
    _audit(session, run, alert, "raise", SURVEILLANCE)
    return alert


def update_alert(session: Session, run: Run, alert: CircuitAlert, found: Alert) -> None:
    """The same condition seen again: refresh its evidence; escalate if worse than ever."""
    before = (alert.severity, alert.summary, alert.cleared_at)
    alert.evidence = _merged(alert.evidence, found.evidence)
    alert.summary = found.summary
    alert.severity = found.severity
    alert.cleared_at = None
    if RANK[found.severity] > RANK[alert.peak_severity]:
        _escalate(session, run, alert, before[0])
    elif before != (alert.severity, alert.summary, alert.cleared_at):
        alert.updated_at = utcnow()
        detail = {"severity_was": before[0], "returned": before[2] is not None}
        log(session, alert, "updated", SURVEILLANCE, detail=detail)
        if before[0] != alert.severity or before[2] is not None:
            _audit(session, run, alert, "update", SURVEILLANCE)


def _escalate(session: Session, run: Run, alert: CircuitAlert, was: str) -> None:
    alert.peak_severity = alert.severity
    alert.status = "open"
    alert.acknowledged_at = alert.acknowledged_by = alert.acknowledge_comment = None
    alert.updated_at = utcnow()
    log(session, alert, "escalated", SURVEILLANCE, detail={"from": was, "to": alert.severity})
    _audit(session, run, alert, "escalate", SURVEILLANCE)


def clear_alert(
    session: Session, run: Run, alert: CircuitAlert, at: datetime, because: str
) -> None:
    alert.cleared_at = at
    alert.updated_at = utcnow()
    if alert.status != "resolved":
        detail = {"because": because, "clinical_at": _iso(at)}
        log(session, alert, "cleared", SURVEILLANCE, detail=detail)
        _audit(session, run, alert, "clear", SURVEILLANCE)


def _iso(t: datetime | None) -> str | None:
    return t.isoformat().replace("+00:00", "Z") if t else None


def _merged(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    out = dict(new)
    for key in KEEP_FROM_RAISE:
        if key in old:
            out[key] = old[key]
    out["severity_from"] = {**new.get("severity_from", {}), **old.get("severity_from", {})}
    return out


def _because(found: Alert) -> str:
    return str(found.evidence.get("cleared_because") or "back to normal")


def acknowledge(
    session: Session, actor: Actor, run: Run, alert: CircuitAlert, comment: str
) -> bool:
    """Acknowledge an open alert, atomically (a conditional UPDATE on ``status = 'open'``).
    False, and nothing written, if another clinician acknowledged (or resolved) it first."""
    now = utcnow()
    won = concurrency.transition(
        session,
        alert,
        CircuitAlert.status == "open",
        {
            "status": "acknowledged",
            "acknowledged_by": actor.staff_id,
            "acknowledged_at": now,
            "acknowledge_comment": comment,
            "updated_at": now,
        },
    )
    if not won:
        return False
    log(session, alert, "acknowledged", actor, comment=comment)
    _audit(session, run, alert, "acknowledge", actor)
    return True


def resolve(
    session: Session,
    actor: Actor,
    run: Run,
    alert: CircuitAlert,
    note: str | None,
    detail: dict[str, Any] | None = None,
) -> bool:
    """Resolve an unresolved alert, atomically; False if another clinician resolved it first."""
    now = utcnow()
    won = concurrency.transition(
        session,
        alert,
        CircuitAlert.status != "resolved",
        {
            "status": "resolved",
            "resolved_by": actor.staff_id,
            "resolved_at": now,
            "resolve_note": note,
            "updated_at": now,
        },
    )
    if not won:
        return False
    log(session, alert, "resolved", actor, comment=note, detail=detail)
    _audit(session, run, alert, "resolve", actor)
    return True
