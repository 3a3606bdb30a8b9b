"""Demo data: yesterday's round for every active demo run (attendance, goals, an open
action) and a perfusion circuit check this morning."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from continuum.core import observation_service, run_view
from continuum.core.roles import Actor
from continuum.core.run_record import Run
from continuum.core.run_service import current_mode
from continuum.rounds import board_readings, circuit_check, round_record
from continuum.rounds.models import RoundAction
from continuum.rounds.schemas import INSPECTION_SITES, CircuitCheckIn, RoundIn

TEAM = ("Dr Maria Rossi", "Sam Okafor", "Grace Mwangi", "Hannah Liu")


def add_demo_data(db: Session, staff: dict[str, Actor], now: datetime) -> None:
    runs = db.scalars(select(Run).where(Run.status != "ended").order_by(Run.id)).all()
    for i, run in enumerate(runs):
        _round(db, staff, run, now, perfusion_there=i % 3 != 2, overdue=i == 0)
        _check(db, staff["perfusionist"], run, now, fibrin=i == 1)


def _goals(db: Session, run: Run) -> dict[str, Any]:
    """Goals that fit the run: VA support (the pump carries the circulation, VA-ECPR too)
    aims at oxygenated flow and CO2 clearance; VV at permissive saturation; a run weaning
    off the sweep has no minimum sweep."""
    flow = observation_service.latest(db, run.id, "blood_flow")
    centre = round(flow.value, 1) if flow else 4.5
    goals: dict[str, Any] = {
        "blood_flow": {"low": max(centre - 0.5, 0.5), "high": min(centre + 0.5, 9.5)},
        "paco2": {"low": 35, "high": 45},
        "anti_xa": {"low": 0.3, "high": 0.5},
    }
    if board_readings.family(current_mode(run), run.support_type) == "VA":
        return goals | {
            "sweep_flow": {"low": 1, "high": 4},
            "pao2": {"low": 70},
            "fluid_balance_ml": {"low": -500, "high": 500},
        }
    sweep = {"high": 2} if run.status == "weaning" else {"low": 2, "high": 6}
    return goals | {
        "sweep_flow": sweep,
        "spo2": {"low": 88},
        "fluid_balance_ml": {"low": -1000, "high": 0},
    }


def _round(
    db: Session,
    staff: dict[str, Actor],
    run: Run,
    now: datetime,
    perfusion_there: bool,
    overdue: bool,
) -> None:
    day = max((now - timedelta(days=1)).date(), run.started_at.astimezone(UTC).date())
    held = datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=9)
    team = [n for n in TEAM if perfusion_there or n != "Sam Okafor"]
    due = held + timedelta(hours=9) if overdue else now + timedelta(hours=6)
    action = ("Repeat pfHb and LDH", "nursing") if overdue else ("Review ΔP trend", "perfusion")
    data = RoundIn.model_validate(
        {
            "round_date": day.isoformat(),
            "held_at": held.isoformat(),
            "attendees": [staff[n].staff_id for n in team],
            "problems": f"{run.indication or 'ECMO support'}; day-by-day review.",
            "therapy": {
                "anticoagulation": "Unfractionated heparin to anti-Xa 0.3–0.5",
                "ventilation": "PEEP 10, Pplat < 25, RR 10",
                "sedation": "RASS −2",
                "fluids": "Negative balance as tolerated",
                "blood_products": "Hb > 7 g/dL",
            },
            "goals": _goals(db, run),
            # Every open alert gets an explicit disposition; the demo leaves them open so
            # the alerts page still shows them to acknowledge.
            "alerts_reviewed": [
                {
                    "detector": a["detector"],
                    "severity": a["severity"],
                    "summary": a["summary"],
                    "disposition": "left_open",
                    "note": "Discussed at rounds; the bedside team reviews it",
                }
                for a in run_view.open_alerts(db, run.id)
                if a.get("status") == "open"
            ],
            "actions": [
                {"text": action[0], "owner_discipline": action[1], "due_at": due.isoformat()}
            ],
        }
    )
    row = round_record.record_round(db, staff["physician"], run, data, now.date(), day)
    for act in db.scalars(select(RoundAction).where(RoundAction.round_id == row.id)):
        act.created_at = held
    round_record.sign_round(db, staff["physician"], row.id)


def _check(db: Session, actor: Actor, run: Run, now: datetime, fibrin: bool) -> None:
    inspection = dict.fromkeys(INSPECTION_SITES, "none")
    if fibrin:
        inspection |= {"ml_inlet": "fibrin", "connectors": "fibrin"}
    data = CircuitCheckIn(
        checked_at=now - timedelta(hours=2),
        shift="day",
        inspection=inspection,  # type: ignore[arg-type]
        heater="37.0 °C, water level ok",
        findings="Fibrin strands at the membrane-lung inlet" if fibrin else "Circuit clean",
    )
    circuit_check.record_check(db, actor, run, data)
