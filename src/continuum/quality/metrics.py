"""Programme metrics (docs/quality-metrics.md): for a period, by support type, mode and age
group, what the record says about the runs that started in it.

The cohort is the runs whose start (first flow) falls in [start, end). Each figure is built
from a few grouped SQL queries over the cohort (never the raw 1-minute observations: only
anti-Xa/aPTT laboratory values are read, to interpolate the time in range), then reduced to
per-run facts (``RunFacts``) from which every figure, and its drill-down, is computed by
``metrics_calc``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from continuum.alerts.exchange_record import planned_replaced_ids
from continuum.alerts.models import CircuitAlert
from continuum.core import ecpr_times, hospital_outcome
from continuum.core.people import PatientIdentity
from continuum.core.record import Observation, Participation, RunTarget
from continuum.core.roles import Actor, Permission
from continuum.core.run_record import Component, ModeSegment, Run, not_training
from continuum.core.vocab import MODES, OUTCOME_LABELS, SUPPORT_TYPES
from continuum.db import utcnow
from continuum.errors import FieldProblem, ValidationFailed
from continuum.initiation.models import InitiationDecision, Referral
from continuum.quality import adverse_events, metrics_settings
from continuum.quality import metrics_calc as calc
from continuum.quality.taxonomy import CATEGORY_LABELS
from continuum.rounds.models import CircuitCheck, RoundRecord
from continuum.rounds.transfusion import Transfusion

# Alive at decannulation: every outcome but death on ECMO and withdrawal of support
# (withdrawal is counted as not surviving ECMO: the programme stopped support because
# recovery was not expected).
SURVIVED_ECMO = ("weaned_recovered", "bridged_to_vad", "bridged_to_transplant", "transferred")
SUPPORT_LABELS = {"pulmonary": "Respiratory", "cardiac": "Cardiac", "ecpr": "ECPR"}
AGE_LABELS = {"neonatal": "Neonatal", "paediatric": "Paediatric", "adult": "Adult"}
TTR_CODES = ("anti_xa", "aptt")


@dataclass(frozen=True)
class MetricsFilter:
    start: datetime
    end: datetime
    support_type: str | None = None
    mode: str | None = None
    age_group: str | None = None


def check_filter(f: MetricsFilter) -> MetricsFilter:
    """Refuse an impossible filter, naming the field, the value and what is allowed."""
    problems: list[FieldProblem] = []
    if f.end <= f.start:
        problems.append(
            FieldProblem(
                "end",
                f"the period ends ({f.end.date().isoformat()}) before or when it starts "
                f"({f.start.date().isoformat()}); give an end after the start",
                f.end.isoformat(),
            )
        )
    for name, value, allowed in (
        ("support_type", f.support_type, SUPPORT_TYPES),
        ("mode", f.mode, MODES),
        ("age_group", f.age_group, calc.AGE_GROUPS),
    ):
        if value is not None and value not in allowed:
            problems.append(FieldProblem(name, f"one of {', '.join(allowed)}", value))
    if problems:
        raise ValidationFailed(problems)
    return f


@dataclass
class RunFacts:
    run_id: int
    patient_id: int
    support_type: str
    mode: str | None
    age_group: str | None
    started_at: datetime
    ended_at: datetime | None
    outcome: str | None
    hours: float
    complications: dict[str, int] = field(default_factory=dict)  # category → count
    ml_changes: int = 0
    component_changes: int = 0
    change_reasons: dict[str, int] = field(default_factory=dict)  # "kind:reason" → count
    ttr_code: str | None = None
    ttr: calc.TimeInRange = field(default_factory=lambda: calc.TimeInRange(0.0, 0.0))
    transfusion_units: float = 0.0
    alert_ack_minutes: list[float] = field(default_factory=list)
    alerts: int = 0
    referral_to_decision_min: float | None = None
    decision_to_cannulation_min: float | None = None
    referral_to_cannulation_min: float | None = None
    rounds: int = 0
    rounds_with_perfusion: int = 0
    decisions: int = 0
    decisions_with_perfusion: int = 0
    hospital_status: str | None = None  # the hospital outcome in force
    hospital_destination: str | None = None
    low_flow_min: float | None = None  # ECPR: CPR start → full ECMO flow
    planned_exchanges: int = 0  # component changes made through a done planned exchange
    urgent_exchanges: int = 0  # every other component change

    @property
    def survived_ecmo(self) -> bool | None:
        if self.outcome is None:
            return None
        return self.outcome in SURVIVED_ECMO

    @property
    def survived_discharge(self) -> bool | None:
        """Alive at hospital discharge: None while unknown (run active, no hospital outcome
        yet, or still in hospital); death on ECMO counts as not surviving."""
        if self.outcome is None:
            return None
        if self.outcome == "died_on_ecmo":
            return False
        if self.hospital_status not in hospital_outcome.FINAL:
            return None
        return self.hospital_status in hospital_outcome.SURVIVED

    @property
    def label(self) -> str:
        return f"P-{self.patient_id:04d}"


@dataclass(frozen=True)
class Figure:
    """One figure of the table: value with its unit, n, and CI where it is a rate/share."""

    key: str
    label: str
    value: float | None
    unit: str
    n: int
    n_label: str
    low: float | None = None
    high: float | None = None
    q1: float | None = None
    q3: float | None = None
    note: str = ""
    recorded: bool = True
    group: str = "Activity"


@dataclass(frozen=True)
class Breakdown:
    key: str
    label: str
    events: int
    rate: float | None
    low: float | None
    high: float | None


@dataclass
class Metrics:
    filter: MetricsFilter
    runs: list[RunFacts]
    figures: list[Figure]
    complications: list[Breakdown]
    change_reasons: list[Breakdown]
    ml_life: calc.KaplanMeier
    ml_lives: list[tuple[int, float, bool]]  # (run id, hours, changed)
    computed_at: datetime

    def figure(self, key: str) -> Figure:
        for f in self.figures:
            if f.key == key:
                return f
        raise KeyError(key)


# --- the cohort -------------------------------------------------------------------------


def _cohort(session: Session, f: MetricsFilter, now: datetime) -> list[RunFacts]:
    stmt = (
        select(
            Run.id,
            Run.patient_id,
            Run.support_type,
            Run.started_at,
            Run.ended_at,
            Run.outcome,
            PatientIdentity.birth_date,
        )
        .outerjoin(PatientIdentity, PatientIdentity.patient_id == Run.patient_id)
        .where(Run.started_at >= f.start, Run.started_at < f.end, not_training())
        .order_by(Run.started_at, Run.id)
    )
    if f.support_type:
        stmt = stmt.where(Run.support_type == f.support_type)
    rows = session.execute(stmt).all()
    if not rows:
        return []
    ids = [r.id for r in rows]
    first_mode: dict[int, str] = {}
    modes = select(ModeSegment.run_id, ModeSegment.mode).where(ModeSegment.run_id.in_(ids))
    for run_id, mode in session.execute(modes.order_by(ModeSegment.started_at.desc())):
        first_mode[run_id] = mode  # the earliest segment is written last
    bounds = metrics_settings.age_bounds(session)
    facts: list[RunFacts] = []
    for r in rows:
        first = first_mode.get(r.id)
        group = calc.age_group(r.birth_date, r.started_at.date(), bounds)
        if f.mode and first != f.mode:
            continue
        if f.age_group and group != f.age_group:
            continue
        end = r.ended_at or now
        facts.append(
            RunFacts(
                run_id=r.id,
                patient_id=r.patient_id,
                support_type=r.support_type,
                mode=first,
                age_group=group,
                started_at=r.started_at,
                ended_at=r.ended_at,
                outcome=r.outcome,
                hours=max(0.0, (end - r.started_at).total_seconds() / 3600),
            )
        )
    return facts


def _complications(session: Session, by_run: dict[int, RunFacts]) -> None:
    """Incidents (events that reached the patient) by category, with the code and class in
    force after amendments."""
    for e, force in adverse_events.events_in_force(session, list(by_run)):
        if force.values["event_class"] != "incident":
            continue
        category = force.values["category"]
        counts = by_run[e.run_id].complications
        counts[category] = counts.get(category, 0) + 1


def _components(
    session: Session, by_run: dict[int, RunFacts], now: datetime
) -> list[tuple[int, float, bool]]:
    stmt = select(
        Component.run_id,
        Component.kind,
        Component.started_at,
        Component.stopped_at,
        Component.stop_reason,
        Component.id,
    ).where(Component.run_id.in_(list(by_run)))
    lives: list[tuple[int, float, bool]] = []
    planned = planned_replaced_ids(session, list(by_run))
    for run_id, kind, started, stopped, reason, component_id in session.execute(stmt):
        run = by_run[run_id]
        changed = calc.change_class(reason) is not None
        if changed:
            run.component_changes += 1
            if component_id in planned:
                run.planned_exchanges += 1
            else:
                run.urgent_exchanges += 1
            key = f"{kind}:{reason}"
            run.change_reasons[key] = run.change_reasons.get(key, 0) + 1
            if kind == "membrane_lung":
                run.ml_changes += 1
        if kind == "membrane_lung":
            end = stopped or run.ended_at or now
            lives.append((run_id, max(0.0, (end - started).total_seconds() / 3600), changed))
    return lives


def _ttr(session: Session, by_run: dict[int, RunFacts]) -> None:
    ranges = metrics_settings.default_ranges(session)
    gap = metrics_settings.max_gap_hours(session)
    ids = list(by_run)
    targets: dict[tuple[int, str], tuple[float, float]] = {}
    target_rows = (
        select(RunTarget.run_id, RunTarget.code, RunTarget.low, RunTarget.high)
        .where(RunTarget.run_id.in_(ids), RunTarget.code.in_(TTR_CODES))
        .order_by(RunTarget.set_at, RunTarget.id)
    )
    for run_id, code, low, high in session.execute(target_rows):
        base = ranges[code]
        targets[(run_id, code)] = (
            base[0] if low is None else low,
            base[1] if high is None else high,
        )
    samples: dict[tuple[int, str], list[tuple[datetime, float]]] = defaultdict(list)
    obs = (
        select(Observation.run_id, Observation.code, Observation.time, Observation.value)
        .where(
            Observation.run_id.in_(ids),
            Observation.code.in_(TTR_CODES),
            Observation.status == "final",
        )
        .order_by(Observation.run_id, Observation.code, Observation.time)
    )
    for run_id, code, time, value in session.execute(obs):
        samples[(run_id, code)].append((time, value))
    for run_id, run in by_run.items():
        for code in TTR_CODES:  # anti-Xa when measured, else aPTT
            points = samples.get((run_id, code), [])
            if len(points) < 2:
                continue
            low, high = targets.get((run_id, code), ranges[code])
            run.ttr_code = code
            run.ttr = calc.time_in_range(points, low, high, gap)
            break


def _transfusions(session: Session, by_run: dict[int, RunFacts]) -> None:
    """Units given: hand-entered transfusions (an entry with a volume only counts as one
    unit) and what circuit checks record since the previous check."""
    ids = list(by_run)
    units = func.sum(func.coalesce(Transfusion.units, 1.0))
    stmt = (
        select(Transfusion.run_id, units)
        .where(Transfusion.run_id.in_(ids))
        .group_by(Transfusion.run_id)
    )
    for run_id, total in session.execute(stmt):
        by_run[run_id].transfusion_units += float(total or 0)
    checks = select(CircuitCheck.run_id, CircuitCheck.transfusions).where(
        CircuitCheck.run_id.in_(ids)
    )
    for run_id, given in session.execute(checks):
        for value in (given or {}).values():
            if isinstance(value, int | float):
                by_run[run_id].transfusion_units += float(value)


def _alerts(session: Session, by_run: dict[int, RunFacts]) -> None:
    stmt = select(CircuitAlert.run_id, CircuitAlert.raised_at, CircuitAlert.acknowledged_at).where(
        CircuitAlert.run_id.in_(list(by_run))
    )
    for run_id, raised, acked in session.execute(stmt):
        run = by_run[run_id]
        run.alerts += 1
        if acked is not None:
            run.alert_ack_minutes.append(max(0.0, (acked - raised).total_seconds() / 60))


def _initiation(session: Session, by_run: dict[int, RunFacts]) -> None:
    stmt = (
        select(
            InitiationDecision.id,
            InitiationDecision.run_id,
            InitiationDecision.decided_at,
            InitiationDecision.perfusionist_signed_by,
            Referral.referred_at,
        )
        .join(Referral, Referral.id == InitiationDecision.referral_id)
        .where(InitiationDecision.run_id.in_(list(by_run)))
    )
    rows = session.execute(stmt).all()
    if not rows:
        return
    present = _perfusion_present(session, "initiation_decision", [r.id for r in rows])
    for r in rows:
        run = by_run[r.run_id]
        run.decisions += 1
        if r.perfusionist_signed_by is not None or r.id in present:
            run.decisions_with_perfusion += 1
        cannulated = run.started_at
        if r.referred_at is not None:
            run.referral_to_cannulation_min = (cannulated - r.referred_at).total_seconds() / 60
        if r.decided_at is not None:
            run.decision_to_cannulation_min = (cannulated - r.decided_at).total_seconds() / 60
            if r.referred_at is not None:
                run.referral_to_decision_min = (r.decided_at - r.referred_at).total_seconds() / 60


def _hospital(session: Session, by_run: dict[int, RunFacts]) -> None:
    """The hospital outcome in force and the ECPR times in force of each run."""
    for run_id, row in hospital_outcome.in_force_for_runs(session, by_run).items():
        by_run[run_id].hospital_status = row.status
        by_run[run_id].hospital_destination = row.destination
    for run_id, times in ecpr_times.in_force_for_runs(session, by_run).items():
        by_run[run_id].low_flow_min = times.low_flow_min


def _perfusion_present(session: Session, record_type: str, ids: Sequence[int]) -> set[int]:
    if not ids:
        return set()
    stmt = (
        select(Participation.record_id)
        .where(
            Participation.record_type == record_type,
            Participation.record_id.in_(list(ids)),
            Participation.discipline == "perfusion",
        )
        .distinct()
    )
    return set(session.scalars(stmt))


def _rounds(session: Session, by_run: dict[int, RunFacts]) -> None:
    rows = session.execute(
        select(RoundRecord.id, RoundRecord.run_id).where(RoundRecord.run_id.in_(list(by_run)))
    ).all()
    present = _perfusion_present(session, "round", [r.id for r in rows])
    for round_id, run_id in rows:
        by_run[run_id].rounds += 1
        if round_id in present:
            by_run[run_id].rounds_with_perfusion += 1


# --- figures ----------------------------------------------------------------------------


def _spread_figure(
    key: str, label: str, values: list[float], unit: str, n_label: str, group: str, note: str = ""
) -> Figure:
    s = calc.median_iqr(values)
    return Figure(
        key,
        label,
        s.median,
        unit,
        s.n,
        n_label,
        q1=s.q1,
        q3=s.q3,
        note=note,
        group=group,
        recorded=s.n > 0,
    )


def _share_figure(
    key: str, label: str, k: int, n: int, n_label: str, group: str, note: str = ""
) -> Figure:
    p = calc.proportion(k, n)
    return Figure(
        key,
        label,
        p.percent,
        "%",
        n,
        n_label,
        None if p.low is None else 100 * p.low,
        None if p.high is None else 100 * p.high,
        note=note or f"{k} of {n}",
        group=group,
    )


def _rate_figure(
    key: str, label: str, events: float, hours: float, n: int, group: str, per: str = "h"
) -> Figure:
    if per == "day":
        r = calc.rate(events, hours / 24, per=1.0)
        unit = "units per ECMO day"
    else:
        r = calc.rate(events, hours)
        unit = "per 1,000 ECMO h"
    return Figure(
        key,
        label,
        r.value,
        unit,
        n,
        "runs",
        r.low,
        r.high,
        note=f"{events:g} over {hours:,.0f} h",
        group=group,
    )


def _discharge_figure(ended: list[RunFacts]) -> Figure:
    """Survival to hospital discharge over ended runs whose fate is known: a hospital
    outcome that is final, or death on ECMO. The others are counted in the note."""
    known = [r for r in ended if r.survived_discharge is not None]
    alive = sum(1 for r in known if r.survived_discharge)
    missing = sum(1 for r in ended if r.survived_discharge is None and r.hospital_status is None)
    staying = sum(1 for r in ended if r.hospital_status == "in_hospital")
    note = f"{alive} of {len(known)} alive at hospital discharge (died on ECMO counts as not surviving)"  # noqa: E501
    if missing:
        note += f"; {missing} ended run{'s' if missing != 1 else ''} without a hospital outcome yet"
    if staying:
        note += f"; {staying} still in hospital"
    figure = _share_figure(
        "survival_discharge",
        "Survival to hospital discharge",
        alive,
        len(known),
        "ended runs with a known hospital outcome",
        "Outcomes",
        note,
    )
    return replace(figure, recorded=bool(known))


def _low_flow_figure(runs: list[RunFacts]) -> Figure:
    ecpr = [r for r in runs if r.support_type == "ecpr" or r.low_flow_min is not None]
    values = [r.low_flow_min for r in ecpr if r.low_flow_min is not None]
    missing = len(ecpr) - len(values)
    note = f"{len(ecpr)} ECPR run{'s' if len(ecpr) != 1 else ''} in the cohort"
    return _spread_figure(
        "ecpr_low_flow",
        "ECPR low-flow time (CPR start → full ECMO flow)",
        values,
        "min",
        "ECPR runs with both times",
        "Team response",
        note + (f"; {missing} without both times (not recorded)" if missing else ""),
    )


def _figures(runs: list[RunFacts], ml_km: calc.KaplanMeier) -> list[Figure]:
    hours = sum(r.hours for r in runs)
    ended = [r for r in runs if r.outcome is not None]
    survived = sum(1 for r in ended if r.survived_ecmo)
    n = len(runs)
    complications = sum(sum(r.complications.values()) for r in runs)
    ml_changes = sum(r.ml_changes for r in runs)
    changes = sum(r.component_changes for r in runs)
    ttr = calc.pooled_ttr(r.ttr for r in runs if r.ttr_code)
    ttr_runs = [r for r in runs if r.ttr_code]
    acks = [m for r in runs for m in r.alert_ack_minutes]
    alerts = sum(r.alerts for r in runs)
    rounds = sum(r.rounds for r in runs)
    decisions = sum(r.decisions for r in runs)
    pooled = ttr.fraction
    out = [
        Figure("runs", "Runs started", float(n), "runs", n, "runs"),
        Figure(
            "ecmo_hours", "ECMO time", hours, "h", n, "runs", note=f"{hours / 24:,.1f} ECMO days"
        ),
        _share_figure(
            "survival_decannulation",
            "Survival to decannulation",
            survived,
            len(ended),
            "ended runs",
            "Outcomes",
            "alive at decannulation (weaned, bridged or transferred)",
        ),
        _discharge_figure(ended),
        _rate_figure(
            "complications", "Complications (incidents)", complications, hours, n, "Complications"
        ),
        _rate_figure("ml_changes", "Membrane-lung changes", ml_changes, hours, n, "Circuit"),
        _rate_figure(
            "component_changes",
            "Circuit component changes (any part)",
            changes,
            hours,
            n,
            "Circuit",
        ),
        _rate_figure(
            "planned_exchanges",
            "Planned exchanges (through a plan)",
            sum(r.planned_exchanges for r in runs),
            hours,
            n,
            "Circuit",
        ),
        _rate_figure(
            "urgent_exchanges",
            "Urgent exchanges (no plan)",
            sum(r.urgent_exchanges for r in runs),
            hours,
            n,
            "Circuit",
        ),
        Figure(
            "ml_life",
            "Membrane-lung life, median (Kaplan–Meier)",
            ml_km.median,
            "h",
            ml_km.n,
            "membrane lungs",
            note=f"{ml_km.events} changed, {ml_km.censored} censored at decannulation or still in use"  # noqa: E501
            + ("; the curve has not fallen to 50 %" if ml_km.median is None and ml_km.n else ""),
            recorded=ml_km.n > 0,
            group="Circuit",
        ),
        Figure(
            "ttr",
            "Anticoagulation time in range (pooled)",
            None if pooled is None else 100 * pooled,
            "%",
            len(ttr_runs),
            "runs with ≥ 2 anti-Xa or aPTT values",
            note=f"{ttr.inside:,.0f} of {ttr.observed:,.0f} interpolated hours (Rosendaal)",
            recorded=bool(ttr_runs),
            group="Anticoagulation",
        ),
        _spread_figure(
            "ttr_per_run",
            "Time in range per run",
            [100 * (r.ttr.fraction or 0) for r in ttr_runs if r.ttr.observed > 0],
            "%",
            "runs",
            "Anticoagulation",
        ),
        _rate_figure(
            "transfusions",
            "Blood products given",
            sum(r.transfusion_units for r in runs),
            hours,
            n,
            "Anticoagulation",
            per="day",
        ),
        _spread_figure(
            "alert_ack",
            "Alert → acknowledgement",
            acks,
            "min",
            "acknowledged alerts",
            "Team response",
            f"{len(acks)} of {alerts} alerts acknowledged",
        ),
        _spread_figure(
            "referral_decision",
            "Referral → decision",
            [r.referral_to_decision_min for r in runs if r.referral_to_decision_min is not None],
            "min",
            "runs",
            "Team response",
        ),
        _spread_figure(
            "decision_cannulation",
            "Decision → cannulation",
            [
                r.decision_to_cannulation_min
                for r in runs
                if r.decision_to_cannulation_min is not None
            ],
            "min",
            "runs",
            "Team response",
        ),
        _spread_figure(
            "referral_cannulation",
            "Referral → cannulation",
            [
                r.referral_to_cannulation_min
                for r in runs
                if r.referral_to_cannulation_min is not None
            ],
            "min",
            "runs",
            "Team response",
        ),
        _low_flow_figure(runs),
        _share_figure(
            "perfusion_rounds",
            "Perfusion present at rounds",
            sum(r.rounds_with_perfusion for r in runs),
            rounds,
            "rounds",
            "Perfusion",
        ),
        _share_figure(
            "perfusion_decisions",
            "Perfusion present at decisions",
            sum(r.decisions_with_perfusion for r in runs),
            decisions,
            "decisions",
            "Perfusion",
        ),
    ]
    return out


def _breakdowns(runs: list[RunFacts]) -> tuple[list[Breakdown], list[Breakdown]]:
    hours = sum(r.hours for r in runs)
    by_category: list[Breakdown] = []
    for category, label in CATEGORY_LABELS.items():
        events = sum(r.complications.get(category, 0) for r in runs)
        rate = calc.rate(events, hours)
        by_category.append(Breakdown(category, label, events, rate.value, rate.low, rate.high))
    reasons: dict[str, int] = defaultdict(int)
    for r in runs:
        for key, count in r.change_reasons.items():
            reasons[key] += count
    by_reason = []
    for key, count in sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0])):
        kind, reason = key.split(":", 1)
        rate = calc.rate(count, hours)
        label = (
            f"{kind.replace('_', ' ')}: {reason.replace('_', ' ')} ({calc.change_class(reason)})"
        )
        by_reason.append(Breakdown(key, label, count, rate.value, rate.low, rate.high))
    return by_category, by_reason


def compute(
    session: Session, actor: Actor, f: MetricsFilter, now: datetime | None = None
) -> Metrics:
    """Every figure for the filter (``VIEW_QUALITY``)."""
    actor.require(Permission.VIEW_QUALITY)
    check_filter(f)
    now = now or utcnow()
    runs = _cohort(session, f, now)
    by_run = {r.run_id: r for r in runs}
    lives: list[tuple[int, float, bool]] = []
    if runs:
        _complications(session, by_run)
        lives = _components(session, by_run, now)
        _ttr(session, by_run)
        _transfusions(session, by_run)
        _alerts(session, by_run)
        _initiation(session, by_run)
        _rounds(session, by_run)
        _hospital(session, by_run)
    km = calc.kaplan_meier([h for _, h, _ in lives], [c for _, _, c in lives])
    figures = _figures(runs, km)
    complications, reasons = _breakdowns(runs)
    return Metrics(f, runs, figures, complications, reasons, km, lives, now)


# --- drill-down -------------------------------------------------------------------------

# metric key → (what each run shows, the runs that count)
DRILL: dict[str, str] = {
    "runs": "all runs",
    "ecmo_hours": "all runs",
    "survival_decannulation": "ended runs",
    "survival_discharge": "ended runs",
    "complications": "runs with an incident",
    "ml_changes": "runs with a membrane-lung change",
    "component_changes": "runs with a component change",
    "ml_life": "runs with a membrane lung",
    "planned_exchanges": "runs with a planned exchange",
    "urgent_exchanges": "runs with an urgent exchange",
    "ttr": "runs with anticoagulation values",
    "ttr_per_run": "runs with anticoagulation values",
    "transfusions": "runs given blood products",
    "alert_ack": "runs with alerts",
    "referral_decision": "runs with a linked decision",
    "decision_cannulation": "runs with a linked decision",
    "referral_cannulation": "runs with a linked decision",
    "ecpr_low_flow": "ECPR runs",
    "perfusion_rounds": "runs with rounds",
    "perfusion_decisions": "runs with a linked decision",
}


def _fmt(value: float | None, unit: str = "") -> str:
    if value is None:
        return "—"
    text = f"{value:,.1f}" if abs(value) < 100 else f"{value:,.0f}"
    return f"{text} {unit}".strip()


def drill_value(key: str, run: RunFacts, lives: dict[int, list[tuple[float, bool]]]) -> str | None:
    """The run's own value behind a figure; None when the run does not count for it."""
    if key in ("runs", "ecmo_hours"):
        return _fmt(run.hours, "h")
    if key == "survival_discharge":
        return _discharge_value(run)
    if key == "survival_decannulation":
        if run.outcome is None:
            return None
        alive = "alive" if run.survived_ecmo else "died"
        return f"{alive} · {OUTCOME_LABELS.get(run.outcome, run.outcome)}"
    if key == "complications":
        total = sum(run.complications.values())
        if not total:
            return None
        return ", ".join(f"{CATEGORY_LABELS[c]} {n}" for c, n in sorted(run.complications.items()))
    if key in ("ml_changes", "component_changes"):
        count = run.ml_changes if key == "ml_changes" else run.component_changes
        if not count:
            return None
        reasons = (
            f"{k.split(':')[1].replace('_', ' ')} ×{v}"
            for k, v in run.change_reasons.items()
            if key == "component_changes" or k.startswith("membrane_lung:")
        )
        return f"{count}: " + ", ".join(reasons)
    if key in ("planned_exchanges", "urgent_exchanges"):
        count = run.planned_exchanges if key == "planned_exchanges" else run.urgent_exchanges
        return f"{count} of {run.component_changes} changes" if count else None
    if key == "ml_life":
        own = lives.get(run.run_id)
        if not own:
            return None
        return "; ".join(f"{h:,.0f} h {'changed' if c else 'censored'}" for h, c in own)
    if key in ("ttr", "ttr_per_run"):
        if not run.ttr_code or run.ttr.fraction is None:
            return None
        code = "anti-Xa" if run.ttr_code == "anti_xa" else "aPTT"
        return f"{100 * run.ttr.fraction:.0f} % of {run.ttr.observed:,.0f} h ({code})"
    if key == "transfusions":
        if not run.transfusion_units:
            return None
        days = run.hours / 24
        return f"{run.transfusion_units:g} units over {days:,.1f} days"
    if key == "alert_ack":
        if not run.alerts:
            return None
        s = calc.median_iqr(run.alert_ack_minutes)
        return f"{len(run.alert_ack_minutes)} of {run.alerts} acknowledged, median {_fmt(s.median, 'min')}"  # noqa: E501
    if key in ("referral_decision", "decision_cannulation", "referral_cannulation"):
        value = {
            "referral_decision": run.referral_to_decision_min,
            "decision_cannulation": run.decision_to_cannulation_min,
            "referral_cannulation": run.referral_to_cannulation_min,
        }[key]
        return None if value is None else _fmt(value, "min")
    if key == "ecpr_low_flow":
        if run.low_flow_min is not None:
            return _fmt(run.low_flow_min, "min")
        return "not recorded" if run.support_type == "ecpr" else None
    if key == "perfusion_rounds":
        return None if not run.rounds else f"{run.rounds_with_perfusion} of {run.rounds} rounds"
    if key == "perfusion_decisions":
        if not run.decisions:
            return None
        return f"{run.decisions_with_perfusion} of {run.decisions} decisions"
    raise KeyError(key)


