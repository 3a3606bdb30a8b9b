"""The adverse-event register: record an event on a run, amend it, read the values in force.

A report is stored as first entered and never changed (``adverse_event``); a correction,
or the harm and preventability agreed at review, is an amendment row per field. The values
in force are the report with its amendments applied in order (``in_force``), and the
history (who, when, field, old → new, reason, kind) is the list of those steps.

Every function takes ``(session, actor, …)``, checks the permission, audits the change,
writes the clinical timeline event (``adverse_event.recorded`` / ``adverse_event.amended``)
and flushes; the caller commits. Bad input is refused with a ``ValidationFailed`` naming the
field, the value and what is allowed, before anything is written.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, object_session

from continuum.alerts.models import CircuitAlert
from continuum.core import audit
from continuum.core.clinical_backfill import adverse_amended_text, adverse_event_text
from continuum.core.clinical_event import record_event
from continuum.core.concurrency import StaleRecord
from continuum.core.people import Patient, Staff
from continuum.core.roles import Actor, Permission
from continuum.core.run_record import Cannula, Component, Run, clinical_run_ids
from continuum.core.schemas import FUTURE_SLACK
from continuum.db import utcnow
from continuum.errors import FieldProblem, NotFound, ValidationFailed
from continuum.quality import taxonomy
from continuum.quality.adverse_event_record import (
    AMENDABLE_FIELDS,
    AdverseEvent,
    AdverseEventAmendment,
)
from continuum.quality.adverse_event_schemas import AdverseEventIn, AmendmentIn
from continuum.quality.review_record import Review, ReviewMeeting
from continuum.rounds.models import CircuitCheck, RoundRecord
from continuum.rounds.transfusion import Transfusion
from continuum.weaning.models import WeaningTrial

# The record each source names, with the column holding its run.
SOURCE_MODELS: dict[str, Any] = {
    "alert": CircuitAlert,
    "circuit_check": CircuitCheck,
    "component": Component,
    "weaning_trial": WeaningTrial,
    "transfusion": Transfusion,
    "round": RoundRecord,
}
REQUIRED_FIELDS = ("code", "event_class", "harm", "occurred_at", "time_estimated",
                   "detected_by", "description")  # fmt: skip
# Set at review: once a consensus value exists, only another consensus changes it.
CONSENSUS_FIELDS = ("harm", "preventability", "cause_class")
# Set only at review (never by a correction): the report has no value for it.
REVIEW_ONLY_FIELDS = ("cause_class",)
TIME_FIELDS = ("occurred_at",)
ID_FIELDS = ("component_id", "cannula_id")
BOOL_FIELDS = ("time_estimated",)


@dataclass(frozen=True)
class Change:
    """One step of an event's history."""

    at: datetime
    by: int | None
    field: str
    old: Any
    new: Any
    reason: str
    kind: str
    review_id: int | None


@dataclass(frozen=True)
class InForce:
    values: dict[str, Any]  # every amendable field, plus category (from the code)
    history: list[Change]

    @property
    def reviewed(self) -> bool:
        return any(c.kind == "consensus" for c in self.history)


# --- values as text (amendment rows) and back ------------------------------------------


def to_text(field: str, value: Any) -> str | None:
    if value is None:
        return None
    if field in TIME_FIELDS:
        return value.isoformat()
    if field in BOOL_FIELDS:
        return "true" if value else "false"
    return str(value)


def from_text(field: str, text: str | None) -> Any:
    if text is None:
        return None
    if field in TIME_FIELDS:
        return datetime.fromisoformat(text)
    if field in BOOL_FIELDS:
        return text == "true"
    if field in ID_FIELDS:
        return int(text)
    return text


def in_force(event: AdverseEvent, amendments: list[AdverseEventAmendment] | None = None) -> InForce:
    """The report with its amendments applied in order (time, then id), and the history.

    The one place an event's current values come from: the register, the event page, the
    case packet, the review page, the metrics and the aggregated view all read them here
    (never the report's own columns, which keep the first report). Without ``amendments``
    they are read from the event's session."""
    if amendments is None:
        session = object_session(event)
        amendments = amendments_of(session, [event.id])[event.id] if session else []
    values: dict[str, Any] = {f: getattr(event, f, None) for f in AMENDABLE_FIELDS}
    history: list[Change] = []
    for a in sorted(amendments, key=lambda x: (x.at, x.id or 0)):
        new = from_text(a.field, a.value)
        history.append(
            Change(a.at, a.by, a.field, values[a.field], new, a.reason, a.kind, a.review_id)
        )
        values[a.field] = new
    values["category"] = taxonomy.BY_CODE[values["code"]].category
    return InForce(values, history)


