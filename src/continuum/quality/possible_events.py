"""Possible adverse events not yet reviewed: records found in the database, not reported by
anyone, that often are an adverse event. Critical alerts; components changed for a failure
stop reason; aborted weaning trials; red-cell transfusions above the programme's 24-hour
threshold (``quality_events``); circuit checks that found clot. Each is listed until it is
recorded as an event (the event names it as its source) or set aside as "not an adverse
event" with a reason (``adverse_event_screen``, audited).

Who: REVIEW_CASES (coordinator, quality lead, physician lead): deciding that a record is
not an event is a judgement on the register's completeness, made by those who review cases.
Bedside clinicians record events from the record itself ("Record as adverse event").
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from continuum.alerts.models import CircuitAlert
from continuum.core import audit
from continuum.core.roles import Actor, Permission
from continuum.core.run_record import Component, Run
from continuum.db import utcnow
from continuum.errors import FieldProblem, ValidationFailed
from continuum.quality import adverse_event_prefill as pre
from continuum.quality.adverse_event_schemas import DismissIn
from continuum.quality.adverse_event_screen import AdverseEventScreen
from continuum.quality.adverse_event_settings import in_force as screen_settings
from continuum.quality.adverse_events import SOURCE_MODELS, patient_labels, recorded_sources
from continuum.rounds.models import CircuitCheck
from continuum.rounds.transfusion import Transfusion
from continuum.weaning.models import WeaningTrial

DAY = timedelta(hours=24)


@dataclass(frozen=True)
class Possible:
    source_type: str
    source_id: int
    run_id: int
    patient_label: str
    at: datetime
    what: str
    suggested_code: str | None

    @property
    def record_href(self) -> str:
        return (
            f"/runs/{self.run_id}/adverse-events/new?source={self.source_type}"
            f"&source_id={self.source_id}"
        )


def dismissed_sources(session: Session) -> set[tuple[str, int]]:
    stmt = select(AdverseEventScreen.source_type, AdverseEventScreen.source_id)
    return {(t, i) for t, i in session.execute(stmt)}


def transfusions_over(
    session: Session, since: datetime | None, limit: float, run_id: int | None = None
) -> list[tuple[Transfusion, float]]:
    """Hand-entered red-cell transfusions at which the run's red cells over the previous
    24 h (hand entries and circuit checks' tallies) first rose above ``limit``."""
    start = since - DAY if since is not None else None
    given: dict[int, list[tuple[datetime, float, Transfusion | None]]] = defaultdict(list)
    stmt = select(Transfusion).where(
        Transfusion.product == "red_cells", Transfusion.units.is_not(None)
    )
    checks = select(CircuitCheck)
    if start is not None:
        stmt = stmt.where(Transfusion.given_at >= start)
        checks = checks.where(CircuitCheck.checked_at >= start)
    if run_id is not None:
        stmt = stmt.where(Transfusion.run_id == run_id)
        checks = checks.where(CircuitCheck.run_id == run_id)
    for t in session.scalars(stmt):
        given[t.run_id].append((t.given_at, float(t.units or 0), t))
    for c in session.scalars(checks):
        units = (c.transfusions or {}).get("red_cells")
        if isinstance(units, int | float) and units > 0:
            given[c.run_id].append((c.checked_at, float(units), None))
    found: list[tuple[Transfusion, float]] = []
    for entries in given.values():
        entries.sort(key=lambda x: (x[0], 0 if x[2] is None else x[2].id))
        above = False
        for at, _, row in entries:
            total = sum(u for t, u, _ in entries if at - DAY < t <= at)
            if total > limit and not above and row is not None and (since is None or at >= since):
                found.append((row, total))
            above = total > limit
    return found


def find(session: Session, actor: Actor, days: int = 14) -> list[Possible]:
    """Open possible events of the last ``days`` days, newest first."""
    actor.require(Permission.REVIEW_CASES)
    since = utcnow() - timedelta(days=days)
    settings = screen_settings(session)
    hits: list[pre.Prefill] = []
    alerts = session.scalars(
        select(CircuitAlert).where(
            CircuitAlert.peak_severity == "critical", CircuitAlert.raised_at >= since
        )
    )
    hits += [pre.for_alert(session, a) for a in alerts]
    comps = session.scalars(
        select(Component).where(
            Component.stop_reason.in_(pre.FAILURE_REASONS), Component.stopped_at >= since
        )
    )
    hits += [pre.for_component(session, c) for c in comps]
    trials = session.scalars(
        select(WeaningTrial).where(WeaningTrial.status == "aborted", WeaningTrial.ended_at >= since)
    )
    hits += [pre.for_weaning_trial(session, t) for t in trials]
    for t, total in transfusions_over(session, since, settings.red_cell_units_24h):
        p = pre.for_transfusion(session, t)
        p.what = f"Red cells {total:g} units within 24 h (above {settings.red_cell_units_24h:g})"
        hits.append(p)
    checks = session.scalars(select(CircuitCheck).where(CircuitCheck.checked_at >= since))
    hits += [pre.for_circuit_check(session, c) for c in checks if pre.worst_clot(c.inspection)]
    closed = recorded_sources(session) | dismissed_sources(session)
    hits = [h for h in hits if (h.source_type, h.source_id) not in closed]
    training = set(session.scalars(select(Run.id).where(Run.is_training.is_(True))))
    hits = [h for h in hits if h.run_id not in training]  # simulated patients are not screened
    runs = {r.id: r.patient_id for r in session.scalars(
        select(Run).where(Run.id.in_({h.run_id for h in hits}))
    )}  # fmt: skip
    labels = patient_labels(session, set(runs.values()))
    out = [
        Possible(
            h.source_type,
            h.source_id,
            h.run_id,
            labels.get(runs.get(h.run_id, 0), "?"),
            h.at or since,
            h.what,
            h.code,
        )
        for h in hits
    ]
    out.sort(key=lambda p: (p.at, p.source_type, p.source_id), reverse=True)
    return out


def dismiss(session: Session, actor: Actor, data: DismissIn) -> AdverseEventScreen:
    """Set a possible event aside as "not an adverse event" (reason required), audited."""
    actor.require(Permission.REVIEW_CASES)
    model = SOURCE_MODELS[data.source_type]
    row = session.get(model, data.source_id)
    if row is None:
        raise ValidationFailed(
            [
                FieldProblem(
                    "source_id", f"there is no {data.source_type} {data.source_id}", data.source_id
                )
            ]
        )
    key = (data.source_type, data.source_id)
    if key in dismissed_sources(session):
        raise ValidationFailed(
            [
                FieldProblem(
                    "source_id",
                    f"{data.source_type} {data.source_id} was already set aside",
                    data.source_id,
                )
            ]
        )
    if key in recorded_sources(session):
        raise ValidationFailed(
            [
                FieldProblem(
                    "source_id",
                    f"{data.source_type} {data.source_id} is already recorded as an adverse event",
                    data.source_id,
                )
            ]
        )
    screen = AdverseEventScreen(
        run_id=row.run_id, source_type=data.source_type, source_id=data.source_id,
        decision="dismissed", reason=data.reason, by=actor.staff_id,
    )  # fmt: skip
    session.add(screen)
    session.flush()
    run = session.get_one(Run, row.run_id)
    audit.record(
        session, actor, "create", "adverse_event_screen", screen.id, run.patient_id,
        {"source_type": data.source_type, "source_id": data.source_id,
         "decision": "dismissed", "reason": data.reason},
    )  # fmt: skip
    return screen


def offers_for_run(session: Session, run_id: int) -> set[tuple[str, int]]:
    """``run_view.ADVERSE_EVENT_OFFERS`` entry: the run's transfusions above the threshold
    (a domain page shows "Record as adverse event" beside them)."""
    limit = screen_settings(session).red_cell_units_24h
    return {("transfusion", t.id) for t, _ in transfusions_over(session, None, limit, run_id)}