def _discharge_value(run: RunFacts) -> str | None:
    if run.outcome is None:
        return None
    if run.outcome == "died_on_ecmo":
        return "died · died on ECMO"
    if run.hospital_status is None:
        return "not recorded"
    label = hospital_outcome.STATUS_LABELS.get(run.hospital_status, run.hospital_status)
    if run.hospital_destination and run.hospital_status == "discharged_alive":
        label += f" ({hospital_outcome.DESTINATION_LABELS[run.hospital_destination].lower()})"
    if run.survived_discharge is None:
        return f"not yet known · {label}"
    return f"{'alive' if run.survived_discharge else 'died'} · {label}"


def drill_down(metrics: Metrics, key: str) -> list[tuple[RunFacts, str]]:
    if key not in DRILL:
        raise ValidationFailed([FieldProblem("metric", f"one of {', '.join(DRILL)}", key)])
    lives: dict[int, list[tuple[float, bool]]] = defaultdict(list)
    for run_id, hours, changed in metrics.ml_lives:
        lives[run_id].append((hours, changed))
    out = []
    for run in metrics.runs:
        value = drill_value(key, run, lives)
        if value is not None:
            out.append((run, value))
    return out


def describe_filter(f: MetricsFilter) -> dict[str, Any]:
    return {
        "support_type": SUPPORT_LABELS.get(f.support_type or "", "all"),
        "mode": f.mode or "all",
        "age_group": AGE_LABELS.get(f.age_group or "", "all"),
    }
