"""ECMO runs: start, mode changes, cannulas, circuit components, end of run."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from sqlalchemy import case, select
from sqlalchemy.orm import Session, selectinload

from continuum.core import audit, concurrency, patient_service
from continuum.core import clinical_backfill as texts
from continuum.core.clinical_event import ClinicalEvent, record_event
from continuum.core.people import Patient, PatientIdentity
from continuum.core.roles import Actor, Permission
from continuum.core.run_record import Cannula, Circuit, Component, ModeSegment, Run
from continuum.core.schemas import CannulaCreate, ComponentCreate, ModeChange, RunCreate, RunEnd
from continuum.core.vocab import OUTCOME_LABELS
from continuum.db import utcnow
from continuum.errors import Conflict, NotFound, ValidationFailed

COMPONENT_LABELS = {
    "console": "console",
    "pump": "pump",
    "membrane_lung": "membrane lung",
    "heater": "heater",
    "tubing_set": "tubing set",
}


def start_run(session: Session, actor: Actor, data: RunCreate) -> Run:
    actor.require(Permission.MANAGE_RUN)
    patient = _patient_for(session, actor, data)
    active = session.scalar(select(Run).where(Run.patient_id == patient.id, Run.status != "ended"))
    if active is not None:
        raise Conflict(f"patient {patient.label} already has an active run ({active.id})")
    start = data.started_at or utcnow()
    _check_after_birth(session, patient, start)
    run = Run(
        patient_id=patient.id,
        support_type=data.support_type,
        status="active",
        indication=data.indication,
        diagnosis=data.diagnosis,
        location=data.location,
        started_at=start,
        created_by=actor.staff_id,
    )
    session.add(run)
    session.flush()
    circuit = Circuit(run_id=run.id, started_at=start)
    session.add(circuit)
    session.flush()
    session.add(
        ModeSegment(
            run_id=run.id,
            circuit_id=circuit.id,
            mode=data.mode,
            started_at=start,
            reason="initial mode",
            recorded_by=actor.staff_id,
        )
    )
    record_event(
        session,
        actor,
        "run.started",
        start,
        f"{data.mode} ECMO started ({data.support_type} support)",
        ("run", run.id),
        run,
        details={"mode": data.mode, "support": data.support_type},
    )
    audit.record(
        session,
        actor,
        "create",
        "run",
        run.id,
        patient.id,
        {"support_type": data.support_type, "mode": data.mode},
    )
    return run


def _patient_for(session: Session, actor: Actor, data: RunCreate) -> Patient:
    if data.patient_id is not None:
        return patient_service.get_patient(session, actor, data.patient_id)
    if data.mrn:
        return patient_service.find_by_mrn(session, actor, data.mrn)
    raise ValidationFailed("give patient_id or mrn", "patient_id")


def get_run(session: Session, actor: Actor, run_id: int) -> Run:
    actor.require(Permission.VIEW_CLINICAL)
    run = session.get(Run, run_id)
    if run is None:
        raise NotFound(f"run {run_id} not found")
    return run


def list_runs(session: Session, actor: Actor, limit: int = 500) -> list[Run]:
    """Active runs first (newest first), then ended runs by end time."""
    actor.require(Permission.VIEW_CLINICAL)
    order = case((Run.status == "ended", 1), else_=0)
    stmt = (
        select(Run)
        .options(selectinload(Run.patient), selectinload(Run.modes))
        .order_by(order, Run.started_at.desc())
        .limit(limit)
    )
    return list(session.scalars(stmt))


def current_mode(run: Run) -> str | None:
    if not run.modes:
        return None
    open_segments = [m for m in run.modes if m.ended_at is None]
    return (open_segments or run.modes)[-1].mode


def current_circuit(run: Run) -> Circuit:
    open_circuits = [c for c in run.circuits if c.ended_at is None]
    if not open_circuits:
        raise Conflict(f"run {run.id} has no circuit in use")
    return open_circuits[-1]


def _require_open(run: Run) -> None:
    if run.status == "ended":
        raise Conflict(f"run {run.id} has ended; its record can be amended, not extended")


def _check_time(run: Run, at: datetime, what: str, field: str = "at") -> None:
    if at < run.started_at:
        raise ValidationFailed(
            f"{what} {at.isoformat()} is before the run started ({run.started_at.isoformat()})",
            field,
        )


# The birth date is a local calendar date; the earliest instant of any local date is at
# UTC+14, so a start is "before birth" only when earlier than that (no zone guesswork).
EARLIEST_ZONE = timedelta(hours=14)


def _check_after_birth(session: Session, patient: Patient, start: datetime) -> None:
    """A run cannot start before the patient was born (the date itself is not disclosed)."""
    born = session.scalar(
        select(PatientIdentity.birth_date).where(PatientIdentity.patient_id == patient.id)
    )
    if born is not None and start < datetime.combine(born, time.min, UTC) - EARLIEST_ZONE:
        raise ValidationFailed(
            f"start {start.isoformat()} is before the patient's date of birth", "started_at"
        )


def _check_end(run: Run, at: datetime) -> None:
    """An end must follow the start of everything still open (modes, circuits)."""
    _check_time(run, at, "end time", "ended_at")
    still_open: list[ModeSegment | Circuit] = [*run.modes, *run.circuits]
    for item in still_open:
        if item.ended_at is None and at < item.started_at:
            what = f"mode {item.mode}" if isinstance(item, ModeSegment) else "the current circuit"
            raise ValidationFailed(
                f"end time {at.isoformat()} is before {what} began "
                f"({item.started_at.isoformat()}); the run cannot end inside its own history",
                "ended_at",
            )


def change_mode(session: Session, actor: Actor, run: Run, data: ModeChange) -> ModeSegment:
    actor.require(Permission.MANAGE_RUN)
    _require_open(run)
    at = data.at or utcnow()
    _check_time(run, at, "mode change time")
    previous = [m for m in run.modes if m.ended_at is None]
    old = previous[-1].mode if previous else None
    if old == data.mode:
        raise ValidationFailed(f"the run is already in {data.mode}", "mode")
    for seg in previous:
        if at < seg.started_at:
            raise ValidationFailed("mode change time is before the current mode began", "at")
        seg.ended_at = at
    segment = ModeSegment(
        run_id=run.id,
        circuit_id=current_circuit(run).id,
        mode=data.mode,
        started_at=at,
        reason=data.reason,
        recorded_by=actor.staff_id,
    )
    session.add(segment)
    session.flush()
    record_event(
        session,
        actor,
        "mode.changed",
        at,
        f"Mode {old} → {data.mode}: {data.reason}",
        ("mode_segment", segment.id),
        run,
        details={"from": old, "to": data.mode},
    )
    audit.record(
        session,
        actor,
        "create",
        "mode_segment",
        segment.id,
        run.patient_id,
        {"from": old, "to": data.mode},
    )
    session.expire(run, ["modes"])
    return segment


def add_cannula(session: Session, actor: Actor, run: Run, data: CannulaCreate) -> Cannula:
    actor.require(Permission.MANAGE_RUN)
    _require_open(run)
    at = data.inserted_at or utcnow()
    _check_time(run, at, "insertion time")
    cannula = Cannula(
        run_id=run.id,
        recorded_by=actor.staff_id,
        **data.model_dump(exclude={"inserted_at"}),
        inserted_at=at,
    )
    session.add(cannula)
    session.flush()
    record_event(
        session,
        actor,
        "cannula.inserted",
        at,
        texts.cannula_text(data.role, data.french, data.side, data.site),
        ("cannula", cannula.id),
        run,
    )
    audit.record(session, actor, "create", "cannula", cannula.id, run.patient_id)
    session.expire(run, ["cannulas"])
    return cannula


def add_component(session: Session, actor: Actor, run: Run, data: ComponentCreate) -> Component:
    """Add a component, or replace one (the old one is stopped with its reason)."""
    actor.require(Permission.MANAGE_CIRCUIT)
    _require_open(run)
    at = data.started_at or utcnow()
    _check_time(run, at, "start time")
    old = _replaced(session, run, data, at) if data.replaces_id is not None else None
    component = Component(
        run_id=run.id,
        circuit_id=current_circuit(run).id,
        recorded_by=actor.staff_id,
        started_at=at,
        **data.model_dump(exclude={"started_at", "stop_reason", "stop_note"}),
    )
    session.add(component)
    session.flush()
    record_event(
        session,
        actor,
        "component.replaced" if old else "component.added",
        at,
        texts.component_text(data.kind, data.make, data.model, data.stop_reason, old is not None),
        ("component", component.id),
        run,
        details={"replaces": data.replaces_id, "stop_reason": data.stop_reason},
    )
    audit.record(
        session,
        actor,
        "create",
        "component",
        component.id,
        run.patient_id,
        {"replaces": data.replaces_id, "stop_reason": data.stop_reason},
    )
    session.expire(run, ["components"])
    return component


def _replaced(session: Session, run: Run, data: ComponentCreate, at: datetime) -> Component:
    old = session.get(Component, data.replaces_id)
    if old is None or old.run_id != run.id:
        raise ValidationFailed(
            f"component {data.replaces_id} is not part of run {run.id}", "replaces_id"
        )
    if old.stopped_at is not None:
        raise Conflict(f"component {old.id} was already removed at {old.stopped_at.isoformat()}")
    if old.kind != data.kind:
        raise ValidationFailed(f"a {old.kind} can only be replaced by a {old.kind}", "kind")
    if data.stop_reason is None:
        raise ValidationFailed("say why the old component was stopped", "stop_reason")
    if at < old.started_at:
        raise ValidationFailed(
            "the new component cannot start before the old one did", "started_at"
        )
    old.stopped_at, old.stop_reason, old.stop_note = at, data.stop_reason, data.stop_note
    return old


def set_weaning(session: Session, actor: Actor, run: Run, weaning: bool) -> None:
    actor.require(Permission.MANAGE_RUN)
    _require_open(run)
    run.status = "weaning" if weaning else "active"
    audit.record(session, actor, "update", "run", run.id, run.patient_id, {"status": run.status})


def end_run(session: Session, actor: Actor, run: Run, data: RunEnd) -> Run:
    """End the run (last cannula out, or death): closes every open part with its reason.
    A clinical act (``END_RUN``): perfusionist, physician or physician lead."""
    actor.require(Permission.END_RUN)
    if run.status == "ended":
        raise _already_ended(session, run)
    at = data.ended_at or utcnow()
    _check_end(run, at)
    _claim_end(session, run, at, data.outcome)
    reason = "end_of_run"
    for item in [*run.modes, *run.circuits]:
        if item.ended_at is None:
            item.ended_at = at
    for circuit in run.circuits:
        circuit.stop_reason = circuit.stop_reason or data.outcome
    for comp in run.components:
        if comp.stopped_at is None:
            comp.stopped_at, comp.stop_reason = max(at, comp.started_at), reason
    for can in run.cannulas:
        if can.removed_at is None:
            can.removed_at, can.stop_reason = max(at, can.inserted_at), reason
    run.ended_at, run.outcome, run.stop_reason, run.status = (
        at,
        data.outcome,
        data.stop_reason,
        "ended",
    )
    record_event(
        session,
        actor,
        "run.ended",
        at,
        f"Run ended: {OUTCOME_LABELS[data.outcome]} — {data.stop_reason}",
        ("run", run.id),
        run,
        details={"outcome": data.outcome},
    )
    audit.record(
        session,
        actor,
        "update",
        "run",
        run.id,
        run.patient_id,
        {"ended": at.isoformat(), "outcome": data.outcome},
    )
    return run


def _claim_end(session: Session, run: Run, at: datetime, outcome: str) -> None:
    """Atomically move the run to ``ended`` (a conditional UPDATE): of two racing ends
    (died / weaned) exactly one wins; the other is told who ended it and when."""
    won = concurrency.transition(
        session,
        run,
        Run.status != "ended",
        {"status": "ended", "ended_at": at, "outcome": outcome},
    )
    if not won:
        raise _already_ended(session, run)


def _already_ended(session: Session, run: Run) -> concurrency.AlreadyDone:
    by = ended_by(session, run)
    outcome = OUTCOME_LABELS.get(run.outcome or "", run.outcome or "")
    return concurrency.AlreadyDone(
        f"run {run.id} was already ended by {by} at {concurrency.stamp(run.ended_at)} "
        f"({outcome}); amend its record instead",
        by,
        run.ended_at,
    )


def ended_by(session: Session, run: Run) -> str:
    """Who ended the run: the author of its end event on the clinical timeline."""
    row = session.execute(
        select(ClinicalEvent.staff_id, ClinicalEvent.by_name)
        .where(
            ClinicalEvent.run_id == run.id,
            ClinicalEvent.kind == "run.ended",
            ClinicalEvent.record_type == "run",
            ClinicalEvent.record_id == run.id,
        )
        .order_by(ClinicalEvent.id.desc())
        .limit(1)
    ).first()
    if row is not None and row.by_name:
        return row.by_name
    return concurrency.who(session, row.staff_id if row is not None else None)
