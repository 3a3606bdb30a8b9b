"""Live simulation training: start a session (a marked training run on a simulated
patient), step it (write the simulated observations through core.observation_service, so
surveillance raises alerts as usual), inject faults, score and debrief, sign off."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from continuum import vocabulary
from continuum.core import audit, competencies, observation_service, settings_service, targets
from continuum.core.clinical_event import ClinicalEvent, record_event
from continuum.core.people import Patient, PatientIdentity, Staff
from continuum.core.roles import Actor, Permission
from continuum.core.run_record import Circuit, Component, ModeSegment, Run
from continuum.db import utcnow
from continuum.errors import Conflict, FieldProblem, Forbidden, NotFound, ValidationFailed
from continuum.simulator.faults import FAULT_DETECTORS
from continuum.simulator.truth import criterion_text
from continuum.training import scoring, stream
from continuum.training.models import TrainingFault, TrainingSession
from continuum.training.schemas import SessionIn, SignOffIn
from continuum.training.settings import GROUP

STEPPER = Actor(staff_id=None, name="training simulator", role="integration", client="training")
TRAINING_NAME = "TRAINING — simulated patient"
MAX_MINUTES_PER_STEP = 240  # a long catch-up (after a restart) goes on at the next step
# The day's flow goal set on every training run (L/min, lower limit), so that a stopped pump
# (air entrainment, power failure) raises flow_below_target as on a real run: about 85 % of
# the simulator's set flow (VV 4.8, VA 4.0 L/min) [U].
FLOW_GOAL = {"VV": 4.0, "VA": 3.4}


def _settings(session: Session) -> dict[str, float | int]:
    return settings_service.values(session, GROUP)


def get(session: Session, actor: Actor, session_id: int) -> TrainingSession:
    actor.require(Permission.VIEW_CLINICAL)
    row = session.get(TrainingSession, session_id)
    if row is None:
        raise NotFound(f"training session {session_id} not found")
    return row


def listing(session: Session, actor: Actor) -> list[TrainingSession]:
    actor.require(Permission.VIEW_CLINICAL)
    stmt = select(TrainingSession).order_by(TrainingSession.started_at.desc()).limit(200)
    return list(session.scalars(stmt))


def faults(session: Session, training_id: int) -> list[TrainingFault]:
    stmt = (
        select(TrainingFault)
        .where(TrainingFault.session_id == training_id)
        .order_by(TrainingFault.onset_minute, TrainingFault.id)
    )
    return list(session.scalars(stmt))


def session_for_run(session: Session, run_id: int) -> TrainingSession | None:
    return session.scalar(select(TrainingSession).where(TrainingSession.run_id == run_id))


def start(
    session: Session, actor: Actor, data: SessionIn, now: datetime | None = None
) -> TrainingSession:
    """A new training run on a new simulated patient, with its history written at once."""
    actor.require(Permission.RUN_TRAINING)
    now = now or utcnow()
    cfg = _settings(session)
    mode = stream.check_base(data.scenario)
    top = float(cfg["max_acceleration"])
    if not 1 <= data.acceleration <= top:
        raise ValidationFailed(
            [
                FieldProblem(
                    "acceleration",
                    f"acceleration {data.acceleration:g}× is outside 1–{top:g}× real time",
                    data.acceleration,
                )
            ]
        )
    trainees = list(dict.fromkeys(data.trainee_ids))
    for i, sid in enumerate(trainees):
        staff = session.get(Staff, sid)
        if staff is None or staff.is_service_account:
            problem = FieldProblem(f"trainee_ids[{i}]", f"no member of staff {sid}", sid)
            raise ValidationFailed([problem])
    lead_in = int(cfg["lead_in_h"]) * 60
    total = lead_in + int(cfg["session_h"]) * 60
    run_start = now - timedelta(minutes=lead_in)
    patient = Patient(sex="female" if data.seed % 2 else "male", height_cm=172, weight_kg=78)
    session.add(patient)
    session.flush()
    session.add(
        PatientIdentity(patient_id=patient.id, mrn=f"SIM-{patient.id:06d}", name=TRAINING_NAME)
    )
    support = "cardiac" if mode == "VA" else "pulmonary"
    run = Run(
        patient_id=patient.id,
        support_type=support,
        status="active",
        indication=f"TRAINING — simulated patient ({data.title})",
        location="Simulation",
        started_at=run_start,
        created_by=actor.staff_id,
        is_training=True,
    )
    session.add(run)
    session.flush()
    circuit = Circuit(run_id=run.id, started_at=run_start)
    session.add(circuit)
    session.flush()
    session.add(
        ModeSegment(
            run_id=run.id,
            circuit_id=circuit.id,
            mode=mode,
            started_at=run_start,
            reason="initial mode",
            recorded_by=actor.staff_id,
        )
    )
    for kind, make, model in (
        ("console", "Simulator", "Training console"),
        ("pump", "Simulator", "Centrifugal pump"),
        ("membrane_lung", "Simulator", "Membrane lung"),
    ):
        session.add(
            Component(
                run_id=run.id,
                circuit_id=circuit.id,
                kind=kind,
                make=make,
                model=model,
                started_at=run_start,
                recorded_by=actor.staff_id,
            )
        )
    targets.set_target(
        session, actor, run, "blood_flow", FLOW_GOAL[mode], None, "training session flow goal"
    )
    row = TrainingSession(
        run_id=run.id,
        title=data.title,
        scenario=data.scenario,
        mode=mode,
        seed=data.seed,
        acceleration=float(data.acceleration),
        sim_minutes=total,
        fault_ramp_minutes=int(cfg["fault_ramp_min"]),
        lead_in_minutes=lead_in,
        started_at=now,
        last_minute=-1,
        status="running",
        instructor_id=actor.staff_id,
        trainee_ids=trainees,
    )
    session.add(row)
    session.flush()
    record_event(
        session,
        actor,
        "run.started",
        run_start,
        f"TRAINING: {mode} simulated run started ({data.title})",
        ("run", run.id),
        run,
        details={"mode": mode, "support": support, "training_session": row.id},
    )
    audit.record(
        session,
        actor,
        "create",
        "training_session",
        row.id,
        patient.id,
        {
            "run_id": run.id,
            "scenario": data.scenario,
            "acceleration": data.acceleration,
            "trainees": trainees,
        },
    )
    catch_up(session, row, now)  # the history up to now
    return row


def inject(
    session: Session, actor: Actor, training_id: int, scenario: str, now: datetime | None = None
) -> TrainingFault:
    """Inject a fault of the scenario library now (its onset: the minute shown now)."""
    actor.require(Permission.RUN_TRAINING)
    now = now or utcnow()
    row = get(session, actor, training_id)
    if row.status != "running":
        raise Conflict(f"training session {row.id} has ended")
    fault = stream.check_fault(scenario, row.mode)
    catch_up(session, row, now)  # everything shown so far is fault-free
    minute = max(row.last_minute + 1, row.lead_in_minutes)
    if minute >= row.sim_minutes:
        raise Conflict(f"training session {row.id} has reached the end of its simulated run")
    f = TrainingFault(
        session_id=row.id,
        scenario=scenario,
        fault=fault,
        onset_minute=minute,
        injected_at=now,  # the onset the scores count from; shown from the next minute
        injected_by=actor.staff_id,
    )
    session.add(f)
    session.flush()
    run = session.get(Run, row.run_id)
    audit.record(
        session,
        actor,
        "inject",
        "training_fault",
        f.id,
        run.patient_id if run else None,
        {"session": row.id, "scenario": scenario, "fault": fault, "onset_minute": minute},
    )
    return f


def end(
    session: Session, actor: Actor, training_id: int, note: str | None, now: datetime | None = None
) -> TrainingSession:
    """End the session: the stepper stops, the training run ends (it leaves the board)."""
    actor.require(Permission.RUN_TRAINING)
    now = now or utcnow()
    row = get(session, actor, training_id)
    if row.status != "running":
        raise Conflict(f"training session {row.id} has already ended")
    catch_up(session, row, now)
    row.status, row.ended_at, row.debrief_note = "ended", now, note
    run = session.get(Run, row.run_id)
    assert run is not None
    run.status, run.ended_at, run.outcome = "ended", now, "weaned_recovered"
    run.stop_reason = "training session ended"
    record_event(
        session,
        actor,
        "run.ended",
        now,
        "TRAINING: simulated run ended (session over)",
        ("run", run.id),
        run,
        details={"outcome": "training", "training_session": row.id},
    )
    audit.record(session, actor, "end", "training_session", row.id, run.patient_id, None)
    return row


def _wall(row: TrainingSession, minute: int) -> datetime:
    return stream.wall_time(row.started_at, row.lead_in_minutes, row.acceleration, minute)


def _minute(row: TrainingSession, at: datetime) -> int:
    return stream.minute_at(row.started_at, row.lead_in_minutes, row.acceleration, at)


def run_events(session: Session, run_id: int, since: datetime | None = None) -> list[scoring.Event]:
    """The run's events as the scorer reads them, at their clinical time: alerts,
    acknowledgements, circuit checks and actions from the clinical timeline; component
    replacements from the run's components (their start, kind and who recorded them)."""
    stmt = select(ClinicalEvent).where(
        ClinicalEvent.run_id == run_id, ClinicalEvent.kind.notlike("component.%")
    )
    if since is not None:
        stmt = stmt.where(ClinicalEvent.clinical_time >= since)
    rows = list(session.scalars(stmt.order_by(ClinicalEvent.clinical_time, ClinicalEvent.id)))
    out = [scoring.Event(r.id, r.kind, r.clinical_time, r.by_name or "", r.summary) for r in rows]
    comps = select(Component).where(Component.run_id == run_id, Component.replaces_id.is_not(None))
    if since is not None:
        comps = comps.where(Component.started_at >= since)
    names: dict[int, str] = {i: n for i, n in session.execute(select(Staff.id, Staff.name))}
    for c in session.scalars(comps):
        label = c.kind.replace("_", " ")
        out.append(
            scoring.Event(
                -c.id,  # not a clinical-event id: components are numbered apart
                "component.replaced",
                c.started_at,
                names.get(c.recorded_by or 0, ""),
                f"{label[0].upper()}{label[1:]} replaced",
                c.kind,
            )
        )
    return sorted(out, key=lambda e: (e.at, e.id))


