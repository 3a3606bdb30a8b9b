"""Outcome summaries of a saved cohort: Kaplan–Meier of time on ECMO and of survival to
decannulation (lifelines), and a logistic model of survival to decannulation on chosen
covariates (statsmodels) with its usual table (coefficient, odds ratio, 95 % CI, p, n,
events). Each analysis is saved with the cohort's definition as it was, the runs it held,
and the software versions that computed it; the plot is drawn from the saved result.

Definitions (docs/research-studies.md):
- time on ECMO: hours from the run's start to its end; a run still going is censored now;
- survival to decannulation: the event is death on ECMO (outcome died on ECMO, or support
  withdrawn); a run ended alive, or still going, is censored at its end (or now);
- logistic model: ended runs only, outcome 1 = alive at decannulation; a model is refused
  when either outcome has fewer than ``MIN_EVENTS`` runs.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from datetime import date, datetime
from importlib.metadata import version as dist_version
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from continuum import calculators
from continuum.core import audit
from continuum.core.people import PatientIdentity
from continuum.core.roles import Actor, Permission
from continuum.core.run_record import Run, not_training
from continuum.db import utcnow
from continuum.errors import FieldProblem, NotFound, ValidationFailed
from continuum.initiation.models import InitiationDecision
from continuum.research import cohort
from continuum.research.cohort_record import SavedCohort
from continuum.research.study_record import ANALYSIS_KINDS, OutcomeAnalysis, Study

MIN_EVENTS = 10  # fewest runs in the rarer outcome for a logistic model
DEATH_OUTCOMES = ("died_on_ecmo", "withdrawn")
COVARIATES: tuple[str, ...] = ("age_years", "support_type", "risk_score")
COVARIATE_LABELS = {
    "age_years": "age (years, at the run's start)",
    "support_type": "support type (reference: the commonest)",
    "risk_score": "RESP (pulmonary) or SAVE (cardiac) score, where stored",
}
KIND_LABELS = {
    "km_time_on_ecmo": "Kaplan–Meier: time on ECMO",
    "km_survival": "Kaplan–Meier: survival to decannulation",
    "logistic_survival": "Logistic model: survival to decannulation",
}
Kind = Literal[ANALYSIS_KINDS]  # type: ignore[valid-type]
Covariate = Literal[COVARIATES]  # type: ignore[valid-type]


class AnalysisIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    cohort: str = Field(min_length=1, max_length=120, description="a saved cohort's title")
    kind: Kind
    covariates: list[Covariate] = Field(default_factory=list, description="logistic model only")
    study_id: int | None = Field(None, description="the study it belongs to (optional)")


@dataclass(frozen=True)
class RunFacts:
    run_id: int
    hours: float
    ended: bool
    died: bool
    age_years: float | None
    support_type: str
    risk_score: float | None


def versions() -> dict[str, str]:
    out = {}
    for name in ("ecmo-continuum", "lifelines", "statsmodels", "numpy", "pandas", "matplotlib"):
        try:
            out[name] = dist_version(name)
        except Exception:  # not installed under that name: say so
            out[name] = "unknown"
    return out


def _score(inputs: dict[str, Any] | None, support: str) -> float | None:
    name = "resp" if support == "pulmonary" else "save" if support == "cardiac" else None
    if not inputs or name is None or not inputs.get(name):
        return None
    data = dict(inputs[name])
    data.setdefault("support", support)
    try:
        return float(calculators.run_calculator(name, data).value)
    except Exception:  # incomplete inputs: no score for this run
        return None


def facts(db: Session, run_ids: list[int], now: datetime) -> list[RunFacts]:
    if not run_ids:
        return []
    rows = db.execute(
        select(Run, PatientIdentity.birth_date, InitiationDecision.score_inputs)
        .outerjoin(PatientIdentity, PatientIdentity.patient_id == Run.patient_id)
        .outerjoin(InitiationDecision, InitiationDecision.run_id == Run.id)
        .where(Run.id.in_(run_ids), not_training())
        .order_by(Run.id)
    ).all()
    out = []
    for run, birth, inputs in rows:
        end = run.ended_at or now
        start_day: date = run.started_at.date()
        age = None if birth is None else (start_day - birth).days / 365.25
        out.append(RunFacts(
            run_id=run.id, hours=max((end - run.started_at).total_seconds() / 3600, 0.0),
            ended=run.ended_at is not None, died=run.outcome in DEATH_OUTCOMES,
            age_years=None if age is None else round(age, 1), support_type=run.support_type,
            risk_score=_score(inputs, run.support_type),
        ))  # fmt: skip
    return out


def _exp(x: float) -> float:
    """e^x, infinite (shown as no value) rather than an overflow for a wide interval's end."""
    return math.exp(x) if x < 700 else math.inf


SEPARATION = 30.0  # |coefficient| beyond which a logistic fit is no estimate


