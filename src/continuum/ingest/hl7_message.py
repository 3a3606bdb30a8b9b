"""HL7 v2 ORU^R01 → DeviceMessage, and the ACK text. Pure: no database, no network.

Two readers give the same result: ``read_oru`` uses the maintained ``hl7`` package (the
reference); ``read_oru_fast`` splits the text itself (several times faster: OBX rows have
their seven used fields taken straight from the text) and is proven equal to the reference
on generated corpora (tests/ingest/test_parsers_properties.py). Both share the rules: what
an MSH, PID, OBR and OBX row mean (``_header``, ``_context``, ``_obx_value``).
Parsing is lenient (IHE PCD-01 examples are not perfectly conformant): empty OBX-2 on
device rows, OBX-14 → OBR-7 → MSH-7 for time, UCUM or MDC units, X in OBX-11 of metrics.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, tzinfo
from functools import lru_cache
from typing import Any

import hl7

from continuum.ingest.device_message import (
    AMENDING,
    WITHDRAWING,
    DeviceMessage,
    DeviceValue,
    MessageRefused,
    parse_hl7_time,
)
from continuum.ingest.mapping import system_of, unit_of

# A segment as plain data: [name, field1, field2, …]; a field is a list of repetitions,
# a repetition a list of component strings.
Field = list[list[str]]
Segment = list[Field]


def decode(data: bytes) -> str:
    """Bytes off the wire → text with CR segment ends (UTF-8, else Latin-1)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    return text.replace("\r\n", "\r").replace("\n", "\r").strip()


def _get(seg: Segment, n: int, rep: int = 0, comp: int = 0) -> str:
    try:
        return seg[n][rep][comp]
    except IndexError:
        return ""


def _reps(seg: Segment, n: int) -> Field:
    return seg[n] if n < len(seg) else []


# --- the reference reader: python-hl7 -------------------------------------------------


def _lib_field(field: object) -> Field:
    if isinstance(field, str):
        return [[field]]
    reps: Field = []
    for rep in field:  # type: ignore[attr-defined]
        if isinstance(rep, str):
            reps.append([rep])
        else:
            reps.append([str(c) for c in rep])
    return reps


def segments_reference(text: str) -> list[Segment]:
    message = hl7.parse(text)
    out: list[Segment] = []
    for seg in message:
        name = str(seg[0])
        fields: Segment = [[[name]]]
        for i, f in enumerate(seg[1:], start=1):
            fields.append([[str(f)]] if name == "MSH" and i in (1, 2) else _lib_field(f))
        out.append(fields)
    return out


# --- the fast reader -----------------------------------------------------------------


def _separators(text: str) -> tuple[str, str, str]:
    """(field, repetition, component) separators from the MSH (or BHS/FHS) at the start."""
    fs, rep, comp, _, _ = _encoding(text)
    return fs, rep, comp


def _encoding(text: str) -> tuple[str, str, str, str, str]:
    """(field, repetition, component, escape, subcomponent) characters from MSH-1/MSH-2."""
    if text[:3] not in ("MSH", "BHS", "FHS") or len(text) < 4:
        raise ValueError(f"first segment is {text[:3]!r}, not MSH")
    fs = text[3]
    end = text.find(fs, 4)
    seps = text[3:end] if end > 0 else text[3:8]
    return (
        fs,
        seps[2] if len(seps) > 2 else "~",
        seps[1] if len(seps) > 1 else "^",
        seps[3] if len(seps) > 3 else "\\",
        seps[4] if len(seps) > 4 else "&",
    )


class Unescape:
    """HL7 escape sequences (\\F\\ \\S\\ \\T\\ \\R\\ \\E\\ \\.br\\ \\Xhh\\ …) decoded by the ``hl7``
    package's own ``Message.unescape`` with the message's separators. Applied to each
    component after the split (an escaped separator is text, never a separator); a line
    break becomes a space (the values read here are single-line)."""

    __slots__ = ("_message", "esc")

    def __init__(self, fs: str, rep: str, comp: str, esc: str, sub: str) -> None:
        self.esc = esc
        self._message = hl7.Message("\r", [], esc=esc, separators="\r" + fs + rep + comp + sub)

    def __call__(self, text: str) -> str:
        if self.esc not in text:
            return text
        try:
            out = str(self._message.unescape(text))
        except Exception:  # a malformed sequence: keep the text as sent
            return text
        return out.replace("\r", " ").replace("\n", " ")

    def each(self, parts: list[str]) -> list[str]:
        return [self(p) for p in parts]


