"""The hand-worked cohort (tests/quality/metrics_cohort) plus what the OMOP and CLIF exports
read beyond it: three console readings on run A (flow, speed, sweep, FdO2 at the same
minute), the console's make and model, and a cannula with a serial number, lot and UDI
(device identifiers a de-identified export must leave out)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from continuum.core.record import Observation
from continuum.core.run_record import Cannula, Component, Run
from tests.quality import metrics_cohort as hand

SERIAL, LOT, UDI = "SN-77341-QX", "LOT-90412-ZZ", "(01)04056869001234(21)SN77341QX"
READINGS = [  # minutes after the start: blood_flow, pump_speed, sweep_flow, sweep_fio2
    (60, 4.5, 3500.0, 4.0, 1.0),
    (61, 4.6, 3520.0, 4.0, 0.9),
    (62, 4.4, 3480.0, 3.5, 0.8),
]


def build(db: Session) -> dict[str, int]:
    ids = hand.build(db)
    run = db.get(Run, ids["A"])
    assert run is not None
    console = db.scalar(
        select(Component).where(Component.run_id == run.id, Component.kind == "console")
    )
    assert console is not None
    console.make, console.model = "Getinge", "Cardiohelp"
    db.add(Cannula(run_id=run.id, role="drainage_and_return", site="right internal jugular vein",
                   side="right", french=27, serial=SERIAL, lot=LOT, udi=UDI,
                   inserted_at=run.started_at, removed_at=run.ended_at))  # fmt: skip
    for minute, flow, speed, sweep, fdo2 in READINGS:
        at = run.started_at + timedelta(minutes=minute)
        for code, value, unit in (
            ("blood_flow", flow, "L/min"),
            ("pump_speed", speed, "rpm"),
            ("sweep_flow", sweep, "L/min"),
            ("sweep_fio2", fdo2, "1"),
        ):
            db.add(Observation(run_id=run.id, code=code, time=at, value=value, unit=unit,
                               source="console"))  # fmt: skip
    db.flush()
    return ids
