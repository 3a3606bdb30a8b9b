"""Clinical audits computed from the record (docs/quality-metrics.md, "Audits").

An audit names a criterion from a closed list, a standard (%), a period and a title.
Compliance is computed each time from the record; every unit that failed is listed with
its run and record. A re-audit (same criterion, a later period) is shown beside the audit
it follows.

Criteria and their units:
* ``anticoagulation_in_range`` — runs started in the period with ≥ 2 anti-Xa (else aPTT)
  values: the pooled time in range (Rosendaal) against the standard; a run fails when its
  own time in range is below the standard.
* ``circuit_check_every_shift`` — every complete shift (the programme's hand-over hours,
  settings group "shifts") a run was on ECMO within the period: passes with ≥ 1 circuit
  check recorded in it.
* ``perfusion_at_rounds`` — rounds held in the period: passes with a perfusion participant.
* ``decannulation_checklist`` — decannulations in the period: passes when anticoagulation
  stop (time or reason), coagulation results, blood products available, limb perfusion,
  haemostasis time and both sign-offs (physician, perfusionist) are recorded.
* ``ml_changes_planned`` — membrane-lung changes in the period: passes when planned
  (end of product life, protocol, treatment changed); failure reasons (oxygenator failure,
  rising gradient, thrombus, haemolysis, device malfunction, air, rupture) and "other" fail.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

from pydantic import Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from continuum.core import audit, settings_service
from continuum.core.record import Participation
from continuum.core.roles import Actor, Permission
from continuum.core.run_record import Component, Run, not_training
from continuum.core.schemas import Strict
from continuum.db import utcnow
from continuum.errors import FieldProblem, NotFound, ValidationFailed
from continuum.quality import metrics, metrics_calc
from continuum.quality.audit_record import CRITERIA, ClinicalAudit
from continuum.rounds.models import CircuitCheck, RoundRecord
from continuum.weaning.models import Decannulation

CRITERION_LABELS: dict[str, str] = {
    "anticoagulation_in_range": "Anti-Xa (or aPTT) in range for at least the standard share of the time",  # noqa: E501
    "circuit_check_every_shift": "A circuit check in every shift",
    "perfusion_at_rounds": "Perfusion present at rounds",
    "decannulation_checklist": "Decannulation checklist complete",
    "ml_changes_planned": "Membrane-lung changes planned, not urgent",
}
UNIT_LABELS: dict[str, str] = {
    "anticoagulation_in_range": "runs",
    "circuit_check_every_shift": "shifts",
    "perfusion_at_rounds": "rounds",
    "decannulation_checklist": "decannulations",
    "ml_changes_planned": "membrane-lung changes",
}


class AuditIn(Strict):
    title: Annotated[str, Field(min_length=3, max_length=200)]
    criterion: str
    standard_pct: float
    period_start: date
    period_end: date  # inclusive (the whole local day)
    note: Annotated[str | None, Field(max_length=2000)] = None


@dataclass(frozen=True)
class Failure:
    run_id: int
    patient_id: int
    record: str  # what failed, e.g. "night shift from 04 Dec 19:00"
    at: datetime | None
    detail: str


@dataclass
class AuditResult:
    audit: ClinicalAudit
    units: str
    total: int
    passed: int
    compliance: float | None  # %
    low: float | None
    high: float | None
    met: bool | None
    measure: str
    failures: list[Failure] = field(default_factory=list)


def _check(data: AuditIn) -> None:
    problems: list[FieldProblem] = []
    if data.criterion not in CRITERIA:
        problems.append(FieldProblem("criterion", f"one of {', '.join(CRITERIA)}", data.criterion))
    if not 0 <= data.standard_pct <= 100:
        problems.append(
            FieldProblem(
                "standard_pct", f"{data.standard_pct:g} % is outside 0–100 %", data.standard_pct
            )
        )
    if data.period_end < data.period_start:
        problems.append(
            FieldProblem(
                "period_end",
                f"the period ends ({data.period_end.isoformat()}) before it starts "
                f"({data.period_start.isoformat()})",
                data.period_end.isoformat(),
            )
        )
    if problems:
        raise ValidationFailed(problems)


def day_start(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone)


def create(session: Session, actor: Actor, data: AuditIn, zone: ZoneInfo) -> ClinicalAudit:
    actor.require(Permission.REVIEW_CASES)
    _check(data)
    row = ClinicalAudit(
        title=data.title.strip(),
        criterion=data.criterion,
        standard_pct=data.standard_pct,
        period_start=day_start(data.period_start, zone),
        period_end=day_start(data.period_end + timedelta(days=1), zone),
        note=data.note,
        created_by=actor.staff_id,
    )
    session.add(row)
    session.flush()
    detail = {
        "criterion": row.criterion,
        "standard_pct": row.standard_pct,
        "period_start": data.period_start.isoformat(),
        "period_end": data.period_end.isoformat(),
    }
    audit.record(session, actor, "create", "quality_audit", row.id, None, detail)
    return row


def list_audits(session: Session, actor: Actor) -> list[ClinicalAudit]:
    actor.require(Permission.VIEW_QUALITY)
    stmt = select(ClinicalAudit).order_by(ClinicalAudit.criterion, ClinicalAudit.period_start)
    return list(session.scalars(stmt))


def get(session: Session, actor: Actor, audit_id: int) -> ClinicalAudit:
    actor.require(Permission.VIEW_QUALITY)
    row = session.get(ClinicalAudit, audit_id)
    if row is None:
        raise NotFound(f"no audit {audit_id}")
    return row


def previous(session: Session, row: ClinicalAudit) -> ClinicalAudit | None:
    """The latest earlier audit of the same criterion (the one this re-audits)."""
    stmt = (
        select(ClinicalAudit)
        .where(
            ClinicalAudit.criterion == row.criterion,
            ClinicalAudit.id != row.id,
            ClinicalAudit.period_start < row.period_start,
        )
        .order_by(ClinicalAudit.period_start.desc(), ClinicalAudit.id.desc())
        .limit(1)
    )
    return session.scalar(stmt)


# --- compliance -------------------------------------------------------------------------


def _result(
    row: ClinicalAudit, total: int, passed: int, failures: list[Failure], measure: str
) -> AuditResult:
    share = metrics_calc.proportion(passed, total)
    pct = share.percent
    return AuditResult(
        row,
        UNIT_LABELS[row.criterion],
        total,
        passed,
        pct,
        None if share.low is None else 100 * share.low,
        None if share.high is None else 100 * share.high,
        None if pct is None else pct >= row.standard_pct,
        measure,
        failures,
    )


def _runs_in(session: Session, start: datetime, end: datetime) -> list[Run]:
    """Runs on ECMO at some time in [start, end)."""
    stmt = (
        select(Run)
        .where(
            Run.started_at < end, (Run.ended_at.is_(None)) | (Run.ended_at > start), not_training()
        )
        .order_by(Run.started_at)
    )
    return list(session.scalars(stmt))


def _anticoagulation(session: Session, actor: Actor, row: ClinicalAudit) -> AuditResult:
    found = metrics.compute(session, actor, metrics.MetricsFilter(row.period_start, row.period_end))
    runs = [r for r in found.runs if r.ttr_code and r.ttr.observed > 0]
    failures = []
    passed = 0
    for r in runs:
        pct = 100 * (r.ttr.fraction or 0)
        if pct >= row.standard_pct:
            passed += 1
            continue
        code = "anti-Xa" if r.ttr_code == "anti_xa" else "aPTT"
        failures.append(
            Failure(
                r.run_id,
                r.patient_id,
                f"run {r.run_id}",
                r.started_at,
                f"{code} in range {pct:.0f} % of {r.ttr.observed:,.0f} h",
            )
        )
    pooled = metrics_calc.pooled_ttr(r.ttr for r in runs)
    result = _result(row, len(runs), passed, failures, "pooled time in range")
    if pooled.fraction is not None:
        result.compliance = 100 * pooled.fraction
        result.low = result.high = None  # time, not a count of units: no Wilson interval
        result.met = result.compliance >= row.standard_pct
    return result


def _circuit_checks(
    session: Session, row: ClinicalAudit, zone: ZoneInfo, now: datetime
) -> AuditResult:
    hours = settings_service.values(session, "shifts")
    day_h, night_h = int(hours["day_shift_starts"]), int(hours["night_shift_starts"])
    runs = _runs_in(session, row.period_start, row.period_end)
    total = passed = 0
    failures: list[Failure] = []
    if runs:
        checks: dict[int, list[datetime]] = {}
        stmt = select(CircuitCheck.run_id, CircuitCheck.checked_at).where(
            CircuitCheck.run_id.in_([r.id for r in runs]),
            CircuitCheck.checked_at >= row.period_start,
            CircuitCheck.checked_at < row.period_end,
        )
        for run_id, at in session.execute(stmt):
            checks.setdefault(run_id, []).append(at)
        for run in runs:
            start = max(run.started_at, row.period_start)
            end = min(run.ended_at or now, row.period_end, now)
            times = checks.get(run.id, [])
            for shift in metrics_calc.shifts_within(start, end, zone, day_h, night_h):
                total += 1
                if any(shift.start <= t < shift.end for t in times):
                    passed += 1
                    continue
                local = shift.start.astimezone(zone)
                failures.append(
                    Failure(
                        run.id,
                        run.patient_id,
                        f"{shift.name} shift",
                        shift.start,
                        f"no circuit check between {local:%d %b %H:%M} and "
                        f"{shift.end.astimezone(zone):%d %b %H:%M}",
                    )
                )
    return _result(row, total, passed, failures, "shifts with a circuit check")


def _perfusion_at_rounds(session: Session, row: ClinicalAudit) -> AuditResult:
    stmt = (
        select(RoundRecord.id, RoundRecord.run_id, RoundRecord.held_at, Run.patient_id)
        .join(Run, Run.id == RoundRecord.run_id)
        .where(
            RoundRecord.held_at >= row.period_start,
            RoundRecord.held_at < row.period_end,
            not_training(),
        )
        .order_by(RoundRecord.held_at)
    )
    rounds = session.execute(stmt).all()
    present: set[int] = set()
    if rounds:
        present = set(
            session.scalars(
                select(Participation.record_id).where(
                    Participation.record_type == "round",
                    Participation.record_id.in_([r.id for r in rounds]),
                    Participation.discipline == "perfusion",
                )
            )
        )
    failures = [
        Failure(r.run_id, r.patient_id, f"round {r.id}", r.held_at, "no perfusion participant")
        for r in rounds
        if r.id not in present
    ]
    return _result(row, len(rounds), len(rounds) - len(failures), failures, "rounds")


def checklist_missing(d: Decannulation) -> list[str]:
    """What a decannulation record lacks of the checklist (empty: complete)."""
    missing = []
    if d.anticoagulation_stopped_at is None and not d.anticoagulation_note:
        missing.append("anticoagulation stop")
    if not d.coagulation:
        missing.append("coagulation results")
    if not d.blood_products_available:
        missing.append("blood products available")
    if not (d.limb_perfusion or "").strip():
        missing.append("limb perfusion")
    if d.haemostasis_minutes is None:
        missing.append("haemostasis time")
    if d.physician_signed_at is None:
        missing.append("physician sign-off")
    if d.perfusionist_signed_at is None:
        missing.append("perfusionist sign-off")
    return missing


def _decannulation(session: Session, row: ClinicalAudit) -> AuditResult:
    stmt = (
        select(Decannulation, Run.patient_id)
        .join(Run, Run.id == Decannulation.run_id)
        .where(
            Decannulation.decannulated_at >= row.period_start,
            Decannulation.decannulated_at < row.period_end,
            not_training(),
        )
        .order_by(Decannulation.decannulated_at)
    )
    rows = session.execute(stmt).all()
    failures = []
    for d, patient_id in rows:
        missing = checklist_missing(d)
        if missing:
            failures.append(
                Failure(
                    d.run_id,
                    patient_id,
                    f"decannulation {d.id}",
                    d.decannulated_at,
                    "missing: " + ", ".join(missing),
                )
            )
    return _result(row, len(rows), len(rows) - len(failures), failures, "complete checklists")


def _ml_changes(session: Session, row: ClinicalAudit) -> AuditResult:
    stmt = (
        select(Component, Run.patient_id)
        .join(Run, Run.id == Component.run_id)
        .where(
            Component.kind == "membrane_lung",
            Component.stopped_at >= row.period_start,
            Component.stopped_at < row.period_end,
            not_training(),
        )
        .order_by(Component.stopped_at)
    )
    total = passed = 0
    failures = []
    for c, patient_id in session.execute(stmt).all():
        klass = metrics_calc.change_class(c.stop_reason)
        if klass is None:
            continue
        total += 1
        if klass == "planned":
            passed += 1
            continue
        reason = (c.stop_reason or "").replace("_", " ")
        failures.append(
            Failure(
                c.run_id, patient_id, f"membrane lung {c.id}", c.stopped_at, f"{klass}: {reason}"
            )
        )
    return _result(row, total, passed, failures, "planned changes")


def compliance(
    session: Session, actor: Actor, row: ClinicalAudit, zone: ZoneInfo, now: datetime | None = None
) -> AuditResult:
    actor.require(Permission.VIEW_QUALITY)
    now = now or utcnow()
    if row.criterion == "anticoagulation_in_range":
        return _anticoagulation(session, actor, row)
    if row.criterion == "circuit_check_every_shift":
        return _circuit_checks(session, row, zone, now)
    if row.criterion == "perfusion_at_rounds":
        return _perfusion_at_rounds(session, row)
    if row.criterion == "decannulation_checklist":
        return _decannulation(session, row)
    return _ml_changes(session, row)