@lru_cache(maxsize=16)
def unescaper(fs: str, rep: str, comp: str, esc: str, sub: str) -> Unescape:
    return Unescape(fs, rep, comp, esc, sub)


def _segment(line: str, fs: str, rep: str, comp: str) -> Segment:
    if line[:3] in ("MSH", "BHS", "FHS") and len(line) > 3:
        e = line.find(fs, 4)
        head = [[[line[:3]]], [[line[3]]], [[line[4:e]]]]
        rest = line[e + 1 :] if e >= 0 else ""
        return _LazySegment([*head, *(rest.split(fs) if rest else [])], rep, comp)
    parts = line.split(fs)
    return _LazySegment([[[parts[0]]], *parts[1:]], rep, comp)


def segments_fast(text: str) -> list[Segment]:
    fs, rep, comp = _separators(text)
    return [_segment(line, fs, rep, comp) for line in text.split("\r")]


class _LazySegment(list[Any]):
    """A segment whose fields stay text until read (MSH, PID, OBR: a few fields of each
    are read), split into repetitions and components exactly as the reference does."""

    __slots__ = ("_comp", "_rep")

    def __init__(self, fields: list[Any], rep: str, comp: str) -> None:
        super().__init__(fields)
        self._rep = rep
        self._comp = comp

    def __getitem__(self, index: Any) -> Any:
        value = super().__getitem__(index)
        if isinstance(value, str):
            value = [r.split(self._comp) for r in value.split(self._rep)]
            super().__setitem__(index, value)
        return value


# --- ORU^R01 → DeviceMessage ---------------------------------------------------------

Reader = Callable[[str], list[Segment]]


def _text(data: bytes | str) -> str:
    return decode(data) if isinstance(data, bytes) else data.replace("\n", "\r").strip()


def _refused(exc: Exception) -> MessageRefused:
    return MessageRefused([f"not an HL7 v2 message: {str(exc)[:120]}"])


def read_oru(
    data: bytes | str,
    *,
    received_at: datetime | None = None,
    zone: tzinfo = UTC,
    reader: Reader = segments_reference,
) -> DeviceMessage:
    """Read one ORU^R01; raise MessageRefused (AR) when it cannot be read at all."""
    text = _text(data)
    try:
        segments = reader(text)
    except Exception as exc:  # any parser failure on arbitrary bytes is a refusal
        raise _refused(exc) from None
    msh = segments[0]
    unescape = unescaper(*_encoding(text))
    msg = _header(msh, received_at or datetime.now(UTC), unescape)
    fallback = _get(msh, 7)
    times: dict[str, tuple[datetime | None, str | None]] = {}
    for seg in segments[1:]:
        if _get(seg, 0) == "OBX":
            n = len(msg.values) + 1
            value = _obx_value(n, *_obx_fields(seg), fallback, zone, times, unescape)
            if value is not None:
                msg.values.append(value)
                if value.status in AMENDING:
                    msg.amends = True
        else:
            fallback = _context(msg, seg, msh, fallback, unescape)
    return msg


