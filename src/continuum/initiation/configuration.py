"""The perfusionist's configuration plan: flow target, cannulas checked against it,
membrane lung rated flow, priming haemodilution, products, anticoagulation and goals.

Every number comes from the shared calculators (flow_target, cannula_check,
prime_hemodilution); nothing is re-derived here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from sqlalchemy.orm import Session

from continuum import vocabulary
from continuum.calculators import CalculatorResult, run_calculator
from continuum.core.roles import Actor, Permission
from continuum.db import utcnow
from continuum.errors import FieldProblem, ValidationFailed
from continuum.initiation.modality import planned_mode
from continuum.initiation.modality_rules import base_of
from continuum.initiation.models import InitiationDecision, Referral
from continuum.initiation.record import editable, touched
from continuum.initiation.schemas import PlanIn
from continuum.physiology.cannula_catalogue import CANNULAE

CANNULA_ROLES_CHECKED = {"drainage": "drainage", "return": "return"}


@dataclass
class PlanChecks:
    flow: CalculatorResult | None = None
    design_flow: float | None = None
    cannulas: list[tuple[dict[str, Any], CalculatorResult | None, str]] = field(
        default_factory=list
    )
    priming: CalculatorResult | None = None
    warnings: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)


def save_plan(
    session: Session, actor: Actor, referral: Referral, data: PlanIn
) -> InitiationDecision:
    """Save the plan (the perfusionist's section); refuses impossible or contradictory values."""
    actor.require(Permission.MANAGE_CIRCUIT)
    given = data.model_dump(mode="json", exclude_unset=True, exclude={"version"})
    if not given:
        names = [n for n in PlanIn.model_fields if n != "version"]
        raise ValidationFailed("nothing to save: name at least one of " + ", ".join(names), "body")
    decision = editable(session, referral, actor, data.version)
    if decision.plan:  # only what the request names changes; the rest is kept
        stored = {k: v for k, v in decision.plan.items() if k in PlanIn.model_fields}
        data = _merged(stored, {**given, "version": data.version})
    _check(data)
    plan = data.model_dump(mode="json", exclude={"version"})
    checks = plan_checks(referral, plan, planned_mode(decision))
    over = [w for w in checks.warnings if w.startswith("Target flow")]
    if over and len((data.rated_flow_reason or "").strip()) < 3:
        raise ValidationFailed(
            [
                FieldProblem(
                    "rated_flow_reason",
                    over[0] + ": choose a larger membrane lung or record the reason",
                    data.rated_flow_l_min,
                )
            ]
        )
    decision.plan = plan
    decision.plan_by, decision.plan_at = actor.staff_id, utcnow()
    touched(session, actor, decision, "configuration plan", referral.patient_id)
    return decision


def _merged(stored: dict[str, Any], given: dict[str, Any]) -> PlanIn:
    try:
        return PlanIn.model_validate({**stored, **given})
    except ValidationError as exc:
        problems = [
            FieldProblem(".".join(str(x) for x in e["loc"]), e["msg"], e.get("input"))
            for e in exc.errors()
        ]
        raise ValidationFailed(problems) from None


def _check(data: PlanIn) -> None:
    problems: list[FieldProblem] = []
    spec = vocabulary.get(data.monitor_code)
    for name in ("monitor_low", "monitor_high"):
        value = getattr(data, name)
        if value is not None and not spec.low <= value <= spec.high:
            problems.append(
                FieldProblem(
                    name,
                    f"{value:g} {spec.unit} is outside {spec.range_text} for {spec.meaning}",
                    value,
                )
            )
    for low, high in (
        ("monitor_low", "monitor_high"),
        ("flow_goal_low", "flow_goal_high"),
        ("paco2_goal_low", "paco2_goal_high"),
    ):
        a, b = getattr(data, low), getattr(data, high)
        if a is not None and b is not None and a > b:
            problems.append(FieldProblem(low, f"lower limit {a:g} is above upper limit {b:g}", a))
    for i, c in enumerate(data.cannulas):
        if c.catalogue_id and c.catalogue_id not in CANNULAE:
            problems.append(
                FieldProblem(
                    f"cannulas.{i}.catalogue_id",
                    f"unknown cannula; one of {', '.join(CANNULAE)}",
                    c.catalogue_id,
                )
            )
    if problems:
        raise ValidationFailed(problems)


def _patient_size(referral: Referral, plan: dict[str, Any]) -> tuple[Any, Any]:
    weight = plan.get("weight_kg") or referral.patient.weight_kg
    height = plan.get("height_cm") or referral.patient.height_cm
    return weight, height


def plan_checks(referral: Referral, plan: dict[str, Any], mode: str | None) -> PlanChecks:
    checks = PlanChecks()
    weight, height = _patient_size(referral, plan)
    if weight and mode:
        inputs = {"mode": base_of(mode), "weight_kg": weight, "height_cm": height}
        checks.flow = run_calculator("flow_target", {k: v for k, v in inputs.items() if v})
    elif not mode:
        checks.missing.append("mode (modality section) for the flow target")
    else:
        checks.missing.append("weight for the flow target")
    checks.design_flow = plan.get("flow_goal_high") or (checks.flow.value if checks.flow else None)
    _cannula_checks(plan, checks)
    _membrane_check(plan, checks)
    _priming(referral, plan, weight, height, checks)
    return checks


def _cannula_checks(plan: dict[str, Any], checks: PlanChecks) -> None:
    for c in plan.get("cannulas") or []:
        role = CANNULA_ROLES_CHECKED.get(c.get("role", ""))
        if not c.get("catalogue_id") or role is None or not checks.design_flow:
            note = "no catalogue curve or flow to check against" if role else "not checked"
            checks.cannulas.append((c, None, note))
            continue
        result = run_calculator(
            "cannula_check",
            {"cannula": c["catalogue_id"], "role": role, "target_flow_l_min": checks.design_flow},
        )
        ok = result.interpretation.get("within_limit")
        checks.cannulas.append((c, result, "within limit" if ok else "TOO SMALL for the flow"))
        if not ok:
            checks.warnings.append(result.interpretation["text"])


def _membrane_check(plan: dict[str, Any], checks: PlanChecks) -> None:
    rated = plan.get("rated_flow_l_min")
    if rated and checks.design_flow and checks.design_flow > rated:
        checks.warnings.append(
            f"Target flow {checks.design_flow:g} L/min exceeds the membrane lung's rated flow "
            f"{rated:g} L/min (docs/clinical/reference.md §2.8)"
        )
    elif not rated:
        checks.missing.append("membrane lung rated flow")


def _priming(
    referral: Referral, plan: dict[str, Any], weight: Any, height: Any, checks: PlanChecks
) -> None:
    if plan.get("prime_volume_ml") is None or plan.get("hct_pct") is None or not weight:
        checks.missing.append("prime volume, haematocrit and weight for priming haemodilution")
        return
    sex = referral.patient.sex if referral.patient.sex in ("male", "female") else None
    inputs = {
        "hct_pct": plan["hct_pct"],
        "prime_volume_ml": plan["prime_volume_ml"],
        "weight_kg": weight,
        "height_cm": height,
        "sex": sex,
    }
    checks.priming = run_calculator("prime_hemodilution", {k: v for k, v in inputs.items() if v})
