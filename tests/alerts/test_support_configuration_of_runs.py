"""The alert service reads a run's detectors from its support configuration: VV + IABP is
still venovenous (recirculation watched), and a mode change to VA switches it off."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker

from continuum.alerts import inputs
from continuum.core import run_service
from continuum.core.run_record import Run
from continuum.core.schemas import ModeChange, RunCreate
from continuum.db import unit_of_work
from continuum.surveillance import RunSeries
from tests.alerts.conftest import PHYSICIAN
from tests.seed import RUN_START


def test_the_runs_mode_decides_which_detectors_watch_it(sessions: sessionmaker[Session]) -> None:
    with unit_of_work(sessions) as db:
        run = run_service.start_run(
            db,
            PHYSICIAN,
            RunCreate(patient_id=2, support_type="pulmonary", mode="VV+IABP", started_at=RUN_START),
        )
        db.flush()
        run_id = run.id
    with unit_of_work(sessions) as db:
        run = db.get_one(Run, run_id)
        assert inputs.series_mode(run) == "VV+IABP"
        series = RunSeries(inputs.series_mode(run), {})
        assert series.applies("recirculation") and not series.applies("differential_hypoxia")
        change = ModeChange(
            mode="VA", at=RUN_START + timedelta(hours=3), reason="cardiogenic shock on VV"
        )
        run_service.change_mode(db, PHYSICIAN, run, change)
    with unit_of_work(sessions) as db:
        series = RunSeries(inputs.series_mode(db.get_one(Run, run_id)), {})
        assert series.mode == "VA"
        assert not series.applies("recirculation") and series.applies("differential_hypoxia")
