"""The round record: attendance by discipline, alerts reviewed, problems, therapy review,
daily goals (written as run targets) and actions. Signed rounds are immutable."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from continuum import vocabulary
from continuum.core import audit, concurrency, participation_service, run_view, targets
from continuum.core import clinical_backfill as texts
from continuum.core.clinical_event import record_event
from continuum.core.people import Staff
from continuum.core.record import Participation
from continuum.core.roles import Actor, Permission
from continuum.core.run_record import Run
from continuum.core.schemas import ParticipantIn
from continuum.db import utcnow
from continuum.errors import Conflict, NotFound, ProblemCollector
from continuum.rounds.actions import add_action, check_action
from continuum.rounds.models import RoundRecord, RoundsAmendment
from continuum.rounds.schemas import (
    FLUID_BALANCE,
    FLUID_BALANCE_RANGE,
    GOAL_CODES,
    LEAVE_OPEN,
    AlertReview,
    AmendmentIn,
    GoalRange,
    RoundIn,
)

RECORD_TYPE = "round"
AMEND_SECTIONS = ("attendance", "alerts", "problems", "therapy", "goals", "actions", "other")
# Stored on each reviewed alert: what saving the round did to that detector's open alert
# ("acknowledged"; "not_permitted": the saver's role may not acknowledge alerts; absent:
# no open alert to acknowledge).
ALERT_ACKNOWLEDGEMENT = "alert_acknowledgement"
DISPOSITION_WORDS = {
    "acknowledged": "acknowledged",
    "action_raised": "action raised",
    "escalated": "escalated",
    "not_relevant": "not relevant",
    "left_open": "leave open",
}
REVIEW_CHOICES = ", ".join(DISPOSITION_WORDS.values())


def goal_range(code: str) -> tuple[float, float, str]:
    if code == FLUID_BALANCE:
        return (*FLUID_BALANCE_RANGE, "mL/24 h")
    spec = vocabulary.get(code)
    return spec.low, spec.high, spec.unit


def check_goals(problems: ProblemCollector, goals: dict[str, GoalRange]) -> dict[str, GoalRange]:
    """Plausible ranges only; blank goals are dropped. Returns the goals to keep."""
    kept: dict[str, GoalRange] = {}
    for code, goal in goals.items():
        if code not in (*GOAL_CODES, FLUID_BALANCE):
            problems.add(
                f"goals.{code}",
                "not a daily goal (one of " + ", ".join(GOAL_CODES) + f", {FLUID_BALANCE})",
                code,
            )
            continue
        if goal.low is None and goal.high is None:
            continue
        low, high, unit = goal_range(code)
        for name, value in (("low", goal.low), ("high", goal.high)):
            if value is not None and not low <= value <= high:
                problems.add(
                    f"goals.{code}.{name}",
                    f"{value:g} {unit} is outside {low:g}–{high:g} {unit}",
                    value,
                )
        if goal.low is not None and goal.high is not None and goal.low > goal.high:
            problems.add(f"goals.{code}", f"lower limit {goal.low:g} is above upper {goal.high:g}")
        kept[code] = goal
    return kept


def _check_date(problems: ProblemCollector, day: date, today: date, start: date) -> None:
    if day > today:
        problems.add("round_date", f"{day} is in the future (today is {today})", str(day))
    elif day < start:
        problems.add("round_date", f"{day} is before the run started ({start})", str(day))


def _check_attendees(problems: ProblemCollector, session: Session, ids: list[int]) -> None:
    for staff_id in ids:
        if session.get(Staff, staff_id) is None:
            problems.add("attendees", f"staff member {staff_id} not found", staff_id)


def find_round(session: Session, run_id: int, day: date) -> RoundRecord | None:
    return session.scalar(
        select(RoundRecord).where(RoundRecord.run_id == run_id, RoundRecord.round_date == day)
    )


def record_round(
    session: Session, actor: Actor, run: Run, data: RoundIn, today: date, run_start: date
) -> RoundRecord:
    """Record (or, while still a draft, update) the round of ``run`` on its date."""
    actor.require(Permission.RECORD_ROUND)
    if run.status == "ended":
        raise Conflict(f"run {run.id} has ended; correct its rounds by amendment")
    day = data.round_date or today
    problems = ProblemCollector()
    _check_date(problems, day, today, run_start)
    goals = check_goals(problems, data.goals)
    for i, action in enumerate(data.actions):
        check_action(problems, f"actions[{i}]", action)
    _check_attendees(problems, session, data.attendees)
    reviews = check_reviews(problems, run_view.open_alerts(session, run.id), data.alerts_reviewed)
    problems.raise_if_any()
    data = data.model_copy(update={"alerts_reviewed": reviews})
    row = find_round(session, run.id, day)
    if row is not None and row.status == "signed":
        raise Conflict(f"the round of {day} is signed; add an amendment instead")
    created = row is None
    if row is None:
        row = _create(session, actor, run, day)
    else:
        _claim(session, actor, row, data.version)
    before = _acknowledged_before(row) if not created else set()
    row = _store(session, actor, run, row, day, data, goals, created)
    _write_children(session, actor, run, row, data, goals)
    _acknowledge_reviewed(session, actor, run, row, data, day, before)
    return row


def _alert_words(alert: dict[str, Any]) -> str:
    words = str(alert.get("detector", "")).replace("_", " ")
    summary = str(alert.get("summary") or "").strip()
    return f"the {alert.get('severity', '')} {words} alert" + (f" ({summary})" if summary else "")


def check_reviews(
    problems: ProblemCollector, open_alerts: list[dict[str, Any]], reviews: list[AlertReview]
) -> list[AlertReview]:
    """Every alert still open (not yet acknowledged) needs an explicit disposition, and a
    critical one a note saying what was decided. Reviews without a disposition of alerts
    that are not open (already acknowledged, or none) are dropped. Returns those kept."""
    by_detector = {r.detector: r for r in reviews}
    alerts = {str(a.get("detector")): a for a in open_alerts}
    for detector, alert in alerts.items():
        review = by_detector.get(detector)
        if alert.get("status") == "open" and (review is None or review.disposition is None):
            problems.add(
                f"alerts_reviewed.{detector}.disposition",
                f"choose what the round decided about {_alert_words(alert)}: {REVIEW_CHOICES}",
            )
        elif (
            review is not None
            and review.disposition is not None
            and alert.get("severity") == "critical"
            and not (review.note or "").strip()
        ):
            problems.add(
                f"alerts_reviewed.{detector}.note",
                f"{_alert_words(alert)} is critical: write a note of what was decided and why",
            )
    return [r for r in reviews if r.disposition is not None]


def review_comment(day: date, review: AlertReview) -> str:
    """The acknowledgement comment of an alert reviewed at the round of ``day``."""
    disposition = review.disposition or "acknowledged"
    words = DISPOSITION_WORDS.get(disposition, disposition.replace("_", " "))
    note = (review.note or "").strip()
    return f"Reviewed at rounds ({day}): {words}" + (f" — {note}" if note else "")


def _acknowledged_before(row: RoundRecord | None) -> set[str]:
    if row is None:
        return set()
    return {
        str(a.get("detector"))
        for a in row.alerts_reviewed or []
        if a.get(ALERT_ACKNOWLEDGEMENT) == "acknowledged"
    }


def _acknowledge_reviewed(
    session: Session,
    actor: Actor,
    run: Run,
    row: RoundRecord,
    data: RoundIn,
    day: date,
    before: set[str],
) -> None:
    """Each reviewed detector's open alert on the run is acknowledged by the saver (through
    ``run_view.review_alerts``: rounds do not import alerts), in the same unit of work,
    unless the round chose to leave it open. Acknowledged or resolved alerts are left
    alone; without the permission nothing is acknowledged and the round says so."""
    if not data.alerts_reviewed:
        return
    permitted = actor.can(Permission.ACKNOWLEDGE_ALERT)
    reviewed: list[dict[str, Any]] = []
    for review in data.alerts_reviewed:
        entry = review.model_dump()
        if review.disposition == LEAVE_OPEN:
            if review.detector in before:
                entry[ALERT_ACKNOWLEDGEMENT] = "acknowledged"
        elif permitted:
            comment = review_comment(day, review)
            done = run_view.review_alerts(session, actor, run.id, review.detector, comment)
            if done or review.detector in before:
                entry[ALERT_ACKNOWLEDGEMENT] = "acknowledged"
        elif review.detector in before:
            entry[ALERT_ACKNOWLEDGEMENT] = "acknowledged"
        else:
            entry[ALERT_ACKNOWLEDGEMENT] = "not_permitted"
        reviewed.append(entry)
    row.alerts_reviewed = reviewed
    session.flush()


def _create(session: Session, actor: Actor, run: Run, day: date) -> RoundRecord:
    """Insert the day's round. Two racing creations: the database's unique (run, date)
    refuses the second, which is told who created it — never a 500, never a lost save."""
    row = RoundRecord(
        run_id=run.id, round_date=day, created_by=actor.staff_id, held_at=utcnow(), version=1
    )
    session.add(row)
    concurrency.insert_or_conflict(session, lambda: _just_created(session, run.id, day))
    return row


def _just_created(session: Session, run_id: int, day: date) -> Conflict:
    other = find_round(session, run_id, day)
    by = concurrency.who(session, other.created_by if other else None)
    at = other.created_at if other else None
    return concurrency.AlreadyDone(
        f"a round for {day} was just created by {by} at {concurrency.stamp(at)} — open it "
        "and add your entries (nothing of yours was saved)",
        by,
        at,
    )


def _claim(session: Session, actor: Actor, row: RoundRecord, version: int | None) -> None:
    """A save of an existing draft names the version it was opened on."""
    if version is None:
        raise _just_created(session, row.run_id, row.round_date)
    concurrency.claim_version(
        session,
        row,
        version,
        actor.staff_id,
        f"the round of {row.round_date}",
        still_open=RoundRecord.status == "draft",
        closed=lambda: Conflict(
            f"the round of {row.round_date} was signed by "
            f"{concurrency.who(session, row.signed_by)} at {concurrency.stamp(row.signed_at)}; "
            "add an amendment instead"
        ),
    )


def _store(
    session: Session,
    actor: Actor,
    run: Run,
    row: RoundRecord,
    day: date,
    data: RoundIn,
    goals: dict[str, GoalRange],
    created: bool,
) -> RoundRecord:
    row.held_at = data.held_at or utcnow()
    row.problems = data.problems
    row.alerts_reviewed = [a.model_dump() for a in data.alerts_reviewed]
    row.therapy_review = data.therapy.model_dump()
    row.goals = {code: g.model_dump() for code, g in goals.items()}
    session.flush()
    audit.record(
        session,
        actor,
        "create" if created else "update",
        "round",
        row.id,
        run.patient_id,
        {"run_id": run.id, "date": str(day), "goals": row.goals},
    )
    return row


def _write_children(
    session: Session,
    actor: Actor,
    run: Run,
    row: RoundRecord,
    data: RoundIn,
    goals: dict[str, GoalRange],
) -> None:
    present = set(attendance(session, [row.id]).get(row.id, {}).keys())
    for staff_id in dict.fromkeys(data.attendees):
        if staff_id not in present:
            participation_service.add_participant(
                session,
                actor,
                RECORD_TYPE,
                row.id,
                ParticipantIn(staff_id=staff_id),
                run_id=run.id,
            )
    for code, goal in goals.items():
        if code in GOAL_CODES:
            targets.set_target(session, actor, run, code, goal.low, goal.high, f"round:{row.id}")
    for action in data.actions:
        add_action(session, actor, run, action, round_id=row.id, checked=True)


def sign_round(session: Session, actor: Actor, round_id: int) -> RoundRecord:
    actor.require(Permission.RECORD_ROUND)
    row = get_round(session, actor, round_id)
    won = row.status != "signed" and concurrency.transition(
        session,
        row,
        RoundRecord.status == "draft",
        {"status": "signed", "signed_at": utcnow(), "signed_by": actor.staff_id},
    )
    if not won:
        by = concurrency.who(session, row.signed_by)
        raise concurrency.AlreadyDone(
            f"round {round_id} was already signed by {by} at {concurrency.stamp(row.signed_at)}",
            by,
            row.signed_at,
        )
    session.flush()
    run = session.get_one(Run, row.run_id)
    if actor.staff_id is not None:
        participation_service.record_signature(session, actor, RECORD_TYPE, row.id, run.id)
    audit.record(session, actor, "sign", "round", row.id, run.patient_id, {"run_id": run.id})
    _signed_event(session, actor, run, row)
    return row


def _signed_event(session: Session, actor: Actor, run: Run, row: RoundRecord) -> None:
    """The signed round on the run's clinical timeline: who attended, the goals set."""
    people = [
        (p["name"], p["discipline"])
        for p in attendance(session, [row.id]).get(row.id, {}).values()
        if "present" in p["how"]
    ]
    text = texts.round_text(people, row.goals)
    details = {"attendance": [n for n, _ in people], "goals": row.goals}
    record_event(
        session, actor, "round.signed", row.held_at, text, ("round", row.id), run, details=details
    )


