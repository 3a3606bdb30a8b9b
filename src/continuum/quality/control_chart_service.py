"""The ended runs as a control-chart series, and the charts over them
(docs/clinical/reference.md §7.4–7.7).

Series: every ended run in order of start. A run is charted when it has a stored RESP
(respiratory support) or SAVE (cardiac support) score, through
``core.outcome_scores.scores_for``, and a known outcome:

- died: ended as "died on ECMO" or "support withdrawn";
- survived: "weaned / recovered", "bridged to VAD", "bridged to transplant";
- "transferred" on ECMO: the outcome is not known here, the run is left out.

When the run's hospital outcome is recorded (``core.hospital_outcome``, the value in force)
and final, it decides instead: died in hospital counts as died, discharged or transferred
alive as survived (the RESP and SAVE classes publish hospital survival). Runs without one
are charted on survival of the run, as above; the page says so beside the numbers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from continuum.control_charts import cusum, observed_expected, run_length, vlad
from continuum.core import hospital_outcome
from continuum.core.outcome_scores import RunScore, scores_for
from continuum.core.roles import Actor, Permission
from continuum.core.run_record import Run, not_training
from continuum.errors import FieldProblem, ValidationFailed

DIED = ("died_on_ecmo", "withdrawn")
SURVIVED = ("weaned_recovered", "bridged_to_vad", "bridged_to_transplant")
H_RANGE = (0.1, 20.0)
RUNS_PER_YEAR_RANGE = (1.0, 10_000.0)
DEFAULT_H = 4.5
STATES = 300
MIN_DAYS_FOR_RATE = 90


@dataclass(frozen=True)
class Limits:
    h: float = DEFAULT_H
    h_improvement: float = DEFAULT_H
    runs_per_year: float | None = None


@dataclass(frozen=True)
class ChartRun:
    number: int  # position in the series, from 1
    run_id: int
    started_at: datetime
    support_type: str
    outcome: str
    score: RunScore
    died: bool
    hospital: str | None = None  # the hospital outcome in force that decided, if any

    @property
    def risk(self) -> float:
        return 1 - self.score.predicted_survival


@dataclass(frozen=True)
class Excluded:
    run_id: int
    started_at: datetime
    support_type: str
    reason: str


@dataclass
class ControlCharts:
    limits: Limits
    runs: list[ChartRun] = field(default_factory=list)
    excluded: list[Excluded] = field(default_factory=list)
    deterioration: cusum.Chart | None = None
    improvement: cusum.Chart | None = None
    vlad: vlad.Vlad | None = None
    arl_deterioration: run_length.RunLength | None = None
    arl_improvement: run_length.RunLength | None = None
    observed_expected: list[tuple[str, observed_expected.ObservedExpected]] = field(
        default_factory=list
    )
    runs_per_year: float | None = None
    runs_per_year_estimated: bool = False


def _number(value: str, name: str, low: float, high: float, unit: str) -> float:
    try:
        number = float(value)
    except ValueError:
        number = math.nan
    if not (math.isfinite(number) and low <= number <= high):
        raise ValidationFailed(
            [FieldProblem(name, f"{name} {value!r} is outside {low:g}–{high:g}{unit}", value)]
        )
    return number


def read_limits(h: str, h_improvement: str, runs_per_year: str) -> Limits:
    """The page's query: each limit a number in 0.1–20, runs a year in 1–10,000 (optional)."""
    problems: list[FieldProblem] = []
    values: dict[str, float | None] = {}
    for name, given, (low, high), unit in (
        ("h", h, H_RANGE, ""),
        ("h_improvement", h_improvement or h, H_RANGE, ""),
        ("runs_per_year", runs_per_year, RUNS_PER_YEAR_RANGE, " runs a year"),
    ):
        if name == "runs_per_year" and not given:
            values[name] = None
            continue
        try:
            values[name] = _number(given, name, low, high, unit)
        except ValidationFailed as exc:
            problems += exc.problems
    if problems:
        raise ValidationFailed(problems)
    h_value, h_up = values["h"] or DEFAULT_H, values["h_improvement"] or DEFAULT_H
    return Limits(h_value, h_up, values["runs_per_year"])


def series(session: Session) -> tuple[list[ChartRun], list[Excluded]]:
    """Ended runs in order of start: charted ones and left-out ones with the reason."""
    runs = list(
        session.scalars(
            select(Run)
            .where(Run.status == "ended", not_training())
            .order_by(Run.started_at, Run.id)
        )
    )
    scores = scores_for(session, runs)
    hospital = hospital_outcome.in_force_for_runs(session, [r.id for r in runs])
    charted: list[ChartRun] = []
    excluded: list[Excluded] = []
    for run in runs:
        answer = scores[run.id]
        outcome = run.outcome or ""
        recorded = hospital.get(run.id)
        final = recorded.status if recorded and recorded.status in hospital_outcome.FINAL else None
        if outcome == "died_on_ecmo":
            final = None  # died on ECMO: known from the run itself
        died = outcome in DIED if final is None else final not in hospital_outcome.SURVIVED
        if final is None and outcome not in DIED and outcome not in SURVIVED:
            reason = "transferred on ECMO: survival not known here"
        elif isinstance(answer, str):
            reason = answer
        else:
            charted.append(
                ChartRun(
                    len(charted) + 1,
                    run.id,
                    run.started_at,
                    run.support_type,
                    outcome,
                    answer,
                    died,
                    final,
                )
            )
            continue
        excluded.append(Excluded(run.id, run.started_at, run.support_type, reason))
    return charted, excluded


def _rate(runs: list[ChartRun]) -> float | None:
    if len(runs) < 2:
        return None
    days = (runs[-1].started_at - runs[0].started_at).total_seconds() / 86400
    return len(runs) / (days / 365.25) if days >= MIN_DAYS_FOR_RATE else None


def control_charts(session: Session, actor: Actor, limits: Limits) -> ControlCharts:
    actor.require(Permission.VIEW_QUALITY)
    charted, excluded = series(session)
    result = ControlCharts(limits=limits, runs=charted, excluded=excluded)
    result.runs_per_year = limits.runs_per_year
    if result.runs_per_year is None:
        result.runs_per_year = _rate(charted)
        result.runs_per_year_estimated = result.runs_per_year is not None
    if not charted:
        return result
    risks = [r.risk for r in charted]
    died = [int(r.died) for r in charted]
    result.deterioration, result.improvement = cusum.both_charts(
        risks, died, limits.h, limits.h_improvement
    )
    result.vlad = vlad.vlad(risks, died)
    result.arl_deterioration = run_length.arl_markov(
        risks, cusum.DETERIORATION_ODDS_RATIO, limits.h, STATES
    )
    result.arl_improvement = run_length.arl_markov(
        risks, cusum.IMPROVEMENT_ODDS_RATIO, limits.h_improvement, STATES
    )
    groups = [("All charted runs", charted)]
    for score in ("RESP", "SAVE"):
        group = [r for r in charted if r.score.score == score]
        if group and len(group) < len(charted):
            groups.append((f"{score} ({'respiratory' if score == 'RESP' else 'cardiac'})", group))
    for label, group in groups:
        result.observed_expected.append(
            (
                label,
                observed_expected.observed_vs_expected(
                    [r.score.predicted_survival for r in group], [int(r.died) for r in group]
                ),
            )
        )
    return result
