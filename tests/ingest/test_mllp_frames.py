"""The MLLP listener over a real socket (in-process, on a thread): ACK headers echo the
sender, and a frame larger than MAX_FRAME is refused (AR) while the same connection and
others keep being served (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import hl7
import pytest
from sqlalchemy import func, select
from tests.ingest.helpers import log_rows
from tests.seed import SECRET_MRNS

import continuum.models_all  # noqa: F401  (every domain's hooks, as the CLI loads them)
from continuum.core.record import Observation
from continuum.db import make_engine, make_sessionmaker
from continuum.ingest.device_message import DeviceMessage
from continuum.ingest.device_service import Outcome
from continuum.ingest.hl7_message import ack, read_header, read_oru, read_oru_fast
from continuum.ingest.mllp_client import END, START, MllpSender, msa, msh, oru
from continuum.ingest.mllp_listener import MAX_FRAME, Oversized, ack_for, parse_frame

SENDER = ("ACME_Gateway^080019FFFE3ED02D^EUI-64", "ICU North")


def message(control: str, sender: tuple[str, str] = SENDER) -> str:
    at = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=10)
    values = [("blood_flow", 4.2, "L/min"), ("pump_speed", 3300, "")]
    return oru(control, SECRET_MRNS[0], at, values, sender=sender)


@pytest.fixture
def listener(db_url: str) -> Iterator[tuple[int, object]]:
    """An MllpListener serving on a free port from a background event loop."""
    from continuum.ingest.mllp_listener import MllpListener

    engine = make_engine(db_url)
    factory = make_sessionmaker(engine)
    loop = asyncio.new_event_loop()
    listener = MllpListener(factory)
    # Started on the loop's own thread: this thread may already have a running loop
    # (left by an earlier test's client), and run_until_complete would refuse.
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    serving = asyncio.run_coroutine_threadsafe(listener.serve("127.0.0.1", 0), loop)
    server = serving.result(timeout=10)
    port = int(server.sockets[0].getsockname()[1])
    yield port, factory

    async def shutdown() -> None:
        server.close()
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    asyncio.run_coroutine_threadsafe(shutdown(), loop).result(timeout=10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(timeout=10)
    loop.close()
    listener.writer.executor.shutdown()
    engine.dispose()


# --- ACK headers ---------------------------------------------------------------------


def test_ack_names_us_and_echoes_the_sender() -> None:
    text = ack("AA", "C1", receiving=SENDER)
    fields = msh(text)
    assert fields[3:7] == ["CONTINUUM", "ECMO", SENDER[0], SENDER[1]]
    parsed = hl7.parse(text)
    assert str(parsed.segment("MSH")[5]) == SENDER[0]
    assert str(parsed.segment("MSH")[6]) == SENDER[1]
    # a separator of our encoding in the echoed value cannot break the ACK's fields
    fields = msh(ack("AA", "C1", receiving=("A|B", "X~Y\rZ")))
    assert fields[5:7] == ["A\\F\\B", "X\\R\\Y Z"]
    assert msh(ack("AA", "C1"))[3:7] == ["CONTINUUM", "ECMO", "", ""]


def test_both_parse_paths_carry_the_sender_and_refusals_keep_it() -> None:
    text = message("C2")
    for read in (read_oru, read_oru_fast):
        msg = read(text)
        assert (msg.sender_application, msg.sender_facility) == SENDER
    wrong_type = text.replace("ORU^R01^ORU_R01", "ADT^A01^ADT_A01")
    refused = parse_frame(wrong_type.encode(), "peer", UTC)
    assert refused.refusal == "AR"
    assert (refused.sender_application, refused.sender_facility) == SENDER
    reply = ack_for(Outcome("C2", "AR", errors=refused.problems), refused).decode()
    assert msh(reply)[5:7] == list(SENDER)
    assert msa(reply)[:2] == ("AR", "C2")


def test_read_header_reads_the_start_of_a_frame_only() -> None:
    head = message("C3").encode()[:200]
    assert read_header(head) == ("C3", *SENDER)
    assert read_header(b"\xff\xfe garbage") == ("", "", "")
    assert read_header(b"MSH|^~\\&|GW") == ("", "GW", "")


# --- over the wire -------------------------------------------------------------------


def test_ack_over_the_wire_echoes_msh3_and_msh4(listener) -> None:  # type: ignore[no-untyped-def]
    port, _ = listener
    sender = MllpSender("127.0.0.1", port)
    reply = sender.exchange(message("E1"))
    sender.close()
    assert msa(reply)[:2] == ("AA", "E1")
    assert msh(reply)[3:7] == ["CONTINUUM", "ECMO", *SENDER]


def big_frame(control: str) -> bytes:
    """A 5 MB ORU^R01: a valid header, then OBX rows until past MAX_FRAME."""
    head = message(control).encode()
    row = b"OBX|1|NM|blood_flow^blood_flow^CONTINUUM||4.2|L/min||||||R\r"
    body = head + row * ((5 * 1024 * 1024 - len(head)) // len(row) + 1)
    assert len(body) > MAX_FRAME
    return START + body + END


def test_oversized_frame_is_refused_and_the_connection_serves_on(listener) -> None:  # type: ignore[no-untyped-def]
    port, factory = listener
    other = MllpSender("127.0.0.1", port)  # a second connection, open meanwhile
    sender = MllpSender("127.0.0.1", port, timeout=30)
    sender.send_raw(big_frame("BIG1"))
    sender.send(message("N1"))  # pipelined right behind the large one
    code, control, text = msa(sender.read_ack())
    assert (code, control) == ("AR", "BIG1")
    assert "frame larger than 4 MB" in text
    assert msa(sender.read_ack())[:2] == ("AA", "N1")
    # garbage before the frame start and a header that cannot be read: empty MSA-2
    sender.send_raw(b"noise" + START + b"\xff" * (MAX_FRAME + 10) + END)
    assert msa(sender.read_ack())[:2] == ("AR", "")
    assert msa(sender.exchange(message("N2")))[:2] == ("AA", "N2")
    assert msa(other.exchange(message("N3")))[:2] == ("AA", "N3")
    sender.close()
    other.close()
    with factory() as db:
        stored = dict(
            db.execute(
                select(Observation.ingest_ref, func.count())
                .where(Observation.ingest_ref.like("hl7:%"))
                .group_by(Observation.ingest_ref)
            ).all()
        )
    assert stored == {"hl7:N1": 2, "hl7:N2": 2, "hl7:N3": 2}
    logged = {(r.message_id, r.ack_code) for r in log_rows(factory)}
    assert {("BIG1", "AR"), ("", "AR"), ("N1", "AA")} <= logged
    big = next(r for r in log_rows(factory) if r.message_id == "BIG1")
    assert big.detail and "larger than 4 MB" in big.detail["errors"][0]


def test_a_frame_restarted_inside_a_long_run_of_bytes_is_read() -> None:
    """Garbage past the limit with no frame start, then a normal frame: read normally."""
    from continuum.ingest.mllp_listener import read_frame

    async def go() -> list[bytes | Oversized | None]:
        reader = asyncio.StreamReader(limit=1024)
        reader.feed_data(b"x" * 5000 + START + b"y" * 3000 + START + b"MSH|ok" + END)
        reader.feed_data(START + b"z" * 1500 + END + START + b"MSH|last" + END)
        reader.feed_eof()
        return [await read_frame(reader) for _ in range(3)]

    import continuum.ingest.mllp_listener as ml

    saved = ml.MAX_FRAME
    ml.MAX_FRAME = 1024
    try:
        # on a thread of its own: the browser tests' driver may hold a loop on this one
        with ThreadPoolExecutor(1) as pool:
            first, second, third = pool.submit(asyncio.run, go()).result(timeout=30)
    finally:
        ml.MAX_FRAME = saved
    assert first == b"MSH|ok"
    assert isinstance(second, Oversized) and second.size == 1500
    assert third == b"MSH|last"


def test_parse_frame_of_an_oversized_frame_is_ar_with_the_control_id() -> None:
    msg = parse_frame(Oversized(message("BIG2").encode()[:300], 5_000_000), "p", UTC)
    assert isinstance(msg, DeviceMessage)
    assert (msg.refusal, msg.message_id) == ("AR", "BIG2")
    assert (msg.sender_application, msg.sender_facility) == SENDER
    assert "frame larger than 4 MB (5,000,000 bytes)" in msg.problems[0]
