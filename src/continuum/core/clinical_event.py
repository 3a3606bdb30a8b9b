"""The clinical timeline: one append-only row per clinical event of a run, written by every
domain in the same unit of work as the change it describes (``record_event``).

``clinical_time`` is when it happened at the bedside (an alert's condition began, a check
was done, a cannula went in); ``recorded_at`` is when the row was written. The database
refuses UPDATE and DELETE on the table (triggers, migration 0017), like the audit log.
Events of a patient before a run exists (a referral's decision and its sign-offs) have no
``run_id``; the run's timeline includes them (``events_for_run``).

Bulk loaders that back-date their rows (the demo) set ``DEFER`` in the session's ``info``:
``record_event`` then writes nothing and the loader runs ``clinical_backfill.backfill``
afterwards, which derives every event from the stored records with their clinical times.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    select,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from continuum.core.roles import Actor
from continuum.core.vocab import sql_in
from continuum.db import Base, UTCDateTime, utcnow

DEFER = "defer_clinical_events"

# The closed vocabulary of event kinds, with the label a reader sees.
KIND_LABELS: dict[str, str] = {
    "referral.received": "Referral received",
    "referral.status_changed": "Referral status changed",
    "decision.recorded": "Decision recorded",
    "decision.signed": "Decision signed",
    "decision.amended": "Decision amended",
    "decision.reassessed": "Decision reassessed",
    "run.started": "Run started",
    "run.ended": "Run ended",
    "mode.changed": "Mode changed",
    "cannula.inserted": "Cannula inserted",
    "component.added": "Component added",
    "component.replaced": "Component replaced",
    "observation.entered": "Hand-entered",
    "observation.amended": "Value amended",
    "alert.raised": "Alert raised",
    "alert.escalated": "Alert escalated",
    "alert.acknowledged": "Alert acknowledged",
    "alert.cleared": "Alert condition cleared",
    "alert.resolved": "Alert resolved",
    "circuit_check.signed": "Circuit check",
    "transfusion.recorded": "Transfusion",
    "round.signed": "Round signed",
    "round.amended": "Round amended",
    "action.raised": "Action raised",
    "action.completed": "Action completed",
    "weaning.trial_started": "Weaning trial started",
    "weaning.step": "Weaning step",
    "weaning.assessed": "Circuit-safety assessment",
    "weaning.trial_ended": "Weaning trial ended",
    "decannulation.recorded": "Decannulation recorded",
    "decannulation.signed": "Decannulation signed",
    "follow_up.completed": "Follow-up done",
    "adverse_event.recorded": "Adverse event recorded",
    "adverse_event.amended": "Adverse event amended",
    "review.signed": "M&M review signed",
    "discharge.recorded": "Hospital outcome",
    "ecpr.times_recorded": "ECPR times",
    "exchange.planned": "Exchange planned",
    "exchange.done": "Planned exchange done",
    "exchange.cancelled": "Planned exchange cancelled",
    "ambulation.session_recorded": "Ambulation session",
    "ambulation.session_amended": "Ambulation session corrected",
    "transport.mission_started": "Transport mission",
    "transport.milestone": "Transport milestone",
    "transport.checklist_signed": "Transport checklist signed",
    "transport.event": "Event in transit",
    "transport.handover": "Transport handover",
    "mcs.inserted": "Circulatory support device inserted",
    "mcs.removed": "Circulatory support device removed",
}
KINDS: tuple[str, ...] = tuple(KIND_LABELS)
# Groups for the page's kind filter: the part before the dot.
KIND_GROUPS: dict[str, str] = {
    "referral": "Referral",
    "decision": "Decisions",
    "run": "Run start / end",
    "mode": "Mode",
    "cannula": "Cannulas",
    "component": "Components",
    "observation": "Hand-entered values",
    "alert": "Alerts",
    "circuit_check": "Circuit checks",
    "transfusion": "Transfusions",
    "round": "Rounds",
    "action": "Goals and actions",
    "weaning": "Weaning",
    "decannulation": "Decannulation",
    "follow_up": "Follow-ups",
    "adverse_event": "Adverse events",
    "review": "M&M reviews",
    "discharge": "Hospital outcome",
    "ecpr": "ECPR times",
    "exchange": "Planned exchanges",
    "ambulation": "Ambulation and physiotherapy",
    "transport": "Transport",
    "mcs": "Circulatory support devices",
}
SYSTEM_DISCIPLINE = "system"  # events of the surveillance engine, interfaces, the CLI


class ClinicalEvent(Base):
    """Append-only: the database refuses UPDATE and DELETE on this table."""

    __tablename__ = "clinical_event"
    __table_args__ = (
        CheckConstraint(sql_in("kind", KINDS), name="kind"),
        Index("ix_clinical_event_run_time", "run_id", "clinical_time"),
        Index("ix_clinical_event_patient_time", "patient_id", "clinical_time"),
        Index("ix_clinical_event_record", "record_type", "record_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"))
    run_id: Mapped[int | None] = mapped_column(ForeignKey("run.id"))
    kind: Mapped[str] = mapped_column(String(40))
    clinical_time: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    by_name: Mapped[str | None] = mapped_column(String(120))
    discipline: Mapped[str | None] = mapped_column(String(32))
    record_type: Mapped[str] = mapped_column(String(40))
    record_id: Mapped[int] = mapped_column(Integer)
    summary: Mapped[str] = mapped_column(Text)
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON)


def record_event(
    session: Session,
    actor: Actor,
    kind: str,
    at: datetime | None,
    summary: str,
    record: tuple[str, int],
    run: Any = None,
    patient_id: int | None = None,
    details: dict[str, Any] | None = None,
    run_id: int | None = None,
) -> ClinicalEvent | None:
    """Add one event to the caller's unit of work (never committed here).

    ``run``: the run (its id and patient are taken from it); without a run give
    ``patient_id`` (and ``run_id`` when known). ``at``: the clinical time (now when None)."""
    if session.info.get(DEFER):
        return None
    if kind not in KIND_LABELS:
        raise ValueError(f"unknown clinical event kind {kind!r}")
    pid = run.patient_id if run is not None else patient_id
    if pid is None:
        raise ValueError("a clinical event needs a run or a patient")
    event = ClinicalEvent(
        patient_id=pid,
        run_id=run.id if run is not None else run_id,
        kind=kind,
        clinical_time=at or utcnow(),
        recorded_at=utcnow(),
        staff_id=actor.staff_id,
        by_name=actor.name[:120],
        discipline=actor.discipline if actor.staff_id is not None else SYSTEM_DISCIPLINE,
        record_type=record[0],
        record_id=record[1],
        summary=summary[:2000],
        details=details,
    )
    session.add(event)  # flushed and committed with the caller's change
    return event


def events_for_run(
    session: Session,
    run: Any,
    kinds: list[str] | None = None,
    disciplines: list[str] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    previous_end: datetime | None = None,
) -> list[ClinicalEvent]:
    """The run's events in clinical order, plus the patient's events without a run between
    ``previous_end`` (the end of the patient's previous run) and the end of this one."""
    own = ClinicalEvent.run_id == run.id
    before = (
        (ClinicalEvent.run_id.is_(None))
        & (ClinicalEvent.patient_id == run.patient_id)
        & (ClinicalEvent.clinical_time <= (run.ended_at or utcnow()))
    )
    if previous_end is not None:
        before = before & (ClinicalEvent.clinical_time > previous_end)
    stmt = select(ClinicalEvent).where(own | before)
    if kinds:
        groups = [k for k in kinds if k in KIND_GROUPS]
        exact = [k for k in kinds if k in KIND_LABELS]
        cond = ClinicalEvent.kind.in_(exact) if exact else None
        for group in groups:
            like = ClinicalEvent.kind.like(f"{group}.%")
            cond = like if cond is None else cond | like
        if cond is not None:
            stmt = stmt.where(cond)
    if disciplines:
        stmt = stmt.where(ClinicalEvent.discipline.in_(disciplines))
    if since is not None:
        stmt = stmt.where(ClinicalEvent.clinical_time >= since)
    if until is not None:
        stmt = stmt.where(ClinicalEvent.clinical_time <= until)
    stmt = stmt.order_by(ClinicalEvent.clinical_time, ClinicalEvent.id)
    return list(session.scalars(stmt))


# --- summaries shared by the services and the back-fill --------------------------------


def words(value: str | None) -> str:
    return (value or "").replace("_", " ")


def alert_summary(kind: str, detector: str, severity: str, extra: str | None = None) -> str:
    what = {
        "alert.raised": f"{severity.capitalize()} alert raised",
        "alert.escalated": f"Alert escalated to {severity}",
        "alert.acknowledged": "Alert acknowledged",
        "alert.cleared": "Alert condition cleared",
        "alert.resolved": "Alert resolved",
    }[kind]
    text = f"{what}: {words(detector)}"
    return f"{text} — {extra}" if extra else text


def transfusion_text(transfusions: dict[str, Any] | None) -> str:
    given = {k: v for k, v in (transfusions or {}).items() if v}
    return ", ".join(
        f"{v:g} g {words(k).removesuffix(' g')}"
        if k.endswith("_g")
        else f"{v:g} unit{'s' if v != 1 else ''} {words(k)}"
        for k, v in given.items()
    )


def transfusion_entry_text(
    product: str, units: float | None, volume_ml: float | None, reason: str
) -> str:
    """A transfusion entered on its own (not with a circuit check)."""
    amount = [f"{units:g} unit{'s' if units != 1 else ''}"] if units else []
    if volume_ml:
        amount.append(f"{volume_ml:g} mL")
    what = words(product).removesuffix(" g")
    return f"Transfused {' / '.join(amount)} {what}: {reason}"


def status_text(from_status: str | None, to_status: str, reason: str | None) -> str:
    text = f"Referral {words(from_status) or 'new'} → {words(to_status)}"
    return text + (f": {reason}" if reason else "")


def follow_up_text(item: str, result: str | None) -> str:
    return f"Follow-up done: {item}" + (f" — {result}" if result else "")


def check_summary(shift: str, findings: str | None, inspection: dict[str, str] | None) -> str:
    seen = [f"{words(site)}: {words(v)}" for site, v in (inspection or {}).items() if v != "none"]
    text = f"Circuit check ({words(shift)} shift)"
    if seen:
        text += " — " + "; ".join(seen)
    if findings:
        text += f". Findings: {findings}"
    return text


def goals_text(goals: dict[str, Any] | None) -> str:
    parts = []
    for code, g in (goals or {}).items():
        low, high = g.get("low"), g.get("high")
        rng = (
            f"{low:g}–{high:g}"
            if low is not None and high is not None
            else (f"≥ {low:g}" if low is not None else f"≤ {high:g}" if high is not None else "")
        )
        parts.append(f"{words(code)} {rng} {g.get('unit') or ''}".strip())
    return "; ".join(parts)
