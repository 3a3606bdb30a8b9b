"""Circuit alerts against the record: ``evaluate_run`` (in ``watch``) on every stored batch
inside the same transaction; reading alerts; clinicians acknowledging and resolving them.
Flushes, never commits."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import case, select
from sqlalchemy.orm import Session

from continuum.alerts import lifecycle
from continuum.alerts.models import AlertEvent, CircuitAlert
from continuum.alerts.watch import evaluate_run
from continuum.core import audit, concurrency, run_service, run_view
from continuum.core.alert_state import as_time, state_of
from continuum.core.roles import Actor, Permission
from continuum.core.run_record import Component, Run
from continuum.core.schemas import ComponentCreate
from continuum.errors import FieldProblem, Forbidden, NotFound, ValidationFailed

COMMENT_MAX = 2000
__all__ = ["evaluate_run"]


# -- reading ---------------------------------------------------------------------------------

SEVERITY_ORDER = case({"critical": 3, "warning": 2, "info": 1}, value=CircuitAlert.severity)


def list_alerts(
    session: Session,
    actor: Actor,
    status: str = "open",
    run_id: int | None = None,
    limit: int = 200,
) -> list[CircuitAlert]:
    """Most severe first, then newest; ``open``: not yet resolved."""
    actor.require(Permission.VIEW_CLINICAL)
    if status not in ("open", "all"):
        raise ValidationFailed([FieldProblem("status", f"'{status}' must be open or all", status)])
    stmt = select(CircuitAlert)
    if status == "open":
        stmt = stmt.where(CircuitAlert.status != "resolved")
    if run_id is not None:
        stmt = stmt.where(CircuitAlert.run_id == run_id)
    stmt = stmt.order_by(
        (CircuitAlert.status == "resolved").asc(),
        CircuitAlert.cleared_at.is_(None).desc(),
        SEVERITY_ORDER.desc(),
        CircuitAlert.raised_at.desc(),
        CircuitAlert.id.desc(),
    )
    return list(session.scalars(stmt.limit(limit)))


def get_alert(session: Session, actor: Actor, alert_id: int) -> CircuitAlert:
    actor.require(Permission.VIEW_CLINICAL)
    alert = session.get(CircuitAlert, alert_id)
    if alert is None:
        raise NotFound(f"alert {alert_id} not found")
    return alert


def events_of(session: Session, alert_ids: list[int]) -> dict[int, list[AlertEvent]]:
    out: dict[int, list[AlertEvent]] = {i: [] for i in alert_ids}
    if alert_ids:
        stmt = select(AlertEvent).where(AlertEvent.alert_id.in_(alert_ids)).order_by(AlertEvent.id)
        for e in session.scalars(stmt):
            out[e.alert_id].append(e)
    return out


def events_after(session: Session, cursor: int, run_id: int | None = None) -> list[AlertEvent]:
    stmt = select(AlertEvent).where(AlertEvent.id > cursor)
    if run_id is not None:
        stmt = stmt.where(AlertEvent.run_id == run_id)
    return list(session.scalars(stmt.order_by(AlertEvent.id).limit(500)))


def last_event_id(session: Session) -> int:
    return int(session.scalar(select(AlertEvent.id).order_by(AlertEvent.id.desc()).limit(1)) or 0)


def to_json(alert: CircuitAlert) -> dict[str, Any]:
    """The docs/contracts.md §3 alert JSON plus id, run and lifecycle."""
    return {
        "detector": alert.detector,
        "severity": alert.severity,
        "raised_at": _iso(alert.raised_at),
        "cleared_at": _iso(alert.cleared_at),
        "summary": alert.summary,
        "evidence": alert.evidence,
        "id": alert.id,
        "run_id": alert.run_id,
        "status": alert.status,
        "peak_severity": alert.peak_severity,
        "acknowledged_at": _iso(alert.acknowledged_at),
        "acknowledged_by": alert.acknowledged_by,
        "acknowledge_comment": alert.acknowledge_comment,
        "resolved_at": _iso(alert.resolved_at),
        "resolved_by": alert.resolved_by,
        # what every page shows (core.alert_state): active, cleared, acknowledged, resolved
        "state": state_of(alert).key,
        "state_words": state_of(alert).words,
    }


def event_json(e: AlertEvent) -> dict[str, Any]:
    return {
        "id": e.id,
        "alert_id": e.alert_id,
        "run_id": e.run_id,
        "kind": e.kind,
        "severity": e.severity,
        "at": _iso(e.at),
        "by": e.by_name,
        "comment": e.comment,
        "detail": e.detail,
    }


def _iso(t: datetime | None) -> str | None:
    return t.isoformat().replace("+00:00", "Z") if t else None


def open_alerts_for_run(session: Session, run_id: int) -> list[dict[str, Any]]:
    """The run_view provider: unresolved alerts of a run, conditions still present first,
    then most severe, then newest."""
    stmt = (
        select(CircuitAlert)
        .where(CircuitAlert.run_id == run_id, CircuitAlert.status != "resolved")
        .order_by(
            CircuitAlert.cleared_at.is_(None).desc(),
            SEVERITY_ORDER.desc(),
            CircuitAlert.raised_at.desc(),
        )
    )
    return [to_json(a) for a in session.scalars(stmt)]


# -- clinicians' actions -----------------------------------------------------------------------


def acknowledge(session: Session, actor: Actor, alert_id: int, comment: str) -> CircuitAlert:
    actor.require(Permission.ACKNOWLEDGE_ALERT)
    alert = get_alert(session, actor, alert_id)
    comment = _text("comment", comment, required=True)
    if alert.status != "open" or not lifecycle.acknowledge(
        session, actor, session.get_one(Run, alert.run_id), alert, comment
    ):
        raise _already(session, alert)
    session.flush()
    return alert


def _already(session: Session, alert: CircuitAlert) -> concurrency.AlreadyDone:
    """Who got there first: "already acknowledged by X at T" (with their comment)."""
    if alert.status == "resolved":
        by, at = concurrency.who(session, alert.resolved_by), alert.resolved_at
        note = f": {alert.resolve_note}" if alert.resolve_note else ""
        message = f"alert {alert.id} was already resolved by {by} at {concurrency.stamp(at)}{note}"
    else:
        by, at = concurrency.who(session, alert.acknowledged_by), alert.acknowledged_at
        message = (
            f"alert {alert.id} was already acknowledged by {by} at {concurrency.stamp(at)}: "
            f"{alert.acknowledge_comment or ''} — your comment was not saved; add it as a note "
            "when resolving"
        )
    return concurrency.AlreadyDone(message, by, at)


def acknowledge_reviewed(
    session: Session, actor: Actor, run_id: int, detector: str, comment: str
) -> int:
    """The run_view reviewer: acknowledge ``run_id``'s open alerts of ``detector`` as
    ``actor`` (e.g. reviewed at rounds). Acknowledged or resolved alerts are left alone;
    nothing happens without the permission or an open alert. Returns how many."""
    if not actor.can(Permission.ACKNOWLEDGE_ALERT):
        return 0
    comment = (comment or "").strip()[:COMMENT_MAX] or "Reviewed"
    stmt = (
        select(CircuitAlert)
        .where(
            CircuitAlert.run_id == run_id,
            CircuitAlert.detector == detector,
            CircuitAlert.status == "open",
        )
        .order_by(CircuitAlert.id)
    )
    found = list(session.scalars(stmt))
    if found:
        run = session.get_one(Run, run_id)
        done = [a for a in found if lifecycle.acknowledge(session, actor, run, a, comment)]
        session.flush()
        return len(done)
    return 0


def may_resolve(actor: Actor, alert: CircuitAlert) -> bool:
    """Any role that acknowledges alerts resolves info and warning alerts; an alert that was
    ever critical needs a perfusionist or physician (``RESOLVE_CRITICAL_ALERT``)."""
    if not actor.can(Permission.ACKNOWLEDGE_ALERT):
        return False
    return alert.peak_severity != "critical" or actor.can(Permission.RESOLVE_CRITICAL_ALERT)


CRITICAL_RESOLVERS = "a perfusionist or a physician"


def resolve(session: Session, actor: Actor, alert_id: int, note: str | None) -> CircuitAlert:
    actor.require(Permission.ACKNOWLEDGE_ALERT)
    alert = get_alert(session, actor, alert_id)
    if not may_resolve(actor, alert):
        raise Forbidden(
            f"alert {alert.id} was critical: resolving it needs {CRITICAL_RESOLVERS}; the "
            f"{actor.role} role may acknowledge it and hand it over"
        )
    note = _text("note", note or "", required=False) or None
    if alert.status == "resolved" or not lifecycle.resolve(
        session, actor, session.get_one(Run, alert.run_id), alert, note
    ):
        raise _already(session, alert)
    session.flush()
    return alert


def _text(name: str, value: str, required: bool) -> str:
    value = (value or "").strip()
    if required and not value:
        raise ValidationFailed(
            [FieldProblem(name, f"{name} is required: say what was done", value)]
        )
    if len(value) > COMMENT_MAX:
        raise ValidationFailed(
            [FieldProblem(name, f"{name} is {len(value)} characters; at most {COMMENT_MAX}", None)]
        )
    return value


# -- the fix, one step from the alert ---------------------------------------------------------

# Which component an alert usually points at, and the stop reason offered for it.
COMPONENT_OF = {
    "transmembrane_gradient_rise": ("membrane_lung", "rising_transmembrane_gradient"),
    "oxygenator_dysfunction": ("membrane_lung", "oxygenator_failure"),
    "circuit_thrombosis": ("membrane_lung", "thrombus"),
    "pump_thrombosis": ("pump", "thrombus"),
    "hemolysis": ("pump", "haemolysis"),
}


def replace_component(
    session: Session, actor: Actor, alert_id: int, data: ComponentCreate, note: str | None
) -> tuple[CircuitAlert, Component]:
    """Replace a circuit component from an alert (``run_service.add_component``: the old one
    stops with its stop reason) and, in the same unit of work, resolve the alert with a link
    to the new component and that stop reason. An alert already resolved, or one this actor
    may not resolve, keeps its state and gets the link as an update."""
    actor.require(Permission.MANAGE_CIRCUIT)
    alert = get_alert(session, actor, alert_id)
    if data.replaces_id is None:
        raise ValidationFailed(
            [FieldProblem("replaces_id", "choose the component this one replaces", None)]
        )
    note = _text("note", note or "", required=False) or None
    run = session.get_one(Run, alert.run_id)
    component = run_service.add_component(session, actor, run, data)
    old = session.get_one(Component, data.replaces_id)
    reason = (old.stop_reason or "").replace("_", " ")
    words = old.kind.replace("_", " ")
    link = {
        "kind": "component",
        "id": component.id,
        "replaced_id": old.id,
        "component": old.kind,
        "stop_reason": old.stop_reason,
        "href": f"/runs/{run.id}#circuit",
        "text": f"{words} #{old.id} replaced by #{component.id} (stop reason: {reason})",
    }
    _link(session, actor, run, alert, link, note)
    session.flush()
    return alert, component


def raise_action(
    session: Session,
    actor: Actor,
    alert_id: int,
    text: str,
    owner_discipline: str | None,
    due_at: datetime | None,
) -> tuple[CircuitAlert, dict[str, Any]]:
    """Raise a rounds action from an alert (through ``run_view.raise_action``) and link it
    on the alert's history. An action is a plan, not a fix: the alert keeps its state
    (acknowledge or resolve it as usual; the link stays beside it)."""
    alert = get_alert(session, actor, alert_id)
    if alert.status == "resolved":
        raise _already(session, alert)
    action = run_view.raise_action(session, actor, alert.run_id, text, owner_discipline, due_at)
    due = as_time(action["due_at"])
    link = {
        "kind": "action",
        "id": action["id"],
        "href": action["href"],
        "text": (
            f"action raised: {action['text']} ({str(action['owner_discipline']).replace('_', ' ')}"
            f", due {concurrency.stamp(due)})"
        ),
    }
    run = session.get_one(Run, alert.run_id)
    _log_link(session, actor, run, alert, link["text"], {"intervention": link})
    session.flush()
    return alert, action


def _link(
    session: Session,
    actor: Actor,
    run: Run,
    alert: CircuitAlert,
    link: dict[str, Any],
    note: str | None,
) -> None:
    detail = {"intervention": link}
    comment = f"{note} — {link['text']}" if note else link["text"]
    resolvable = alert.status != "resolved" and may_resolve(actor, alert)
    if resolvable and lifecycle.resolve(session, actor, run, alert, comment, detail):
        return
    _log_link(session, actor, run, alert, comment, detail)


def _log_link(
    session: Session,
    actor: Actor,
    run: Run,
    alert: CircuitAlert,
    comment: str,
    detail: dict[str, Any],
) -> None:
    lifecycle.log(session, alert, "updated", actor, comment=comment, detail=detail)
    link = detail["intervention"]
    audit.record(
        session,
        actor,
        "link",
        "alert",
        alert.id,
        run.patient_id,
        {"intervention": link["kind"], "id": link["id"], "status": alert.status},
    )


def interventions(events: list[AlertEvent]) -> list[dict[str, Any]]:
    """The fixes linked to an alert (replaced components, raised actions), oldest first."""
    return [
        e.detail["intervention"]
        for e in events
        if e.detail and isinstance(e.detail.get("intervention"), dict)
    ]