def _resolve(session: Session, row: TrainingSession, fs: list[TrainingFault]) -> None:
    """A fault the trainees put right (its right action recorded) stops developing."""
    open_faults = [f for f in fs if f.resolved_minute is None]
    if not open_faults:
        return
    events = run_events(session, row.run_id, min(f.injected_at for f in open_faults))
    for f in open_faults:
        for e in events:
            if e.at >= f.injected_at and scoring.is_right(f.fault, e):
                f.resolved_at = e.at
                f.resolved_minute = max(_minute(row, e.at), f.onset_minute)
                f.resolved_by_event = e.id
                break


def step(session: Session, row: TrainingSession, now: datetime) -> int:
    """Write every simulated minute due by ``now`` (at most MAX_MINUTES_PER_STEP); returns
    the number of observations stored. Safe to call from several processes: a step claims
    its minutes by moving ``last_minute`` from the value it read (compare and set)."""
    if row.status != "running":
        return 0
    target = min(_minute(row, now), row.sim_minutes - 1)
    first = row.last_minute + 1
    if target < first:
        return 0
    last = min(target, first + MAX_MINUTES_PER_STEP - 1)
    claimed = session.execute(
        update(TrainingSession)
        .where(TrainingSession.id == row.id, TrainingSession.last_minute == row.last_minute)
        .values(last_minute=last, stepped_at=now)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        session.refresh(row)
        return 0
    fs = faults(session, row.id)
    _resolve(session, row, fs)
    active = [stream.ActiveFault(f.scenario, f.onset_minute, f.resolved_minute) for f in fs]
    vals = stream.values(
        row.scenario,
        row.mode,
        row.sim_minutes,
        row.seed,
        row.fault_ramp_minutes,
        active,
        first,
        last,
    )
    times = [_wall(row, k) for k in range(first, last + 1)]
    rows: list[dict[str, Any]] = []
    for code, arr in vals.items():
        rows += observation_service.series_rows(row.run_id, code, times, arr, "simulator")
    if "p_preoxy" in vals and "p_postoxy" in vals:
        rows += observation_service.series_rows(
            row.run_id,
            vocabulary.DELTA_P,
            times,
            vocabulary.delta_p_series(vals["p_preoxy"], vals["p_postoxy"]),
            "simulator",
        )
    session.refresh(row)
    if rows:
        observation_service.bulk_insert(session, rows)
        observation_service.after_store(session, row.run_id, {r["code"] for r in rows}, times[0])
        run = session.get(Run, row.run_id)
        audit.record(
            session,
            STEPPER,
            "create",
            "observation",
            None,
            run.patient_id if run else None,
            {"run_id": row.run_id, "count": len(rows), "training_session": row.id,
             "minutes": [first, last]},
        )  # fmt: skip
    return len(rows)


def catch_up(session: Session, row: TrainingSession, now: datetime) -> int:
    """Step until every minute due by ``now`` is written (several steps after a pause)."""
    stored = 0
    for _ in range(row.sim_minutes // MAX_MINUTES_PER_STEP + 2):
        n = step(session, row, now)
        stored += n
        if n == 0:
            break
    return stored


def step_all(session: Session, now: datetime | None = None) -> int:
    """One pass of the stepper over every running session."""
    now = now or utcnow()
    stored = 0
    for row in session.scalars(select(TrainingSession).where(TrainingSession.status == "running")):
        stored += step(session, row, now)
    return stored


# --- scoring and debrief -----------------------------------------------------------------


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    minute: int
    what: str
    kind: str
    by: str


@dataclass(frozen=True)
class Debrief:
    row: TrainingSession
    faults: list[TrainingFault]
    scores: list[scoring.FaultScore]
    timeline: list[TimelineEntry]


def _obvious(row: TrainingSession, f: TrainingFault) -> datetime | None:
    tr = stream.fault_trace(f.scenario, row.mode, row.fault_ramp_minutes, row.seed)
    onset = tr.run.start + timedelta(minutes=tr.onset)
    times = [t.obvious_at for t in tr.run.truth if t.fault == f.fault and t.obvious_at is not None]
    if not times:
        return None
    minute = f.onset_minute + round((min(times) - onset).total_seconds() / 60)
    return _wall(row, minute)


def may_read_debrief(actor: Actor, row: TrainingSession) -> bool:
    """Instructors (RUN_TRAINING) and the session's named trainees read its debrief; other
    staff do not (a debrief scores named people's performance: kept to those present)."""
    if actor.can(Permission.RUN_TRAINING):
        return True
    return actor.staff_id is not None and actor.staff_id in (row.trainee_ids or [])


def criterion(fault: str) -> str:
    """The criterion by which the fault counts as obvious (its first detector's, truth.py)."""
    codes = FAULT_DETECTORS.get(fault, ())
    return criterion_text(codes[0]) if codes else "—"


def debrief(session: Session, actor: Actor, training_id: int) -> Debrief:
    actor.require(Permission.VIEW_CLINICAL)
    found = session.get(TrainingSession, training_id)
    if found is None and not actor.can(Permission.RUN_TRAINING):
        # to anyone but an instructor a missing session is refused like one not theirs
        raise Forbidden(
            f"the debrief of training session {training_id} is for its instructors and the "
            "trainees named in it"
        )
    row = get(session, actor, training_id)
    if not may_read_debrief(actor, row):
        raise Forbidden(
            f"the debrief of training session {row.id} is for its instructors and the "
            "trainees named in it"
        )
    fs = faults(session, row.id)
    events = run_events(session, row.run_id, row.started_at)
    scores = []
    for i, f in enumerate(fs):
        until = fs[i + 1].injected_at if i + 1 < len(fs) else None
        scores.append(scoring.score(f.fault, f.injected_at, _obvious(row, f), events, until))
    entries: list[TimelineEntry] = []

    def add(at: datetime, what: str, kind: str, by: str = "", minute: int | None = None) -> None:
        entries.append(
            TimelineEntry(at, _minute(row, at) if minute is None else minute, what, kind, by)
        )

    add(row.started_at, "Session started (live from here)", "session", minute=row.lead_in_minutes)
    for f, s in zip(fs, scores, strict=True):
        name = f.scenario.replace("_", " ")
        add(f.injected_at, f"Fault injected: {name}", "fault", "instructor", f.onset_minute)
        if s.obvious_at is not None:
            add(s.obvious_at, f"Fault obvious (truth: {criterion(f.fault)})", "truth")
        if f.resolved_at is not None:
            add(f.resolved_at, "Fault put right: it stops developing", "resolved")
    wrong = {e.id: s.why_wrong.get(e.id, "") for s in scores for e in s.wrong_actions}
    right = {s.right_action_event for s in scores}
    for e in events:
        if e.kind not in (*scoring.ACTION_KINDS, "alert.raised", "alert.escalated"):
            continue
        tag = "alert" if e.kind in ("alert.raised", "alert.escalated") else "action"
        what = e.summary
        if e.id in right:
            tag = "right"
        elif e.id in wrong:
            tag = "wrong"
            what = f"{e.summary} ({wrong[e.id]})" if wrong[e.id] else e.summary
        add(e.at, what, tag, e.by)
    if row.ended_at is not None:
        add(row.ended_at, "Session ended", "session")
    entries.sort(key=lambda t: t.at)
    return Debrief(row, fs, scores, entries)


def sign_off(
    session: Session, actor: Actor, training_id: int, data: SignOffIn, today: date | None = None
) -> competencies.CompetencyRecord:
    """Sign a competency off from the session: a competency record with the session as its
    evidence and the instructor as assessor."""
    actor.require(Permission.RUN_TRAINING)
    row = get(session, actor, training_id)
    if data.staff_id not in (row.trainee_ids or []):
        raise ValidationFailed(
            [
                FieldProblem(
                    "staff_id",
                    f"staff {data.staff_id} was not a trainee of session {row.id}",
                    data.staff_id,
                )
            ]
        )
    today = today or utcnow().date()
    return competencies.record(
        session,
        actor,
        data.staff_id,
        competencies.CompetencyIn(
            competency=data.competency,
            achieved_on=today,
            assessor_id=actor.staff_id,
            evidence_kind="training_session",
            evidence_id=row.id,
            note=data.note,
        ),
        today,
    )


def signoffs(session: Session, training_id: int) -> list[competencies.CompetencyRecord]:
    """Competency records that name this session as their evidence."""
    rec = competencies.CompetencyRecord
    stmt = select(rec).where(
        rec.evidence_kind == "training_session", rec.evidence_id == training_id
    )
    return list(session.scalars(stmt.order_by(rec.id)))