def amend_round(
    session: Session, actor: Actor, round_id: int, data: AmendmentIn
) -> RoundsAmendment:
    actor.require(Permission.RECORD_ROUND)
    row = get_round(session, actor, round_id)
    if data.section not in AMEND_SECTIONS:
        problems = ProblemCollector()
        problems.add("section", "one of " + ", ".join(AMEND_SECTIONS), data.section)
        problems.raise_if_any()
    amendment = RoundsAmendment(
        record_type=RECORD_TYPE,
        record_id=row.id,
        section=data.section,
        text=data.text,
        amended_by=actor.staff_id,
    )
    session.add(amendment)
    session.flush()
    run = session.get_one(Run, row.run_id)
    audit.record(
        session,
        actor,
        "amend",
        "round",
        row.id,
        run.patient_id,
        {"section": data.section, "amendment_id": amendment.id},
    )
    record_event(
        session,
        actor,
        "round.amended",
        None,
        f"Round amended ({data.section.replace('_', ' ')}): {data.text}",
        ("round", row.id),
        run,
    )
    return amendment


def get_round(session: Session, actor: Actor, round_id: int) -> RoundRecord:
    actor.require(Permission.VIEW_CLINICAL)
    row = session.get(RoundRecord, round_id)
    if row is None:
        raise NotFound(f"round {round_id} not found")
    return row


