"""The rounds board: every active run on one screen, most urgent first.

Built for 40 active runs × 24 h of 1-minute console data: the latest values come from one
statement of index probes (one correlated subquery per code), the 24 h trends are
downsampled inside the database (trends.py), and nothing is loaded as ORM objects per point.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, text
from sqlalchemy.orm import Session, selectinload

from continuum import display_names
from continuum.core import alert_state, patient_service, run_view, settings_service
from continuum.core.people import Patient, PatientIdentity
from continuum.core.record import Observation, RunTarget
from continuum.core.roles import Actor, Permission
from continuum.core.run_record import Run
from continuum.core.run_service import current_mode
from continuum.core.targets import Target
from continuum.db import UTCDateTime
from continuum.rounds import actions, board_readings, board_settings, round_record
from continuum.rounds.board_readings import Reading
from continuum.rounds.models import RoundAction, RoundRecord
from continuum.rounds.sparkline import Sparkline, sparkline
from continuum.rounds.trends import trends

LATEST_CODES = (
    "blood_flow",
    "pump_speed",
    "sweep_flow",
    "sweep_fio2",
    "oxy_delta_p",
    "p_access",
    "post_oxy_po2",
    "anti_xa",
    "aptt",
    "pfhb",
    "spo2",
    "pao2",
    "paco2",
    *board_readings.CODES,
)
SPARK_CODES = ("blood_flow", "oxy_delta_p", "p_access", "post_oxy_po2")
TARGET_CODES = ("blood_flow", "sweep_flow", "spo2", "pao2", "paco2", "anti_xa", "aptt")
WINDOW = timedelta(hours=24)
SEVERITIES = ("critical", "warning", "info")


@dataclass
class BoardRow:
    run: Run
    identity: PatientIdentity | None
    mode: str | None
    day: int
    latest: dict[str, tuple[datetime, float]]
    sparks: dict[str, Sparkline]
    dp_change: float | None
    targets: dict[str, Target]
    alerts: list[dict[str, Any]]
    round: RoundRecord | None
    open_actions: list[RoundAction]
    overdue: list[RoundAction]
    out_of_target: list[str] = field(default_factory=list)
    perfusion_at_round: bool | None = None  # None: no round recorded yet
    readings: list[tuple[str, list[Reading]]] = field(default_factory=list)
    goal_family: str = "VV"  # "VA" when the pump carries the circulation
    ml_age_h: float | None = None  # the membrane lung in use
    circuit_age_h: float | None = None
    entered: dict[str, str] = field(default_factory=dict)  # code → "62 kPa" (latest)
    forecasts: list[dict[str, Any]] = field(default_factory=list)  # exchange forecasts made
    # What the quality layer says is still open (events not yet reviewed, M&M actions).
    notes: list[tuple[str, str]] = field(default_factory=list)

    @property
    def bed(self) -> str | None:
        return self.run.location

    @property
    def weaning(self) -> str:
        return "weaning" if self.run.status == "weaning" else "not weaning"

    @property
    def readings_off(self) -> list[Reading]:
        return [r for _, rs in self.readings for r in rs if r.state == "off"]

    @property
    def alert_counts(self) -> dict[str, int]:
        """Per severity, alerts whose condition is present now (core.alert_state): one that
        cleared hours ago is listed for review, not counted as a current finding."""
        return alert_state.present_counts(self.alerts)

    @property
    def alert_states(self) -> dict[str, int]:
        return alert_state.state_counts(self.alerts)

    @property
    def urgency(self) -> tuple[int, int, int, int]:
        counts = self.alert_counts
        off = len(self.out_of_target) + len(self.readings_off)
        return (counts["critical"], len(self.overdue), off, counts["warning"])

    @property
    def level(self) -> str:
        critical, overdue, off, warning = self.urgency
        if critical:
            return "critical"
        return "warning" if overdue or off or warning else "ok"


@dataclass(frozen=True)
class BoardWhen:
    """Which day the board shows and the moment "overdue" and "latest" are judged at."""

    day: date
    as_of: datetime
    today: date


def board_when(day: date | None, zone: ZoneInfo, now: datetime) -> BoardWhen:
    """Today: now. A past day: its end. A future day: its start (planning that round)."""
    today = now.astimezone(zone).date()
    day = day or today
    if day == today:
        return BoardWhen(day, now, today)
    edge = time.max if day < today else time.min
    return BoardWhen(day, datetime.combine(day, edge, tzinfo=zone).astimezone(UTC), today)


def active_runs(session: Session, run_ids: Sequence[int] | None = None) -> list[Run]:
    stmt = (
        select(Run)
        .options(
            selectinload(Run.patient),
            selectinload(Run.modes),
            selectinload(Run.components),
            selectinload(Run.circuits),
        )
        .where(Run.status != "ended")
        .order_by(Run.started_at)
    )
    if run_ids is not None:
        stmt = stmt.where(Run.id.in_(run_ids))
    return list(session.scalars(stmt))


_PG_LATEST = text(
    "SELECT o.run_id, o.code, o.time, o.value, o.entered_value, o.entered_unit "
    "FROM unnest(CAST(:runs AS integer[])) AS r(id), unnest(CAST(:codes AS text[])) AS c(code), "
    "LATERAL (SELECT * FROM observation n WHERE n.run_id = r.id AND n.code = c.code "
    "AND n.status = 'final' AND n.time <= :as_of ORDER BY n.time DESC, n.id DESC LIMIT 1) o"
).columns(time=UTCDateTime())  # read as the ORM reads it: aware, in UTC


def _latest_id(code: str, as_of: datetime) -> Any:
    return (
        select(Observation.id)
        .where(
            Observation.run_id == Run.id,
            Observation.code == code,
            Observation.status == "final",
            Observation.time <= as_of,
        )
        .order_by(Observation.time.desc(), Observation.id.desc())
        .limit(1)
        .correlate(Run)
        .scalar_subquery()
    )


def latest_values(
    session: Session,
    run_ids: Sequence[int],
    codes: Sequence[str],
    as_of: datetime,
    entered: dict[int, dict[str, str]] | None = None,
) -> dict[int, dict[str, tuple[datetime, float]]]:
    """{run_id: {code: (time, value)}}: one index probe per run and code, two statements.
    ``entered`` (filled when given): {run_id: {code: "62 kPa"}} for a latest value entered
    in another unit (``display_names.entered_parts``)."""
    if not run_ids:
        return {}
    out: dict[int, dict[str, tuple[datetime, float]]] = defaultdict(dict)
    if session.get_bind().dialect.name == "postgresql":
        # One statement of fixed text (an index seek per run and code): building the
        # SELECT of a scalar subquery per code below cost the board ~10 ms of CPU a view.
        found: Any = session.execute(
            _PG_LATEST, {"runs": list(run_ids), "codes": list(codes), "as_of": as_of}
        )
    else:
        stmt = select(*[_latest_id(code, as_of) for code in codes]).where(Run.id.in_(run_ids))
        ids = [i for row in session.execute(stmt) for i in row if i is not None]
        if not ids:
            return out
        rows = select(
            Observation.run_id,
            Observation.code,
            Observation.time,
            Observation.value,
            Observation.entered_value,
            Observation.entered_unit,
        )
        found = session.execute(rows.where(Observation.id.in_(ids)))
    for run_id, code, at, value, ev, eu in found:
        out[run_id][code] = (at, value)
        if entered is not None and eu is not None:
            first, _ = display_names.entered_parts(value, code, None, ev, eu)
            entered.setdefault(run_id, {})[code] = first
    return out


def run_targets(
    session: Session, run_ids: Sequence[int], as_of: datetime
) -> dict[int, dict[str, Target]]:
    """Each run's newest target per code (as core.targets.current_targets, for many runs)."""
    out: dict[int, dict[str, Target]] = defaultdict(dict)
    if not run_ids:
        return out
    stmt = (
        select(RunTarget)
        .where(RunTarget.run_id.in_(run_ids), RunTarget.set_at <= as_of)
        .order_by(RunTarget.set_at, RunTarget.id)
    )
    for r in session.scalars(stmt):
        out[r.run_id][r.code] = Target(r.code, r.low, r.high, r.unit, r.source)
    return out