def in_force_many(session: Session, events: Iterable[AdverseEvent]) -> dict[int, InForce]:
    """The values in force of many events at once (one query for their amendments)."""
    listed = list(events)
    amended = amendments_of(session, [e.id for e in listed])
    return {e.id: in_force(e, amended.get(e.id, [])) for e in listed}


def events_in_force(
    session: Session, run_ids: Iterable[int] | None = None
) -> list[tuple[AdverseEvent, InForce]]:
    """Every event (of the given runs, or all), each with its values in force: what the
    metrics, the packet and the aggregated view count."""
    stmt = select(AdverseEvent)
    if run_ids is not None:
        stmt = stmt.where(AdverseEvent.run_id.in_(list(run_ids)))
    else:  # all: of real patients (a training run's simulated events are never counted)
        stmt = stmt.where(AdverseEvent.run_id.in_(clinical_run_ids()))
    events = list(session.scalars(stmt.order_by(AdverseEvent.id)))
    force = in_force_many(session, events)
    return [(e, force[e.id]) for e in events]


def amendments_of(session: Session, event_ids: list[int]) -> dict[int, list[AdverseEventAmendment]]:
    found: dict[int, list[AdverseEventAmendment]] = defaultdict(list)
    if not event_ids:
        return found
    stmt = (
        select(AdverseEventAmendment)
        .where(AdverseEventAmendment.event_id.in_(event_ids))
        .order_by(AdverseEventAmendment.at, AdverseEventAmendment.id)
    )
    for a in session.scalars(stmt):
        found[a.event_id].append(a)
    return found


# --- checks shared by record and amend ---------------------------------------------------


def _stamp(at: datetime | None) -> str:
    return at.isoformat(timespec="minutes") if at is not None else "ongoing"


def check_time(run: Run, at: datetime, field: str = "occurred_at") -> list[FieldProblem]:
    span = f"run {run.id}: {_stamp(run.started_at)} – {_stamp(run.ended_at)}"
    given = at.isoformat()  # the value echoed in the answer (JSON)
    if at < run.started_at:
        return [FieldProblem(field, f"{_stamp(at)} is before the run started ({span})", given)]
    if run.ended_at is not None and at > run.ended_at:
        return [FieldProblem(field, f"{_stamp(at)} is after the run ended ({span})", given)]
    if at > utcnow() + FUTURE_SLACK:
        return [FieldProblem(field, f"{_stamp(at)} is in the future ({span})", given)]
    return []


def check_code(code: str, category: str | None = None) -> list[FieldProblem]:
    entry = taxonomy.BY_CODE.get(code)
    if entry is None:
        return [
            FieldProblem(
                "code",
                f"code {code} is not in the adverse-event taxonomy "
                "(choose one from the list, e.g. mech_pump_clot, haem_gi)",
                code,
            )
        ]
    if category is not None and category not in taxonomy.CATEGORY_LABELS:
        return [
            FieldProblem(
                "category",
                f"category {category} is not one of {', '.join(taxonomy.CATEGORIES)}",
                category,
            )
        ]
    if category is not None and entry.category != category:
        return [
            FieldProblem("code", f"code {code} is a {entry.category} code, not {category}", code)
        ]
    return []


def check_part(session: Session, run: Run, field: str, part_id: int | None) -> list[FieldProblem]:
    if part_id is None:
        return []
    what = "component" if field == "component_id" else "cannula"
    row: Component | Cannula | None = (
        session.get(Component, part_id) if what == "component" else session.get(Cannula, part_id)
    )
    if row is None:
        return [FieldProblem(field, f"there is no {what} {part_id}", part_id)]
    if row.run_id != run.id:
        return [
            FieldProblem(
                field, f"{what} {part_id} belongs to run {row.run_id}, not run {run.id}", part_id
            )
        ]
    return []


