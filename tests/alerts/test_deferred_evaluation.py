"""Deferred surveillance (streaming ingest): a batch only marks its run due; evaluate_due
raises the same alerts inline evaluation would, removes a mark only with a committed
evaluation, keeps a run due when a batch lands during its evaluation, backs off a failing
run without holding up the others, and never lets two evaluators take one run at once."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from continuum.alerts import due, watch
from continuum.alerts.models import CircuitAlert, SurveillanceDue
from continuum.core import observation_service
from continuum.core.run_record import Run
from continuum.core.schemas import ObservationIn
from continuum.db import make_engine, make_sessionmaker, unit_of_work, utcnow
from continuum.ingest.mqtt_bridge import MqttIngest
from tests.alerts.conftest import PHYSICIAN, T0, alerts, store
from tests.ingest.helpers import add_run
from tests.seed import RUN_START, SECRET_MRNS

H = timedelta(hours=1)
AlertRow = tuple[Any, ...]


def deferred(sessions: sessionmaker[Session], run_id: int, at: Any, **values: float) -> None:
    """One batch stored as the streaming listeners store it."""
    with unit_of_work(sessions) as db:
        db.info["defer_surveillance"] = True
        store(db, run_id, at, **values)


def marks(sessions: sessionmaker[Session]) -> dict[int, SurveillanceDue]:
    with sessions() as db:
        return {d.run_id: d for d in db.scalars(select(SurveillanceDue))}


def shown(sessions: sessionmaker[Session], run_id: int) -> list[AlertRow]:
    with sessions() as db:
        return sorted(
            (a.detector, a.severity, a.peak_severity, a.status, a.raised_at, a.cleared_at)
            for a in alerts(db, run_id)
        )


def failing_oxygenator(batch: int) -> list[ObservationIn]:
    """Half an hour of console data: ΔP steady for 7 h then rising (clot), post-oxygenator
    pO2 falling after 7 h (gas-exchange failure)."""
    items = []
    for m in range(batch * 30, batch * 30 + 30):
        h = m / 60
        dp = 25 if h < 7 else min(50, 25 + 25 * (h - 7))
        at = RUN_START + timedelta(minutes=10 + m)
        values = {"blood_flow": 4.5, "p_preoxy": 250 + dp, "p_postoxy": 250.0}
        if m % 10 == 0:
            values |= {"sweep_flow": 4.0, "sweep_fio2": 1.0}
        if m % 60 == 0:
            values |= {"post_oxy_po2": 450 if h < 7 else max(150, 450 - 120 * (h - 6))}
            values |= {"post_oxy_pco2": 38.0}
        items += [ObservationIn(code=c, value=v, time=at) for c, v in values.items()]
    return items


def test_deferred_batches_alert_only_once_evaluated_and_as_inline_would(
    sessions: sessionmaker[Session],
) -> None:
    inline = add_run(sessions, "OXY-INLINE", RUN_START)
    later = add_run(sessions, "OXY-DEFERRED", RUN_START)
    for batch in range(22):
        for run_id, defer in ((inline, False), (later, True)):
            with unit_of_work(sessions) as db:
                db.info["defer_surveillance"] = defer
                run = db.get_one(Run, run_id)
                observation_service.record_observations(
                    db, PHYSICIAN, run, failing_oxygenator(batch)
                )
        if batch == 18:
            assert shown(sessions, inline)  # inline: alerts already raised …
            assert shown(sessions, later) == []  # … deferred: nothing until evaluated
            assert set(marks(sessions)) == {later}
            assert marks(sessions)[later].version == 19  # one mark, bumped per batch
            assert due.evaluate_due(sessions) == 1
            assert shown(sessions, later) == shown(sessions, inline)
            assert marks(sessions) == {}
    assert due.evaluate_due(sessions) == 1
    want = shown(sessions, inline)
    assert {a[0] for a in want} == {"transmembrane_gradient_rise", "oxygenator_dysfunction"}
    assert shown(sessions, later) == want
    assert marks(sessions) == {} and due.evaluate_due(sessions) == 0


def test_a_failing_run_keeps_its_mark_backs_off_and_holds_up_no_other(
    sessions: sessionmaker[Session], run_id: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = add_run(sessions, "OTHER-1", RUN_START)
    deferred(sessions, run_id, T0, pfhb=60)
    deferred(sessions, other, T0, pfhb=60)
    real = watch.evaluate_run
    calls: list[int] = []

    def broken(session: Session, rid: int, **kw: Any) -> list[CircuitAlert]:
        calls.append(rid)
        found = real(session, rid, **kw)  # alerts flushed, then the evaluation fails
        if rid == run_id:
            raise RuntimeError("detector blew up")
        return found

    monkeypatch.setattr(watch, "evaluate_run", broken)
    assert due.evaluate_due(sessions) == 1
    assert shown(sessions, other) and shown(sessions, run_id) == []  # rolled back whole
    mark = marks(sessions)[run_id]
    assert set(marks(sessions)) == {run_id}
    assert mark.attempts == 1 and "detector blew up" in (mark.last_error or "")
    assert mark.next_try_at > utcnow() + timedelta(seconds=1)
    assert due.evaluate_due(sessions) == 0 and calls.count(run_id) == 1  # backed off
    deferred(sessions, run_id, T0 + H, pfhb=65)  # a new batch does not cut the back-off
    assert due.evaluate_due(sessions) == 0 and calls.count(run_id) == 1
    with unit_of_work(sessions) as db:
        db.execute(update(SurveillanceDue).values(next_try_at=utcnow()))
    assert due.evaluate_due(sessions) == 0  # its turn again: fails again, backs off longer
    mark = marks(sessions)[run_id]
    assert mark.attempts == 2 and mark.next_try_at > utcnow() + timedelta(seconds=3)
    monkeypatch.setattr(watch, "evaluate_run", real)
    with unit_of_work(sessions) as db:
        db.execute(update(SurveillanceDue).values(next_try_at=utcnow()))
    assert due.evaluate_due(sessions) == 1
    assert [a[:2] for a in shown(sessions, run_id)] == [("hemolysis", "warning")]
    assert marks(sessions) == {}
    assert due.backoff_s(1) < due.backoff_s(3) <= due.backoff_s(50) == due.BACKOFF_MAX_S


def test_a_batch_stored_during_the_evaluation_leaves_the_run_due(
    sessions: sessionmaker[Session], run_id: int, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    deferred(sessions, run_id, T0, pfhb=60)
    real = watch.evaluate_run
    # another process, which must not wait for the evaluation (fails after 2 s if it does)
    engine = make_engine(db_url, **_lock_timeout(db_url))
    ingest = make_sessionmaker(engine)

    def with_a_batch_meanwhile(session: Session, rid: int, **kw: Any) -> list[CircuitAlert]:
        found = real(session, rid, **kw)
        if session.get_bind().dialect.name == "postgresql":
            deferred(ingest, rid, T0 + H, pfhb=130)  # commits while the evaluation is open
        else:  # SQLite has one writer (the evaluation): a new version between claim and delete
            session.execute(update(SurveillanceDue).values(version=SurveillanceDue.version + 1))
        return found

    monkeypatch.setattr(watch, "evaluate_run", with_a_batch_meanwhile)
    monkeypatch.setattr(due, "PACE", 0.0)  # due again at once (pacing: its own test)
    try:
        assert due.evaluate_due(sessions) == 1
        assert [a[:2] for a in shown(sessions, run_id)] == [("hemolysis", "warning")]
        assert set(marks(sessions)) == {run_id}  # still due: the new batch is not evaluated
        monkeypatch.setattr(watch, "evaluate_run", real)
        assert due.evaluate_due(sessions) == 1
        expected = "critical" if "postgresql" in db_url else "warning"
        assert [a[:2] for a in shown(sessions, run_id)] == [("hemolysis", expected)]
        assert marks(sessions) == {}
    finally:
        engine.dispose()


def test_a_run_still_streaming_is_paced_by_its_evaluation_time(
    sessions: sessionmaker[Session], run_id: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Marked again during a slow evaluation, a run is due again only after PACE × that
    evaluation's time (here 3 × ≥ 0.3 s): evaluations of a busy run leave the CPU to ingest."""
    deferred(sessions, run_id, T0, pfhb=60)
    real = watch.evaluate_run

    def slow_with_a_batch_meanwhile(session: Session, rid: int, **kw: Any) -> list[CircuitAlert]:
        found = real(session, rid, **kw)
        time.sleep(0.3)
        session.execute(update(SurveillanceDue).values(version=SurveillanceDue.version + 1))
        return found

    monkeypatch.setattr(watch, "evaluate_run", slow_with_a_batch_meanwhile)
    before = utcnow()
    assert due.evaluate_due(sessions) == 1
    monkeypatch.setattr(watch, "evaluate_run", real)
    with sessions() as db:
        mark = db.get_one(SurveillanceDue, run_id)
        assert mark.next_try_at >= before + timedelta(seconds=due.PACE * 0.3)
        assert mark.attempts == 0
    assert due.evaluate_due(sessions) == 0  # not yet: paced
    with unit_of_work(sessions) as db:  # the pause has passed
        db.execute(update(SurveillanceDue).values(next_try_at=utcnow()))
    assert due.evaluate_due(sessions) == 1
    assert marks(sessions) == {}


