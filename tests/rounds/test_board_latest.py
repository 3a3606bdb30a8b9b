"""The board's latest value per run and code (PostgreSQL: one fixed statement, an index
seek per run and code) is what a plain read gives: the newest final value at or before the
board's time, the higher id when two share a time, never a withdrawn value, with the value
as entered when it was entered in another unit."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
from sqlalchemy import select

from continuum.core import observation_service, run_service
from continuum.core.record import Observation
from continuum.core.roles import Actor
from continuum.core.run_record import Run
from continuum.core.schemas import RunCreate
from continuum.db import unit_of_work
from continuum.rounds import board
from tests.seed import RUN_START

ACTOR = Actor(staff_id=None, name="test", role="physician")
CODES = ("blood_flow", "p_access", "spo2", "hb", "anti_xa")


def _plain(db, run_id: int, code: str, as_of: datetime):  # type: ignore[no-untyped-def]
    return db.scalars(
        select(Observation)
        .where(
            Observation.run_id == run_id,
            Observation.code == code,
            Observation.status == "final",
            Observation.time <= as_of,
        )
        .order_by(Observation.time.desc(), Observation.id.desc())
        .limit(1)
    ).first()


def test_latest_values_equal_the_plain_read(sessions) -> None:  # type: ignore[no-untyped-def]
    start = RUN_START + timedelta(hours=1, microseconds=250_000)
    rng = np.random.default_rng(5)
    run_ids = []
    with unit_of_work(sessions) as db:
        second = run_service.start_run(
            db,
            ACTOR,
            RunCreate(patient_id=2, support_type="pulmonary", mode="VV", started_at=RUN_START),
        )
        db.flush()
        for run in (db.get_one(Run, 1), second):  # the seeded run has values of its own too
            rows = []
            for code in CODES[:4]:  # no anti-Xa: a code the run has no value of
                n = int(rng.integers(3, 30))
                minutes = np.sort(rng.integers(0, 300, n))  # repeated minutes: ties in time
                times = np.datetime64(start.replace(tzinfo=None), "us") + minutes * np.timedelta64(
                    60, "s"
                )
                values = rng.uniform(1.0, 9.0, n)
                entered = None
                if code == "hb":  # entered in g/L: shown as entered
                    entered = (values * 10, "g/L")
                rows += observation_service.series_rows(
                    run.id, code, times, values, "console", entered=entered
                )
            observation_service.bulk_insert(db, rows)
            db.flush()
            newest = db.scalars(
                select(Observation)
                .where(Observation.run_id == run.id)
                .order_by(Observation.time.desc(), Observation.id.desc())
            ).all()
            for o in newest[:2]:  # withdrawn: the board shows the value before
                o.status = "entered_in_error"
            run_ids.append(run.id)
    entered_seen = 0
    with sessions() as db:
        for as_of in (start + timedelta(minutes=m) for m in (0, 45, 150, 299, 400)):
            typed: dict[int, dict[str, str]] = {}
            got = board.latest_values(db, run_ids, CODES, as_of, typed)
            seen = 0
            for run_id in run_ids:
                for code in CODES:
                    plain = _plain(db, run_id, code, as_of)
                    if plain is None:
                        assert code not in got.get(run_id, {})
                        continue
                    seen += 1
                    assert got[run_id][code] == (plain.time, plain.value)
                    if plain.entered_unit is not None:  # hb entered in g/L: shown so
                        assert typed[run_id][code].endswith(plain.entered_unit)
                        entered_seen += 1
                    else:
                        assert code not in typed.get(run_id, {})
            assert seen or as_of == start
    assert entered_seen > 0
