"""The MLLP listener as a real process: ACK semantics over the wire, and SIGKILL mid-stream
— nothing acknowledged is lost, nothing resent is stored twice (SQLite and PostgreSQL)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from tests.ingest.helpers import per_message
from tests.seed import SECRET_MRNS

from continuum.core.record import Observation
from continuum.ingest.mllp_client import MllpSender, msa, oru

CODES = ("blood_flow", "pump_speed", "sweep_flow", "blood_temp", "spo2")
BASE = (4.2, 3300, 3.5, 36.9, 97)
CONTINUUM = str(Path(sys.executable).parent / "continuum")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(url: str, port: int) -> subprocess.Popen[bytes]:
    env = dict(os.environ, CONTINUUM_DATABASE_URL=url)
    cmd = [CONTINUUM, "ingest", "mllp", "--port", str(port)]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError("listener did not start")


@pytest.fixture
def listener(db_url: str) -> Iterator[tuple[str, int, list[subprocess.Popen[bytes]]]]:
    port = _free_port()
    procs = [start(db_url, port)]
    yield db_url, port, procs
    for p in procs:
        if p.poll() is None:
            p.terminate()
            p.wait(timeout=10)


def message(i: int) -> str:
    at = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=30, seconds=-i)
    values = [(CODES[k % 5], BASE[k % 5], "") for k in range(20)]
    return oru(f"K{i:05d}", SECRET_MRNS[0], at, values)


def test_ack_semantics_over_the_wire(listener, sessions) -> None:  # type: ignore[no-untyped-def]
    _, port, _ = listener
    sender = MllpSender("127.0.0.1", port)
    assert msa(sender.exchange(message(1)))[:2] == ("AA", "K00001")
    sender.send_raw(b"noise outside frames\x0bMSH|^~\\&|truncated")  # no ACK for these
    assert msa(sender.exchange(b"\xff\xfe not hl7"))[0] == "AR"
    bad = message(2).replace("|4.2|", "|fast|", 1)
    code, control, text = msa(sender.exchange(bad))
    assert (code, control) == ("AE", "K00002") and "not a number" in text
    assert msa(sender.exchange(message(1)))[:2] == ("AA", "K00001")  # resent: stored once
    sender.close()
    with sessions() as db:
        n = db.scalar(select(func.count()).where(Observation.ingest_ref.like("hl7:%")))
    assert n == 20


def test_sigkill_mid_stream_loses_nothing_acknowledged_and_stores_nothing_twice(  # type: ignore[no-untyped-def]
    listener, sessions
) -> None:
    url, port, procs = listener
    total = 300
    acked = send_until_killed(port, procs[0], total, kill_after=120)
    assert 120 <= len(acked) < total, "the kill must land mid-stream"
    procs.append(start(url, port))
    resend = [i for i in range(total) if i not in acked]
    sender = MllpSender("127.0.0.1", port, timeout=60)
    for i in resend:
        assert msa(sender.exchange(message(i)))[:2] == ("AA", f"K{i:05d}")
    for i in sorted(acked)[:10]:  # a sender unsure of an ACK may resend: still stored once
        assert msa(sender.exchange(message(i)))[0] == "AA"
    sender.close()
    stored = per_message(sessions, "hl7:K%")
    assert len(stored) == total
    assert set(stored.values()) == {20}


def send_until_killed(
    port: int, proc: subprocess.Popen[bytes], total: int, kill_after: int
) -> set[int]:
    """Pipeline ``total`` messages (window 40); SIGKILL the listener after ``kill_after``
    ACKs while more are in flight; return the indexes that were acknowledged AA."""
    sender = MllpSender("127.0.0.1", port, timeout=30)
    acked: set[int] = set()
    sent = 0
    try:
        while len(acked) < total:
            while sent < total and sent - len(acked) < 40:
                sender.send(message(sent))
                sent += 1
            code, control, _ = msa(sender.read_ack())
            assert code == "AA", control
            acked.add(int(control[1:]))
            if len(acked) == kill_after:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait()
    except (ConnectionError, OSError):
        pass
    finally:
        sender.close()
    return acked
