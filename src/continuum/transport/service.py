"""Transport missions: create one from a referral (or a run), record its milestones, sign
the pre-departure checklist, note events in transit and the handover, link it to the run.
Everything is append-only (a correction is a new row with a reason), audited and on the
clinical timeline (record ``transport_mission``, the mission's number). Flushes, never
commits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import column, select, table
from sqlalchemy.orm import Session, aliased

from continuum.core import (
    audit,
    competencies,
    free_text,
    participation_service,
    run_service,
    settings_service,
)
from continuum.core.clinical_event import record_event
from continuum.core.people import Patient, Staff
from continuum.core.record import Participation
from continuum.core.roles import Actor, Permission
from continuum.core.run_record import Run
from continuum.core.schemas import ParticipantIn
from continuum.core.vocab import DISCIPLINES
from continuum.db import utcnow
from continuum.errors import FieldProblem, NotFound, ValidationFailed
from continuum.physiology import transport_supplies
from continuum.transport.models import (
    CHECK_ITEMS,
    COMPUTED_ITEMS,
    EVENT_KINDS,
    MILESTONES,
    MISSION_TYPES,
    PRIMARY_ONLY,
    TICKED_ITEMS,
    VEHICLES,
    TransportChecklist,
    TransportEvent,
    TransportHandover,
    TransportMilestone,
    TransportMission,
)
from continuum.transport.schemas import (
    ChecklistIn,
    EventIn,
    HandoverIn,
    MilestoneIn,
    MissionAmend,
    MissionIn,
)
from continuum.transport.settings import GROUP

RECORD = "transport_mission"
FUTURE_GRACE = timedelta(minutes=10)  # a milestone is a time that has happened
# A light view of the initiation referral (the domain is not imported): id, patient, hospital.
REFERRAL = table("referral", column("id"), column("patient_id"), column("referring_hospital"))
# The intervals shown with a mission: key → (label, from milestone, to milestone).
INTERVALS: dict[str, tuple[str, str, str]] = {
    "activation": ("Call to activation", "call", "activation"),
    "mobilisation": ("Activation to team departure", "activation", "team_departure"),
    "outbound": ("Outbound transit", "team_departure", "arrival_referring"),
    "to_cannulation": ("Arrival to cannulation", "arrival_referring", "cannulation"),
    "bedside": ("Bedside time (arrival to departure)", "arrival_referring", "departure_patient"),
    "transit": ("Transit with patient", "departure_patient", "arrival_base"),
    "to_handover": ("Arrival to handover", "arrival_base", "handover"),
    "total": ("Total mission (call to handover)", "call", "handover"),
}


def _bad(field: str, message: str, value: Any = None) -> ValidationFailed:
    return ValidationFailed([FieldProblem(field, message, value)])


def _iso(at: datetime) -> str:
    return at.isoformat(timespec="minutes")


def duration_text(minutes: float | None) -> str:
    """'1 h 25 min', '40 min', '—'."""
    if minutes is None:
        return "—"
    total = round(minutes)
    sign = "−" if total < 0 else ""
    h, m = divmod(abs(total), 60)
    return f"{sign}{h} h {m:02d} min" if h else f"{sign}{m} min"


# --- reading ------------------------------------------------------------------------------


def get(session: Session, actor: Actor, number: int) -> TransportMission:
    """The version in force of mission ``number`` (or of the mission a version row is of)."""
    actor.require(Permission.VIEW_CLINICAL)
    named = session.get(TransportMission, number)
    if named is not None and named.mission_id is not None:
        number = named.mission_id
    row = session.scalars(
        select(TransportMission)
        .where(TransportMission.mission_id == number)
        .order_by(TransportMission.id.desc())
        .limit(1)
    ).first()
    if row is None:
        raise NotFound(f"transport mission {number} not found")
    return row


def versions(session: Session, number: int) -> list[TransportMission]:
    stmt = select(TransportMission).where(TransportMission.mission_id == number)
    return list(session.scalars(stmt.order_by(TransportMission.id)))


def in_force(session: Session, run_ids: list[int] | None = None) -> list[TransportMission]:
    """The version in force of every mission (of these runs), newest mission first."""
    later = aliased(TransportMission)
    stmt = select(TransportMission).where(
        ~select(later.id).where(later.follows_id == TransportMission.id).exists()
    )
    if run_ids is not None:
        stmt = stmt.where(TransportMission.run_id.in_(run_ids))
    return list(session.scalars(stmt.order_by(TransportMission.mission_id.desc())))


def milestone_rows(session: Session, number: int) -> list[TransportMilestone]:
    stmt = select(TransportMilestone).where(TransportMilestone.mission_id == number)
    return list(session.scalars(stmt.order_by(TransportMilestone.id)))


def milestones(session: Session, number: int) -> dict[str, TransportMilestone]:
    """The row in force of each recorded milestone (the newest per milestone), in order."""
    newest: dict[str, TransportMilestone] = {}
    for row in milestone_rows(session, number):
        newest[row.milestone] = row
    return {k: newest[k] for k in MILESTONES if k in newest}


def intervals(times: dict[str, datetime], mission_type: str) -> list[dict[str, Any]]:
    """Each interval whose two milestones are recorded, in minutes and in words."""
    out = []
    for key, (label, start, end) in INTERVALS.items():
        if mission_type != "primary" and "cannulation" in (start, end):
            continue
        if start not in times or end not in times:
            continue
        minutes = (times[end] - times[start]).total_seconds() / 60
        out.append(
            {
                "key": key,
                "label": label,
                "from_milestone": start,
                "to_milestone": end,
                "minutes": round(minutes, 1),
                "shown": duration_text(minutes),
            }
        )
    return out


def checklist(session: Session, number: int) -> TransportChecklist | None:
    stmt = select(TransportChecklist).where(TransportChecklist.mission_id == number)
    return session.scalars(stmt.order_by(TransportChecklist.id.desc()).limit(1)).first()


def checklists(session: Session, number: int) -> list[TransportChecklist]:
    stmt = select(TransportChecklist).where(TransportChecklist.mission_id == number)
    return list(session.scalars(stmt.order_by(TransportChecklist.id)))


def events(session: Session, number: int) -> list[TransportEvent]:
    stmt = select(TransportEvent).where(TransportEvent.mission_id == number)
    return list(session.scalars(stmt.order_by(TransportEvent.at, TransportEvent.id)))


def handovers(session: Session, number: int) -> list[TransportHandover]:
    stmt = select(TransportHandover).where(TransportHandover.mission_id == number)
    return list(session.scalars(stmt.order_by(TransportHandover.id)))


def team(session: Session, number: int) -> list[tuple[Participation, Staff]]:
    stmt = (
        select(Participation, Staff)
        .join(Staff, Staff.id == Participation.staff_id)
        .where(Participation.record_type == RECORD, Participation.record_id == number)
        .order_by(Participation.discipline, Staff.name)
    )
    return [(p, s) for p, s in session.execute(stmt).all()]


def status(times: dict[str, Any]) -> str:
    if "handover" in times:
        return "handed over"
    if "departure_patient" in times:
        return "in transit with patient"
    if "team_departure" in times:
        return "team out"
    return "activated" if "activation" in times else "called"


def arrivals(session: Session, run_ids: list[int]) -> dict[int, tuple[int, str]]:
    """Runs that arrived on ECMO from another centre (a secondary mission linked to the
    run): run id → (mission number, referring hospital)."""
    out: dict[int, tuple[int, str]] = {}
    for m in in_force(session, run_ids):
        if m.mission_type == "secondary" and m.run_id is not None:
            out.setdefault(m.run_id, (m.number, m.referring_hospital))
    return out


def list_missions(session: Session, actor: Actor, run_id: int | None = None) -> list[Any]:
    actor.require(Permission.VIEW_CLINICAL)
    rows = in_force(session, [run_id] if run_id is not None else None)
    out = []
    for m in rows:
        times = {k: r.at for k, r in milestones(session, m.number).items()}
        out.append((m, times, status(times)))
    return out


# --- writing ------------------------------------------------------------------------------


def _referral(session: Session, referral_id: int) -> Any:
    found = session.execute(select(REFERRAL).where(REFERRAL.c.id == referral_id)).first()
    if found is None:
        raise _bad("referral_id", f"there is no referral {referral_id}", referral_id)
    return found


def _run(session: Session, run_id: int, patient_id: int | None) -> Run:
    run = session.get(Run, run_id)
    if run is None:
        raise _bad("run_id", f"there is no run {run_id}", run_id)
    if patient_id is not None and run.patient_id != patient_id:
        raise _bad("run_id", f"run {run_id} is another patient's run", run_id)
    return run


def create(
    session: Session, actor: Actor, data: MissionIn, now: datetime | None = None
) -> TransportMission:
    """A new mission: from a referral (patient and referring hospital taken from it), from a
    run, or for a patient; the call time, when given, is its first milestone."""
    actor.require(Permission.MANAGE_TRANSPORT)
    now = now or utcnow()
    patient_id = data.patient_id
    hospital = (data.referring_hospital or "").strip()
    if data.referral_id is not None:
        ref = _referral(session, data.referral_id)
        if patient_id is not None and patient_id != ref.patient_id:
            raise _bad("referral_id", f"referral {ref.id} is another patient's", ref.id)
        patient_id = ref.patient_id
        hospital = hospital or ref.referring_hospital
    run = None
    if data.run_id is not None:
        run = _run(session, data.run_id, patient_id)
        run_service.get_run(session, actor, run.id)
        patient_id = run.patient_id
    if patient_id is None:
        raise _bad("referral_id", "name the referral (or the run, or the patient)")
    if session.get(Patient, patient_id) is None:
        raise _bad("patient_id", f"there is no patient {patient_id}", patient_id)
    if not hospital:
        raise _bad("referring_hospital", "name the referring hospital")
    row = TransportMission(
        patient_id=patient_id,
        referral_id=data.referral_id,
        run_id=run.id if run else None,
        mission_type=data.mission_type,
        vehicle=data.vehicle,
        referring_hospital=hospital[:200],
        expected_min=data.expected_min,
        recorded_by=actor.staff_id,
        recorded_at=now,
    )
    session.add(row)
    session.flush()
    row.mission_id = row.id
    audit.record(
        session,
        actor,
        "create",
        RECORD,
        row.id,
        patient_id,
        {
            "mission_type": row.mission_type,
            "vehicle": row.vehicle,
            "referral_id": row.referral_id,
            "run_id": row.run_id,
        },
    )
    at = data.call_at or now
    words = "primary retrieval" if row.mission_type == "primary" else "secondary transfer"
    _event(
        session,
        actor,
        row,
        "transport.mission_started",
        at,
        f"{words} by {VEHICLES[row.vehicle].lower()} from {hospital}",
    )
    if data.call_at is not None:
        record_milestone(session, actor, row.number, MilestoneIn(milestone="call", at=at), now)
    return row


def _event(
    session: Session, actor: Actor, m: TransportMission, kind: str, at: datetime, text: str
) -> None:
    record_event(
        session,
        actor,
        kind,
        at,
        text,
        (RECORD, m.number),
        patient_id=m.patient_id,
        run_id=m.run_id,
    )


def amend(
    session: Session, actor: Actor, number: int, data: MissionAmend, now: datetime | None = None
) -> TransportMission:
    """A new version of the header: link the run, or correct the vehicle, hospital or
    expected duration (a reason when a value already recorded changes)."""
    actor.require(Permission.MANAGE_TRANSPORT)
    old = get(session, actor, number)
    now = now or utcnow()
    changes: dict[str, Any] = {}
    if data.run_id is not None and data.run_id != old.run_id:
        run = _run(session, data.run_id, old.patient_id)
        run_service.get_run(session, actor, run.id)
        changes["run_id"] = run.id
    if data.vehicle is not None and data.vehicle != old.vehicle:
        changes["vehicle"] = data.vehicle
    hospital = (data.referring_hospital or "").strip()
    if hospital and hospital != old.referring_hospital:
        changes["referring_hospital"] = hospital
    if data.expected_min is not None and data.expected_min != old.expected_min:
        changes["expected_min"] = data.expected_min
    if not changes:
        raise _bad("reason", "nothing changes: the mission already reads so")
    corrected = [k for k in changes if getattr(old, k) is not None]
    if corrected and not data.reason:
        names = ", ".join(k.replace("_", " ") for k in corrected)
        raise _bad("reason", f"give a reason to correct the {names} already recorded")
    fields = {
        c.key: getattr(old, c.key)
        for c in TransportMission.__table__.columns
        if c.key not in ("id", "follows_id", "reason", "recorded_by", "recorded_at")
    }
    fields.update(changes)
    row = TransportMission(
        **fields,
        follows_id=old.id,
        reason=data.reason,
        recorded_by=actor.staff_id,
        recorded_at=now,
    )
    session.add(row)
    session.flush()
    detail = {k: [_plain(getattr(old, k)), _plain(v)] for k, v in changes.items()}
    audit.record(
        session,
        actor,
        "amend",
        RECORD,
        row.number,
        row.patient_id,
        {**detail, "reason": data.reason},
    )
    if "run_id" in changes and old.run_id is None and row.mission_type == "secondary":
        text = f"arrived on ECMO from {row.referring_hospital} (transport mission {row.number})"
        _event(session, actor, row, "transport.milestone", now, text)
    return row


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def check_order(mission_type: str, times: dict[str, datetime], changed: str) -> None:
    """Milestones in their order; 422 naming both milestones and their times."""
    keys = [k for k in MILESTONES if k in times]
    for i, first in enumerate(keys):
        for later in keys[i + 1 :]:
            if times[later] < times[first] and changed in (first, later):
                raise _bad(
                    "at",
                    f"{MILESTONES[later]} at {_iso(times[later])} is before "
                    f"{MILESTONES[first]} at {_iso(times[first])}: milestones go in the order "
                    + " → ".join(
                        MILESTONES[k]
                        for k in MILESTONES
                        if mission_type == "primary" or k not in PRIMARY_ONLY
                    ),
                    _iso(times[changed]),
                )


def record_milestone(
    session: Session, actor: Actor, number: int, data: MilestoneIn, now: datetime | None = None
) -> TransportMilestone:
    """Record a milestone's time, or correct it (a new row, a reason)."""
    actor.require(Permission.MANAGE_TRANSPORT)
    m = get(session, actor, number)
    now = now or utcnow()
    key = data.milestone
    if key in PRIMARY_ONLY and m.mission_type != "primary":
        raise _bad(
            "milestone",
            f"{MILESTONES[key]} is a primary mission's milestone; this is a secondary transfer "
            "(the patient is already on ECMO)",
            key,
        )
    if data.at > now + FUTURE_GRACE:
        raise _bad("at", f"{MILESTONES[key]} at {_iso(data.at)} is in the future", _iso(data.at))
    current = milestones(session, m.number)
    old = current.get(key)
    if old is not None:
        if not data.reason:
            raise _bad(
                "reason",
                f"{MILESTONES[key]} is recorded ({_iso(old.at)}): give a reason to correct it",
            )
        if old.at == data.at:
            raise _bad("at", f"{MILESTONES[key]} is already {_iso(old.at)}", _iso(data.at))
    times = {k: r.at for k, r in current.items()} | {key: data.at}
    check_order(m.mission_type, times, key)
    row = TransportMilestone(
        mission_id=m.number,
        milestone=key,
        at=data.at,
        corrects_id=old.id if old is not None else None,
        reason=data.reason if old is not None else None,
        recorded_by=actor.staff_id,
        recorded_at=now,
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor,
        "amend" if old else "create",
        "transport_milestone",
        row.id,
        m.patient_id,
        {
            "mission": m.number,
            "milestone": key,
            "at": _iso(data.at),
            "was": _iso(old.at) if old else None,
            "reason": row.reason,
        },
    )
    text = f"{MILESTONES[key]} (mission {m.number})"
    if old is not None:
        text = (
            f"{MILESTONES[key]} corrected from {_iso(old.at)} (mission {m.number}): {data.reason}"
        )
    _event(session, actor, m, "transport.milestone", data.at, text)
    return row


