"""Bedside-bridge JSON over MQTT → DeviceMessage. Pure. Topic and payload: docs/ingest.md.

Topic ``continuum/console/{console_id}``; payload::

    {"message_id": "c7-000123", "time": "2026-11-24T05:00:00Z", "mrn": "123456",
     "system": "CONTINUUM",
     "values": {"blood_flow": 4.2, "p_access": {"value": -8.1, "unit": "kPa"}}}

``mrn`` is optional when the console is assigned to a run; ``system`` defaults to
CONTINUUM (other systems map through the code-mapping table, like HL7 OBX-3).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from continuum.ingest.device_message import DeviceMessage, DeviceValue, MessageRefused
from continuum.ingest.mapping import system_of, unit_of

TOPIC_PREFIX = "continuum/console/"
MAX_VALUES = 500


def console_of(topic: str) -> str:
    if not topic.startswith(TOPIC_PREFIX) or not topic[len(TOPIC_PREFIX) :].strip("/"):
        raise MessageRefused([f"topic '{topic[:100]}' is not {TOPIC_PREFIX}{{console_id}}"])
    return topic[len(TOPIC_PREFIX) :].strip("/")[:128]


def read_mqtt(topic: str, payload: bytes, received_at: datetime | None = None) -> DeviceMessage:
    """Read one bridge message; MessageRefused (AR) when it cannot be read at all."""
    console = console_of(topic)
    body = _json(payload)
    message_id = body.get("message_id")
    if not isinstance(message_id, str) or not message_id.strip():
        raise MessageRefused(["message_id is missing or not a string"])
    message_id = message_id.strip()[:100]
    values = body.get("values")
    if not isinstance(values, dict) or not values or len(values) > MAX_VALUES:
        raise MessageRefused([f"values must be an object with 1–{MAX_VALUES} codes"], message_id)
    mrn = body.get("mrn")
    msg = DeviceMessage("mqtt", message_id, str(mrn)[:64] if mrn else None, [],
                        received_at or datetime.now(UTC))  # fmt: skip
    when, problem = _time(body.get("time"))
    system = system_of(str(body.get("system") or "CONTINUUM"))
    for key, raw in values.items():
        value, unit = _value(raw)
        msg.values.append(
            DeviceValue(
                f"values.{str(key)[:64]}",
                system,
                (str(key)[:128],),
                value,
                unit,
                when,
                (console,),
                problem=problem and f"values.{key}: {problem}",
            )
        )
    return msg


def _json(payload: bytes) -> dict[str, Any]:
    try:
        body = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise MessageRefused([f"payload is not JSON: {str(exc)[:100]}"]) from None
    if not isinstance(body, dict):
        raise MessageRefused(["payload must be a JSON object"])
    return body


def _time(raw: object) -> tuple[datetime | None, str | None]:
    if not isinstance(raw, str):
        return None, "time is missing (ISO 8601 with offset or Z)"
    try:
        t = datetime.fromisoformat(raw)
    except ValueError:
        return None, f"time '{raw[:40]}' is not ISO 8601"
    if t.utcoffset() is None:
        return None, f"time '{raw[:40]}' has no UTC offset or Z"
    return t.astimezone(UTC), None


def _value(raw: object) -> tuple[str, str]:
    if isinstance(raw, dict):
        return _text(raw.get("value")), unit_of(str(raw.get("unit") or ""))
    return _text(raw), ""


def _text(raw: object) -> str:
    if isinstance(raw, bool) or raw is None:
        return str(raw).lower()
    return str(raw)[:64]
