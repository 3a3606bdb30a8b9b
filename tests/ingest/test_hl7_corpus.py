"""A corpus of gateway-style ORU^R01 messages (tests/ingest/corpus/*.hl7), each with its
expected outcome in corpus/expected.json: escapes, repetitions, offsets, result statuses
(corrections and withdrawals as amendments), SN values, alternate codes, MDC units, one
unconvertible unit, invasive and cuff MAP, default mappings. One parametrised test reads
each message with both readers (they must agree), stores it, and checks the ACK's code,
its warnings and what the run holds afterwards (SQLite and PostgreSQL)."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import undefer
from tests.seed import SECRET_MRNS

from continuum.core import observation_service
from continuum.core.record import Observation, ObservationAmendment
from continuum.core.roles import CLI_ACTOR
from continuum.db import unit_of_work
from continuum.ingest.device_message import DeviceMessage, MessageRefused
from continuum.ingest.device_service import Outcome, store_messages
from continuum.ingest.hl7_message import read_oru, read_oru_fast

CORPUS = Path(__file__).parent / "corpus"
EXPECTED: dict[str, dict[str, Any]] = json.loads((CORPUS / "expected.json").read_text())
T = datetime.now(UTC).replace(microsecond=0, second=0) - timedelta(minutes=10)


def _at(offset_hours: int) -> str:
    zone = timezone(timedelta(hours=offset_hours))
    return T.astimezone(zone).strftime("%Y%m%d%H%M%S%z")


def message(name: str) -> str:
    text = (CORPUS / f"{name}.hl7").read_text().strip()
    for key, value in {
        "{T}": _at(0), "{T+0100}": _at(1), "{T-0500}": _at(-5), "{MRN}": SECRET_MRNS[0],
    }.items():  # fmt: skip
        text = text.replace(key, value)
    return text.replace("\n", "\r") + "\r"


def send(sessions, name: str) -> Outcome:  # type: ignore[no-untyped-def]
    text = message(name)
    try:
        fast = read_oru_fast(text)
    except MessageRefused as exc:
        fast = DeviceMessage.refused("hl7", exc, T)
    else:
        reference = read_oru(text, received_at=fast.received_at)
        assert dataclasses.asdict(reference) == dataclasses.asdict(fast)
    with unit_of_work(sessions) as db:
        return store_messages(db, CLI_ACTOR, [fast])[0]


def _rows(sessions, status: str) -> dict[str, list[Observation]]:  # type: ignore[no-untyped-def]
    with sessions() as db:
        rows = db.scalars(
            select(Observation)
            .options(undefer(Observation.result_status))
            .where(Observation.status == status, Observation.source == "hl7")
            .order_by(Observation.code, Observation.id)
        ).all()
    out: dict[str, list[Observation]] = {}
    for row in rows:
        out.setdefault(row.code, []).append(row)
    return out


def _close(got: list[float], want: list[float]) -> bool:
    return len(got) == len(want) and all(abs(a - b) < 0.01 for a, b in zip(got, want, strict=True))


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_gateway_message_has_its_expected_outcome(sessions, name: str) -> None:  # type: ignore[no-untyped-def]
    want = EXPECTED[name]
    for earlier in want.get("before", []):
        assert send(sessions, earlier).ack == "AA"
    out = send(sessions, name)
    assert (out.ack, out.stored, out.errors) == (want["ack"], want["stored"], []), out
    if "message_id" in want:
        assert out.message_id == want["message_id"]
    for text in want.get("warnings", []):
        assert any(text in w for w in out.warnings), (text, out.warnings)
    if "warning_count" in want:
        assert len(out.warnings) == want["warning_count"], out.warnings
    if "warnings" not in want:
        assert out.warnings == []
    final = _rows(sessions, "final")
    values = {code: [r.value for r in rows] for code, rows in final.items()}
    assert set(values) == set(want["values"]), values
    for code, expected in want["values"].items():
        assert _close(values[code], expected), (code, values[code])
    for code, statuses in want.get("result_status", {}).items():
        assert [r.result_status for r in final[code]] == statuses
    for status, key in (("superseded", "superseded"), ("entered_in_error", "withdrawn")):
        kept = {c: [r.value for r in rows] for c, rows in _rows(sessions, status).items()}
        assert kept == want.get(key, {}), (status, kept)
    with sessions() as db:
        amendments = db.scalars(select(ObservationAmendment)).all()
    assert len(amendments) == want.get("amendments", 0)
    if want.get("all_at_t"):
        assert {r.time for rows in final.values() for r in rows} == {T}


def test_readers_prefer_the_arterial_line_and_fall_back_to_the_cuff(sessions) -> None:  # type: ignore[no-untyped-def]
    cuff = message("invasive_and_cuff_map").replace("|MAP1|", "|CUFF1|")
    cuff = cuff.replace("150035^MDC_PRESS_BLD_ART_MEAN", "NONE^NONE")  # no arterial line
    with unit_of_work(sessions) as db:
        store_messages(db, CLI_ACTOR, [read_oru_fast(cuff)])
    with sessions() as db:
        only_cuff = observation_service.latest(db, 1, "map")
    assert only_cuff is not None and (only_cuff.code, only_cuff.value) == ("map_nibp", 80.0)
    assert send(sessions, "invasive_and_cuff_map").ack == "AA"
    with sessions() as db:
        both = observation_service.latest(db, 1, "map")
    assert both is not None and (both.code, both.value) == ("map", 72.0)


def test_withdrawn_and_superseded_values_are_read_by_nothing(sessions) -> None:  # type: ignore[no-untyped-def]
    assert send(sessions, "base_hr").ack == "AA"
    assert send(sessions, "withdrawal").ack == "AA"
    with sessions() as db:
        assert observation_service.latest(db, 1, "hr") is None
        assert observation_service.series(db, 1, "hr") == []
        assert "hr" not in observation_service.code_counts(db, 1)
    with sessions() as db:  # the withdrawn value is kept, with why
        kept = db.scalars(select(Observation).where(Observation.code == "hr")).one()
        why = db.scalars(select(ObservationAmendment)).one()
    assert (kept.status, kept.value) == ("entered_in_error", 80.0)
    assert why.replacement_id is None and "result status W" in why.reason