def evaluate_checklist(
    data: ChecklistIn, expected_min: int | None, factor: float, reserve_bar: float
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The inputs as stored and every item with pass/fail and what decided it."""
    expected = data.expected_min or expected_min
    if expected is None:
        raise _bad("expected_min", "give the expected duration of the transfer (min)")
    o2 = (
        transport_supplies.oxygen_duration(
            data.cylinder_volume_l,
            data.cylinder_pressure_bar,
            max(data.sweep_l_min, 0.0),
            data.ventilator_l_min,
            data.cylinders,
            reserve_bar,
            expected,
            factor,
        )
        if data.sweep_l_min + data.ventilator_l_min > 0
        else None
    )
    needed = expected * factor
    items: dict[str, Any] = {}
    if o2 is None:
        raise _bad("sweep_l_min", "give the sweep gas flow (L/min) the oxygen must supply", 0)
    minutes = float(o2.value)
    items["oxygen"] = {
        "passed": minutes >= needed,
        "detail": f"{o2.interpretation['litres_o2']:.0f} L O2 ÷ "
        f"{o2.interpretation['flow_l_min']:g} L/min = {minutes:.0f} min; needed {needed:.0f} min "
        f"({expected} min × {factor:g})",
    }
    for key, value in (
        ("console_battery", data.console_battery_min),
        ("pump_battery", data.pump_battery_min),
    ):
        items[key] = {
            "passed": transport_supplies.battery_sufficient(value, expected, factor),
            "detail": f"{value:.0f} min; needed {needed:.0f} min ({expected} min × {factor:g})",
        }
    unknown = set(data.ticked) - set(TICKED_ITEMS)
    if unknown:
        raise _bad(
            "ticked",
            f"unknown checklist item(s): {', '.join(sorted(unknown))}; "
            f"allowed {', '.join(TICKED_ITEMS)}",
            sorted(unknown),
        )
    for key in TICKED_ITEMS:
        items[key] = {"passed": bool(data.ticked.get(key, False)), "detail": None}
    bad_reason = set(data.reasons) - set(CHECK_ITEMS)
    if bad_reason:
        raise _bad("reasons", f"unknown checklist item(s): {', '.join(sorted(bad_reason))}")
    problems = []
    for key, item in items.items():
        reason = (data.reasons.get(key) or "").strip()
        item["reason"] = reason or None
        if not item["passed"] and len(reason) < 3:
            problems.append(
                FieldProblem(
                    f"reason_{key}",
                    f"'{CHECK_ITEMS[key]}' failed: give the reason the mission goes ahead "
                    "without it, or fix it before signing",
                    reason or None,
                )
            )
    if problems:
        raise ValidationFailed(problems)
    inputs = data.model_dump(exclude={"ticked", "reasons"}) | {
        "expected_min": expected,
        "safety_factor": factor,
        "reserve_bar": reserve_bar,
        "oxygen_min": round(minutes, 1),
        "needed_min": round(needed, 1),
        "litres_o2": o2.interpretation["litres_o2"],
    }
    return inputs, items


def sign_checklist(
    session: Session, actor: Actor, number: int, data: ChecklistIn, now: datetime | None = None
) -> TransportChecklist:
    """Sign the pre-departure checklist; a failed item needs its reason (else 422)."""
    actor.require(Permission.MANAGE_TRANSPORT)
    m = get(session, actor, number)
    now = now or utcnow()
    cfg = settings_service.values(session, GROUP)
    inputs, items = evaluate_checklist(
        data, m.expected_min, float(cfg["safety_factor"]), float(cfg["reserve_bar"])
    )
    row = TransportChecklist(
        mission_id=m.number,
        inputs=inputs,
        items=items,
        all_passed=all(i["passed"] for i in items.values()),
        signed_by=actor.staff_id,
        signed_at=now,
    )
    session.add(row)
    session.flush()
    failed = [k for k, i in items.items() if not i["passed"]]
    audit.record(
        session,
        actor,
        "sign",
        "transport_checklist",
        row.id,
        m.patient_id,
        {"mission": m.number, "failed": failed},
    )
    if session.get(Staff, actor.staff_id or 0) is not None:
        participation_service.record_signature(session, actor, RECORD, m.number, _owner(session, m))
    text = (
        f"pre-departure checklist signed, all {len(items)} items passed"
        if not failed
        else f"pre-departure checklist signed with {len(failed)} failed: "
        + ", ".join(CHECK_ITEMS[k] for k in failed)
    )
    _event(session, actor, m, "transport.checklist_signed", now, text)
    return row


def _owner(session: Session, m: TransportMission) -> int | None:
    """The run the participation rows of this mission carry (the first version's run)."""
    first = session.get(TransportMission, m.number)
    return first.run_id if first is not None else None


def add_event(
    session: Session, actor: Actor, number: int, data: EventIn, now: datetime | None = None
) -> TransportEvent:
    actor.require(Permission.MANAGE_TRANSPORT)
    m = get(session, actor, number)
    now = now or utcnow()
    if data.at > now + FUTURE_GRACE:
        raise _bad("at", f"event time {_iso(data.at)} is in the future", _iso(data.at))
    text = (data.text or "").strip() or None
    row = TransportEvent(
        mission_id=m.number,
        at=data.at,
        kind=data.kind,
        text=text,
        recorded_by=actor.staff_id,
        recorded_at=now,
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor,
        "create",
        "transport_event",
        row.id,
        m.patient_id,
        {"mission": m.number, "kind": data.kind},
    )
    summary = f"{EVENT_KINDS[data.kind]} in transit" + (f": {text}" if text else "")
    _event(session, actor, m, "transport.event", data.at, summary)
    return row


def record_handover(
    session: Session, actor: Actor, number: int, data: HandoverIn, now: datetime | None = None
) -> TransportHandover:
    """The handover (to whom, discipline, summary, time); sets the handover milestone when it
    is not yet recorded. A second handover corrects the first (a reason)."""
    actor.require(Permission.MANAGE_TRANSPORT)
    m = get(session, actor, number)
    now = now or utcnow()
    if data.to_discipline not in DISCIPLINES:
        raise _bad(
            "to_discipline",
            f"'{data.to_discipline}' is not a discipline ({', '.join(DISCIPLINES)})",
            data.to_discipline,
        )
    previous = handovers(session, m.number)
    old = previous[-1] if previous else None
    if old is not None and not data.reason:
        raise _bad("reason", "a handover is recorded: give a reason to correct it")
    times = milestones(session, m.number)
    if "handover" not in times:
        record_milestone(
            session, actor, m.number, MilestoneIn(milestone="handover", at=data.at), now
        )
    elif times["handover"].at != data.at:
        record_milestone(
            session,
            actor,
            m.number,
            MilestoneIn(
                milestone="handover", at=data.at, reason=data.reason or "handover record corrected"
            ),
            now,
        )
    row = TransportHandover(
        mission_id=m.number,
        at=data.at,
        to_name=data.to_name.strip(),
        to_discipline=data.to_discipline,
        summary=data.summary.strip(),
        corrects_id=old.id if old else None,
        reason=data.reason if old else None,
        recorded_by=actor.staff_id,
        recorded_at=now,
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor,
        "amend" if old else "create",
        "transport_handover",
        row.id,
        m.patient_id,
        {"mission": m.number, "discipline": data.to_discipline},
    )
    _event(
        session,
        actor,
        m,
        "transport.handover",
        data.at,
        f"handed over to {row.to_name} ({data.to_discipline.replace('_', ' ')}): {row.summary}",
    )
    return row


def add_team_member(
    session: Session, actor: Actor, number: int, staff_id: int, contribution: str | None = None
) -> Participation:
    """A team member of the mission (core participation, by discipline)."""
    actor.require(Permission.MANAGE_TRANSPORT)
    m = get(session, actor, number)
    if any(s.id == staff_id and p.how != "signed" for p, s in team(session, m.number)):
        raise _bad("staff_id", f"staff member {staff_id} is already on the team", staff_id)
    return participation_service.add_participant(
        session,
        actor,
        RECORD,
        m.number,
        ParticipantIn(staff_id=staff_id, how="present", contribution=contribution),
        run_id=_owner(session, m),
    )


# --- the view -------------------------------------------------------------------------------


@dataclass
class MissionView:
    mission: TransportMission
    times: dict[str, TransportMilestone]
    intervals: list[dict[str, Any]]
    checklist: TransportChecklist | None
    events: list[TransportEvent]
    handover: TransportHandover | None
    team: list[tuple[Participation, Staff]]
    version: int
    # whose "transport" competency was valid on the mission's day (call time, else today)
    current: frozenset[int] = frozenset()


def view(session: Session, actor: Actor, number: int) -> MissionView:
    m = get(session, actor, number)
    times = milestones(session, m.number)
    hand = handovers(session, m.number)
    crew = team(session, m.number)
    on = times["call"].at if "call" in times else utcnow()
    held = competencies.team_current(session, [st.id for _, st in crew], "transport", on)
    return MissionView(
        mission=m,
        times=times,
        intervals=intervals({k: r.at for k, r in times.items()}, m.mission_type),
        checklist=checklist(session, m.number),
        events=events(session, m.number),
        handover=hand[-1] if hand else None,
        team=crew,
        version=len(versions(session, m.number)),
        current=frozenset(held.current),
    )


def as_json(actor: Actor, v: MissionView) -> dict[str, Any]:
    """The JSON of a mission (MissionOut): typed words hidden from roles without identifiers."""
    m = v.mission
    hide = not free_text.readable(actor)
    cl = v.checklist
    return {
        "id": m.number,
        "version": v.version,
        "patient_id": m.patient_id,
        "referral_id": m.referral_id,
        "run_id": m.run_id,
        "mission_type": m.mission_type,
        "vehicle": m.vehicle,
        "referring_hospital": None if hide else m.referring_hospital,
        "expected_min": m.expected_min,
        "arrived_on_ecmo": m.mission_type == "secondary" and m.run_id is not None,
        "milestones": [
            {
                "milestone": k,
                "label": MILESTONES[k],
                "at": r.at,
                "corrected": r.corrects_id is not None,
            }
            for k, r in v.times.items()
        ],
        "intervals": v.intervals,
        "checklist": None
        if cl is None
        else {
            "id": cl.id,
            "signed_at": cl.signed_at,
            "signed_by": cl.signed_by,
            "all_passed": cl.all_passed,
            "oxygen_min": cl.inputs.get("oxygen_min", 0.0),
            "needed_min": cl.inputs.get("needed_min"),
            "items": [
                {
                    "key": k,
                    "label": CHECK_ITEMS.get(k, k),
                    "computed": k in COMPUTED_ITEMS,
                    "passed": bool(i["passed"]),
                    "detail": i.get("detail"),
                    "reason": free_text.for_api(actor, i.get("reason")),
                }
                for k, i in cl.items.items()
            ],
        },
        "events": [
            {"id": e.id, "at": e.at, "kind": e.kind, "text": free_text.for_api(actor, e.text)}
            for e in v.events
        ],
        "handover": None
        if v.handover is None
        else {
            "id": v.handover.id,
            "at": v.handover.at,
            "to_name": free_text.for_api(actor, v.handover.to_name),
            "to_discipline": v.handover.to_discipline,
            "summary": free_text.for_api(actor, v.handover.summary),
        },
        "team": [
            {
                "staff_id": s.id,
                "name": s.name,
                "discipline": p.discipline,
                "transport_competency_current": s.id in v.current,
            }
            for p, s in v.team
        ],
    }


__all__ = ["MISSION_TYPES", "VEHICLES"]