def read_oru_fast(
    data: bytes | str, *, received_at: datetime | None = None, zone: tzinfo = UTC
) -> DeviceMessage:
    """``read_oru`` without the ``hl7`` package: the same DeviceMessage, several times
    faster. MSH, PID and OBR are read as lazily split segments; OBX rows, the bulk of a
    message, have their few fields taken straight from the text."""
    text = _text(data)
    try:
        encoding = _encoding(text)
    except ValueError as exc:
        raise _refused(exc) from None
    fs, rep, comp, esc, _ = encoding
    unescape = unescaper(*encoding)
    lines = text.split("\r")
    msh = _segment(lines[0], fs, rep, comp)
    msg = _header(msh, received_at or datetime.now(UTC), unescape)
    fallback = _get(msh, 7)
    times: dict[str, tuple[datetime | None, str | None]] = {}
    values = msg.values
    for line in lines[1:]:
        f = line.split(fs)
        if f[0] != "OBX":  # the segment name, as _segment reads it
            fallback = _context(msg, _segment(line, fs, rep, comp), msh, fallback, unescape)
            continue
        # An OBX row carries some twenty fields of which the reader uses eight: take them
        # straight from the text, as _obx_fields reads them from a segment (a missing
        # field reads as an empty one).
        if len(f) < 19:
            f += [""] * (19 - len(f))
        first = [x.partition(rep)[0] for x in f] if rep in line else f  # first repetitions
        value = _obx_value(
            len(values) + 1,
            first[1].partition(comp)[0],
            first[2].partition(comp)[0],
            first[3].split(comp),
            first[5].split(comp),
            first[6].split(comp),
            first[11].partition(comp)[0],
            first[14].partition(comp)[0],
            [r.partition(comp)[0] for r in f[18].split(rep)] if f[18] else [],
            fallback,
            zone,
            times,
            unescape if esc in line else None,
        )
        if value is not None:
            values.append(value)
            if value.status in AMENDING:
                msg.amends = True
    return msg


def _hd(seg: Segment, n: int) -> str:
    """An HD field (MSH-3/MSH-4) as sent: the first repetition's components joined by '^'."""
    reps = _reps(seg, n)
    return "^".join(reps[0]).strip()[:HD_MAX] if reps and reps[0] else ""


HD_MAX = 180


def _header(
    msh: Segment, received_at: datetime, unescape: Callable[[str], str] = str
) -> DeviceMessage:
    """The message from its MSH (no values yet); MessageRefused unless an ORU^R01 with a
    control id. MSH-3/MSH-4 stay as sent: they are echoed into the ACK."""
    control_id = unescape(_get(msh, 10))[:100]
    kind = (_get(msh, 9, 0, 0), _get(msh, 9, 0, 1))
    sender = (_hd(msh, 3), _hd(msh, 4))
    if not control_id:
        raise MessageRefused(["MSH-10 (message control id) is empty"], sender=sender)
    if kind[0] != "ORU" or kind[1] not in ("R01", ""):
        reason = f"MSH-9 is '{'^'.join(kind)}': only ORU^R01 is accepted"
        raise MessageRefused([reason], control_id, sender=sender)
    msg = DeviceMessage("hl7", control_id, None, [], received_at)
    msg.sender_application, msg.sender_facility = sender
    return msg


def _context(
    msg: DeviceMessage,
    seg: Segment,
    msh: Segment,
    fallback: str,
    unescape: Callable[[str], str] = str,
) -> str:
    """A segment other than OBX: the first PID gives the MRN, each OBR the time of the
    OBX rows after it (OBR-7, else MSH-7). Returns that fallback time."""
    name = _get(seg, 0)
    if name == "PID" and msg.mrn is None:
        mrn = _mrn(_reps(seg, 3))
        msg.mrn = unescape(mrn)[:64] if mrn is not None else None
    elif name == "OBR":
        return _get(seg, 7) or _get(msh, 7)
    return fallback


def read_header(data: bytes, limit: int = 65536) -> tuple[str, str, str]:
    """(MSH-10 control id, MSH-3, MSH-4) read cheaply from the start of a frame, e.g. one
    too large to parse; empty strings where they cannot be read."""
    text = decode(data[:limit]).split("\r", 1)[0]
    try:
        msh = segments_fast(text)[0]
    except (ValueError, IndexError):
        return "", "", ""
    if _get(msh, 0) != "MSH":
        return "", "", ""
    return _get(msh, 10)[:100], _hd(msh, 3), _hd(msh, 4)