def check_source(
    session: Session, run: Run, source_type: str | None, source_id: int | None
) -> list[FieldProblem]:
    if source_type is None and source_id is None:
        return []
    if source_type is None or source_id is None:
        missing = "source_type" if source_type is None else "source_id"
        return [FieldProblem(missing, "give both the source's type and its id, or neither", None)]
    model = SOURCE_MODELS[source_type]
    row = session.get(model, source_id)
    label = taxonomy.SOURCE_LABELS[source_type].lower()
    if row is None:
        return [FieldProblem("source_id", f"there is no {label} {source_id}", source_id)]
    if row.run_id != run.id:
        return [
            FieldProblem(
                "source_id",
                f"{label} {source_id} belongs to run {row.run_id}, not run {run.id}",
                source_id,
            )
        ]
    return []


# --- record ------------------------------------------------------------------------------


def may_read_rows(actor: Actor) -> None:
    """Events one by one: the roles that record them. Researchers read them counted
    (``adverse_event_summary``), never event by event."""
    actor.require(Permission.VIEW_CLINICAL)
    actor.require(Permission.RECORD_ADVERSE_EVENT)


def get_event(session: Session, actor: Actor, event_id: int) -> AdverseEvent:
    may_read_rows(actor)
    event = session.get(AdverseEvent, event_id)
    if event is None:
        raise NotFound(f"adverse event {event_id} not found")
    return event


def record(session: Session, actor: Actor, run_id: int, data: AdverseEventIn) -> AdverseEvent:
    """Record an event on a run (run must exist; time within the run; code, part and
    source checked). The category is the code's."""
    actor.require(Permission.RECORD_ADVERSE_EVENT)
    run = session.get(Run, run_id)
    if run is None:
        raise NotFound(f"run {run_id} not found")
    problems = [
        *check_time(run, data.occurred_at),
        *check_code(data.code, data.category),
        *check_part(session, run, "component_id", data.component_id),
        *check_part(session, run, "cannula_id", data.cannula_id),
        *check_source(session, run, data.source_type, data.source_id),
    ]
    if problems:
        raise ValidationFailed(problems)
    entry = taxonomy.BY_CODE[data.code]
    event = AdverseEvent(
        run_id=run.id,
        patient_id=run.patient_id,
        code=entry.code,
        category=entry.category,
        event_class=data.event_class,
        harm=data.harm,
        preventability=data.preventability,
        occurred_at=data.occurred_at,
        time_estimated=data.time_estimated,
        component_id=data.component_id,
        cannula_id=data.cannula_id,
        detected_by=data.detected_by,
        source_type=data.source_type,
        source_id=data.source_id,
        description=data.description,
        immediate_actions=data.immediate_actions or None,
        recorded_by=actor.staff_id,
        recorded_at=utcnow(),
        version=1,
    )
    session.add(event)
    session.flush()
    audit.record(
        session, actor, "create", "adverse_event", event.id, run.patient_id,
        {"run_id": run.id, "code": entry.code, "category": entry.category,
         "event_class": data.event_class, "harm": data.harm, "source_type": data.source_type,
         "source_id": data.source_id},
    )  # fmt: skip
    record_event(
        session, actor, "adverse_event.recorded", data.occurred_at,
        adverse_event_text(entry.code, entry.category, data.event_class, data.harm),
        ("adverse_event", event.id), run,
        details={"code": entry.code, "category": entry.category, "harm": data.harm},
    )  # fmt: skip
    session.flush()
    return event


# --- amend -------------------------------------------------------------------------------