def _lock_timeout(url: str) -> dict[str, Any]:
    if url.startswith("postgresql"):
        return {"connect_args": {"options": "-c lock_timeout=2000"}}
    return {}


def test_ingest_does_not_wait_for_an_evaluation_in_progress(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An MQTT message for the run being evaluated commits (message log row, observations,
    mark) while the evaluation holds its run lock; the run stays due for it."""
    engine = make_engine(pg_url)
    sessions = make_sessionmaker(engine)
    ingest_engine = make_engine(pg_url, **_lock_timeout(pg_url))
    mqtt = MqttIngest(make_sessionmaker(ingest_engine))
    topic = "continuum/console/CH-9"
    with unit_of_work(sessions) as db:
        run_id = db.scalar(select(Run.id).where(Run.patient_id == 1))
    assert mqtt.handle(topic, _mqtt("D-1", 96)).ack == "AA"
    assert set(marks(sessions)) == {run_id}
    real = watch.evaluate_run
    took: list[float] = []

    def with_a_message_meanwhile(session: Session, rid: int, **kw: Any) -> list[CircuitAlert]:
        found = real(session, rid, **kw)
        start = time.monotonic()
        assert mqtt.handle(topic, _mqtt("D-2", 95)).ack == "AA"
        took.append(time.monotonic() - start)
        return found

    monkeypatch.setattr(watch, "evaluate_run", with_a_message_meanwhile)
    try:
        assert due.evaluate_due(sessions) == 1
        assert took and took[0] < 1.0
        assert set(marks(sessions)) == {run_id}
    finally:
        engine.dispose()
        ingest_engine.dispose()


def _mqtt(message_id: str, spo2: float) -> bytes:
    import json

    at = (RUN_START + timedelta(days=1)).isoformat()
    body = {"message_id": message_id, "time": at, "mrn": SECRET_MRNS[0], "values": {"spo2": spo2}}
    return json.dumps(body).encode()


def test_two_evaluators_never_take_the_same_run(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = make_engine(pg_url, pool_size=8)
    sessions = make_sessionmaker(engine)
    runs = [add_run(sessions, f"PAR-{i}", RUN_START) for i in range(4)]
    for run_id in runs:
        deferred(sessions, run_id, T0, pfhb=60)
    real = watch.evaluate_run
    guard = threading.Lock()
    active: set[int] = set()
    calls: list[int] = []
    overlaps: list[int] = []

    def slow(session: Session, rid: int, **kw: Any) -> list[CircuitAlert]:
        with guard:
            calls.append(rid)
            if rid in active:
                overlaps.append(rid)
            active.add(rid)
        try:
            time.sleep(0.15)
            return real(session, rid, **kw)
        finally:
            with guard:
                active.discard(rid)

    monkeypatch.setattr(watch, "evaluate_run", slow)
    counts: list[int] = []
    workers = [
        threading.Thread(target=lambda: counts.append(due.evaluate_due(sessions))) for _ in range(2)
    ]
    try:
        for w in workers:
            w.start()
        for w in workers:
            w.join(30)
        assert overlaps == []
        assert sorted(calls) == sorted(runs)  # each run evaluated once, by one of them
        assert sum(counts) == len(runs) and all(counts)  # and they shared the work
        assert marks(sessions) == {}
        for run_id in runs:
            assert [a[:2] for a in shown(sessions, run_id)] == [("hemolysis", "warning")]
    finally:
        engine.dispose()


def test_mqtt_messages_defer_and_the_evaluator_thread_catches_up(
    sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    with sessions() as db:
        run_id = db.scalar(select(Run.id).where(Run.patient_id == 1))
        before = shown(sessions, run_id)
    assert ("hemolysis", "critical") not in [a[:2] for a in before]
    mqtt = MqttIngest(sessions)
    body = _mqtt("P-1", 95).replace(b'"spo2": 95', b'"pfhb": 300')
    assert mqtt.handle("continuum/console/CH-1", body).ack == "AA"
    assert set(marks(sessions)) == {run_id}
    real_pass = due.evaluate_due
    passes: list[str] = []

    def flaky(*args: Any, **kw: Any) -> int:
        passes.append("x")
        if len(passes) == 1:
            raise ConnectionError("database restarting")  # logged; the loop goes on
        return real_pass(*args, **kw)

    monkeypatch.setattr(due, "evaluate_due", flaky)
    evaluator = due.DueEvaluator(sessions, interval=0.05).start()
    try:
        deadline = time.monotonic() + 10
        while marks(sessions) and time.monotonic() < deadline:
            evaluator.poke()
            time.sleep(0.02)
    finally:
        evaluator.stop()
    assert marks(sessions) == {} and len(passes) >= 2 and evaluator.evaluated == 1
    assert ("hemolysis", "critical") in [a[:2] for a in shown(sessions, run_id)]
    assert evaluator._thread is None


def test_alerts_worker_once_on_the_command_line(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    sessions = make_sessionmaker(engine)
    with unit_of_work(sessions) as db:
        run_id = db.scalar(select(Run.id).where(Run.patient_id == 1))
    deferred(sessions, run_id, T0, pfhb=300)
    cli = str(Path(sys.executable).parent / "continuum")
    env = {**os.environ, "CONTINUUM_DATABASE_URL": sqlite_url}
    ran = subprocess.run(
        [cli, "alerts", "worker", "--once"], env=env, capture_output=True, text=True, timeout=120
    )
    assert ran.returncode == 0, ran.stderr
    assert "evaluated 1 due run" in ran.stdout
    assert marks(sessions) == {}
    with sessions() as db:
        assert any(a.severity == "critical" for a in alerts(db, run_id))
    bad = subprocess.run(
        [cli, "alerts", "worker", "--interval", "0", "--once"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert bad.returncode == 2 and "--interval" in bad.stderr and "0 s" in bad.stderr
    engine.dispose()
