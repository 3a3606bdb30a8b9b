"""Trial protocols: their stages in order, what is measured and judged at each step, and the
checks that a step follows the one before it. Pure: no database, no web."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from continuum.errors import FieldProblem
from continuum.weaning import criteria as cr


@dataclass(frozen=True)
class Stage:
    key: str
    label: str
    repeatable: bool = False


@dataclass(frozen=True)
class Protocol:
    kind: str
    family: str  # "VV" or "VA"
    title: str
    stages: tuple[Stage, ...]
    measures: tuple[str, ...]  # observation codes asked at each step
    judged: tuple[cr.Criterion, ...]
    falling: str | None = None  # a setting that must not rise from step to step
    source: str = ""

    def stage(self, key: str) -> Stage | None:
        return next((s for s in self.stages if s.key == key), None)

    def index(self, key: str) -> int:
        return [s.key for s in self.stages].index(key)


VV_GASES = ("blood_flow", "sweep_flow", "sweep_fio2", "spo2", "sao2", "pao2", "paco2", "ph")
VV_VENT = ("vent_fio2", "plateau_pressure", "peep", "resp_rate", "hr", "map")
VA_MEASURES = ("blood_flow", "map", "hr", "cvp", "lactate", "lvef", "lvot_vti", "mitral_s_prime")

PROTOCOLS: dict[str, Protocol] = {
    p.kind: p
    for p in (
        Protocol(
            "fdo2_reduction",
            "VV",
            "FdO2 reduction",
            (Stage("baseline", "Baseline"), Stage("fdo2_reduced", "FdO2 reduced", True)),
            VV_GASES + VV_VENT,
            cr.GAS_REDUCTION,
            "sweep_fio2",
            "Reduce FdO2 from 1.0 towards 0.21 (SpO2 >92 %, PaO2 >70 mmHg) " + cr.SLA_VV,
        ),
        Protocol(
            "sweep_reduction",
            "VV",
            "Stepwise sweep reduction",
            (Stage("baseline", "Baseline"), Stage("sweep_reduced", "Sweep reduced", True)),
            VV_GASES + VV_VENT,
            cr.GAS_REDUCTION,
            "sweep_flow",
            "Reduce sweep in 0.5–1 L/min steps with an ABG after each " + cr.SLA_VV,
        ),
        Protocol(
            "sweep_off",
            "VV",
            "Sweep-off trial",
            (
                Stage("baseline", "Baseline (sweep on)"),
                Stage("sweep_off", "Sweep off"),
                Stage("during", "During trial (ABG)", True),
                Stage("end", "End of trial"),
            ),
            VV_GASES + VV_VENT,
            cr.SWEEP_OFF,
            None,
            "Sweep off 2–3 h (ELSO lesson) to >6 h, ECMO flow >2 L/min, ABGs during the trial: "
            + cr.NURSEKEY,
        ),
        Protocol(
            "va_flow_reduction",
            "VA",
            "VA flow reduction",
            (
                Stage("baseline", "Baseline (full flow)"),
                Stage("flow_66", "Flow 66 % (15 min)"),
                Stage("flow_33", "Flow 33 % or ≤1.5 L/min (15 min)"),
                Stage("minimal", "Minimal flow / trial off", True),
            ),
            VA_MEASURES,
            cr.VA_FLOW_STEP,
            "blood_flow",
            "Flow to 66 % then 33 % (or 1–1.5 L/min), 15 min each, echo at each step "
            + cr.AISSAOUI,
        ),
    )
}
SWEEP_OFF_STAGES = ("sweep_off", "during", "end")


def order_problems(
    protocol: Protocol,
    stage: str,
    at: datetime,
    values: Mapping[str, float],
    previous: tuple[str, datetime, Mapping[str, float]] | None,
) -> list[FieldProblem]:
    """Why this step cannot follow the previous one (empty list: it can)."""
    if protocol.stage(stage) is None:
        allowed = ", ".join(s.key for s in protocol.stages)
        return [FieldProblem("stage", f"'{stage}' is not a stage of this trial ({allowed})", stage)]
    if previous is None:
        first = protocol.stages[0].key
        if stage != first:
            return [FieldProblem("stage", f"the first step must be '{first}'", stage)]
        return _sweep_off_problems(protocol, stage, values)
    return _after(protocol, stage, at, values, previous) + _sweep_off_problems(
        protocol, stage, values
    )


def _after(
    protocol: Protocol,
    stage: str,
    at: datetime,
    values: Mapping[str, float],
    previous: tuple[str, datetime, Mapping[str, float]],
) -> list[FieldProblem]:
    last_stage, last_at, last_values = previous
    problems = []
    if at < last_at:
        problems.append(
            FieldProblem("at", f"this step is before the previous step ({last_at.isoformat()})", at)
        )
    here, before = protocol.index(stage), protocol.index(last_stage)
    if here < before or (here == before and not protocol.stages[here].repeatable):
        nxt = [s.key for s in protocol.stages[before:] if s.repeatable or s.key != last_stage]
        problems.append(
            FieldProblem(
                "stage",
                f"'{stage}' cannot follow '{last_stage}'; next may be: {', '.join(nxt) or 'none'}",
                stage,
            )
        )
    code = protocol.falling
    if code and code in values and code in last_values and values[code] > last_values[code]:
        problems.append(
            FieldProblem(
                code,
                f"{values[code]:g} is higher than the previous step's {last_values[code]:g}: "
                "a weaning step lowers it (abort the trial to return to full support)",
                values[code],
            )
        )
    return problems


def _sweep_off_problems(
    protocol: Protocol, stage: str, values: Mapping[str, float]
) -> list[FieldProblem]:
    sweep = values.get("sweep_flow")
    if protocol.kind == "sweep_off" and stage in SWEEP_OFF_STAGES and sweep not in (None, 0):
        return [
            FieldProblem("sweep_flow", f"{sweep:g} L/min: the sweep is off at this stage", sweep)
        ]
    return []


def flow_percent(flow: float | None, baseline: float | None) -> float | None:
    if flow is None or not baseline:
        return None
    return round(100.0 * flow / baseline, 0)