def open_actions_at(
    session: Session, run_ids: Sequence[int], as_of: datetime
) -> dict[int, list[RoundAction]]:
    """Actions raised by ``as_of`` and not done by then, soonest due first."""
    out: dict[int, list[RoundAction]] = defaultdict(list)
    if not run_ids:
        return out
    stmt = (
        select(RoundAction)
        .where(
            RoundAction.run_id.in_(run_ids),
            RoundAction.created_at <= as_of,
            (RoundAction.completed_at.is_(None)) | (RoundAction.completed_at > as_of),
        )
        .order_by(RoundAction.due_at, RoundAction.id)
    )
    for row in session.scalars(stmt):
        out[row.run_id].append(row)
    return out


def _sparks(
    series: dict[tuple[int, str], list[tuple[float, float]]],
    run_id: int,
    targets: dict[str, Target],
    start: float,
    end: float,
) -> dict[str, Sparkline]:
    out = {}
    for code in SPARK_CODES:
        t = targets.get(code)
        band = (t.low, t.high) if t else None
        out[code] = sparkline(series.get((run_id, code), []), start, end, target=band)
    return out


def _out_of_target(
    latest: dict[str, tuple[datetime, float]], targets: dict[str, Target]
) -> list[str]:
    return [
        c
        for c in TARGET_CODES
        if c in targets and c in latest and not targets[c].contains(latest[c][1])
    ]