def _mrn(reps: Field) -> str | None:
    ids = [r for r in reps if r and r[0].strip()]
    chosen = next((r for r in ids if len(r) > 4 and r[4].strip().upper() == "MR"), None)
    chosen = chosen or (ids[0] if ids else None)
    return chosen[0].strip()[:64] if chosen else None


def _first(seg: Segment, n: int) -> list[str]:
    """The components of a field's first repetition ([] when the field is absent)."""
    try:
        return seg[n][0]
    except IndexError:
        return []


def _obx_fields(
    seg: Segment,
) -> tuple[str, str, list[str], list[str], list[str], str, str, list[str]]:
    """The OBX fields the reader uses: OBX-1 set id, OBX-2 value type, OBX-3 identifier
    components, OBX-5 value components (SN has several), OBX-6 unit components, OBX-11
    result status, OBX-14 time (each from the first repetition), and the first component
    of each OBX-18 repetition (console ids)."""
    consoles = [r[0] for r in _reps(seg, 18) if r]
    return (
        _get(seg, 1),
        _get(seg, 2),
        _first(seg, 3),
        _first(seg, 5),
        _first(seg, 6),
        _get(seg, 11),
        _get(seg, 14),
        consoles,
    )


# OBX rows repeat a handful of coding systems and units: both lookups are pure functions of
# the text, so their results are kept (bounded; arbitrary senders cannot grow it).
_system_of = lru_cache(maxsize=1024)(system_of)
_unit_of = lru_cache(maxsize=1024)(unit_of)


STORED_STATUSES = frozenset({"", "F", "R", "P", "S", "U", "C", "W", "D"})
_STATUS = {s: s for s in STORED_STATUSES if s}  # as sent, the common case: no strip/upper
NUMERIC = ("NM", "SN")
NO_RESULT = {
    "X": "result status X (results cannot be obtained)",
    "I": "result status I (specimen in lab, no result yet)",
    "N": "result status N (not asked)",
    "O": "result status O (order detail only, no result)",
}


def _obx_value(
    n: int,
    set_id: str,
    value_type: str,
    ident: list[str],
    raw: list[str],
    unit: list[str],
    status: str,
    stamp: str,
    console_ids: list[str],
    fallback: str,
    zone: tzinfo,
    times: dict[str, tuple[datetime | None, str | None]],
    unescape: Unescape | None = None,
) -> DeviceValue | None:
    """The n-th OBX row (fields as ``_obx_fields`` gives them) as a DeviceValue; None for
    device/channel rows, which carry no value. ``times`` caches each time stamp's reading
    (one message's rows usually share one). ``unescape``: decodes escape sequences in the
    text fields (None when the row has none)."""
    if unescape is not None:
        ident, raw, unit = unescape.each(ident), unescape.each(raw), unescape.each(unit)
        console_ids = unescape.each(console_ids)
    status = _STATUS.get(status) or status.strip().upper()
    vtype = value_type.strip().upper()
    if len(raw) == 1:  # NM, ST: the common case
        value, bound = raw[0].strip(), ""
    else:
        value, bound = _structured(raw)
    if not value and status not in WITHDRAWING and not (status in NO_RESULT and vtype in NUMERIC):
        return None  # a device or channel row, or a metric without a value
    where = f"OBX {set_id.strip() or n}"
    skip = None
    if bound or status not in STORED_STATUSES:
        skip = _not_stored(where, value, bound, status)
    stamp = stamp or fallback
    known = times.get(stamp)
    if known is None:
        try:
            known = times[stamp] = (parse_hl7_time(stamp, zone), None)
        except ValueError as exc:
            known = times[stamp] = (None, str(exc))
    time, why = known
    problem = None
    if why is not None:
        problem = f"{where}: time {why}" if stamp else f"{where}: no OBX-14, OBR-7 or MSH-7 time"
    consoles = tuple(c.strip()[:128] for c in console_ids if c.strip()) if console_ids else ()
    k = len(ident)
    alternate = None
    if k > 3 and (ident[3].strip() or (k > 4 and ident[4].strip())):
        alternate = (
            _system_of(ident[5] if k > 5 else ""),
            (ident[3].strip(), ident[4].strip() if k > 4 else ""),
        )
    return DeviceValue(  # positional (field order), measurably cheaper per row than keywords
        where,
        _system_of(ident[2] if k > 2 else ""),  # system
        (ident[0].strip() if k else "", ident[1].strip() if k > 1 else ""),  # identifiers
        value,
        _unit_of(unit[0] if unit else "", unit[1] if len(unit) > 1 else ""),  # unit
        time,
        consoles,
        vtype,
        problem,
        status,
        alternate,
        skip,
    )


