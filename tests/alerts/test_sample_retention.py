"""Retention of what ingest leaves besides the record, for ENDED runs (SQLite and
PostgreSQL): the surveillance working samples of an ended run are dropped by the daily
housekeeping (audited), those of active runs and of an ended run still due are kept, and a
late correction of the ended run rebuilds them from its observations, which are never
deleted; the message log of an ended run is pruned to its retention like any other."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from continuum.alerts import watch
from continuum.alerts.due import mark_due
from continuum.alerts.models import SurveillanceDue, SurveillanceProgress, SurveillanceSample
from continuum.core import run_service
from continuum.core.record import AuditEntry, Observation
from continuum.core.roles import CLI_ACTOR, Actor
from continuum.core.run_record import Run
from continuum.core.schemas import RunCreate, RunEnd
from continuum.db import unit_of_work
from continuum.housekeeping import run_jobs
from continuum.ingest.device_service import store_messages
from continuum.ingest.hl7_message import read_oru_fast
from continuum.ingest.mllp_client import oru
from continuum.ingest.models import IngestMessage
from tests.seed import SECRET_MRNS

PHYSICIAN = Actor(staff_id=None, name="physician", role="physician")
NOW = datetime.now(UTC).replace(microsecond=0)
VALUES = [("blood_flow", 4.2, ""), ("pump_speed", 3500, ""), ("p_access", -60, "")]


def feed(sessions: sessionmaker[Session], mrn: str, tag: str, minutes: int = 12) -> None:
    """One ORU^R01 a minute for the last ``minutes`` minutes (evaluated as stored)."""
    msgs = [
        read_oru_fast(oru(f"{tag}{i}", mrn, NOW - timedelta(minutes=minutes - i), VALUES))
        for i in range(minutes)
    ]
    with unit_of_work(sessions) as db:
        assert {o.ack for o in store_messages(db, CLI_ACTOR, msgs)} == {"AA"}


def samples_of(sessions: sessionmaker[Session]) -> dict[int, int]:
    with sessions() as db:
        rows = db.execute(
            select(SurveillanceSample.run_id, func.count()).group_by(SurveillanceSample.run_id)
        ).all()
        progress = set(db.scalars(select(SurveillanceProgress.run_id)))
    got = {run_id: n for run_id, n in rows}
    assert set(got) == progress  # samples and their progress row go together
    return got


def observations_of(sessions: sessionmaker[Session], run_id: int) -> int:
    with sessions() as db:
        stmt = select(func.count()).select_from(Observation).where(Observation.run_id == run_id)
        return int(db.scalar(stmt) or 0)


def job(sessions: sessionmaker[Session]) -> str:
    (result,) = [r for r in run_jobs(sessions) if r.module == "continuum.alerts.samples"]
    assert result.ok, result.text
    return result.text


def second_run(sessions: sessionmaker[Session]) -> int:
    with unit_of_work(sessions) as db:
        data = RunCreate(mrn=SECRET_MRNS[1], support_type="pulmonary", mode="VV",
                         started_at=NOW - timedelta(hours=3))  # fmt: skip
        run = run_service.start_run(db, CLI_ACTOR, data)
        db.flush()
        return run.id


def end(sessions: sessionmaker[Session], run_id: int) -> None:
    with unit_of_work(sessions) as db:
        run = db.get(Run, run_id)
        assert run is not None
        data = RunEnd(ended_at=NOW - timedelta(seconds=30), outcome="weaned_recovered",
                      stop_reason="recovered")  # fmt: skip
        run_service.end_run(db, PHYSICIAN, run, data)


def test_samples_of_ended_runs_are_dropped_and_rebuilt_on_a_late_change(sessions) -> None:  # type: ignore[no-untyped-def]
    active, ended = 1, second_run(sessions)
    feed(sessions, SECRET_MRNS[0], "A")
    feed(sessions, SECRET_MRNS[1], "B")
    before = samples_of(sessions)
    assert before.get(active) and before.get(ended)  # both evaluated: samples kept
    kept_obs = observations_of(sessions, ended)
    assert job(sessions) == "deleted 0 surveillance sample rows of 0 ended runs"  # none ended
    end(sessions, ended)
    with unit_of_work(sessions) as db:  # ended, but a batch still waits for its evaluation
        mark_due(db, ended, {"blood_flow"}, NOW - timedelta(minutes=2))
    assert job(sessions) == "deleted 0 surveillance sample rows of 0 ended runs"
    assert samples_of(sessions) == before
    with unit_of_work(sessions) as db:  # evaluated: no longer due
        db.execute(delete(SurveillanceDue).where(SurveillanceDue.run_id == ended))
    text = job(sessions)
    assert text == f"deleted {before[ended]} surveillance sample rows of 1 ended runs"
    assert samples_of(sessions) == {active: before[active]}  # the active run's are kept
    assert observations_of(sessions, ended) == kept_obs  # the record is never pruned
    with sessions() as db:
        entry = db.scalars(
            select(AuditEntry).where(AuditEntry.entity == "surveillance_sample")
        ).one()
    assert (entry.action, entry.client, entry.detail["deleted"], entry.detail["runs"]) == (
        "prune",
        "housekeeping",
        before[ended],
        [ended],
    )
    assert job(sessions) == "deleted 0 surveillance sample rows of 0 ended runs"  # idempotent
    # a late change of the ended run: its next evaluation rebuilds the samples from the record
    with unit_of_work(sessions) as db:
        watch.evaluate_run(db, ended, changed_from=NOW - timedelta(minutes=3))
    assert samples_of(sessions) == before


def test_the_message_log_of_an_ended_run_is_pruned_to_its_retention(sessions) -> None:  # type: ignore[no-untyped-def]
    ended = second_run(sessions)
    feed(sessions, SECRET_MRNS[1], "L", minutes=3)
    end(sessions, ended)
    with unit_of_work(sessions) as db:
        db.execute(
            update(IngestMessage)
            .where(IngestMessage.message_id.in_(["L0", "L1"]))
            .values(received_at=NOW - timedelta(days=120))
        )
    (result,) = [r for r in run_jobs(sessions) if r.module.startswith("continuum.ingest")]
    assert result.ok and "deleted 2 message-log rows" in result.text
    with sessions() as db:
        left = db.scalars(select(IngestMessage.message_id).where(IngestMessage.run_id == ended))
        assert sorted(left) == ["L2"]
    assert observations_of(sessions, ended) == 3 * 3  # observations stay
