"""The MLLP listener's batch writer on both databases. On PostgreSQL a batch is ONE
statement on an autocommit connection: the message log, the observations, the audit row
and the surveillance due mark commit together or not at all; a batch that fails (a resent
control id, a failing after-store write) stores nothing and each message is retried alone
in an ordinary transaction."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from tests.seed import SECRET_MRNS

import continuum.models_all  # noqa: F401  (every domain's hooks, as the CLI loads them)
from continuum.alerts.models import SurveillanceDue
from continuum.core import observation_service
from continuum.core.record import AuditEntry, Observation
from continuum.ingest.device_message import DeviceMessage
from continuum.ingest.hl7_message import read_oru_fast
from continuum.ingest.mllp_client import oru
from continuum.ingest.mllp_listener import LISTENER, BatchWriter
from continuum.ingest.models import IngestMessage


def message(control: str, minutes_ago: int = 10) -> DeviceMessage:
    at = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=minutes_ago)
    values = [("blood_flow", 4.2, "L/min"), ("p_preoxy", 260, ""), ("p_postoxy", 240, "")]
    return read_oru_fast(oru(control, SECRET_MRNS[0], at, values), received_at=datetime.now(UTC))


def counts(sessions: sessionmaker[Session]) -> tuple[int, int, int, int | None]:
    """(log rows, hl7 observations, ingest audit rows, the run's due-mark version)."""
    with sessions() as db:
        return (
            db.scalar(select(func.count()).select_from(IngestMessage)) or 0,
            db.scalar(select(func.count()).where(Observation.source == "hl7")) or 0,
            db.scalar(select(func.count()).where(AuditEntry.action == "ingest")) or 0,
            db.scalar(select(SurveillanceDue.version)),
        )


@pytest.fixture
def writer(sessions: sessionmaker[Session]) -> Iterator[BatchWriter]:
    w = BatchWriter(sessions, LISTENER)
    yield w
    w.executor.shutdown()


def test_a_batch_commits_its_log_observations_audit_and_due_mark(
    writer: BatchWriter, sessions: sessionmaker[Session], db_url: str
) -> None:
    assert writer.single_statement == db_url.startswith("postgresql")
    first = writer.commit([message("B1"), message("B2", 9)])
    assert [o.ack for o in first] == ["AA", "AA"]
    assert [o.stored for o in first] == [4, 4]  # three values and the derived ΔP
    assert counts(sessions) == (2, 8, 1, 1)
    writer.commit([message("B3", 8)])
    assert counts(sessions) == (3, 12, 2, 2)  # the due mark's version counts batches


def test_a_resent_control_id_fails_the_batch_and_each_message_is_retried_alone(
    writer: BatchWriter, sessions: sessionmaker[Session]
) -> None:
    writer.commit([message("R1")])
    outcomes = writer.commit([message("R2", 9), message("R1"), message("R3", 8)])
    assert [(o.ack, o.duplicate) for o in outcomes] == [
        ("AA", False),
        ("AA", True),
        ("AA", False),
    ]
    logged, observations, _, _ = counts(sessions)
    assert (logged, observations) == (4, 12)  # R1 twice in the log, its values stored once


def test_a_failing_after_store_write_stores_nothing_of_the_batch(
    writer: BatchWriter, sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    """On PostgreSQL the hook's write is part of the batch's statement: when it fails the
    log rows and observations go with it. The retry (an ordinary transaction) fails too,
    so each message is answered AE and nothing at all is stored."""

    def failing(session: Session, run_id: int, codes: set[str]) -> None:
        broken = (  # NOT NULL version: the statement fails at the server
            "INSERT INTO surveillance_due (run_id, version, codes, marked_at, next_try_at, "
            "attempts) VALUES (%({p}run_id)s, NULL, NULL, now(), now(), 0)"
        )
        params: dict[str, Any] = {"run_id": run_id}
        if not observation_service.contribute(session, broken, params):
            raise RuntimeError("the after-store write failed")

    monkeypatch.setattr(observation_service, "AFTER_STORE_HOOKS", [failing])
    outcomes = writer.commit([message("F1"), message("F2", 9)])
    assert [o.ack for o in outcomes] == ["AE", "AE"]
    assert counts(sessions) == (0, 0, 0, None)
    monkeypatch.undo()
    assert [o.ack for o in writer.commit([message("F1")])] == ["AA"]  # the writer goes on
    assert counts(sessions)[:2] == (1, 4)