def _num(x: float) -> float | None:
    return None if x is None or not math.isfinite(float(x)) else round(float(x), 4)


def kaplan_meier(durations: list[float], events: list[bool]) -> dict[str, Any]:
    """Survival curve, median and its 95 % CI (lifelines), from hours and event flags."""
    from lifelines import KaplanMeierFitter
    from lifelines.utils import median_survival_times

    km = KaplanMeierFitter()
    km.fit(durations, event_observed=events)
    ci = km.confidence_interval_survival_function_
    median = km.median_survival_time_
    med_ci = median_survival_times(km.confidence_interval_)
    curve = [
        {"t": _num(t), "s": _num(s), "lo": _num(lo), "hi": _num(hi)}
        for t, s, lo, hi in zip(
            km.survival_function_.index, km.survival_function_.iloc[:, 0],
            ci.iloc[:, 0], ci.iloc[:, 1], strict=True,
        )
    ]  # fmt: skip
    return {
        "n": len(durations),
        "events": int(sum(events)),
        "censored": len(durations) - int(sum(events)),
        "median_hours": _num(median),
        "median_ci_hours": [_num(med_ci.iloc[0, 0]), _num(med_ci.iloc[0, 1])],
        "curve": curve,
    }


def _refuse_single_outcome_types(usable: list[RunFacts]) -> None:
    """A support type whose runs all survived (or all died) separates survivors from deaths:
    its odds ratio has no finite value and the fit cannot converge. Refuse, naming it."""
    outcomes: dict[str, list[bool]] = {}
    for r in usable:
        outcomes.setdefault(str(r.support_type), []).append(r.died)
    single = [
        f"every one of the {len(died)} {kind} runs {'died' if died[0] else 'survived'}"
        for kind, died in sorted(outcomes.items())
        if len(set(died)) == 1
    ]
    if single:
        raise ValidationFailed([FieldProblem(
            "covariates",
            "the model could not be fitted: support type separates survivors from deaths in "
            f"this cohort ({'; '.join(single)}), so its odds ratio has no bound; leave support "
            "type out, or widen the cohort so that each support type has deaths and survivors",
            ["support_type"],
        )])  # fmt: skip


def logistic(rows: list[RunFacts], covariates: list[str]) -> dict[str, Any]:
    """Logistic regression of survival to decannulation (ended runs with every covariate)."""
    import numpy as np
    import pandas as pd
    import statsmodels.api as sm

    if not covariates:
        raise ValidationFailed([FieldProblem("covariates", "choose at least one covariate",
                                             [], )])  # fmt: skip
    ended = [r for r in rows if r.ended]
    usable = [r for r in ended if all(getattr(r, c) is not None for c in covariates)]
    survived = sum(not r.died for r in usable)
    died = len(usable) - survived
    if min(survived, died) < MIN_EVENTS:
        raise ValidationFailed([FieldProblem(
            "cohort",
            f"too few runs for a model: {len(usable)} ended runs with "
            f"{', '.join(covariates)} recorded, {survived} survived and {died} died; a model "
            f"needs at least {MIN_EVENTS} of each. Widen the cohort or use Kaplan–Meier.",
            len(usable),
        )])  # fmt: skip
    frame = pd.DataFrame([{c: getattr(r, c) for c in covariates} for r in usable])
    y = np.array([0 if r.died else 1 for r in usable])
    labels = {"const": "intercept", "age_years": "age (per year)",
              "risk_score": "RESP/SAVE score (per point)"}  # fmt: skip
    if "support_type" in covariates:
        _refuse_single_outcome_types(usable)
        common = frame["support_type"].value_counts().idxmax()
        labels |= {f"support_{t}": f"support {t} (vs {common})" for t in set(frame["support_type"])}
        dummies = pd.get_dummies(frame["support_type"], prefix="support", dtype=float)
        dummies = dummies.drop(columns=[f"support_{common}"])
        frame = pd.concat([frame.drop(columns=["support_type"]), dummies], axis=1)
    x = sm.add_constant(frame.astype(float), has_constant="add")
    try:
        fit = sm.Logit(y, x).fit(disp=0)
    except Exception as exc:  # perfect separation, singular matrix: say so, store nothing
        raise ValidationFailed([FieldProblem(
            "covariates", f"the model could not be fitted ({type(exc).__name__}: {exc})",
            covariates,
        )]) from None  # fmt: skip
    # A coefficient this large (odds ratio beyond e^30) means a covariate separates survivors
    # from deaths (quasi-complete separation): the fit is no estimate. Say so, store nothing.
    separating = [str(t) for t in x.columns if not abs(float(fit.params[t])) <= SEPARATION]
    # name the covariates (an unbounded intercept alone means the covariates separate)
    separating = [t for t in separating if t != "const"] or ([
        t for t in x.columns if t != "const"] if separating else [])  # fmt: skip
    if separating or not fit.mle_retvals.get("converged", True):
        raise ValidationFailed([FieldProblem(
            "covariates",
            "the model could not be fitted: "
            + (f"{', '.join(labels.get(t, t) for t in separating)} separate survivors from "
               "deaths in this cohort (odds ratio without bound)" if separating
               else "the fit did not converge")
            + "; widen the cohort or choose other covariates",
            covariates,
        )])  # fmt: skip
    conf = fit.conf_int()
    table = [
        {
            "term": str(term), "label": labels.get(str(term), str(term)),
            "coef": _num(fit.params[term]),
            "odds_ratio": _num(_exp(fit.params[term])),
            "ci_low": _num(_exp(conf.loc[term, 0])),
            "ci_high": _num(_exp(conf.loc[term, 1])),
            "p": _num(fit.pvalues[term]),
        }
        for term in x.columns
    ]  # fmt: skip
    return {
        "n": len(usable), "events": died, "survived": survived,
        "excluded_missing": len(ended) - len(usable), "not_ended": len(rows) - len(ended),
        "outcome": "alive at decannulation (1) vs died on ECMO (0)",
        "table": table, "pseudo_r2": _num(fit.prsquared), "converged": bool(fit.mle_retvals.get(
            "converged", True)),
    }  # fmt: skip


