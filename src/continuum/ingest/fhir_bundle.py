"""FHIR R4 Observation bundles → DeviceMessage, validated with ``fhir.resources`` (R4B
models, wire-compatible with R4 for Bundle/Observation). Refusals are OperationOutcomes.

One bundle is one message: its ``identifier.value`` (else ``id``, else a hash of the body)
is the message id, so a resent bundle is stored once. All Observations must share one
subject, given as ``subject.identifier.value`` (the MRN) or ``Patient?identifier=…``;
``device.identifier.value`` may name a console assigned to a run. Codes: LOINC or the
CONTINUUM system, mapped like HL7 OBX-3; value in ``valueQuantity``; time in
``effectiveDateTime`` / ``effectiveInstant`` / ``effectivePeriod.start`` (with offset).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy.orm import Session

from continuum.core.roles import Actor
from continuum.ingest.device_message import DeviceMessage, DeviceValue, MessageRefused
from continuum.ingest.device_service import Outcome, store_messages
from continuum.ingest.mapping import system_of, unit_of

MAX_BYTES = 5 * 1024 * 1024


@dataclass
class FhirResult:
    status: int
    body: dict[str, Any]


def outcome_json(outcome: Outcome) -> FhirResult:
    """An OperationOutcome: errors (422), or information + warnings (200)."""
    issues = [_issue("error", "invalid", e) for e in outcome.errors]
    issues += [_issue("warning", "code-invalid", w) for w in outcome.warnings]
    if outcome.ack == "AA":
        info = f"bundle {outcome.message_id}: {outcome.stored} observations stored"
        if outcome.duplicate:
            info = f"bundle {outcome.message_id} was already stored: nothing stored again"
        issues.insert(0, _issue("information", "informational", info))
    status = 200 if outcome.ack == "AA" else 422
    return FhirResult(status, {"resourceType": "OperationOutcome", "issue": issues})


def _issue(severity: str, code: str, text: str) -> dict[str, str]:
    return {"severity": severity, "code": code, "diagnostics": text}


def read_bundle(data: bytes, received_at: datetime | None = None) -> DeviceMessage:
    from fhir.resources.R4B.bundle import Bundle

    if len(data) > MAX_BYTES:
        raise MessageRefused([f"bundle larger than {MAX_BYTES // 1024 // 1024} MB"])
    try:
        raw = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise MessageRefused([f"not JSON: {str(exc)[:100]}"]) from None
    if not isinstance(raw, dict) or raw.get("resourceType") != "Bundle":
        raise MessageRefused(["resourceType must be Bundle"])
    try:
        bundle = Bundle.model_validate(raw)
    except (ValidationError, ValueError, TypeError) as exc:
        raise MessageRefused(_pydantic_reasons(exc)) from None
    message_id = _bundle_id(bundle, data)
    msg = DeviceMessage("fhir", message_id, None, [], received_at or datetime.now(UTC))
    subjects = {_entry(msg, i, e.resource) for i, e in enumerate(bundle.entry or [])}
    subjects.discard(None)
    if len(subjects) > 1:
        raise MessageRefused(
            ["all Observations in a bundle must have the same subject"], message_id
        )
    msg.mrn = subjects.pop() if subjects else None
    if not msg.values:
        raise MessageRefused(["the bundle holds no Observation with a value"], message_id)
    return msg


def _pydantic_reasons(exc: Exception) -> list[str]:
    if isinstance(exc, ValidationError):
        return [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()[:20]]
    return [str(exc)[:200]]


def _bundle_id(bundle: Any, data: bytes) -> str:
    ident = bundle.identifier.value if bundle.identifier is not None else None
    return (ident or bundle.id or "sha256:" + hashlib.sha256(data).hexdigest())[:100]


def _entry(msg: DeviceMessage, i: int, res: Any) -> str | None:
    if res is None or res.__resource_type__ != "Observation":
        return None
    where = f"entry[{i}]"
    if res.valueQuantity is None or res.valueQuantity.value is None:
        msg.problems.append(f"{where}: Observation has no valueQuantity.value")
        return _subject(res)
    when, problem = _time(res)
    quantity = res.valueQuantity
    unit = unit_of(str(quantity.code or ""), str(quantity.unit or ""))
    console = _device(res)
    for coding in (res.code.coding or [])[:1] or [None]:
        system = system_of(str(coding.system or "")) if coding else "LOCAL"
        code = str(coding.code or "") if coding else ""
        msg.values.append(
            DeviceValue(
                where,
                system,
                (code,),
                str(quantity.value),
                unit,
                when,
                (console,) if console else (),
                problem=problem and f"{where}: {problem}",
            )
        )
    return _subject(res)


def _time(res: Any) -> tuple[datetime | None, str | None]:
    t = res.effectiveDateTime or res.effectiveInstant
    if t is None and res.effectivePeriod is not None:
        t = res.effectivePeriod.start
    if not isinstance(t, datetime):
        return None, "effectiveDateTime with a time and offset is required"
    if t.utcoffset() is None:
        return None, f"effective time {t.isoformat()} has no UTC offset"
    return t.astimezone(UTC), None


def _subject(res: Any) -> str | None:
    subject = res.subject
    if subject is None:
        return None
    if subject.identifier is not None and subject.identifier.value:
        return str(subject.identifier.value)[:64]
    ref = subject.reference or ""
    if ref.startswith("Patient?identifier="):
        return ref.split("=", 1)[1].split("|")[-1][:64]
    return None


def _device(res: Any) -> str | None:
    device = res.device
    if device is not None and device.identifier is not None and device.identifier.value:
        return str(device.identifier.value)[:128]
    return None


def ingest_bundle(session: Session, actor: Actor, data: bytes) -> FhirResult:
    """Read, store (flush only) and answer one bundle."""
    received = datetime.now(UTC)
    try:
        msg = read_bundle(data, received)
    except MessageRefused as exc:
        msg = DeviceMessage.refused("fhir", exc, received)
    return outcome_json(store_messages(session, actor, [msg])[0])
