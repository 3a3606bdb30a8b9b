"""Candidacy: the indication/contraindication checklist, scores and trial criteria.

Raw score inputs are stored as entered; scores are computed by the shared calculators when
shown, so a missing input stays missing (never zero) and a formula fix reaches old records.
An input that several scores share (age, PEEP, peak pressure...) entered once, in a trial's
criteria, or known from the patient (weight, BMI, age) fills the others where they were
left blank, and the page says where each such value came from (``shared_inputs``). Only the
scores derived for the support (support_configuration) are offered first (``relevant``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from continuum import support_configuration
from continuum.calculators import CALCULATORS, CalculatorResult, run_calculator
from continuum.core.roles import Actor, Permission
from continuum.errors import FieldProblem, ValidationFailed
from continuum.initiation import contradictions, criteria, trial_criteria
from continuum.initiation.models import InitiationDecision, Referral
from continuum.initiation.record import editable, require_reasons, touched
from continuum.initiation.schemas import CandidacyIn

SCORES = ("murray", "resp", "preserve", "save")
SUPPORT_INPUT = ("resp", "save")  # calculators that check their derivation population
EOLIA_RANGES: dict[str, tuple[float, float]] = {
    "ventilation_days": (0, 365),
    "fio2": (0.21, 1.0),
    "peep_cmh2o": (0, 40),
    "pf_ratio_mmhg": (10, 700),
    "pf_hours": (0, 720),
    "ph": (6.5, 8.0),
    "paco2_mmhg": (5, 200),
    "hypercapnia_hours": (0, 720),
}
ECPR_RANGES: dict[str, tuple[float, float]] = {
    "age_years": (0, 120),
    "no_flow_min": (0, 120),
    "cpr_min": (0, 300),
    "expected_flow_min": (0, 600),
    "etco2_mmhg": (0, 150),
}
# The last arterial gas and the ventilator before ECLS, for any support (VA candidates have
# no EOLIA criteria): the registry's pre-ECLS values (docs/registry.md).
# Same ranges as the EOLIA inputs of the same name.
PRE_ECLS_RANGES: dict[str, tuple[float, float]] = {
    **{k: EOLIA_RANGES[k] for k in ("ph", "paco2_mmhg", "fio2", "peep_cmh2o")},
    "pao2_mmhg": (10, 700),
}
RHYTHMS = ("vf_pvt", "pea", "asystole")


@dataclass
class ScoreView:
    name: str
    title: str
    result: CalculatorResult | None = None
    missing: list[str] = field(default_factory=list)
    entered: dict[str, Any] = field(default_factory=dict)
    relevant: bool = True
    shared: dict[str, tuple[Any, str]] = field(default_factory=dict)  # field → (value, from)

    @property
    def status(self) -> str:
        if self.result is not None:
            return "computed"
        return "missing inputs" if self.entered else "not entered"


def save_candidacy(
    session: Session, actor: Actor, referral: Referral, data: CandidacyIn
) -> InitiationDecision:
    """Save the candidacy section: only the parts the request names change (an empty
    request is refused, never taken as "clear everything")."""
    actor.require(Permission.MANAGE_REFERRAL)
    given = data.model_fields_set - {"version"}
    if not given:
        names = [n for n in CandidacyIn.model_fields if n != "version"]
        raise ValidationFailed("nothing to save: name at least one of " + ", ".join(names), "body")
    decision = editable(session, referral, actor, data.version)
    problems = _checklist_problems(referral.support_type, data.checked)
    scores: dict[str, dict[str, Any]] = {k: v for k, v in data.scores.items() if _given(v)}
    for name, inputs in scores.items():
        problems += _score_problems(name, inputs)
    problems += trial_input_problems(data.eolia, data.ecpr, data.pre_ecls)
    if problems:
        raise ValidationFailed(problems)
    found = contradictions.in_scores(referral.support_type, scores) if "scores" in given else []
    reason = data.score_reason if "score_reason" in given else decision.score_reason
    require_reasons(found, {"score_reason": reason})
    if "checked" in given:
        decision.checklist = {item: True for item in data.checked}
    if "note" in given:
        decision.checklist_note = data.note
    if "scores" in given:
        decision.score_inputs = dict(scores)
    trials = dict(decision.trial_inputs or {})
    if "eolia" in given:
        trials["eolia"] = _numbers(data.eolia)
    if "ecpr" in given:
        trials["ecpr"] = _ecpr(data.ecpr)
    if "pre_ecls" in given:
        trials["pre_ecls"] = _numbers(data.pre_ecls)
    decision.trial_inputs = trials
    if "score_reason" in given and (found or "scores" not in given):
        decision.score_reason = data.score_reason
    touched(
        session,
        actor,
        decision,
        "candidacy",
        referral.patient_id,
        {"checked": len(data.checked), "scores": sorted(scores)},
    )
    return decision


def _given(values: dict[str, Any]) -> bool:
    return any(v not in (None, "", False) for v in values.values())


def _given_only(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v not in (None, "")}


def _numbers(values: dict[str, Any]) -> dict[str, float]:
    """The given inputs as numbers, as the API sends them (the form's boxes arrive as text;
    their ranges are checked before)."""
    return {k: float(v) for k, v in _given_only(values).items()}


def _ecpr(values: dict[str, Any]) -> dict[str, Any]:
    out = _given_only(values)
    if isinstance(out.get("witnessed"), str):
        out["witnessed"] = out["witnessed"].lower() in ("yes", "true", "on", "1")
    return out


def trial_input_problems(
    eolia: dict[str, Any], ecpr: dict[str, Any], pre_ecls: dict[str, Any]
) -> list[FieldProblem]:
    """What the candidacy form refuses among the trial-criteria inputs: a value out of its
    range or an input the group does not have (also what the demo must keep to)."""
    problems = _range_problems("eolia", eolia, EOLIA_RANGES)
    problems += _range_problems("ecpr", ecpr, ECPR_RANGES)
    problems += _unknown("eolia", eolia, set(EOLIA_RANGES))
    problems += _unknown("ecpr", ecpr, {*ECPR_RANGES, "witnessed", "initial_rhythm"})
    problems += _range_problems("pre_ecls", pre_ecls, PRE_ECLS_RANGES)
    problems += _unknown("pre_ecls", pre_ecls, set(PRE_ECLS_RANGES))
    if ecpr.get("initial_rhythm") not in (None, *RHYTHMS):
        problems.append(
            FieldProblem(
                "ecpr.initial_rhythm", f"one of {', '.join(RHYTHMS)}", ecpr.get("initial_rhythm")
            )
        )
    return problems


def _unknown(group: str, values: dict[str, Any], known: set[str]) -> list[FieldProblem]:
    return [
        FieldProblem(f"{group}.{key}", f"unknown input; expected one of {', '.join(sorted(known))}")
        for key in values
        if key not in known
    ]


def _checklist_problems(support: str, checked: list[str]) -> list[FieldProblem]:
    known = {c.id for c in criteria.for_support(support)}
    return [
        FieldProblem("checked", f"'{item}' is not a {support} checklist item", item)
        for item in checked
        if item not in known
    ]


def _score_problems(name: str, inputs: dict[str, Any]) -> list[FieldProblem]:
    """Impossible values are refused with the range; missing ones are allowed (shown later)."""
    try:
        run_calculator(name, inputs)
    except ValidationFailed as exc:
        return [
            FieldProblem(f"scores.{name}.{p.field}", p.message, p.value)
            for p in exc.problems
            if "is required" not in p.message
        ]
    return []


def _range_problems(
    group: str, values: dict[str, Any], ranges: dict[str, tuple[float, float]]
) -> list[FieldProblem]:
    problems = []
    for key, value in values.items():
        if key not in ranges or value in (None, ""):
            continue
        low, high = ranges[key]
        try:
            number = float(value)
        except (TypeError, ValueError):
            problems.append(FieldProblem(f"{group}.{key}", "is not a number", value))
            continue
        if not low <= number <= high:
            problems.append(
                FieldProblem(f"{group}.{key}", f"{number:g} is outside {low:g}–{high:g}", value)
            )
    return problems


# Inputs with one meaning wherever they appear: a value entered for one score (or a trial's
# criteria) is used by every other score that asks for it and was left blank.
SHARED_NUMBERS = (
    "age_years",
    "peep_cmh2o",
    "peak_inspiratory_pressure_cmh2o",
    "plateau_pressure_cmh2o",
    "fio2",
    "pao2_mmhg",
    "paco2_mmhg",
    "weight_kg",
    "bmi",
)
SHARED_FLAGS = ("immunocompromised", "cns_dysfunction", "cardiac_arrest")  # shared when ticked
SCORE_TITLES = {"murray": "Murray", "resp": "RESP", "preserve": "PRESERVE", "save": "SAVE"}


def relevant_scores(support: str, mode: str | None = None) -> tuple[str, ...]:
    """The scores derived for this support (support_configuration: the planned mode, else
    the support type's usual mode), with the Murray lung-injury score for respiratory
    support; the others were derived in other cohorts."""
    config = support_configuration.of_run(mode, support)
    names = {s.lower() for s in config.scores}
    if config.family in ("respiratory", "co2_removal") or support == "pulmonary":
        names.add("murray")
    return tuple(n for n in SCORES if n in names)


def shared_inputs(
    decision: InitiationDecision,
    weight_kg: float | None,
    height_cm: float | None,
    age_years: float | None,
) -> dict[str, tuple[Any, str]]:
    """Values any score may take when its own box is blank: field → (value, where from)."""
    out: dict[str, tuple[Any, str]] = {}
    if age_years is not None:
        out["age_years"] = (age_years, "patient's date of birth")
    if weight_kg:
        out["weight_kg"] = (weight_kg, "patient record")
        if height_cm:
            bmi = round(weight_kg / (height_cm / 100) ** 2, 1)
            out["bmi"] = (bmi, "patient's weight and height")
    trials = decision.trial_inputs or {}
    sources = [(SCORE_TITLES[n], (decision.score_inputs or {}).get(n, {})) for n in SCORES]
    sources.append(("EOLIA criteria", trials.get("eolia", {})))
    sources.append(("ECPR criteria", trials.get("ecpr", {})))
    sources.append(("blood gas before ECLS", trials.get("pre_ecls", {})))
    for label, values in sources:
        for key in SHARED_NUMBERS:
            if values.get(key) not in (None, "") and key not in out:
                out[key] = (values[key], label)
        for key in SHARED_FLAGS:
            if values.get(key) in (True, "true", "on") and key not in out:
                out[key] = (True, label)
    return out


def score_views(
    decision: InitiationDecision,
    support: str,
    shared: dict[str, tuple[Any, str]] | None = None,
    mode: str | None = None,
) -> list[ScoreView]:
    """Each score, relevant ones first: computed from its own inputs, blanks filled from the
    shared ones (``shared_inputs``)."""
    views = []
    relevant = relevant_scores(support, mode)
    for name in sorted(SCORES, key=lambda n: n not in relevant):
        entered = dict((decision.score_inputs or {}).get(name, {}))
        fields = {f.name for f in CALCULATORS[name].fields}
        filled = {
            k: v for k, v in (shared or {}).items() if k in fields and entered.get(k) in (None, "")
        }
        title = CALCULATORS[name].title
        view = ScoreView(name, title, entered=entered, relevant=name in relevant, shared=filled)
        if entered:
            inputs = {**{k: v for k, (v, _) in filled.items()}, **entered}
            if name in SUPPORT_INPUT:
                inputs.setdefault("support", support)
            try:
                view.result = run_calculator(name, inputs)
            except ValidationFailed as exc:
                view.missing = [p.field for p in exc.problems]
        views.append(view)
    return views


def trial_views(
    decision: InitiationDecision, limits: dict[str, float] | None = None
) -> list[trial_criteria.CriteriaResult]:
    inputs = decision.trial_inputs or {}
    return [
        trial_criteria.eolia(inputs.get("eolia", {})),
        trial_criteria.ecpr(inputs.get("ecpr", {}), limits),
    ]


def checked_absolute(decision: InitiationDecision) -> list[str]:
    return [
        criteria.CRITERIA[item].text
        for item in (decision.checklist or {})
        if item in criteria.CRITERIA and criteria.CRITERIA[item].kind == criteria.ABSOLUTE
    ]
