"""A device message, whatever the transport (HL7 v2, MQTT JSON, FHIR): pure data.

Parsers turn bytes into a ``DeviceMessage`` (or raise ``MessageRefused``); the device
service maps, validates and stores it. Values stay strings until the vocabulary types them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo


@dataclass(frozen=True, slots=True)
class DeviceValue:
    where: str  # "OBX 4", "values.blood_flow", "entry[2]" — named in reasons
    system: str  # normalised coding system (mapping.system_of)
    identifiers: tuple[str, ...]  # e.g. (code, REFID/text); tried in order
    value: str
    unit: str
    time: datetime | None
    consoles: tuple[str, ...] = ()  # OBX-18 / topic console id(s)
    value_type: str = "NM"
    problem: str | None = None  # e.g. an unreadable time: refuses the value if it maps
    # HL7 OBX-11 result status as received (F, R, P, S, C, W, D, U, or "" when not sent):
    # C corrects, W and D withdraw an earlier value of the same code and time.
    status: str = ""
    # Alternate coding (HL7 OBX-3 components 4–6): (system, identifiers), tried after the
    # primary identifier when that does not map.
    alternate: tuple[str, tuple[str, ...]] | None = None
    # Why the value is not stored although it was read (e.g. status X, an SN bound such as
    # "<5"): named in the ACK as a warning (ERR severity W), never dropped silently.
    skip: str | None = None


AMENDING = frozenset({"C", "W", "D"})  # result statuses that change an earlier value
WITHDRAWING = frozenset({"W", "D"})


@dataclass
class DeviceMessage:
    channel: str  # hl7 | mqtt | fhir
    message_id: str
    mrn: str | None
    values: list[DeviceValue]
    received_at: datetime
    problems: list[str] = field(default_factory=list)  # reasons found by the parser
    peer: str | None = None
    refusal: str | None = None  # "AR" when the message could not be read at all
    # The sender as it named itself (HL7 MSH-3 / MSH-4, HD components joined with "^"),
    # echoed in the ACK's MSH-5 / MSH-6; empty when unknown or not HL7.
    sender_application: str = ""
    sender_facility: str = ""
    # True when a value corrects or withdraws an earlier one (stored through an ordinary
    # transaction, not the listener's single-statement path).
    amends: bool = False
    # Parts the parser left out that do not refuse the message (e.g. a FHIR Observation
    # with no usable value): reported as warnings, like an unmapped code.
    left_out: list[str] = field(default_factory=list)

    @classmethod
    def refused(
        cls, channel: str, exc: MessageRefused, received_at: datetime, peer: str | None = None
    ) -> DeviceMessage:
        return cls(
            channel, exc.message_id, None, [], received_at, exc.reasons, peer, exc.code,
            exc.sender_application, exc.sender_facility,
        )  # fmt: skip


class MessageRefused(Exception):
    """The message cannot be read at all (AR): not HL7/JSON, wrong type, no control id."""

    def __init__(
        self,
        reasons: list[str],
        message_id: str = "",
        code: str = "AR",
        sender: tuple[str, str] = ("", ""),
    ) -> None:
        super().__init__("; ".join(reasons))
        self.reasons = reasons
        self.message_id = message_id
        self.code = code
        self.sender_application, self.sender_facility = sender


_DTM = re.compile(
    r"^(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?(?:\.(\d{1,6}))?(?:([+-])(\d{2})(\d{2}))?$"
)


def parse_hl7_time(text: str, zone: tzinfo = UTC) -> datetime:
    """HL7 DTM ``YYYY[MM[DD[HH[MM[SS[.S…]]]]]][+/-ZZZZ]`` → aware UTC datetime.

    Without an offset the sender's local time is assumed: ``zone`` (the programme's).
    Raises ValueError naming what is wrong (e.g. month 13)."""
    m = _DTM.match(text.strip())
    if not m:
        raise ValueError(f"'{text}' is not an HL7 date/time (YYYYMMDDHHMMSS[+ZZZZ])")
    y, mo, d, h, mi, s, frac, sign, oh, om = m.groups()
    if mo is None or d is None:
        raise ValueError(f"'{text}' is not precise enough for an observation time")
    try:
        micro = int((frac or "0").ljust(6, "0"))
        local = datetime(int(y), int(mo), int(d), int(h or 0), int(mi or 0), int(s or 0), micro)
        if sign:
            off = timedelta(hours=int(oh), minutes=int(om))
            if off > timedelta(hours=14):
                raise ValueError("offset beyond ±14:00")
            return (local - off if sign == "+" else local + off).replace(tzinfo=UTC)
        return local.replace(tzinfo=zone).astimezone(UTC)
    except (ValueError, OverflowError) as exc:
        raise ValueError(f"'{text}' is not a real date/time ({exc})") from None
