"""Planning and doing an exchange (``exchange_record``): plan it from a forecast or an
alert, tick the checklist, mark it done with the component it replaced (through
``run_service.add_component``, so the circuit record and its timeline are the usual ones),
or cancel it with a reason. Every change is a new row, audited and on the clinical
timeline. Marking it done resolves the alert it came from with a link to the exchange.
Flushes, never commits."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from continuum.alerts import service
from continuum.alerts.exchange_record import (
    CHECK_ITEMS,
    CHECKLIST,
    STATUS_LABELS,
    TARGET_COMPONENT,
    TARGET_LABELS,
    VALUE_CODES,
    ExchangePlan,
    in_force,
)
from continuum.alerts.models import CircuitAlert
from continuum.core import audit, run_service
from continuum.core.clinical_event import record_event
from continuum.core.people import Staff
from continuum.core.record import Observation
from continuum.core.roles import Actor, Permission
from continuum.core.run_record import Component, Run
from continuum.core.schemas import ComponentCreate
from continuum.core.vocab import COMPONENT_STOP_REASONS
from continuum.db import utcnow
from continuum.errors import Conflict, FieldProblem, NotFound, ValidationFailed

TEXT_MAX = 2000
PAST_GRACE = timedelta(hours=1)  # a plan may be written just after the fact, not later
AHEAD_MAX = timedelta(days=14)
CLAMP_MAX_S = 3600
# Alert detectors whose fix is an exchange, and the part they point at.
ALERT_TARGET: dict[str, str] = {
    "transmembrane_gradient_rise": "membrane_lung",
    "oxygenator_dysfunction": "membrane_lung",
    "circuit_thrombosis": "membrane_lung",
    "pump_thrombosis": "pump",
    "hemolysis": "pump",
}


def _bad(field: str, message: str, value: Any = None) -> ValidationFailed:
    return ValidationFailed([FieldProblem(field, message, value)])


def _text(name: str, value: Any) -> str | None:
    text = str(value or "").strip()
    if len(text) > TEXT_MAX:
        raise _bad(name, f"{name} is {len(text)} characters; at most {TEXT_MAX}")
    return text or None


def _staff(session: Session, name: str, value: Any) -> int | None:
    if value in (None, ""):
        return None
    raw = str(value)
    staff = session.get(Staff, int(raw)) if raw.isdigit() else None
    if staff is None or not staff.active:
        raise _bad(name, f"{name} '{raw}' is not an active staff member", raw)
    return staff.id


def _run(session: Session, actor: Actor, run_id: int) -> Run:
    run = run_service.get_run(session, actor, run_id)
    if run.ended_at is not None:
        raise Conflict(f"run {run.id} has ended: an exchange can no longer be planned")
    return run


def get_plan(session: Session, actor: Actor, plan_id: int) -> ExchangePlan:
    """The version in force of plan ``plan_id`` (or of the plan a version row belongs to:
    the timeline links each event's own row)."""
    actor.require(Permission.VIEW_CLINICAL)
    named = session.get(ExchangePlan, plan_id)
    if named is not None and named.plan_id is not None:
        plan_id = named.plan_id
    rows = list(
        session.scalars(
            select(ExchangePlan)
            .where(ExchangePlan.plan_id == plan_id)
            .order_by(ExchangePlan.id.desc())
            .limit(1)
        )
    )
    if not rows:
        raise NotFound(f"exchange {plan_id} not found")
    run_service.get_run(session, actor, rows[0].run_id)
    return rows[0]


def versions(session: Session, plan_id: int) -> list[ExchangePlan]:
    stmt = select(ExchangePlan).where(ExchangePlan.plan_id == plan_id).order_by(ExchangePlan.id)
    return list(session.scalars(stmt))


def run_plans(session: Session, actor: Actor, run_id: int) -> list[ExchangePlan]:
    actor.require(Permission.VIEW_CLINICAL)
    return in_force(session, [run_id])


def plan(
    session: Session, actor: Actor, run_id: int, values: dict[str, Any], now: datetime | None = None
) -> ExchangePlan:
    """Plan an exchange on an open run (``values``: the form's fields, times aware)."""
    actor.require(Permission.MANAGE_CIRCUIT)
    run = _run(session, actor, run_id)
    now = now or utcnow()
    target = str(values.get("target") or "")
    if target not in TARGET_LABELS:
        allowed = ", ".join(TARGET_LABELS)
        raise _bad("target", f"'{target}' is not a part that can be exchanged ({allowed})", target)
    at = values.get("planned_at")
    if not isinstance(at, datetime):
        raise _bad("planned_at", "say when the exchange is planned", at)
    if at < now - PAST_GRACE:
        raise _bad(
            "planned_at",
            f"planned time {at.isoformat(timespec='minutes')} is more than 1 h in the past; "
            "record an exchange already done as a component change",
            at.isoformat(),
        )
    if at > now + AHEAD_MAX:
        raise _bad("planned_at", "planned time is more than 14 days ahead", at.isoformat())
    alert_id = _alert(session, run, target, values.get("alert_id"))
    row = ExchangePlan(
        run_id=run.id,
        target=target,
        status="planned",
        planned_at=at,
        perfusionist_id=_staff(session, "perfusionist_id", values.get("perfusionist_id")),
        physician_id=_staff(session, "physician_id", values.get("physician_id")),
        equipment_ready=bool(values.get("equipment_ready")),
        prime_ready=bool(values.get("prime_ready")),
        blood_products=_text("blood_products", values.get("blood_products")),
        anticoagulation_plan=_text("anticoagulation_plan", values.get("anticoagulation_plan")),
        checklist={},
        alert_id=alert_id,
        forecast=_forecast(values.get("criterion")),
        recorded_by=actor.staff_id,
        recorded_at=now,
    )
    session.add(row)
    session.flush()
    row.plan_id = row.id
    words = TARGET_LABELS[target].lower()
    _trail(session, actor, run, row, "exchange.planned", now, f"{words} exchange planned")
    return row


def _alert(session: Session, run: Run, target: str, value: Any) -> int | None:
    if value in (None, ""):
        return None
    raw = str(value)
    alert = session.get(CircuitAlert, int(raw)) if raw.isdigit() else None
    if alert is None or alert.run_id != run.id:
        raise _bad("alert_id", f"alert {raw} is not an alert of run {run.id}", raw)
    part = ALERT_TARGET.get(alert.detector)
    if part is None:
        raise _bad("alert_id", f"alert {raw} ({alert.detector}) is not fixed by an exchange", raw)
    if TARGET_COMPONENT[target] != part:
        raise _bad(
            "target",
            f"alert {raw} points at the {part.replace('_', ' ')}; "
            f"a {TARGET_LABELS[target].lower()} exchange does not replace it",
            target,
        )
    return alert.id


def _forecast(value: Any) -> dict[str, Any] | None:
    text = str(value or "").strip()[:48]
    return {"criterion": text} if text else None


def _follow(old: ExchangePlan, actor: Actor, now: datetime, **changes: Any) -> ExchangePlan:
    fields = {
        c: getattr(old, c)
        for c in (col.key for col in ExchangePlan.__table__.columns)
        if c not in ("id", "follows_id", "recorded_by", "recorded_at")
    }
    fields.update(changes)
    return ExchangePlan(**fields, follows_id=old.id, recorded_by=actor.staff_id, recorded_at=now)


def _ticked(old: dict[str, Any], ticks: set[str], actor: Actor, now: datetime) -> dict[str, Any]:
    unknown = ticks - set(CHECK_ITEMS)
    if unknown:
        raise _bad("checklist", f"unknown checklist item(s): {', '.join(sorted(unknown))}")
    out: dict[str, Any] = {}
    for key in CHECK_ITEMS:
        if key in ticks:
            out[key] = old.get(key) or {
                "by": actor.name,
                "by_id": actor.staff_id,
                "at": now.isoformat(),
            }
    return out


def _open(row: ExchangePlan) -> None:
    if row.status != "planned":
        raise Conflict(f"exchange {row.number} is already {STATUS_LABELS[row.status].lower()}")


def update(
    session: Session,
    actor: Actor,
    plan_id: int,
    values: dict[str, Any],
    ticks: set[str],
    now: datetime | None = None,
) -> ExchangePlan:
    """Save the plan's readiness, team and checklist ticks as a new version; a change of
    the planned time needs a reason (kept on the version)."""
    actor.require(Permission.MANAGE_CIRCUIT)
    old = get_plan(session, actor, plan_id)
    _open(old)
    run = _run(session, actor, old.run_id)
    now = now or utcnow()
    at = values.get("planned_at") or old.planned_at
    if abs((at - old.planned_at).total_seconds()) < 60:  # the form shows whole minutes
        at = old.planned_at
    reason = _text("reason", values.get("reason"))
    if at != old.planned_at:
        if at < now - PAST_GRACE:
            raise _bad(
                "planned_at", "the new planned time is more than 1 h in the past", at.isoformat()
            )
        if reason is None:
            raise _bad("reason", "say why the planned time changes")
    row = _follow(
        old,
        actor,
        now,
        planned_at=at,
        perfusionist_id=_staff(session, "perfusionist_id", values.get("perfusionist_id")),
        physician_id=_staff(session, "physician_id", values.get("physician_id")),
        equipment_ready=bool(values.get("equipment_ready")),
        prime_ready=bool(values.get("prime_ready")),
        blood_products=_text("blood_products", values.get("blood_products")),
        anticoagulation_plan=_text("anticoagulation_plan", values.get("anticoagulation_plan")),
        checklist=_ticked(old.checklist or {}, ticks, actor, now),
        reason=reason,
    )
    session.add(row)
    session.flush()
    audit.record(
        session, actor, "amend", "exchange_plan", row.id, run.patient_id, {"plan": old.number}
    )
    return row


def values_around(session: Session, run_id: int, at: datetime, after: bool) -> dict[str, Any]:
    """The newest value of each compared code before ``at`` (or the first within 6 h after)."""
    out: dict[str, Any] = {}
    for code in VALUE_CODES:
        stmt = select(Observation.value, Observation.time).where(
            Observation.run_id == run_id, Observation.code == code, Observation.status == "final"
        )
        if after:
            stmt = stmt.where(Observation.time > at, Observation.time <= at + timedelta(hours=6))
            stmt = stmt.order_by(Observation.time)
        else:
            stmt = stmt.where(Observation.time <= at).order_by(Observation.time.desc())
        found = session.execute(stmt.limit(1)).first()
        if found is not None:
            out[code] = {"value": found.value, "time": found.time.isoformat()}
    return out


def mark_done(
    session: Session,
    actor: Actor,
    plan_id: int,
    values: dict[str, Any],
    ticks: set[str],
    now: datetime | None = None,
) -> ExchangePlan:
    """The exchange was done: every checklist item ticked, the part replaced (a component
    change through ``run_service.add_component``), the linked alert resolved."""
    actor.require(Permission.MANAGE_CIRCUIT)
    old = get_plan(session, actor, plan_id)
    _open(old)
    run = _run(session, actor, old.run_id)
    now = now or utcnow()
    checklist = _ticked(old.checklist or {}, ticks | set(old.checklist or {}), actor, now)
    missing = [label for items in CHECKLIST.values() for k, label in items if k not in checklist]
    if missing:
        raise _bad(
            "checklist",
            f"{len(missing)} checklist item(s) not ticked: {'; '.join(missing)}",
        )
    clamp = str(values.get("clamp_s") or "").strip()
    if not clamp.isdigit() or int(clamp) > CLAMP_MAX_S:
        raise _bad(
            "clamp_s", f"clamp time '{clamp}' must be whole seconds, 0 to {CLAMP_MAX_S}", clamp
        )
    kind = TARGET_COMPONENT[old.target]
    raw = str(values.get("replaces_id") or "")
    replaced = session.get(Component, int(raw)) if raw.isdigit() else None
    if replaced is None or replaced.run_id != run.id:
        raise _bad("replaces_id", f"component '{raw}' is not part of run {run.id}", raw)
    if replaced.kind != kind:
        raise _bad(
            "replaces_id",
            f"component {replaced.id} is a {replaced.kind.replace('_', ' ')}; "
            f"a {TARGET_LABELS[old.target].lower()} exchange replaces a {kind.replace('_', ' ')}",
            raw,
        )
    reason = str(values.get("stop_reason") or "")
    if reason not in COMPONENT_STOP_REASONS or reason == "end_of_run":
        raise _bad(
            "stop_reason", f"stop reason '{reason}' is not one of the change reasons", reason
        )
    done_at = values.get("done_at") or now
    if done_at > now:
        raise _bad("done_at", "the exchange cannot be done in the future", done_at.isoformat())
    component = run_service.add_component(
        session,
        actor,
        run,
        ComponentCreate(
            kind=kind,  # type: ignore[arg-type]
            make=_text("make", values.get("make")),
            model=_text("model", values.get("model")),
            serial=_text("serial", values.get("serial")),
            started_at=done_at,
            replaces_id=replaced.id,
            stop_reason=reason,  # type: ignore[arg-type]
            stop_note=f"planned exchange {old.number}",
        ),
    )
    row = _follow(
        old,
        actor,
        now,
        status="done",
        checklist=checklist,
        clamp_s=int(clamp),
        done_at=done_at,
        replaced_id=replaced.id,
        component_id=component.id,
        values_before=values_around(session, run.id, done_at, after=False),
        values_after=values_around(session, run.id, done_at, after=True) or None,
    )
    session.add(row)
    session.flush()
    words = TARGET_LABELS[old.target].lower()
    _trail(
        session, actor, run, row, "exchange.done", done_at,
        f"planned {words} exchange done (clamp {int(clamp)} s); #{replaced.id} → #{component.id}",
    )  # fmt: skip
    _resolve_alert(session, actor, run, row)
    return row


def _resolve_alert(session: Session, actor: Actor, run: Run, row: ExchangePlan) -> None:
    if row.alert_id is None:
        return
    alert = session.get_one(CircuitAlert, row.alert_id)
    link = {
        "kind": "exchange",
        "id": row.number,
        "href": f"/exchanges/{row.number}",
        "text": f"planned exchange {row.number} done: component #{row.replaced_id} "
        f"replaced by #{row.component_id}",
    }
    service._link(session, actor, run, alert, link, None)


def cancel(
    session: Session, actor: Actor, plan_id: int, reason: Any, now: datetime | None = None
) -> ExchangePlan:
    actor.require(Permission.MANAGE_CIRCUIT)
    old = get_plan(session, actor, plan_id)
    _open(old)
    run = run_service.get_run(session, actor, old.run_id)
    text = _text("reason", reason)
    if text is None:
        raise _bad("reason", "say why the exchange is cancelled")
    now = now or utcnow()
    row = _follow(old, actor, now, status="cancelled", reason=text)
    session.add(row)
    session.flush()
    words = TARGET_LABELS[old.target].lower()
    _trail(
        session, actor, run, row, "exchange.cancelled", now, f"planned {words} exchange cancelled"
    )
    return row


def _trail(
    session: Session,
    actor: Actor,
    run: Run,
    row: ExchangePlan,
    kind: str,
    at: datetime,
    summary: str,
) -> None:
    details = {"plan": row.number, "status": row.status, "alert": row.alert_id}
    record_event(session, actor, kind, at, summary, ("exchange_plan", row.id), run, details=details)
    audit.record(
        session, actor, kind.split(".")[1], "exchange_plan", row.id, run.patient_id, details
    )
