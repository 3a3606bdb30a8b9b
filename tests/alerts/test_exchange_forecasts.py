"""Exchange forecasts where decisions are made: a run whose membrane lung is failing (the
simulator's oxygenator_failure, stored as observations) shows a forecast on the run page and
the rounds board, with the line, the interval and the method; refusals say why."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
from sqlalchemy.orm import Session, sessionmaker

from continuum.core import observation_service, run_view
from continuum.core.run_record import Run
from continuum.core.schemas import ObservationIn
from continuum.db import make_engine, make_sessionmaker, unit_of_work
from continuum.simulator import simulate
from tests.alerts.conftest import PHYSICIAN, new_run
from tests.conftest import Web
from tests.seed import RUN_START

CONSOLE = ("blood_flow", "pump_speed", "p_access", "p_preoxy", "p_postoxy", "sweep_flow",
           "sweep_fio2")  # fmt: skip
SPARSE = ("post_oxy_po2", "post_oxy_so2", "pre_oxy_po2", "pre_oxy_so2", "post_oxy_pco2",
          "pre_oxy_pco2", "hb", "pfhb")  # fmt: skip


def store_failing_lung(sessions: sessionmaker[Session], run_id: int, hours: float) -> None:
    """The first ``hours`` of a simulated failing membrane lung (console every 10 min)."""
    sim = simulate("oxygenator_failure", "VV", 72, 1001)
    n = int(hours * 60)
    items = []
    for code in CONSOLE + SPARSE:
        v = sim.signals[code][:n]
        step = 10 if code in CONSOLE else 1
        for i in np.flatnonzero(np.isfinite(v)):
            if code in CONSOLE and i % step:
                continue
            t = RUN_START + timedelta(minutes=int(i))
            items.append(ObservationIn(code=code, value=float(v[i]), time=t))
    with unit_of_work(sessions) as db:
        observation_service.record_observations(db, PHYSICIAN, db.get_one(Run, run_id), items)


def test_run_view_offers_a_forecast_with_its_evidence(sessions: sessionmaker[Session]) -> None:
    run_id = new_run(sessions)
    store_failing_lung(sessions, run_id, 42)
    with unit_of_work(sessions) as db:
        out = {f["criterion"]: f for f in run_view.exchange_forecasts(db, run_id)}
        again = run_view.exchange_forecasts(db, run_id)  # cached: same answer
    assert set(out) == {"dp_per_flow", "post_oxy_po2", "o2_transfer", "pump_drift", "pfhb"}
    po2 = out["post_oxy_po2"]
    assert po2["status"] == "forecast", po2
    assert po2["line"] == 200 and po2["interval"]["earliest"] <= po2["predicted_crossing"]
    assert po2["text"].startswith("ML exchange criterion likely in")
    assert out["dp_per_flow"]["reason"] == "already_crossed"
    assert [f["status"] for f in again] == [f["status"] for f in out.values()]


def test_run_page_and_rounds_board_show_it(web_any: Web) -> None:
    web = web_any
    engine = make_engine(web.url)
    sessions = make_sessionmaker(engine)
    run_id = new_run(sessions)
    store_failing_lung(sessions, run_id, 42)
    engine.dispose()
    web.login("nurse")
    page = web.client.get(f"/runs/{run_id}").text
    assert 'id="forecasts"' in page and "Exchange forecasts" in page
    assert "ML exchange criterion likely in" in page
    assert "setting oxy_po2_malfunction = 200" in page and "Theil–Sen linear trend" in page
    assert "already beyond the line (see the alert)" in page  # ΔP/flow: why no forecast
    assert "Projected trend (not measured)" in page and "exchange line 200" in page
    web.login("physician")
    board = web.client.get("/rounds").text
    assert 'class="small forecast" data-criterion="post_oxy_po2"' in board
