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
from continuum.physiology.cannula_catalogue import CANNULAE, device_type, placement_problems
from continuum.support_configuration import find as find_configuration

CANNULA_ROLES_CHECKED = {"drainage": ("drainage",), "return": ("return",)}
# A dual-lumen cannula is checked on both lumens at the design flow.
DUAL_LUMEN_ROLES = ("drainage", "return")
TOO_SMALL = "TOO SMALL for the flow"
MIN_REASON = 3


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
    mode = planned_mode(decision)
    _check(data, mode)
    plan = data.model_dump(mode="json", exclude={"version"})
    checks = plan_checks(referral, plan, mode)
    # Reasons are kept only for the warnings the plan now raises.
    plan["warning_reasons"] = {
        w: r.strip()
        for w, r in (data.warning_reasons or {}).items()
        if w in checks.warnings and r and r.strip()
    }
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


def unacknowledged(checks: PlanChecks, plan: dict[str, Any]) -> list[str]:
    """The plan's warnings without a reason (the rated-flow reason answers the rated-flow
    warning). Signing an accepted decision waits until this is empty."""
    reasons = plan.get("warning_reasons") or {}
    rated_reason = (plan.get("rated_flow_reason") or "").strip()
    out = []
    for w in checks.warnings:
        if len((reasons.get(w) or "").strip()) >= MIN_REASON:
            continue
        if w.startswith("Target flow") and len(rated_reason) >= MIN_REASON:
            continue
        out.append(w)
    return out


def acknowledgements(checks: PlanChecks, plan: dict[str, Any]) -> list[tuple[str, str | None]]:
    """Each current warning with its reason (None: not yet acknowledged)."""
    reasons = plan.get("warning_reasons") or {}
    rated_reason = (plan.get("rated_flow_reason") or "").strip() or None
    return [
        (w, reasons.get(w) or (rated_reason if w.startswith("Target flow") else None))
        for w in checks.warnings
    ]


def _placement(problems: list[FieldProblem], data: PlanIn, mode: str | None) -> None:
    """Dual-lumen single-site cannulas: one role (drainage and return), an upper-body site,
    and a mode that returns where the cannula returns (docs/clinical/reference.md §8.5)."""
    config = find_configuration(base_of(mode)) if mode else None
    for i, c in enumerate(data.cannulas):
        if not c.catalogue_id or c.catalogue_id not in CANNULAE:
            continue
        for text in placement_problems(c.catalogue_id, c.role, c.site):
            field = "role" if "its role" in text else "site"
            value = c.role if field == "role" else c.site
            problems.append(FieldProblem(f"cannulas.{i}.{field}", text, value))
        device = device_type(c.catalogue_id)
        if device is not None and config is not None and device.return_site not in config.returns:
            problems.append(
                FieldProblem(
                    f"cannulas.{i}.catalogue_id",
                    f"{CANNULAE[c.catalogue_id][0]} returns to the {device.returns}; the planned "
                    f"{mode} does not return there",
                    c.catalogue_id,
                )
            )


def _check(data: PlanIn, mode: str | None = None) -> None:
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
    _placement(problems, data, mode)
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
        cid = c.get("catalogue_id")
        roles = CANNULA_ROLES_CHECKED.get(c.get("role", ""))
        if cid and c.get("role") == "drainage_and_return" and device_type(cid) is not None:
            roles = DUAL_LUMEN_ROLES
        if not cid or roles is None or not checks.design_flow:
            note = "no catalogue curve or flow to check against" if roles else "not checked"
            checks.cannulas.append((c, None, note))
            continue
        for role in roles:
            result = run_calculator(
                "cannula_check",
                {"cannula": cid, "role": role, "target_flow_l_min": checks.design_flow},
            )
            ok = result.interpretation.get("within_limit")
            shown = {**c, "lumen": role} if len(roles) > 1 else c
            checks.cannulas.append((shown, result, "within limit" if ok else TOO_SMALL))
            if not ok:
                checks.warnings.append(result.interpretation["text"] + f" — {TOO_SMALL}")


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
