"""Feed health: a console that stops sending raises its own alert without any new data
arriving (the evaluator's periodic check), says "no console data for N min" on the run page
and the board, and clears when console data return (docs/clinical/reference.md §4.7)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from continuum.alerts import feed
from continuum.alerts.due import DueEvaluator
from continuum.alerts.models import CircuitAlert
from continuum.core import observation_service, run_view, settings_service
from continuum.core.alert_state import CONSOLE_SILENT, console_silence, state_of
from continuum.core.roles import Actor
from continuum.core.run_record import Run
from continuum.core.schemas import ObservationIn
from continuum.db import make_engine, make_sessionmaker, unit_of_work, utcnow
from tests.alerts.conftest import PHYSICIAN, alerts, events
from tests.conftest import Web

QA = Actor(staff_id=None, name="QA lead", role="qa_lead")
M = timedelta(minutes=1)


def console(
    db: Session, run_id: int, start: datetime, end: datetime, source: str = "console"
) -> None:
    """Blood flow and pump speed every minute from ``start`` to ``end``."""
    items = []
    t = start
    while t <= end:
        items += [
            ObservationIn(code="blood_flow", value=4.5, time=t, source=source),
            ObservationIn(code="pump_speed", value=3200, time=t, source=source),
        ]
        t += M
    observation_service.record_observations(db, PHYSICIAN, db.get_one(Run, run_id), items)


def silent_alerts(db: Session, run_id: int) -> list[CircuitAlert]:
    return [a for a in alerts(db, run_id) if a.detector == CONSOLE_SILENT]


def test_silence_raises_once_without_new_data_and_clears_when_data_return(
    sessions: sessionmaker[Session], run_id: int
) -> None:
    now = utcnow().replace(microsecond=0)
    last = now - 20 * M
    with unit_of_work(sessions) as db:
        console(db, run_id, last - 60 * M, last)
    with unit_of_work(sessions) as db:  # 3 min after the last value: within the limit
        assert feed.check_feeds(db, last + 3 * M).raised == 0
        assert silent_alerts(db, run_id) == []
    with unit_of_work(sessions) as db:  # nothing new arrives; the periodic check finds it
        assert feed.check_feeds(db, now).raised == 1
    with unit_of_work(sessions) as db:
        [alert] = silent_alerts(db, run_id)
        assert (alert.severity, state_of(alert).key) == ("warning", "active")
        assert alert.raised_at == last + 5 * M  # when the limit was passed, not when checked
        assert alert.evidence["last_console_at"] == last.isoformat().replace("+00:00", "Z")
        shown = console_silence(run_view.open_alerts(db, run_id), now + 2 * M)
        assert shown == "no console data for 22 min"
    with unit_of_work(sessions) as db:  # checked again: still one alert, no new step
        assert feed.check_feeds(db, now + M).raised == 0
        [same] = silent_alerts(db, run_id)
        assert events(db, same.id) == ["raised"]
    back = utcnow().replace(microsecond=0) - M
    with unit_of_work(sessions) as db:  # the console speaks again: cleared with that batch
        console(db, run_id, back, back)
    with unit_of_work(sessions) as db:
        [cleared] = silent_alerts(db, run_id)
        assert cleared.cleared_at == back
        assert state_of(cleared).words == "cleared — awaiting review"
        assert events(db, cleared.id) == ["raised", "cleared"]
        assert console_silence(run_view.open_alerts(db, run_id), utcnow()) is None


def test_hand_entered_values_are_not_a_console_and_zero_turns_the_check_off(
    sessions: sessionmaker[Session], run_id: int
) -> None:
    now = utcnow()
    with unit_of_work(sessions) as db:
        console(db, run_id, now - 90 * M, now - 60 * M, source="manual")
    with unit_of_work(sessions) as db:
        assert feed.check_feeds(db, now).checked >= 1
        assert silent_alerts(db, run_id) == []
    with unit_of_work(sessions) as db:
        console(db, run_id, now - 50 * M, now - 40 * M)
        settings_service.save(db, QA, "surveillance", {"console_silence_min": 0}, "off")
    with unit_of_work(sessions) as db:
        assert feed.check_feeds(db, now) == feed.FeedCheck()
        assert silent_alerts(db, run_id) == []


def test_the_evaluator_loop_checks_feeds(sessions: sessionmaker[Session], run_id: int) -> None:
    now = utcnow()
    with unit_of_work(sessions) as db:
        console(db, run_id, now - 40 * M, now - 30 * M)
    evaluator = DueEvaluator(sessions, interval=1.0)
    first = evaluator.check_feeds()
    assert first is not None and first.raised == 1
    assert evaluator.check_feeds() is None  # not again within the minute
    with unit_of_work(sessions) as db:
        assert len(silent_alerts(db, run_id)) == 1


def test_run_page_and_board_say_how_long_the_console_has_been_silent(web: Web) -> None:
    engine = make_engine(web.url)
    sessions = make_sessionmaker(engine)
    now = utcnow()
    with unit_of_work(sessions) as db:
        console(db, 1, now - 60 * M, now - 12 * M)
    with unit_of_work(sessions) as db:
        feed.check_feeds(db, now)
    engine.dispose()
    web.login("nurse")
    run_page = web.client.get("/runs/1").text
    assert "no console data for 12 min" in run_page
    board = web.client.get("/rounds").text
    assert "no console data for 12 min" in board
    assert "console silent" in web.client.get("/alerts").text
