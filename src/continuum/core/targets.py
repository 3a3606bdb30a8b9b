"""Run targets: the ranges a team sets for a run (anticoagulation, flow, gases …).

Rounds goals, configuration plans and weaning protocols set them; surveillance and the
rounds board read them. Values are in the vocabulary's units.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from continuum import vocabulary
from continuum.core import audit
from continuum.core.record import RunTarget
from continuum.core.roles import Actor, Permission
from continuum.core.run_record import Run
from continuum.errors import FieldProblem, ValidationFailed


@dataclass(frozen=True)
class Target:
    code: str
    low: float | None
    high: float | None
    unit: str
    source: str | None

    def contains(self, value: float) -> bool:
        return (self.low is None or value >= self.low) and (self.high is None or value <= self.high)

    @property
    def text(self) -> str:
        if self.low is not None and self.high is not None:
            return f"{self.low:g}–{self.high:g} {self.unit}"
        if self.low is not None:
            return f"≥ {self.low:g} {self.unit}"
        return f"≤ {self.high:g} {self.unit}"


def set_target(
    session: Session,
    actor: Actor,
    run: Run,
    code: str,
    low: float | None,
    high: float | None,
    source: str | None = None,
) -> RunTarget:
    """Record a new target for ``code`` on ``run`` (in the code's unit); checks plausibility."""
    actor.require(Permission.VIEW_CLINICAL)
    spec = vocabulary.get(code)
    problems = []
    for name, value in (("low", low), ("high", high)):
        if value is not None and not spec.low <= value <= spec.high:
            problems.append(
                FieldProblem(
                    f"{code}.{name}", f"{value:g} {spec.unit} is outside {spec.range_text}", value
                )
            )
    if low is None and high is None:
        problems.append(FieldProblem(code, "give a lower or an upper limit"))
    if low is not None and high is not None and low > high:
        problems.append(FieldProblem(code, f"lower limit {low:g} is above upper limit {high:g}"))
    if problems:
        raise ValidationFailed(problems)
    row = RunTarget(
        run_id=run.id,
        code=code,
        low=low,
        high=high,
        unit=spec.unit,
        set_by=actor.staff_id,
        source=source,
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor,
        "create",
        "run_target",
        row.id,
        run.patient_id,
        {"code": code, "low": low, "high": high, "source": source},
    )
    return row


def current_targets(session: Session, run_id: int) -> dict[str, Target]:
    """The newest target per code for a run."""
    rows = session.scalars(
        select(RunTarget).where(RunTarget.run_id == run_id).order_by(RunTarget.set_at, RunTarget.id)
    )
    out: dict[str, Target] = {}
    for r in rows:
        out[r.code] = Target(r.code, r.low, r.high, r.unit, r.source)
    return out
