"""PostgreSQL goes away under a running `continuum ingest mllp`: nothing is acknowledged
while it is away, the listener stays up, and after it is back the sender's resends are
all stored exactly once — without restarting the listener."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from tests.conftest import _pg_connect
from tests.ingest.helpers import per_message
from tests.ingest.test_mllp_reliability import _free_port, message, start

from continuum.db import make_engine, make_sessionmaker
from continuum.ingest.mllp_client import MllpSender, msa


@contextmanager
def database_refused(name: str) -> Iterator[None]:
    """PostgreSQL refuses new connections to ``name`` and drops the open ones."""
    with _pg_connect() as conn:
        conn.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            (name,),
        )
    try:
        yield
    finally:
        with _pg_connect() as conn:
            conn.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')


def send(port: int, indexes: list[int]) -> set[int]:
    """Send each message lock-step on one connection (reconnecting when the listener closes
    it); return the indexes acknowledged AA."""
    acked: set[int] = set()
    sender: MllpSender | None = None
    for i in indexes:
        sender = sender or MllpSender("127.0.0.1", port, timeout=15)
        try:
            code, control, _ = msa(sender.exchange(message(i)))
        except TimeoutError:
            raise AssertionError(f"K{i:05d}: neither an ACK nor a closed connection") from None
        except (ConnectionError, OSError):
            sender.close()
            sender = None
            continue
        assert (code, control) == ("AA", f"K{i:05d}")
        acked.add(i)
    if sender:
        sender.close()
    return acked


def test_database_outage_no_ack_listener_survives_resend_stores_once(pg_url: str) -> None:
    name = pg_url.rsplit("/", 1)[1]
    port = _free_port()
    proc = start(pg_url, port)
    try:
        assert send(port, list(range(10))) == set(range(10))
        with database_refused(name):
            during = send(port, list(range(10, 20)))
            assert during == set(), "no AA may leave while the database is away"
            assert proc.poll() is None, "the listener must survive the outage"
        resend = [i for i in range(20) if i not in during]  # the sender resends every non-AA
        resend += [3, 4]  # and, unsure, two that were acknowledged before the outage
        assert send(port, resend) == set(resend)
        assert proc.poll() is None
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    engine = make_engine(pg_url)
    try:
        stored = per_message(make_sessionmaker(engine), "hl7:K%")
    finally:
        engine.dispose()
    assert stored == {f"hl7:K{i:05d}": 20 for i in range(20)}