def _dp_change(
    points: list[tuple[float, float]], latest: tuple[datetime, float] | None
) -> float | None:
    if not points or latest is None:
        return None
    return latest[1] - points[0][1]


def _ages(run: Run, as_of: datetime) -> tuple[float | None, float | None]:
    """Hours the membrane lung in use and the circuit in use have been running at ``as_of``."""
    lungs = [
        c
        for c in run.components
        if c.kind == "membrane_lung"
        and c.started_at <= as_of
        and (c.stopped_at is None or c.stopped_at > as_of)
    ]
    circuits = [
        c
        for c in run.circuits
        if c.started_at <= as_of and (c.ended_at is None or c.ended_at > as_of)
    ]
    ml = max(lungs, key=lambda c: c.started_at, default=None)
    circuit = max(circuits, key=lambda c: c.started_at, default=None)
    return (
        (as_of - ml.started_at).total_seconds() / 3600 if ml else None,
        (as_of - circuit.started_at).total_seconds() / 3600 if circuit else None,
    )


def _readings(
    run: Run,
    mode: str | None,
    latest: dict[str, tuple[datetime, float]],
    targets: dict[str, Target],
    rnd: RoundRecord | None,
    as_of: datetime,
    values: board_readings.Values,
    entered: dict[str, str] | None = None,
) -> list[tuple[str, list[Reading]]]:
    goals = {**board_readings.default_goals(mode, run.support_type, values), **targets}
    fluid = (rnd.goals or {}).get("fluid_balance_ml") if rnd is not None else None
    fluid_goal = (
        Target(
            board_readings.FLUID_BALANCE_CODE,
            fluid.get("low"),
            fluid.get("high"),
            "mL",
            f"round of {rnd.round_date}",
        )
        if fluid
        and rnd is not None
        and (fluid.get("low") is not None or fluid.get("high") is not None)
        else None
    )
    return board_readings.readings(latest, goals, as_of, fluid_goal, values, entered)


