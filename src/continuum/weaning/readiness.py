"""Readiness review: the run's criteria pre-filled from the latest observations, judged."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from continuum import support_configuration
from continuum.calculators import run_calculator
from continuum.core import audit, observation_service, run_service
from continuum.core.roles import Actor, Permission
from continuum.core.run_record import Run
from continuum.support_configuration import SupportConfiguration
from continuum.weaning import criteria as cr
from continuum.weaning import settings
from continuum.weaning.models import ReadinessReview
from continuum.weaning.schemas import ReviewIn

RAW = (
    "vent_fio2",
    "peep",
    "tidal_volume",
    "plateau_pressure",
    "pao2",
    "paco2",
    "ph",
    "map",
    "lactate",
    "lvef",
    "lvot_vti",
    "mitral_s_prime",
    "spo2",
    "sao2",
    "blood_flow",
    "sweep_flow",
)
DRUGS = ("dopamine", "dobutamine", "epinephrine", "norepinephrine", "milrinone", "vasopressin")
DERIVED_FROM = {
    "driving_pressure": ("plateau_pressure", "peep"),
    "compliance": ("tidal_volume", "plateau_pressure", "peep"),
    "vt_per_kg_pbw": ("tidal_volume",),
    "pf_ratio": ("pao2", "vent_fio2"),
}


@dataclass(frozen=True)
class Measured:
    value: float | None
    at: datetime | None
    how: str  # "observation", "derived", "calculated", "entered", "none"


def configuration_of(run: Run) -> SupportConfiguration:
    return support_configuration.of_run(run_service.current_mode(run), run.support_type)


def family_of(run: Run) -> str:
    return configuration_of(run).weaning


def measured(session: Session, run: Run) -> dict[str, Measured]:
    """Latest value and time of every measure the criteria use (derived ones included)."""
    out: dict[str, Measured] = {}
    for code in RAW:
        obs = observation_service.latest(session, run.id, code)
        # MAP falls back to a cuff reading (vocabulary.PREFERRED_SOURCES), shown as such.
        how = "observation" if obs is None or obs.code == code else "cuff (non-invasive)"
        out[code] = Measured(obs.value, obs.time, how) if obs else Measured(None, None, "none")
    raw = {k: m.value for k, m in out.items()}
    patient = run.patient
    for name, value in cr.derived(raw, patient.height_cm, patient.sex).items():
        times = [t for c in DERIVED_FROM[name] if (t := out[c].at) is not None]
        out[name] = Measured(value, min(times) if times and value is not None else None, "derived")
    out["vis"] = _vis(session, run)
    return out


def _vis(session: Session, run: Run) -> Measured:
    latest = {d: observation_service.latest(session, run.id, d) for d in DRUGS}
    given = {d: o for d, o in latest.items() if o is not None}
    if not given:
        return Measured(None, None, "none")
    result = run_calculator("vis", {d: o.value for d, o in given.items()})
    return Measured(result.value, min(o.time for o in given.values()), "calculated")


def review(
    session: Session, actor: Actor, run: Run, entered: ReviewIn | None = None
) -> dict[str, Any]:
    """The live review: family, each criterion with value, time, verdict, source; counts."""
    actor.require(Permission.VIEW_CLINICAL)
    fam = family_of(run)
    values = measured(session, run)
    for name in ("pulsatile_hours", "pulse_pressure"):
        given = getattr(entered, name) if entered else None
        values[name] = Measured(given, None, "entered" if given is not None else "none")
    judged = cr.judge_all(
        cr.readiness_criteria(fam),
        {k: m.value for k, m in values.items()},
        settings.overrides(session),
    )
    rows = [_row(j, values[cr.ALL_CRITERIA[j.name].measure]) for j in judged]
    return {"family": fam, "rows": rows, "counts": cr.summary(judged)}


def _row(j: cr.Judgement, m: Measured) -> dict[str, Any]:
    return {**asdict(j), "at": m.at.isoformat() if m.at else None, "how": m.how}


def save_review(session: Session, actor: Actor, run: Run, data: ReviewIn) -> ReadinessReview:
    actor.require(Permission.RUN_WEANING)
    run_service._require_open(run)
    live = review(session, actor, run, data)
    row = ReadinessReview(
        run_id=run.id,
        family=live["family"],
        reviewed_by=actor.staff_id,
        reviewer=actor.name,
        criteria=live["rows"],
        note=data.note,
        **live["counts"],
    )
    session.add(row)
    session.flush()
    audit.record(session, actor, "create", "weaning_review", row.id, run.patient_id, live["counts"])
    return row


def reviews(session: Session, run_id: int) -> list[ReadinessReview]:
    stmt = select(ReadinessReview).where(ReadinessReview.run_id == run_id)
    return list(session.scalars(stmt.order_by(ReadinessReview.reviewed_at.desc())))