def _claim(session: Session, event: AdverseEvent, version: int | None) -> None:
    """Move the report from ``version`` to the next, or refuse a stale save (409) naming
    who amended it last and when. ``None``: an in-process caller, last write."""
    if version is None:
        session.execute(
            update(AdverseEvent)
            .where(AdverseEvent.id == event.id)
            .values(version=AdverseEvent.version + 1)
            .execution_options(synchronize_session=False)
        )
        session.refresh(event, ["version"])
        return
    result = session.execute(
        update(AdverseEvent)
        .where(AdverseEvent.id == event.id, AdverseEvent.version == version)
        .values(version=version + 1)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount == 1:  # type: ignore[attr-defined]
        session.refresh(event, ["version"])
        return
    session.refresh(event, ["version"])
    raise _stale(session, event, version)


def _stale(session: Session, event: AdverseEvent, version: int) -> StaleRecord:
    last = session.scalars(
        select(AdverseEventAmendment)
        .where(AdverseEventAmendment.event_id == event.id)
        .order_by(AdverseEventAmendment.at.desc(), AdverseEventAmendment.id.desc())
        .limit(1)
    ).first()
    by = None
    if last is not None and last.by is not None:
        staff = session.get(Staff, last.by)
        by = staff.name if staff is not None else f"staff {last.by}"
    return StaleRecord(
        f"Adverse event {event.id}", version, event.version, by, last.at if last else None
    )


def amend(
    session: Session, actor: Actor, event_id: int, data: AmendmentIn
) -> list[AdverseEventAmendment]:
    """Change one or more fields with a reason. ``kind="consensus"`` (harm, preventability
    agreed at review) needs REVIEW_CASES; a field set by consensus changes only by another
    consensus. A save on an older version is refused (409) and changes nothing."""
    actor.require(Permission.RECORD_ADVERSE_EVENT)
    if data.kind == "consensus":
        actor.require(Permission.REVIEW_CASES)
    event = get_event(session, actor, event_id)
    if data.version is not None and data.version != event.version:
        raise _stale(session, event, data.version)  # before judging values made on old ones
    run = session.get_one(Run, event.run_id)
    current = in_force(event, list(amendments_of(session, [event.id])[event.id]))
    given = {f: getattr(data, f) for f in AMENDABLE_FIELDS if f in data.model_fields_set}
    problems: list[FieldProblem] = []
    if not given:
        problems.append(
            FieldProblem("fields", "name at least one field to change, with its new value", None)
        )
    for field, value in given.items():
        if value is None and field in REQUIRED_FIELDS:
            problems.append(FieldProblem(field, f"{field} cannot be cleared", None))
    if given.get("code") is not None:
        problems += check_code(given["code"])
    if given.get("occurred_at") is not None:
        problems += check_time(run, given["occurred_at"])
    for field in ID_FIELDS:
        if given.get(field) is not None:
            problems += check_part(session, run, field, given[field])
    if data.kind == "correction":
        for field in REVIEW_ONLY_FIELDS:
            if field in given:
                problems.append(
                    FieldProblem(
                        field,
                        f"{field} is agreed at M&M review only (kind consensus, "
                        "by those who review cases)",
                        given[field],
                    )
                )
        agreed = {c.field: c for c in current.history if c.kind == "consensus"}
        held = review_dates(session, {c.review_id for c in agreed.values()})
        for field in CONSENSUS_FIELDS:
            if field in given and field in agreed and field not in REVIEW_ONLY_FIELDS:
                by = agreed[field]
                when = (
                    f"M&M review of {held[by.review_id].isoformat()}"
                    if by.review_id in held
                    else f"review ({_stamp(by.at)})"
                )
                problems.append(
                    FieldProblem(
                        field,
                        f"{field} was agreed by consensus at {when}; only a review changes it",
                        given[field],
                    )
                )
    if problems:
        raise ValidationFailed(problems)
    changes = {f: v for f, v in given.items() if v != current.values[f]}
    if not changes:
        raise ValidationFailed(
            [FieldProblem("fields", "every value given is already the value in force", None)]
        )
    _claim(session, event, data.version)
    now = utcnow()
    rows = [
        AdverseEventAmendment(
            event_id=event.id,
            field=field,
            value=to_text(field, value),
            reason=data.reason,
            kind=data.kind,
            review_id=data.review_id,
            by=actor.staff_id,
            at=now,
        )
        for field, value in changes.items()
    ]
    session.add_all(rows)
    session.flush()
    audit.record(
        session, actor, "update", "adverse_event", event.id, event.patient_id,
        {"kind": data.kind, "reason": data.reason, "review_id": data.review_id,
         "version": event.version,
         "changes": {f: {"from": to_text(f, current.values[f]), "to": to_text(f, v)}
                     for f, v in changes.items()}},
    )  # fmt: skip
    record_event(
        session, actor, "adverse_event.amended", now,
        adverse_amended_text(data.kind, [(r.field, r.value) for r in rows], data.reason),
        ("adverse_event", event.id), run,
        details={"kind": data.kind, "fields": list(changes)},
    )  # fmt: skip
    session.flush()
    return rows


# --- lists ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Listed:
    event: AdverseEvent
    force: InForce


def list_events(
    session: Session,
    actor: Actor,
    run_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    category: str | None = None,
    event_class: str | None = None,
    harm: str | None = None,
    reviewed: bool | None = None,
) -> list[Listed]:
    """Events newest first (by the time in force), per run or programme-wide; the filters
    apply to the values in force (a harm agreed at review counts, not the first report's).
    ``reviewed``: has (or has not) a consensus amendment."""
    may_read_rows(actor)
    stmt = select(AdverseEvent)
    if run_id is not None:
        stmt = stmt.where(AdverseEvent.run_id == run_id)
    else:  # programme-wide lists and counts never hold a training run's (simulated) events
        stmt = stmt.where(AdverseEvent.run_id.in_(clinical_run_ids()))
    events = list(session.scalars(stmt))
    amended = amendments_of(session, [e.id for e in events])
    out: list[Listed] = []
    for e in events:
        force = in_force(e, amended.get(e.id, []))
        v = force.values
        if since is not None and v["occurred_at"] < since:
            continue
        if until is not None and v["occurred_at"] >= until:
            continue
        if category and v["category"] != category:
            continue
        if event_class and v["event_class"] != event_class:
            continue
        if harm and v["harm"] != harm:
            continue
        if reviewed is not None and force.reviewed != reviewed:
            continue
        out.append(Listed(e, force))
    out.sort(key=lambda x: (x.force.values["occurred_at"], x.event.id), reverse=True)
    return out


def reviews_of_events(session: Session, event_ids: Iterable[int]) -> dict[int, list[Review]]:
    """The M&M reviews that discussed each event (oldest first)."""
    found: dict[int, list[Review]] = defaultdict(list)
    ids = list(event_ids)
    if not ids:
        return found
    stmt = select(Review).where(Review.adverse_event_id.in_(ids)).order_by(Review.id)
    for r in session.scalars(stmt):
        if r.adverse_event_id is not None:
            found[r.adverse_event_id].append(r)
    return found


def review_dates(session: Session, review_ids: Iterable[int | None]) -> dict[int, date]:
    """The meeting date of each review ("set by M&M review of <date>")."""
    ids = {i for i in review_ids if i is not None}
    if not ids:
        return {}
    stmt = (
        select(Review.id, ReviewMeeting.held_on)
        .join(ReviewMeeting, ReviewMeeting.id == Review.meeting_id)
        .where(Review.id.in_(ids))
    )
    return {i: d for i, d in session.execute(stmt)}


def recorded_sources(session: Session) -> set[tuple[str, int]]:
    """(source_type, source_id) of every event raised from a record."""
    stmt = select(AdverseEvent.source_type, AdverseEvent.source_id).where(
        AdverseEvent.source_type.is_not(None)
    )
    return {(t, i) for t, i in session.execute(stmt) if t is not None and i is not None}


def parts_of(session: Session, run_id: int) -> tuple[list[Component], list[Cannula]]:
    comps = session.scalars(
        select(Component).where(Component.run_id == run_id).order_by(Component.started_at)
    ).all()
    cans = session.scalars(
        select(Cannula).where(Cannula.run_id == run_id).order_by(Cannula.inserted_at)
    ).all()
    return list(comps), list(cans)


def part_text(part: Component | Cannula | None) -> str:
    """'Membrane lung · Getinge HLS 7.0 · SN … · lot … · UDI …' for a select or a page."""
    if part is None:
        return ""
    if isinstance(part, Component):
        head = taxonomy.PART_LABELS.get(part.kind, part.kind)
    else:
        head = f"Cannula ({part.role.replace('_', ' ')}, {part.site})"
    bits = [head, " ".join(x for x in (part.make, part.model) if x)]
    bits += [
        f"{k} {v}" for k, v in (("SN", part.serial), ("lot", part.lot), ("UDI", part.udi)) if v
    ]
    return " · ".join(b for b in bits if b)


def staff_names(session: Session, ids: set[int | None]) -> dict[int, str]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    return {s.id: s.name for s in session.scalars(select(Staff).where(Staff.id.in_(wanted)))}


def patient_labels(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return {p.id: p.label for p in session.scalars(select(Patient).where(Patient.id.in_(ids)))}


def mapping_text(code: str) -> str:
    entry = taxonomy.BY_CODE[code]
    missing = [n for n, v in (("ELSO", entry.elso), ("ECLS-CDM", entry.ecls_cdm)) if v is None]
    return "mapped" if not missing else "unmapped in " + " and ".join(missing)


def window(days: int, now: datetime | None = None) -> datetime:
    return (now or utcnow()) - timedelta(days=days)