def _perfusion_present(session: Session, rounds: dict[int, RoundRecord]) -> dict[int, bool]:
    people = round_record.attendance(session, [r.id for r in rounds.values()])
    return {
        run_id: "perfusion" in round_record.disciplines_present(people.get(r.id, {}))
        for run_id, r in rounds.items()
    }


def board(
    session: Session, actor: Actor, when: BoardWhen, run_ids: Sequence[int] | None = None
) -> list[BoardRow]:
    """Every active run, most urgent first (critical alerts, overdue actions, off target)."""
    actor.require(Permission.VIEW_CLINICAL)
    runs = active_runs(session, run_ids)
    ids = [r.id for r in runs]
    start = when.as_of - WINDOW
    typed: dict[int, dict[str, str]] = {}
    latest = latest_values(session, ids, LATEST_CODES, when.as_of, typed)
    series = trends(session, ids, SPARK_CODES, start, when.as_of)
    goals = round_record.latest_rounds(session, ids, when.day)
    targets = run_targets(session, ids, when.as_of)
    todo = open_actions_at(session, ids, when.as_of)
    present = _perfusion_present(session, goals)
    in_force = settings_service.values(session, board_settings.GROUP)
    people = patient_service.identities(
        session, actor, [r.patient_id for r in runs], "rounds board"
    )
    notes = run_view.run_notes(session, actor, ids)
    rows = []
    for run in runs:
        lv, tg, acts = latest.get(run.id, {}), targets.get(run.id, {}), todo.get(run.id, [])
        mode = current_mode(run)
        ml_age, circuit_age = _ages(run, when.as_of)
        rows.append(
            BoardRow(
                run=run,
                identity=people.get(run.patient_id),
                mode=mode,
                day=run_view.ecmo_day(run, when.as_of),
                latest=lv,
                sparks=_sparks(series, run.id, tg, start.timestamp(), when.as_of.timestamp()),
                dp_change=_dp_change(
                    series.get((run.id, "oxy_delta_p"), []), lv.get("oxy_delta_p")
                ),
                targets=tg,
                alerts=run_view.open_alerts(session, run.id),
                round=goals.get(run.id),
                open_actions=acts,
                overdue=[a for a in acts if actions.is_overdue(a, when.as_of)],
                out_of_target=_out_of_target(lv, tg),
                perfusion_at_round=present.get(run.id),
                readings=_readings(
                    run, mode, lv, tg, goals.get(run.id), when.as_of, in_force, typed.get(run.id)
                ),
                entered=typed.get(run.id, {}),
                goal_family=board_readings.family(mode, run.support_type),
                ml_age_h=ml_age,
                circuit_age_h=circuit_age,
                forecasts=[
                    f
                    for f in run_view.exchange_forecasts(session, run.id)
                    if f["status"] == "forecast"
                ],
                notes=notes.get(run.id, []),
            )
        )
    # Training runs (simulated patients) after every real patient, whatever their alerts.
    return sorted(rows, key=lambda r: (r.run.is_training, *(-x for x in r.urgency)))


def next_run_id(session: Session, run_id: int) -> int | None:
    """The run after ``run_id`` in bed order (then start), wrapping round: "next patient"
    while recording rounds. None when it is the only active run (or not active)."""
    runs = sorted(active_runs(session), key=lambda r: (r.location or "~", r.started_at, r.id))
    ids = [r.id for r in runs]
    if run_id not in ids or len(ids) < 2:
        return None
    return ids[(ids.index(run_id) + 1) % len(ids)]


@dataclass(frozen=True)
class FollowUpRow:
    """An open follow-up item after decannulation (the run has usually ended)."""

    id: int
    run_id: int
    patient: Patient
    identity: PatientIdentity | None
    item: str
    due_at: datetime | None
    overdue: bool

    @property
    def href(self) -> str:
        return f"/runs/{self.run_id}/weaning"


