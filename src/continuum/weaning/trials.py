"""Weaning trials: start, record each step (measurements + criteria judged), the
perfusionist's circuit-safety assessment, and the outcome (passed / failed / aborted)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from continuum import vocabulary
from continuum.core import (
    audit,
    concurrency,
    observation_service,
    participation_service,
    run_service,
    targets,
)
from continuum.core import clinical_backfill as texts
from continuum.core.clinical_event import record_event
from continuum.core.record import Observation
from continuum.core.roles import Actor, Permission
from continuum.core.run_record import Run
from continuum.core.schemas import ObservationIn
from continuum.db import utcnow
from continuum.errors import Conflict, FieldProblem, NotFound, ValidationFailed
from continuum.weaning import criteria as cr
from continuum.weaning import settings
from continuum.weaning.common import not_before, require_open
from continuum.weaning.models import TrialStep, WeaningTrial
from continuum.weaning.protocols import PROTOCOLS, Protocol, order_problems
from continuum.weaning.readiness import family_of
from continuum.weaning.schemas import AssessmentIn, StepIn, TrialAbort, TrialFinish, TrialStart

ALL = cr.ALL_CRITERIA
ANTICOAGULATION = ("anti_xa", "aptt", "act")


def get_trial(session: Session, actor: Actor, trial_id: int) -> WeaningTrial:
    actor.require(Permission.VIEW_CLINICAL)
    trial = session.get(WeaningTrial, trial_id)
    if trial is None:
        raise NotFound(f"weaning trial {trial_id} not found")
    return trial


def trials_for(session: Session, run_id: int) -> list[WeaningTrial]:
    stmt = select(WeaningTrial).where(WeaningTrial.run_id == run_id)
    return list(session.scalars(stmt.order_by(WeaningTrial.started_at, WeaningTrial.id)))


def start_trial(session: Session, actor: Actor, run: Run, data: TrialStart) -> WeaningTrial:
    actor.require(Permission.RUN_WEANING)
    require_open(run)
    protocol, fam = PROTOCOLS[data.kind], family_of(run)
    if protocol.family != fam:
        raise ValidationFailed(
            [
                FieldProblem(
                    "kind",
                    f"a {protocol.title} is for {protocol.family} runs; this run is {fam}",
                    data.kind,
                )
            ]
        )
    running = [t for t in trials_for(session, run.id) if t.status == "in_progress"]
    if running:
        raise Conflict(f"trial {running[0].id} is still in progress: finish or abort it first")
    at = data.started_at or utcnow()
    not_before(at, run.started_at, "started_at", "the run started")
    trial = WeaningTrial(
        run_id=run.id,
        kind=data.kind,
        status="in_progress",
        started_at=at,
        started_by=actor.staff_id,
        planned_minutes=data.planned_minutes,
    )
    session.add(trial)
    session.flush()
    if run.status == "active":
        run_service.set_weaning(session, actor, run, True)
    audit.record(
        session, actor, "create", "weaning_trial", trial.id, run.patient_id, {"kind": data.kind}
    )
    record_event(
        session,
        actor,
        "weaning.trial_started",
        at,
        f"{texts.trial_text(data.kind)} started",
        ("weaning_trial", trial.id),
        run,
        details={"kind": data.kind},
    )
    return trial


def _in_progress(trial: WeaningTrial) -> None:
    if trial.status != "in_progress":
        raise Conflict(f"trial {trial.id} is {trial.status}; a finished trial cannot change")


def _already_closed(session: Session, trial: WeaningTrial) -> concurrency.AlreadyDone:
    by = concurrency.who(session, trial.ended_by)
    return concurrency.AlreadyDone(
        f"the trial was already closed ({trial.status}) by {by} at "
        f"{concurrency.stamp(trial.ended_at)}",
        by,
        trial.ended_at,
    )


def add_step(session: Session, actor: Actor, trial: WeaningTrial, data: StepIn) -> TrialStep:
    actor.require(Permission.RUN_WEANING)
    _in_progress(trial)
    run = run_service.get_run(session, actor, trial.run_id)
    protocol = PROTOCOLS[trial.kind]
    at = data.at or utcnow()
    not_before(at, trial.started_at, "at", "the trial started")
    last = trial.steps[-1] if trial.steps else None
    previous = (last.stage, last.at, last.measurements) if last else None
    problems = order_problems(protocol, data.stage, at, data.values, previous)
    if problems:
        raise ValidationFailed(problems)
    _store_observations(session, actor, run, data.values, at)
    step = TrialStep(
        trial_id=trial.id,
        seq=(last.seq + 1) if last else 1,
        stage=data.stage,
        at=at,
        measurements=dict(data.values),
        judged=judge_step(session, run.id, protocol, data, at),
        note=data.note,
        recorded_by=actor.staff_id,
    )
    if data.stage == "baseline" and "blood_flow" in data.values:
        trial.baseline_flow = data.values["blood_flow"]
    session.add(step)
    session.flush()
    session.expire(trial, ["steps"])
    audit.record(
        session,
        actor,
        "create",
        "weaning_step",
        step.id,
        run.patient_id,
        {"trial": trial.id, "stage": data.stage, "seq": step.seq},
    )
    record_event(
        session,
        actor,
        "weaning.step",
        at,
        texts.step_text(trial.kind, step.seq, data.stage, dict(data.values), data.note),
        ("weaning_trial", trial.id),
        run,
        details={"seq": step.seq, "stage": data.stage},
    )
    return step


def _store_observations(
    session: Session, actor: Actor, run: Run, values: dict[str, float], at: datetime
) -> None:
    if values:
        items = [ObservationIn(code=k, value=v, time=at) for k, v in values.items()]
        observation_service.record_observations(session, actor, run, items)


def judge_step(
    session: Session, run_id: int, protocol: Protocol, data: StepIn, at: datetime
) -> list[dict[str, Any]]:
    """Judge the step's criteria on its values; a measure not given at this step is taken
    from the latest observation before it (shown with its time), else unknown."""
    values: dict[str, float | None] = dict(data.values)
    values["pulse_pressure"] = data.pulse_pressure
    carried: dict[str, datetime] = {}
    for crit in protocol.judged:
        if values.get(crit.measure) is None and crit.measure in vocabulary.CODES:
            obs = _latest_before(session, run_id, crit.measure, at)
            if obs is not None:
                values[crit.measure], carried[crit.measure] = obs.value, obs.time
    judged = cr.judge_all(protocol.judged, values, settings.overrides(session))
    return [_judged_row(j, carried.get(ALL[j.name].measure)) for j in judged]


def _judged_row(j: cr.Judgement, carried: datetime | None) -> dict[str, Any]:
    return {**asdict(j), "carried_from": carried.isoformat() if carried else None}


def _latest_before(session: Session, run_id: int, code: str, at: datetime) -> Observation | None:
    stmt = (
        select(Observation)
        .where(Observation.run_id == run_id, Observation.code == code)
        .where(Observation.status == "final", Observation.time <= at)
        .order_by(Observation.time.desc(), Observation.id.desc())
        .limit(1)
    )
    return session.scalar(stmt)


def assess(session: Session, actor: Actor, trial: WeaningTrial, data: AssessmentIn) -> None:
    """The perfusionist's named part: minimum flow and anticoagulation at low flow."""
    actor.require(Permission.CIRCUIT_CHECK)
    _in_progress(trial)
    won = trial.perfusion_at is None and concurrency.transition(
        session,
        trial,
        WeaningTrial.perfusion_at.is_(None) & (WeaningTrial.status == "in_progress"),
        {
            "perfusion_flow_safe": data.flow_safe,
            "perfusion_anticoagulation_ok": data.anticoagulation_ok,
            "perfusion_assessment": data.assessment,
            "perfusion_by": actor.staff_id,
            "perfusion_name": f"{actor.name} ({actor.role})",
            "perfusion_at": utcnow(),
        },
    )
    if not won:
        _in_progress(trial)
        raise concurrency.AlreadyDone(
            f"the perfusion assessment was already recorded by {trial.perfusion_name} at "
            f"{concurrency.stamp(trial.perfusion_at)}; it is signed",
            trial.perfusion_name,
            trial.perfusion_at,
        )
    if actor.staff_id is not None:
        participation_service.record_signature(
            session, actor, "weaning_trial", trial.id, trial.run_id, "circuit-safety assessment"
        )
    audit.record(
        session,
        actor,
        "update",
        "weaning_trial",
        trial.id,
        None,
        {
            "perfusion_assessment": True,
            "flow_safe": data.flow_safe,
            "anticoagulation_ok": data.anticoagulation_ok,
        },
    )
    record_event(
        session,
        actor,
        "weaning.assessed",
        trial.perfusion_at,
        texts.assessment_text(data.flow_safe, data.anticoagulation_ok, data.assessment),
        ("weaning_trial", trial.id),
        session.get_one(Run, trial.run_id),
    )


