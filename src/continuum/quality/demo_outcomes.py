"""Demo hospital outcomes and ECPR times, so survival to hospital discharge and the ECPR
low-flow time on the metrics page are figures, not "not recorded": most ended runs (the
demo history included) get the hospital outcome in force, one of them corrected; the most
recently ended ones are left unrecorded ("N ended runs without a hospital outcome yet"), as
a programme waiting for discharge letters would be. Every ECPR run gets its arrest and
full-flow times. Written through the services (the clinical events come from the demo's
back-fill)."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from continuum.core import ecpr_times, hospital_outcome
from continuum.core.ecpr_times import EcprTimesIn
from continuum.core.hospital_outcome import HospitalOutcomeIn
from continuum.core.roles import Actor
from continuum.core.run_record import Run

UNRECORDED = 3  # the most recently ended runs wait for their discharge letter


def add_demo_data(db: Session, staff: dict[str, Actor], now: datetime) -> None:
    rng = random.Random(18)
    physician, perfusionist = staff["physician"], staff["perfusionist"]
    runs = list(db.scalars(select(Run).order_by(Run.started_at, Run.id)))
    for run in runs:
        if run.support_type == "ecpr" and ecpr_times.in_force(db, run.id) is None:
            arrest = run.started_at - timedelta(minutes=rng.uniform(28, 80))
            flow = run.started_at + timedelta(minutes=rng.uniform(4, 18))
            if flow < now:
                ecpr_times.record(
                    db, perfusionist, run, EcprTimesIn(cpr_started_at=arrest, full_flow_at=flow)
                )
    ended = [r for r in runs if r.ended_at is not None and r.outcome != "died_on_ecmo"]
    ended.sort(key=lambda r: (r.ended_at, r.id))
    corrected = False
    for run in ended[: max(0, len(ended) - UNRECORDED)]:
        assert run.ended_at is not None
        data = _outcome(rng, run, now)
        row = hospital_outcome.record(db, physician, run, data)
        if not corrected and data.status == "discharged_alive" and data.destination == "home":
            corrected = True
            hospital_outcome.record(
                db, physician, run,
                HospitalOutcomeIn(
                    status="discharged_alive", at=row.at + timedelta(days=2),
                    destination="rehabilitation", corrects_id=row.id,
                    reason="Discharge letter: two days later, to inpatient rehabilitation",
                ),
            )  # fmt: skip


def _outcome(rng: random.Random, run: Run, now: datetime) -> HospitalOutcomeIn:
    assert run.ended_at is not None
    days = rng.uniform(4, 35)
    at = run.ended_at + timedelta(days=days)
    if at > now - timedelta(hours=1):
        return HospitalOutcomeIn(status="in_hospital", at=now - timedelta(hours=1))
    if run.outcome == "withdrawn":
        return HospitalOutcomeIn(
            status="died_in_hospital", at=run.ended_at + timedelta(hours=rng.uniform(1, 20))
        )
    draw = rng.random()
    if draw < 0.18:
        return HospitalOutcomeIn(status="died_in_hospital", at=at)
    if draw < 0.3 or run.outcome == "transferred":
        return HospitalOutcomeIn(status="transferred_alive", at=at, destination="another_hospital")
    destination = "home" if draw < 0.8 else "rehabilitation"
    return HospitalOutcomeIn(status="discharged_alive", at=at, destination=destination)