def follow_ups(session: Session, actor: Actor, when: BoardWhen) -> list[FollowUpRow]:
    """Every run's follow-up items not done by ``when.as_of``, oldest due first, from the
    domains that registered a provider (weaning) through ``run_view``."""
    actor.require(Permission.VIEW_CLINICAL)
    items = run_view.open_follow_ups(session, when.as_of)
    if not items:
        return []
    ids = sorted({int(x["patient_id"]) for x in items})
    patients = {p.id: p for p in session.scalars(select(Patient).where(Patient.id.in_(ids)))}
    people = patient_service.identities(session, actor, ids, "rounds board follow-ups")
    return [
        FollowUpRow(
            id=x["id"],
            run_id=x["run_id"],
            patient=patients[x["patient_id"]],
            identity=people.get(x["patient_id"]),
            item=x["item"],
            due_at=x["due_at"],
            overdue=bool(x["overdue"]),
        )
        for x in items
    ]


def follow_up_json(row: FollowUpRow) -> dict[str, Any]:
    """A follow-up item as JSON (API): identifiers only when the actor may see them."""
    return {
        "id": row.id,
        "run_id": row.run_id,
        "patient": row.patient.label if row.identity is None else None,
        "patient_label": row.patient.label,
        "name": row.identity.name if row.identity else None,
        "mrn": row.identity.mrn if row.identity else None,
        "item": row.item,
        "due_at": row.due_at.isoformat() if row.due_at else None,
        "overdue": row.overdue,
        "href": row.href,
    }


def row_json(row: BoardRow) -> dict[str, Any]:
    """The board row as JSON (API): identifiers only when the actor may see them."""
    return {
        "run_id": row.run.id,
        "patient": row.run.patient.label if row.identity is None else None,
        "patient_label": row.run.patient.label,
        "name": row.identity.name if row.identity else None,
        "mrn": row.identity.mrn if row.identity else None,
        "support": row.run.support_type,
        "mode": row.mode,
        "ecmo_day": row.day,
        "level": row.level,
        "latest": {
            c: {"time": t.isoformat(), "value": v, "entered": row.entered.get(c)}
            for c, (t, v) in row.latest.items()
        },
        "oxy_delta_p_change_24h": row.dp_change,
        "targets": {
            c: {"low": t.low, "high": t.high, "unit": t.unit} for c, t in row.targets.items()
        },
        "out_of_target": row.out_of_target,
        "alerts": row.alerts,
        "alert_counts": row.alert_counts,
        "alert_states": row.alert_states,
        "goals": row.round.goals if row.round else {},
        "goals_from": str(row.round.round_date) if row.round else None,
        "perfusion_at_round": row.perfusion_at_round,
        "bed": row.bed,
        "weaning": row.run.status == "weaning",
        "goal_family": row.goal_family,
        "membrane_lung_age_h": row.ml_age_h,
        "circuit_age_h": row.circuit_age_h,
        "readings": {
            r.code: {
                "value": r.value,
                "time": r.at.isoformat() if r.at else None,
                "state": r.state,
                "goal": {"low": r.goal.low, "high": r.goal.high} if r.goal else None,
            }
            for _, rs in row.readings
            for r in rs
        },
        "open_actions": [action_json(a, row) for a in row.open_actions],
        "overdue_actions": len(row.overdue),
        "trends": {
            c: {"points": s.points, "min": s.low, "max": s.high, "last": s.last}
            for c, s in row.sparks.items()
        },
    }


def action_json(a: RoundAction, row: BoardRow | None = None) -> dict[str, Any]:
    return {
        "id": a.id,
        "text": a.text,
        "owner_discipline": a.owner_discipline,
        "due_at": a.due_at.isoformat(),
        "round_id": a.round_id,
        "circuit_check_id": a.circuit_check_id,
        "completed_at": a.completed_at.isoformat() if a.completed_at else None,
        "overdue": row is not None and a in row.overdue,
    }