def rounds_for_run(session: Session, run_id: int) -> list[RoundRecord]:
    stmt = (
        select(RoundRecord)
        .where(RoundRecord.run_id == run_id)
        .order_by(RoundRecord.round_date.desc())
    )
    return list(session.scalars(stmt))


def latest_rounds(session: Session, run_ids: Iterable[int], day: date) -> dict[int, RoundRecord]:
    """Each run's newest round on or before ``day`` (its goals stand until changed)."""
    ids = list(run_ids)
    if not ids:
        return {}
    stmt = (
        select(RoundRecord)
        .where(RoundRecord.run_id.in_(ids), RoundRecord.round_date <= day)
        .order_by(RoundRecord.round_date)
    )
    return {r.run_id: r for r in session.scalars(stmt)}


def attendance(session: Session, round_ids: Iterable[int]) -> dict[int, dict[int, dict[str, Any]]]:
    """{round_id: {staff_id: {"name", "discipline", "how"}}} — who took part, by discipline."""
    ids = list(round_ids)
    out: dict[int, dict[int, dict[str, Any]]] = defaultdict(dict)
    if not ids:
        return out
    stmt = (
        select(Participation, Staff.name)
        .join(Staff, Staff.id == Participation.staff_id)
        .where(Participation.record_type == RECORD_TYPE, Participation.record_id.in_(ids))
        .order_by(Participation.at)
    )
    for part, name in session.execute(stmt):
        entry = out[part.record_id].setdefault(
            part.staff_id, {"name": name, "discipline": part.discipline, "how": []}
        )
        entry["how"].append(part.how)
    return out


def disciplines_present(people: dict[int, dict[str, Any]]) -> set[str]:
    return {p["discipline"] for p in people.values() if "present" in p["how"]}


def amendments(
    session: Session, record_type: str, ids: Iterable[int]
) -> dict[int, list[RoundsAmendment]]:
    out: dict[int, list[RoundsAmendment]] = defaultdict(list)
    id_list = list(ids)
    if not id_list:
        return out
    stmt = (
        select(RoundsAmendment)
        .where(RoundsAmendment.record_type == record_type, RoundsAmendment.record_id.in_(id_list))
        .order_by(RoundsAmendment.amended_at)
    )
    for row in session.scalars(stmt):
        out[row.record_id].append(row)
    return out
