"""The listener (``continuum ingest mllp`` as its own process) driven by an MLLP client
nobody here wrote: python-hl7's ``hl7.client.MLLPClient``. Its ACKs are read back with
``hl7.parse``: MSA-1, MSA-2 and one ERR segment of severity W per value left out; a
correction and a withdrawal sent over the wire amend the earlier value (SQLite and
PostgreSQL; on PostgreSQL they leave the listener's single-statement path)."""

from __future__ import annotations

from collections.abc import Iterator

import hl7
import pytest
from hl7.client import MLLPClient
from sqlalchemy import select
from tests.ingest.test_hl7_corpus import EXPECTED, message
from tests.ingest.test_mllp_reliability import _free_port, start

from continuum.core.record import Observation

SENT = ("escapes", "structured_numeric", "base_hr", "correction", "unconvertible_unit",
        "status_x", "invasive_and_cuff_map")  # fmt: skip


@pytest.fixture
def port(db_url: str) -> Iterator[int]:
    free = _free_port()
    proc = start(db_url, free)
    yield free
    proc.terminate()
    proc.wait(timeout=10)


def parsed_ack(raw: bytes) -> hl7.Message:
    text = raw.decode("utf-8").strip("\x0b\x1c\r")
    return hl7.parse(text)


def test_a_foreign_mllp_client_gets_conformant_acks(port: int, sessions) -> None:  # type: ignore[no-untyped-def]
    with MLLPClient("127.0.0.1", port) as client:
        for name in SENT:
            text = message(name)
            ack = parsed_ack(client.send_message(text))
            sent = hl7.parse(text)
            want = EXPECTED.get(name, {"ack": "AA"})  # base_hr: a plain message
            assert str(ack.segment("MSA")[1]) == want["ack"], name
            assert str(ack.segment("MSA")[2]) == str(sent.segment("MSH")[10]), name
            errs = [s for s in ack if str(s[0]) == "ERR"]
            warned = [s for s in errs if str(s[4]) == "W"]
            count = want.get("warning_count", len(want.get("warnings", [])))
            assert (len(errs), len(warned)) == (count, count), (name, [str(s) for s in errs])
        withdraw = message("withdrawal").replace("|WDR1|", "|WDR9|")
        withdraw = withdraw.replace("|80|264864", "||264864").replace(
            "147842^MDC_ECG_CARD_BEAT_RATE", "151562^MDC_RESP_RATE"
        )
        assert str(parsed_ack(client.send_message(withdraw)).segment("MSA")[1]) == "AA"
    with sessions() as db:
        rows = db.execute(
            select(Observation.code, Observation.value, Observation.status)
            .where(Observation.code.in_(("hr", "map", "map_nibp", "platelets", "resp_rate")))
            .order_by(Observation.id)
        ).all()
    got = [(c, v, s) for c, v, s in rows]
    assert ("hr", 80.0, "superseded") in got and ("hr", 85.0, "final") in got
    assert ("map", 70.0, "final") in got and ("map", 72.0, "final") in got
    assert ("map_nibp", 80.0, "final") in got and ("platelets", 150.0, "final") in got
    assert ("resp_rate", 22.0, "entered_in_error") in got  # withdrawn over the wire
