"""A correction (OBX-11 C) or withdrawal (W) that reaches storage before the value it
amends — several broker workers, or a batch sent back and retried — ends as if it had come
after it: the broker's writers hold it (nothing stored, nothing logged) until the original
is stored. Without holding (the direct listener, or once the hold has run out) it is
stored as before: a correction as a new value, a withdrawal of nothing as a warning."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from tests.ingest.test_nats_ingest import WorkerThread, config, pg_sessions, run_async  # noqa: F401
from tests.seed import SECRET_MRNS

from continuum.core.models import Observation
from continuum.core.record import ObservationAmendment
from continuum.ingest.hl7_message import read_oru_fast
from continuum.ingest.mllp_client import oru
from continuum.ingest.mllp_listener import LISTENER, BatchWriter
from continuum.ingest.models import IngestMessage
from continuum.ingest.nats_ingest import BrokerConfig, Publisher

AT = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=20)
ORIGINAL = [("blood_flow", 4.2, ""), ("pump_speed", 3500, "")]


def text(control: str, status: str, *values: tuple[str, float, str]) -> str:
    return oru(control, SECRET_MRNS[0], AT, list(values)).replace("|||||R|||", f"|||||{status}|||")


def states(sessions: sessionmaker[Session], code: str) -> list[tuple[float, str, str]]:
    """(value, status, message) of the code's rows at AT, in the order stored."""
    with sessions() as db:
        rows = db.execute(
            select(Observation.value, Observation.status, Observation.ingest_ref)
            .where(Observation.code == code, Observation.time == AT)
            .order_by(Observation.id)
        ).all()
    return [(v, s, ref.split(":", 1)[1]) for v, s, ref in rows]


def logged(sessions: sessionmaker[Session], prefix: str) -> dict[str, tuple[str, list[str]]]:
    with sessions() as db:
        rows = db.scalars(select(IngestMessage).where(IngestMessage.message_id.like(prefix + "%")))
        return {r.message_id: (r.ack_code, r.detail["warnings"]) for r in rows}


def amended_by(sessions: sessionmaker[Session], code: str) -> list[tuple[str, str | None]]:
    """(original's message, replacement's message or None) of each amendment of the code."""
    with sessions() as db:
        out = []
        for a in db.scalars(select(ObservationAmendment).order_by(ObservationAmendment.id)):
            original = db.get(Observation, a.original_id)
            if original is None or original.code != code or original.time != AT:
                continue
            new = db.get(Observation, a.replacement_id) if a.replacement_id else None
            ref = new.ingest_ref.split(":", 1)[1] if new is not None else None
            out.append((original.ingest_ref.split(":", 1)[1], ref))
        return out


def test_a_held_amendment_is_applied_once_its_original_is_stored(sessions) -> None:  # type: ignore[no-untyped-def]
    writer = BatchWriter(sessions, LISTENER, hold_amendments=True)
    fix = read_oru_fast(text("HC1", "C", ("blood_flow", 4.6, "")))
    drop = read_oru_fast(text("HW1", "W", ("pump_speed", 3500, "")))
    first = writer.commit([fix, drop])
    assert [o.held for o in first] == [True, True]
    assert states(sessions, "blood_flow") == [] and logged(sessions, "H") == {}
    original = read_oru_fast(text("HF1", "F", *ORIGINAL))
    assert [o.ack for o in writer.commit([original])] == ["AA"]
    again = writer.commit([read_oru_fast(text("HC1", "C", ("blood_flow", 4.6, ""))),
                           read_oru_fast(text("HW1", "W", ("pump_speed", 3500, "")))])  # fmt: skip
    assert [(o.ack, o.held, o.warnings) for o in again] == [("AA", False, [])] * 2
    assert states(sessions, "blood_flow") == [(4.2, "superseded", "HF1"), (4.6, "final", "HC1")]
    assert states(sessions, "pump_speed") == [(3500, "entered_in_error", "HF1")]
    assert amended_by(sessions, "blood_flow") == [("HF1", "HC1")]
    assert amended_by(sessions, "pump_speed") == [("HF1", None)]
    # not held (the direct listener; a hold run out): amends nothing, stored as before
    late = writer.commit([read_oru_fast(text("HC2", "C", ("sweep_flow", 3.0, "")))], hold=False)
    assert late[0].ack == "AA" and not late[0].held
    assert "no earlier value from this feed, stored as a new value" in late[0].warnings[0]
    assert states(sessions, "sweep_flow") == [(3.0, "final", "HC2")]


def test_two_workers_amendment_before_its_original(config: BrokerConfig, pg_sessions) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    """Two workers on one stream: a correction and a withdrawal are published (and taken
    by a worker) before the value they amend; the end state is that of the sent order."""
    cfg = BrokerConfig(**{**config.__dict__, "amend_hold": 120.0, "max_backoff": 2.0})
    now = datetime.now(UTC)

    async def publish(*messages: tuple[str, str]) -> None:
        publisher = await Publisher(cfg).start()
        for key, body in messages:
            await publisher.publish("hl7", key, body.encode(), now)
        await publisher.close()

    with WorkerThread(pg_sessions, cfg) as one, WorkerThread(pg_sessions, cfg) as two:
        run_async(publish(("OC1", text("OC1", "C", ("blood_flow", 4.6, ""))),
                          ("OW1", text("OW1", "W", ("pump_speed", 3500, "")))))  # fmt: skip
        deadline = time.monotonic() + 30
        while one.held + two.held < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert one.held + two.held >= 2  # both taken before their original was stored
        assert states(pg_sessions, "blood_flow") == []
        run_async(publish(("OF1", text("OF1", "F", *ORIGINAL))))
        deadline = time.monotonic() + 60
        while one.acked + two.acked < 3 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert one.acked + two.acked == 3
    assert states(pg_sessions, "blood_flow") == [(4.2, "superseded", "OF1"), (4.6, "final", "OC1")]
    assert states(pg_sessions, "pump_speed") == [(3500, "entered_in_error", "OF1")]
    assert amended_by(pg_sessions, "blood_flow") == [("OF1", "OC1")]
    assert logged(pg_sessions, "O") == {"OC1": ("AA", []), "OW1": ("AA", []), "OF1": ("AA", [])}
