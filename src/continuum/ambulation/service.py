"""Recording ambulation / physiotherapy sessions: the pre-session safety check, the ICU
Mobility Scale level reached, events during the session, who was present (participation,
by discipline) and the circuit values around it from the stored observations.

Every change is a new row (a correction follows the row it corrects, with a reason),
audited and on the clinical timeline. Flushes, never commits."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from continuum import vocabulary
from continuum.ambulation.models import (
    DISCIPLINE_GROUPS,
    EVENT_LABELS,
    IMS_LABELS,
    IMS_MAX,
    IMS_MIN,
    SAFETY_ANSWERS,
    SAFETY_ITEMS,
    VALUE_CODES,
    AmbulationSession,
    in_force,
)
from continuum.ambulation.schemas import AmendIn, SessionIn
from continuum.ambulation.settings import Windows
from continuum.core import (
    audit,
    competencies,
    observation_service,
    participation_service,
    run_service,
)
from continuum.core.clinical_backfill import ambulation_text
from continuum.core.clinical_event import record_event
from continuum.core.people import Staff
from continuum.core.record import Participation
from continuum.core.roles import Actor, Permission
from continuum.core.run_record import Run
from continuum.core.schemas import FUTURE_SLACK, ParticipantIn
from continuum.db import utcnow
from continuum.errors import NotFound, ProblemCollector

RECORD = "ambulation_session"
MAX_HOURS = 12  # a typo guard: the longest session accepted
MAX_EVENTS = 20


def group_of(discipline: str) -> str:
    for label, members in DISCIPLINE_GROUPS.items():
        if discipline in members:
            return label
    return "Other"


def get(session: Session, actor: Actor, number: int) -> AmbulationSession:
    """The version in force of session ``number`` (or of the session a version row belongs
    to: the timeline links each event's own row)."""
    actor.require(Permission.VIEW_CLINICAL)
    named = session.get(AmbulationSession, number)
    if named is not None and named.session_no is not None:
        number = named.session_no
    row = session.scalars(
        select(AmbulationSession)
        .where(AmbulationSession.session_no == number)
        .order_by(AmbulationSession.id.desc())
        .limit(1)
    ).first()
    if row is None:
        raise NotFound(f"ambulation session {number} not found")
    run_service.get_run(session, actor, row.run_id)
    return row


def versions(session: Session, number: int) -> list[AmbulationSession]:
    stmt = select(AmbulationSession).where(AmbulationSession.session_no == number)
    return list(session.scalars(stmt.order_by(AmbulationSession.id)))


def run_sessions(session: Session, actor: Actor, run_id: int) -> list[AmbulationSession]:
    actor.require(Permission.VIEW_CLINICAL)
    run_service.get_run(session, actor, run_id)
    return in_force(session, [run_id])


def highest(rows: list[AmbulationSession]) -> AmbulationSession | None:
    """The session with the highest level reached (the earliest of equals)."""
    return max(rows, key=lambda r: (r.ims_level, -r.started_at.timestamp()), default=None)


def competency_current(session: Session, row: AmbulationSession) -> frozenset[int]:
    """Who of the staff present held a valid "ambulation" competency on the session's day."""
    ids = [s.id for s, _ in staff_present(session, row.number)]
    return frozenset(competencies.team_current(session, ids, "ambulation", row.started_at).current)


def staff_present(session: Session, number: int) -> list[tuple[Staff, str]]:
    """Who was present (participation rows of the session), with their discipline group."""
    stmt = (
        select(Staff)
        .join(Participation, Participation.staff_id == Staff.id)
        .where(Participation.record_type == RECORD, Participation.record_id == number)
        .order_by(Staff.name)
    )
    seen: dict[int, Staff] = {s.id: s for s in session.scalars(stmt)}
    return [(s, group_of(s.discipline)) for s in seen.values()]


# --- checking -------------------------------------------------------------------------


def _check(session: Session, run: Run, data: SessionIn, now: datetime) -> dict[str, Any]:
    """Every problem at once (422 naming each field, value and what is allowed)."""
    bad = ProblemCollector()
    start, end = data.started_at, data.ended_at
    if not IMS_MIN <= data.ims_level <= IMS_MAX:
        bad.add(
            "ims_level",
            f"ICU Mobility Scale level {data.ims_level} is outside {IMS_MIN}–{IMS_MAX}",
            data.ims_level,
        )
    if end <= start:
        bad.add(
            "ended_at",
            f"the session ends ({end.isoformat(timespec='minutes')}) before or when it starts "
            f"({start.isoformat(timespec='minutes')}); the end must be after the start",
            end.isoformat(),
        )
    elif end - start > timedelta(hours=MAX_HOURS):
        bad.add("ended_at", f"the session lasts more than {MAX_HOURS} h", end.isoformat())
    if end > now + FUTURE_SLACK:
        bad.add("ended_at", "the session cannot end in the future; record it afterwards",
                end.isoformat())  # fmt: skip
    if start < run.started_at:
        bad.add("started_at", f"the session starts before run {run.id} started",
                start.isoformat())  # fmt: skip
    if run.ended_at is not None and start > run.ended_at:
        bad.add("started_at", f"run {run.id} had ended before the session", start.isoformat())
    safety: dict[str, str] = {}
    unknown = sorted(set(data.safety) - set(SAFETY_ITEMS))
    if unknown:
        bad.add("safety", f"unknown safety item(s): {', '.join(unknown)}", ", ".join(unknown))
    for key, label in SAFETY_ITEMS.items():
        answer = str(data.safety.get(key) or "").strip().lower()
        if answer not in SAFETY_ANSWERS:
            bad.add(f"safety_{key}", f"{label}: answer pass or fail", answer or None)
        else:
            safety[key] = answer
    failed = [SAFETY_ITEMS[k] for k, v in safety.items() if v == "fail"]
    if failed and not data.safety_reason:
        bad.add(
            "safety_reason",
            f"the session started with a failed safety item ({'; '.join(failed)}): "
            "say why it went ahead",
            "; ".join(failed),
        )
    if data.stopped_early and not data.stop_reason:
        bad.add("stop_reason", "the session was stopped early: say why")
    if len(data.events) > MAX_EVENTS:
        bad.add("events", f"{len(data.events)} events; at most {MAX_EVENTS}", len(data.events))
    events = []
    for i, e in enumerate(data.events, start=1):
        if e.kind not in EVENT_LABELS:
            allowed = ", ".join(EVENT_LABELS)
            bad.add(f"event_kind_{i}", f"event '{e.kind}' is not one of {allowed}", e.kind)
        if not start <= e.at <= end:
            bad.add(f"event_at_{i}", "the event's time is outside the session "
                    "(between its start and end)", e.at.isoformat())  # fmt: skip
        events.append({"kind": e.kind, "at": e.at.isoformat(), "note": e.note})
    staff: list[Staff] = []
    for sid in dict.fromkeys(data.staff_ids):
        person = session.get(Staff, sid)
        if person is None or not person.active or person.is_service_account:
            bad.add("staff_ids", f"there is no active staff member {sid}", sid)
        else:
            staff.append(person)
    bad.raise_if_any()
    events.sort(key=lambda e: e["at"])
    return {"safety": safety, "events": events, "staff": staff}


# --- writing --------------------------------------------------------------------------


def record(
    session: Session, actor: Actor, run_id: int, data: SessionIn, now: datetime | None = None
) -> AmbulationSession:
    """Record a session that took place on the run."""
    actor.require(Permission.RECORD_AMBULATION)
    run = run_service.get_run(session, actor, run_id)
    now = now or utcnow()
    checked = _check(session, run, data, now)
    row = AmbulationSession(
        run_id=run.id,
        **_fields(data, checked),
        recorded_by=actor.staff_id,
        recorded_at=now,
    )
    session.add(row)
    session.flush()
    row.session_no = row.id
    _present(session, actor, run, row, checked["staff"], set())
    _trail(session, actor, run, row, "ambulation.session_recorded")
    return row


def amend(
    session: Session, actor: Actor, number: int, data: AmendIn, now: datetime | None = None
) -> AmbulationSession:
    """Correct a session: a new version following the one in force, with the reason."""
    actor.require(Permission.RECORD_AMBULATION)
    old = get(session, actor, number)
    run = run_service.get_run(session, actor, old.run_id)
    now = now or utcnow()
    checked = _check(session, run, data, now)
    row = AmbulationSession(
        run_id=run.id,
        session_no=old.number,
        follows_id=old.id,
        **_fields(data, checked),
        amend_reason=data.reason,
        recorded_by=actor.staff_id,
        recorded_at=now,
    )
    session.add(row)
    session.flush()
    already = {s.id for s, _ in staff_present(session, old.number)}
    _present(session, actor, run, row, checked["staff"], already)
    _trail(session, actor, run, row, "ambulation.session_amended")
    return row


def _fields(data: SessionIn, checked: dict[str, Any]) -> dict[str, Any]:
    return {
        "started_at": data.started_at,
        "ended_at": data.ended_at,
        "ims_level": data.ims_level,
        "safety": checked["safety"],
        "safety_reason": data.safety_reason or None,
        "events": checked["events"],
        "stopped_early": data.stopped_early,
        "stop_reason": data.stop_reason if data.stopped_early else None,
        "note": data.note or None,
    }


def _present(
    session: Session,
    actor: Actor,
    run: Run,
    row: AmbulationSession,
    staff: list[Staff],
    already: set[int],
) -> None:
    for person in staff:
        if person.id in already:
            continue
        participation_service.add_participant(
            session, actor, RECORD, row.number, ParticipantIn(staff_id=person.id, how="present"),
            run_id=run.id,
        )  # fmt: skip


def _trail(session: Session, actor: Actor, run: Run, row: AmbulationSession, kind: str) -> None:
    summary = ambulation_text(
        row.ims_level,
        IMS_LABELS[row.ims_level],
        row.minutes,
        [e["kind"] for e in row.events],
        row.stop_reason if row.stopped_early else None,
        row.follows_id is not None,
        row.amend_reason,
    )
    details = {"session": row.number, "ims_level": row.ims_level, "events": len(row.events)}
    record_event(session, actor, kind, row.started_at, summary, (RECORD, row.id), run,
                 details=details)  # fmt: skip
    action = "amend" if row.follows_id is not None else "create"
    audit.record(session, actor, action, RECORD, row.id, run.patient_id, details)


# --- reading --------------------------------------------------------------------------


def circuit_values(
    session: Session, row: AmbulationSession, windows: Windows
) -> list[dict[str, Any]]:
    """Each watched code's value before (newest in the window before the start), during
    (lowest and highest between start and end) and after (newest in the window after the
    end); None where nothing was recorded."""
    out = []
    before_from = row.started_at - timedelta(minutes=windows.before_min)
    after_to = row.ended_at + timedelta(minutes=windows.after_min)
    for code in VALUE_CODES:
        points = observation_service.series(session, row.run_id, code, before_from, after_to)
        before = [p for p in points if p[0] < row.started_at]
        during = [p for p in points if row.started_at <= p[0] <= row.ended_at]
        after = [p for p in points if p[0] > row.ended_at]
        low = min(during, key=lambda p: p[1]) if during else None
        high = max(during, key=lambda p: p[1]) if during else None
        out.append(
            {
                "code": code,
                "label": vocabulary.label(code),
                "unit": vocabulary.CODES[code].unit,
                "before": _point(before[-1]) if before else None,
                "during": None
                if low is None or high is None
                else {
                    "low": low[1],
                    "high": high[1],
                    "count": len(during),
                    "low_time": low[0],
                    "high_time": high[0],
                },
                "after": _point(after[-1]) if after else None,
            }
        )
    return out


def _point(p: tuple[datetime, float]) -> dict[str, Any]:
    return {"value": p[1], "time": p[0]}


def as_dict(
    session: Session, row: AmbulationSession, windows: Windows, with_values: bool = True
) -> dict[str, Any]:
    """The session as the API answers it (free text filtered by the caller)."""
    current = competency_current(session, row)
    return {
        "id": row.number,
        "version_id": row.id,
        "run_id": row.run_id,
        "started_at": row.started_at,
        "ended_at": row.ended_at,
        "minutes": round(row.minutes, 1),
        "ims_level": row.ims_level,
        "ims_label": row.ims_label,
        "safety": dict(row.safety or {}),
        "safety_reason": row.safety_reason,
        "staff": [
            {
                "staff_id": s.id,
                "name": s.name,
                "discipline": s.discipline,
                "group": g,
                "ambulation_competency_current": s.id in current,
            }
            for s, g in staff_present(session, row.number)
        ],
        "events": [
            {
                "kind": e["kind"],
                "label": EVENT_LABELS.get(e["kind"], e["kind"]),
                "at": datetime.fromisoformat(e["at"]),
                "note": e.get("note"),
            }
            for e in row.events or []
        ],
        "stopped_early": row.stopped_early,
        "stop_reason": row.stop_reason,
        "note": row.note,
        "amend_reason": row.amend_reason,
        "versions": len(versions(session, row.number)),
        "recorded_at": row.recorded_at,
        "circuit_values": circuit_values(session, row, windows) if with_values else [],
        "windows_min": {"before": windows.before_min, "after": windows.after_min},
    }
