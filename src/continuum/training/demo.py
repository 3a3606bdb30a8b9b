"""Demo: staff competencies (current, expiring, expired) and one finished simulation
session with its debrief: an oxygenator failure injected, a wrong pump change first, then
the membrane-lung change that puts it right, the alerts acknowledged, a sign-off."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session

from continuum.core import competencies, run_service, run_view
from continuum.core.roles import Actor
from continuum.core.run_record import Component, Run
from continuum.core.schemas import ComponentCreate
from continuum.training import service
from continuum.training.schemas import SessionIn, SignOffIn

# (person key, competency, months ago achieved) — a mix of current, expiring and expired.
RECORDS: tuple[tuple[str, str, int], ...] = (
    ("perfusionist", "circuit_change", 3),
    ("perfusionist", "emergency_air", 11),
    ("perfusionist", "emergency_pump_failure", 14),
    ("perfusionist", "transport", 5),
    ("perfusionist", "priming", 2),
    ("physician", "cannulation_assist", 6),
    ("physician", "transport", 12),
    ("nurse", "ambulation", 4),
    ("nurse", "emergency_decannulation", 10),
    ("nurse", "emergency_air", 13),
)


def _months_ago(today: date, months: int) -> date:
    return competencies.add_months(today, -months)


def _replace(db: Session, actor: Actor, run: Run, kind: str, at: datetime, reason: str) -> None:
    old = next(c for c in run.components if c.kind == kind and c.stopped_at is None)
    run_service.add_component(
        db,
        actor,
        run,
        ComponentCreate(
            kind=kind,  # type: ignore[arg-type]
            make="Simulator",
            model="Training spare",
            started_at=at,
            replaces_id=old.id,
            stop_reason=reason,  # type: ignore[arg-type]
        ),
    )
    db.flush()
    db.expire(run, ["components"])


def add_demo_data(db: Session, staff: dict[str, Actor], now: datetime) -> None:
    coordinator, perfusionist = staff["coordinator"], staff["perfusionist"]
    today = now.date()
    for key, code, months in RECORDS:
        person = staff[key]
        if person.staff_id is None:
            continue
        competencies.record(
            db,
            coordinator,
            person.staff_id,
            competencies.CompetencyIn(
                competency=code,  # type: ignore[arg-type]
                achieved_on=_months_ago(today, months),
                assessor_id=coordinator.staff_id,
                evidence_kind="assessment",
            ),
            today,
        )
    # Real time (1×): the membrane-lung gradient detector needs its rise to last an hour.
    start = now - timedelta(minutes=150)
    trainees = [p.staff_id for p in (perfusionist, staff["nurse"]) if p.staff_id is not None]
    row = service.start(
        db,
        coordinator,
        SessionIn(
            title="Night-shift oxygenator failure drill",
            scenario="control_vv",
            acceleration=1,
            seed=11,
            trainee_ids=trainees,
        ),
        start,
    )
    service.catch_up(db, row, now - timedelta(minutes=140))
    service.inject(db, coordinator, row.id, "oxygenator_failure", now - timedelta(minutes=140))
    run = db.get_one(Run, row.run_id)
    service.catch_up(db, row, now - timedelta(minutes=95))
    _replace(db, perfusionist, run, "pump", now - timedelta(minutes=95), "other")
    service.catch_up(db, row, now - timedelta(minutes=35))
    at = now - timedelta(minutes=35)
    _replace(db, perfusionist, run, "membrane_lung", at, "oxygenator_failure")
    service.catch_up(db, row, now)
    for alert in run_view.open_alerts(db, run.id):
        detector = str(alert.get("detector", ""))
        if detector:
            run_view.review_alerts(db, perfusionist, run.id, detector, "seen at the drill")
    service.end(db, coordinator, row.id, "Debriefed at the bedside: check ΔP before the pump.", now)
    if perfusionist.staff_id is not None:
        service.sign_off(
            db,
            coordinator,
            row.id,
            SignOffIn(staff_id=perfusionist.staff_id, competency="simulation_response"),
            today,
        )
    assert db.query(Component).filter(Component.run_id == run.id).count() >= 5