def finish(session: Session, actor: Actor, trial: WeaningTrial, data: TrialFinish) -> None:
    actor.require(Permission.RUN_WEANING)
    if trial.status != "in_progress":
        raise _already_closed(session, trial)
    _in_progress(trial)
    if data.outcome == "passed":
        _can_pass(trial)
    _close(session, actor, trial, data.outcome, data.reason, data.at)


def abort(session: Session, actor: Actor, trial: WeaningTrial, data: TrialAbort) -> None:
    actor.require(Permission.RUN_WEANING)
    if trial.status != "in_progress":
        raise _already_closed(session, trial)
    _in_progress(trial)
    _close(session, actor, trial, "aborted", data.reason, data.at)


def _can_pass(trial: WeaningTrial) -> None:
    problems = []
    if len(trial.steps) < 2:
        problems.append(
            FieldProblem(
                "outcome",
                "record the baseline and at least one weaning step before calling the trial passed",
                "passed",
            )
        )
    if trial.kind == "sweep_off" and not any(s.stage in ("during", "end") for s in trial.steps):
        problems.append(
            FieldProblem(
                "outcome",
                "a sweep-off trial passes on blood gases taken during the trial: record one",
                "passed",
            )
        )
    if trial.perfusion_at is None:
        problems.append(
            FieldProblem(
                "perfusion_assessment",
                "the perfusionist's circuit-safety assessment is recorded before a trial is passed",
                None,
            )
        )
    if problems:
        raise ValidationFailed(problems)


