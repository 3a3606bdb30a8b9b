"""Demo data: the ECPELLA run (VA, then VA + Impella CP for LV distension) gets its Impella CP
record: insertion at the mode change, an echo position check, and hourly controller
readings (P-level, flow, purge pressure and flow) since."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from continuum.core import clinical_event, observation_service
from continuum.core.roles import Actor
from continuum.core.run_record import ModeSegment, Run
from continuum.core.schemas import ObservationIn
from continuum.mcs import service
from continuum.mcs.schemas import CheckIn, DeviceIn

READING_HOURS = 48  # hourly readings for the last two days (the demo stays small and fast)


def add_demo_data(db: Session, staff: dict[str, Actor], now: datetime) -> None:
    segment = db.scalar(
        select(ModeSegment).where(ModeSegment.mode == "VA+Impella").order_by(ModeSegment.id)
    )
    if segment is None:
        return
    run = db.scalar(select(Run).where(Run.id == segment.run_id))
    if run is None or run.status == "ended":
        return
    physician = staff.get("physician") or next(iter(staff.values()))
    nurse = staff.get("nurse") or physician
    db.info.pop(clinical_event.DEFER, None)  # the few device events go on the timeline now
    device = service.create(
        db,
        physician,
        run,
        DeviceIn(
            kind="impella",
            model="CP",
            site="right femoral artery",
            inserted_at=segment.started_at,
        ),
    )
    service.add_check(
        db,
        physician,
        device.id,
        CheckIn(
            kind="position",
            at=segment.started_at + timedelta(minutes=40),
            method="echo",
            result="correct",
            note="inlet 3.5 cm below the aortic valve, outlet in the ascending aorta",
        ),
    )
    start = max(segment.started_at + timedelta(hours=1), now - timedelta(hours=READING_HOURS))
    items: list[ObservationIn] = []
    t = start.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    i = 0
    while t <= now - timedelta(minutes=5):
        level = 8 if t < now - timedelta(hours=12) else 6  # weaning by two P-levels
        flow = (3.3 if level == 8 else 2.7) + 0.1 * math.sin(i / 3)
        for code, value in (
            ("impella_p_level", level),
            ("impella_flow", round(flow, 1)),
            ("impella_purge_pressure", round(560 + 25 * math.sin(i / 5))),
            ("impella_purge_flow", round(12.5 + 0.8 * math.cos(i / 4), 1)),
        ):
            items.append(ObservationIn(code=code, value=value, time=t, source="manual"))
        t += timedelta(hours=1)
        i += 1
    if items:
        observation_service.record_observations(db, nurse, run, items)