def _not_stored(where: str, value: str, bound: str, status: str) -> str:
    """Why a value that was read is not stored (named in the ACK as a warning)."""
    if bound:
        return f"{where}: '{value}' {bound}: not stored"
    if status in NO_RESULT:
        shown = f" (value '{value}')" if value else ""
        return f"{where}: {NO_RESULT[status]}{shown}: not stored"
    return (
        f"{where}: OBX-11 '{status[:10]}' is not a result status "
        "(F, R, P, S, U, C, W, D, X): not stored"
    )


def _structured(raw: list[str]) -> tuple[str, str]:
    """An SN (structured numeric) OBX-5 — comparator ^ number ^ separator ^ number — as
    (value text, why it is not one measured value or ""). ``^70`` and ``=^70`` are 70;
    ``<^5`` is a bound and ``^10^-^20`` a range: shown as sent and named, not stored."""
    parts = [p.strip() for p in raw] + ["", "", "", ""]
    comparator, first, separator, second = parts[:4]
    if not (comparator or first or separator or second):
        return "", ""
    if separator or second:
        return f"{comparator}{first}{separator}{second}", "is a range or ratio (SN), not one value"
    if comparator in ("", "="):
        return first, ""
    return f"{comparator}{first}", f"is a bound ({comparator}), not a measured value"


# --- ACK ------------------------------------------------------------------------------

_ESCAPES = (("\\", "\\E\\"), ("|", "\\F\\"), ("^", "\\S\\"), ("~", "\\R\\"), ("&", "\\T\\"))


def escape(text: str) -> str:
    for raw, esc in _ESCAPES:
        text = text.replace(raw, esc)
    return text.replace("\r", " ").replace("\n", " ")


def ack(
    code: str,
    control_id: str,
    *,
    errors: Sequence[str] = (),
    warnings: Sequence[str] = (),
    now: datetime | None = None,
    ack_id: str = "",
    receiving: tuple[str, str] = ("", ""),
) -> str:
    """An ACK^R01 (v2.6): MSH-3/4 name us (CONTINUUM/ECMO), MSH-5/6 echo the sender's
    MSH-3/4 (``receiving``), MSA-1 code, MSA-2 the control id, MSA-3 the first reason, and
    one ERR segment per reason (severity E) and per warning (severity W)."""
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%d%H%M%S+0000")
    first = (list(errors) or list(warnings) or [""])[0]
    text = {"AA": "Message accepted", "AE": "Application error", "AR": "Message rejected"}
    msa_text = escape(first[:200]) if first else text.get(code, "")
    app, facility = (_echo(h) for h in receiving)
    out = [
        f"MSH|^~\\&|CONTINUUM|ECMO|{app}|{facility}|{stamp}||ACK^R01^ACK"
        f"|{escape(ack_id or 'A' + control_id)}|P|2.6",
        f"MSA|{code}|{escape(control_id)}|{msa_text}",
    ]
    out += [f"ERR|||207^Application error^HL70357|E|||{escape(e[:300])}" for e in errors]
    out += [f"ERR|||103^Table value not found^HL70357|W|||{escape(w[:300])}" for w in warnings]
    return "\r".join(out) + "\r"


def _echo(hd: str) -> str:
    """An HD value echoed into our ACK: components stay components; what would end the
    field or the segment in our encoding is escaped."""
    hd = hd.replace("\r", " ").replace("\n", " ")[:HD_MAX]
    return hd.replace("|", "\\F\\").replace("~", "\\R\\")