def run_analysis(
    db: Session, actor: Actor, data: AnalysisIn, zone: ZoneInfo, now: datetime | None = None
) -> OutcomeAnalysis:
    actor.require(Permission.MANAGE_STUDIES)
    saved = db.scalar(select(SavedCohort).where(SavedCohort.name == data.cohort))
    if saved is None:
        raise ValidationFailed([FieldProblem("cohort", "no saved cohort titled this",
                                             data.cohort)])  # fmt: skip
    if data.study_id is not None and db.get(Study, data.study_id) is None:
        raise ValidationFailed([FieldProblem("study_id", "no such study", data.study_id)])
    definition = cohort.definition_of(saved)
    ids = cohort.run_ids(db, definition, zone)
    if not ids:
        raise ValidationFailed([FieldProblem(
            "cohort", f"cohort '{saved.name}' holds no runs: nothing to analyse", saved.name
        )])  # fmt: skip
    rows = facts(db, ids, now or utcnow())
    if data.kind == "km_time_on_ecmo":
        result = kaplan_meier([r.hours for r in rows], [r.ended for r in rows])
    elif data.kind == "km_survival":
        result = kaplan_meier([r.hours for r in rows], [r.died for r in rows])
    else:
        result = logistic(rows, list(data.covariates))
    result["runs"] = len(ids)
    row = OutcomeAnalysis(
        study_id=data.study_id, cohort_id=saved.id, cohort_name=saved.name,
        definition={**saved.definition, "_summary": definition.summary()}, kind=data.kind,
        covariates=list(data.covariates) if data.kind == "logistic_survival" else [],
        result=result, versions=versions(), created_by=actor.staff_id,
    )  # fmt: skip
    db.add(row)
    db.flush()
    audit.record(db, actor, "analysis.run", "research_analysis", row.id,
                 detail={"cohort": saved.name, "kind": data.kind, "runs": len(ids),
                         "covariates": row.covariates})  # fmt: skip
    return row


def get(db: Session, actor: Actor, analysis_id: int) -> OutcomeAnalysis:
    actor.require(Permission.EXPORT_DEIDENTIFIED)
    row = db.get(OutcomeAnalysis, analysis_id)
    if row is None:
        raise NotFound(f"no analysis {analysis_id}")
    return row


def list_analyses(db: Session, actor: Actor) -> list[OutcomeAnalysis]:
    actor.require(Permission.EXPORT_DEIDENTIFIED)
    return list(db.scalars(select(OutcomeAnalysis).order_by(OutcomeAnalysis.id.desc())))


def plot_png(row: OutcomeAnalysis) -> bytes:
    """The Kaplan–Meier curve with its 95 % band, drawn from the saved result (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7, 4), dpi=110)
    ax = fig.add_subplot()
    curve = row.result.get("curve") or []
    t = [p["t"] / 24 for p in curve]
    ax.step(t, [p["s"] for p in curve], where="post", color="#1d4ed8", label="estimate")
    lo = [p["lo"] if p["lo"] is not None else p["s"] for p in curve]
    hi = [p["hi"] if p["hi"] is not None else p["s"] for p in curve]
    ax.fill_between(t, lo, hi, step="post", alpha=0.2, color="#1d4ed8", label="95 % CI")
    ax.set_xlabel("days on ECMO")
    ax.set_ylabel("still on ECMO" if row.kind == "km_time_on_ecmo" else "alive on ECMO")
    ax.set_ylim(0, 1.02)
    ax.set_title(f"{KIND_LABELS[row.kind]} · {row.cohort_name} (n = {row.result.get('n')})",
                 fontsize=9)  # fmt: skip
    ax.grid(alpha=0.3)
    ax.legend(loc="upper right", fontsize=8)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()