def _close(
    session: Session,
    actor: Actor,
    trial: WeaningTrial,
    status: str,
    reason: str,
    at: datetime | None,
) -> None:
    run = run_service.get_run(session, actor, trial.run_id)
    end = at or utcnow()
    last = trial.steps[-1].at if trial.steps else trial.started_at
    not_before(end, last, "at", "the last step of the trial")
    won = concurrency.transition(
        session,
        trial,
        WeaningTrial.status == "in_progress",
        {"status": status, "outcome_reason": reason, "ended_at": end, "ended_by": actor.staff_id},
    )
    if not won:
        raise _already_closed(session, trial)
    if status != "passed" and run.status == "weaning":
        run_service.set_weaning(session, actor, run, False)
    audit.record(
        session,
        actor,
        "update",
        "weaning_trial",
        trial.id,
        run.patient_id,
        {"status": status, "reason": reason},
    )
    record_event(
        session,
        actor,
        "weaning.trial_ended",
        end,
        f"{texts.trial_text(trial.kind)} {status}" + (f": {reason}" if reason else ""),
        ("weaning_trial", trial.id),
        run,
        details={"outcome": status},
    )


def off_sweep_minutes(trial: WeaningTrial) -> float | None:
    """Minutes since the sweep went off (to the end of the trial, or now)."""
    off = [s.at for s in trial.steps if s.stage == "sweep_off"]
    if trial.kind != "sweep_off" or not off:
        return None
    return ((trial.ended_at or utcnow()) - off[0]).total_seconds() / 60.0


def circuit_safety(session: Session, run: Run, trial: WeaningTrial) -> dict[str, Any]:
    """What the perfusionist checks: minimum flow now, and anticoagulation against targets."""
    crit = cr.VA_MIN_FLOW if PROTOCOLS[trial.kind].family == "VA" else cr.VV_MIN_FLOW
    flow = observation_service.latest(session, run.id, "blood_flow")
    judged = cr.judge(crit, flow.value if flow else None, settings.overrides(session))
    goals = targets.current_targets(session, run.id)
    anticoag = []
    for code in ANTICOAGULATION:
        obs = observation_service.latest(session, run.id, code)
        goal = goals.get(code)
        ok = goal.contains(obs.value) if goal and obs else None
        anticoag.append({"code": code, "obs": obs, "target": goal.text if goal else None, "ok": ok})
    return {"flow": judged, "flow_at": flow.time if flow else None, "anticoagulation": anticoag}
