"""Property and fuzz tests on every ingest parser: arbitrary bytes never crash (they are
read or refused with reasons), and the fast HL7 reader gives exactly what the ``hl7``
package (the reference) gives on a corpus of generated valid ORU^R01 messages."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import hl7
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.ingest.helpers import example

from continuum.ingest.device_message import DeviceMessage, MessageRefused, parse_hl7_time
from continuum.ingest.fhir_bundle import read_bundle
from continuum.ingest.hl7_message import ack, read_oru, read_oru_fast
from continuum.ingest.mllp_client import msa, oru
from continuum.ingest.mqtt_message import read_mqtt
from continuum.vocabulary import CODES

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
RECEIVED = datetime(2026, 1, 1, tzinfo=UTC)
hl7ish = st.one_of(
    st.binary(max_size=400),
    st.text(alphabet="MSHPIDOBXR|^~\\&\r\n0123456789.-+ ", max_size=400).map(str.encode),
    st.builds(lambda s: ("MSH|^~\\&|" + s).encode("utf-8", "replace"), st.text(max_size=300)),
)


def _reads_or_refuses(fn, data) -> None:  # type: ignore[no-untyped-def]
    try:
        assert isinstance(fn(data), DeviceMessage)
    except MessageRefused as exc:
        assert exc.reasons and all(isinstance(r, str) for r in exc.reasons)


@FUZZ
@given(hl7ish)
def test_any_bytes_never_crash_the_hl7_readers(data: bytes) -> None:
    _reads_or_refuses(lambda d: read_oru(d, received_at=RECEIVED), data)
    _reads_or_refuses(lambda d: read_oru_fast(d, received_at=RECEIVED), data)


@FUZZ
@given(st.text(max_size=40), st.binary(max_size=300))
def test_any_bytes_never_crash_the_mqtt_reader(topic: str, data: bytes) -> None:
    _reads_or_refuses(lambda d: read_mqtt("continuum/console/" + topic, d), data)
    _reads_or_refuses(lambda d: read_mqtt(topic, d), data)


json_values = st.recursive(
    st.none() | st.booleans() | st.floats(allow_nan=False) | st.text(max_size=10),
    lambda kids: (
        st.lists(kids, max_size=3) | st.dictionaries(st.text(max_size=8), kids, max_size=3)
    ),
    max_leaves=10,
)


@FUZZ
@given(json_values, st.dictionaries(st.text(max_size=12), json_values, max_size=4))
def test_any_json_never_crashes_mqtt_or_fhir(values, extra) -> None:  # type: ignore[no-untyped-def]
    body = {"message_id": "m1", "time": "2026-01-01T00:00:00Z", "values": values, **extra}
    _reads_or_refuses(lambda d: read_mqtt("continuum/console/c1", d), json.dumps(body).encode())
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": values}],
              **extra}  # fmt: skip
    _reads_or_refuses(read_bundle, json.dumps(bundle).encode())


@FUZZ
@given(st.binary(max_size=300))
def test_any_bytes_never_crash_the_fhir_reader(data: bytes) -> None:
    _reads_or_refuses(read_bundle, data)


ident = st.text(alphabet="ABCDEFGHJKLMNPQRSTUVWXYZ0123456789-", min_size=1, max_size=20)
# MSH-3/MSH-4 (HD): namespace id, optionally ^universal id^type
hd_value = st.one_of(
    st.text(alphabet="ABCDEFGHJKLMNPQRSTUVWXYZ0123456789-. ", max_size=20),
    st.builds(lambda a, b: f"{a}^{b}^ISO", ident, st.text(alphabet="0123456789.", max_size=12)),
)
CORPUS_CODES = sorted(c for c in CODES if c != "oxy_delta_p")
observation = st.tuples(
    st.sampled_from(CORPUS_CODES),
    st.floats(-1000, 10000, allow_nan=False).map(lambda v: round(v, 3)),
    st.sampled_from(["", "mmHg", "mm[Hg]", "kPa", "L/min", "%", "{beat}/min", "266016"]),
)


@FUZZ
@given(
    ident,
    ident,
    st.datetimes(datetime(2000, 1, 1), datetime(2040, 1, 1)).map(
        lambda t: t.replace(microsecond=0, tzinfo=UTC)
    ),
    st.lists(observation, min_size=1, max_size=25),
    st.sampled_from(["CONTINUUM", "LN", "MDC", "99LOCAL"]),
    st.sampled_from(["", "EUI-CONSOLE-1"]),
    st.tuples(hd_value, hd_value),
)
def test_fast_reader_equals_the_reference_on_valid_messages(  # type: ignore[no-untyped-def]
    control, mrn, at, obs, system, console, sender
) -> None:
    text = oru(control, mrn, at, obs, system, console, sender)
    fast = read_oru_fast(text, received_at=RECEIVED)
    assert fast == read_oru(text, received_at=RECEIVED)
    assert (fast.message_id, fast.mrn) == (control, mrn)
    assert (fast.sender_application, fast.sender_facility) == tuple(s.strip() for s in sender)
    assert [(v.identifiers[0], v.value, v.time) for v in fast.values] == [
        (code, str(value), at) for code, value, _ in obs
    ]
    assert all(v.consoles == ((console,) if console else ()) for v in fast.values)


def test_both_readers_agree_on_the_ihe_examples() -> None:
    for name in "abc":
        text = example(name)
        fast = read_oru_fast(text, received_at=RECEIVED)
        assert fast == read_oru(text, received_at=RECEIVED)
        assert fast.sender_application  # every IHE example names its sending application


@FUZZ
@given(st.text(max_size=60), st.lists(st.text(max_size=60), max_size=3))
def test_ack_echoes_the_control_id_and_stays_parseable(control: str, reasons: list[str]) -> None:
    text = ack("AE", control, errors=reasons)
    parsed = hl7.parse(text)
    assert str(parsed.segment("MSA")[1]) == "AE"
    code, echoed, _ = msa(text)
    assert code == "AE"
    plain = {"F": "|", "S": "^", "R": "~", "T": "&", "E": "\\"}
    unescaped = re.sub(r"\\([FSRTE])\\", lambda m: plain[m.group(1)], echoed)
    assert unescaped == control.replace("\r", " ").replace("\n", " ")


def test_hl7_times() -> None:
    assert parse_hl7_time("20110602045842+0000") == datetime(2011, 6, 2, 4, 58, 42, tzinfo=UTC)
    assert parse_hl7_time("20090813095715+0500") == datetime(2009, 8, 13, 4, 57, 15, tzinfo=UTC)
    assert parse_hl7_time("202601011200") == datetime(2026, 1, 1, 12, tzinfo=UTC)
    assert parse_hl7_time("20260101120000.25-0100") - timedelta(hours=1) == datetime(
        2026, 1, 1, 12, 0, 0, 250000, tzinfo=UTC
    )
    for bad in ("2026", "20261301", "20260230", "2026010112000099", "x", "20260101+2500"):
        try:
            parse_hl7_time(bad)
        except ValueError:
            continue
        raise AssertionError(f"{bad} was accepted")


@FUZZ
@given(
    st.one_of(
        st.text(max_size=300),
        st.builds(
            lambda rows: "time,blood_flow,p_access [kPa],sweep_fio2\n" + "\n".join(rows),
            st.lists(st.text(alphabet='0123456789-:TZ.,+ eabc"', max_size=40), max_size=8),
        ),
    )
)
def test_any_text_never_crashes_the_console_csv_reader(text: str) -> None:
    from continuum.errors import ValidationFailed
    from continuum.ingest.console_csv import ConsoleFile, read_console_text

    try:
        assert isinstance(read_console_text(text), ConsoleFile)
    except ValidationFailed as exc:
        assert exc.problems


# OBX rows as senders write them, not only as ``oru`` does: repetitions (OBX-3, OBX-5,
# OBX-18), subcomponents, blanks, empty values (device rows), rows cut short or longer than
# 19 fields, bad or missing times; with NTE/OBR segments between them.
field_text = st.text(alphabet="AB1.5 -^~&", max_size=12)
obx_field = st.one_of(
    field_text, st.sampled_from(["", " ", "NM", "mmHg^mmHg^UCUM", "266016^MDC_DIM_MMHG^MDC"])
)
obx_stamp = st.sampled_from(
    ["", "20260101120000+0000", "202601011200", "20261301", "x~y", "20260101120000^1", " "]
)


@st.composite
def obx_line(draw: st.DrawFn) -> str:
    fields = [draw(obx_field) for _ in range(draw(st.integers(0, 22)))]
    if len(fields) > 5 and draw(st.booleans()):
        fields[5] = draw(st.sampled_from(["4.5", " 7 ", "1^2", "3~4", "a&b^c"]))
    if len(fields) > 14 and draw(st.booleans()):
        fields[14] = draw(obx_stamp)
    if len(fields) > 18 and draw(st.booleans()):
        fields[18] = draw(st.sampled_from(["C1", "C1~C2", "~ C2 ^x~", "C1&sub^2", " "]))
    return "|".join(["OBX", *fields])


other_line = st.one_of(
    st.builds(lambda t: f"OBR|1||||||{t}", obx_stamp),
    st.just("NTE|1||a comment^with~reps"),
    st.just("PID|||~M2^^^H^MR~"),
)


@FUZZ
@given(
    st.lists(st.one_of(obx_line(), other_line), max_size=12),
    obx_stamp,
    st.sampled_from(["|^~&", "#$*@"]),  # the encoding characters (MSH-1, MSH-2) are the sender's
)
def test_fast_reader_equals_the_reference_on_varied_obx_rows(  # type: ignore[no-untyped-def]
    lines, msh_time, separators
) -> None:
    head = f"MSH|^~\\&|GW|ICU|CONTINUUM|ECMO|{msh_time}||ORU^R01|c1|P|2.6"
    text = "\r".join([head, "PID|||M1^^^H^MR", *lines]) + "\r"
    text = text.translate(str.maketrans("|^~&", separators))
    fast = read_oru_fast(text, received_at=RECEIVED)
    assert fast == read_oru(text, received_at=RECEIVED)
    assert fast.mrn == "M1"
