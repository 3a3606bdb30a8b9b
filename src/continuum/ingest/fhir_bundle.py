"""FHIR R4 Observation bundles → DeviceMessage, validated with ``fhir.resources`` (R4B
models, wire-compatible with R4 for Bundle/Observation). Refusals are OperationOutcomes.

One bundle is one message: its ``identifier.value`` (else ``id``, else a hash of the body)
is the message id, so a resent bundle is stored once. All Observations must share one
subject, given as ``subject.identifier.value`` (the MRN) or ``Patient?identifier=…``;
``device.identifier.value`` may name a console assigned to a run. Codes: the first coding
of ``code`` that maps (LOINC, SNOMED CT, the CONTINUUM system or a site mapping), like HL7
OBX-3; value in ``valueQuantity`` and/or in each ``component`` (a blood-pressure panel
85354-9 carries systolic, diastolic and mean there); time in ``effectiveDateTime`` /
``effectiveInstant`` / ``effectivePeriod.start`` (with offset).

An Observation (or component) that cannot be used — no quantity, no usable time, no
coding that maps, a status such as ``entered-in-error`` — is left out and named in a
warning, like an unmapped HL7 code; the rest of the bundle is stored. A value that is read
and refused (not a number, out of range) is handled as in HL7: it refuses the bundle.
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
from continuum.ingest.device_service import Outcome, mapping_table, store_messages
from continuum.ingest.mapping import DEFAULT_MAPPINGS, lookup, system_of, unit_of

MAX_BYTES = 5 * 1024 * 1024
MappingTable = dict[tuple[str, str], str]
# UCUM spellings lab Observations use that the device unit aliases (mapping.UNIT_ALIASES)
# do not list: pH is sent as "[pH]".
UCUM_EXTRA = {"[ph]": "1"}


@dataclass
class FhirResult:
    status: int
    body: dict[str, Any]


def outcome_json(outcome: Outcome) -> FhirResult:
    """An OperationOutcome: errors (422), or information + warnings (200)."""
    issues = [_issue("error", "invalid", e) for e in outcome.errors]
    issues += [_issue("warning", _warning_code(w), w) for w in outcome.warnings]
    if outcome.ack == "AA":
        info = f"bundle {outcome.message_id}: {outcome.stored} observations stored"
        if outcome.duplicate:
            info = f"bundle {outcome.message_id} was already stored: nothing stored again"
        issues.insert(0, _issue("information", "informational", info))
    status = 200 if outcome.ack == "AA" else 422
    return FhirResult(status, {"resourceType": "OperationOutcome", "issue": issues})


def _warning_code(text: str) -> str:
    return "code-invalid" if "has no mapping" in text else "incomplete"


def _issue(severity: str, code: str, text: str) -> dict[str, str]:
    return {"severity": severity, "code": code, "diagnostics": text}


def read_bundle(
    data: bytes, received_at: datetime | None = None, table: MappingTable | None = None
) -> DeviceMessage:
    """The bundle's usable values; ``table`` is the site's mapping table (default: the
    built-in defaults), used to pick each Observation's first coding that maps."""
    from fhir.resources.R4B.bundle import Bundle

    table = DEFAULT_MAPPINGS if table is None else table
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
    subjects = {_entry(msg, i, e.resource, table) for i, e in enumerate(bundle.entry or [])}
    subjects.discard(None)
    if len(subjects) > 1:
        raise MessageRefused(
            ["all Observations in a bundle must have the same subject"], message_id
        )
    msg.mrn = subjects.pop() if subjects else None
    if not msg.values:
        raise MessageRefused(
            ["the bundle holds no Observation that can be stored", *msg.left_out], message_id
        )
    return msg


def _pydantic_reasons(exc: Exception) -> list[str]:
    if isinstance(exc, ValidationError):
        return [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()[:20]]
    return [str(exc)[:200]]


def _bundle_id(bundle: Any, data: bytes) -> str:
    ident = bundle.identifier.value if bundle.identifier is not None else None
    return (ident or bundle.id or "sha256:" + hashlib.sha256(data).hexdigest())[:100]


LEFT_OUT_STATUSES = {"registered", "cancelled", "entered-in-error"}


def _entry(msg: DeviceMessage, i: int, res: Any, table: MappingTable) -> str | None:
    where = f"entry[{i}]"
    if res is None:
        return None
    if res.__resource_type__ != "Observation":
        msg.left_out.append(f"{where}: a {res.__resource_type__} is not read: not stored")
        return None
    status = str(res.status or "")
    if status in LEFT_OUT_STATUSES:
        msg.left_out.append(f"{where}: {_name(res.code)}: status '{status}': not stored")
        return _subject(res)
    parts = [(where, res.code, res.valueQuantity, res.dataAbsentReason)]
    parts += [
        (f"{where}.component[{n}]", c.code, c.valueQuantity, c.dataAbsentReason)
        for n, c in enumerate(res.component or [])
    ]
    readable = [p for p in parts if p[2] is not None and p[2].value is not None]
    if not readable:
        msg.left_out.append(f"{where}: {_name(res.code)}: {_no_value_reason(res)}: not stored")
        return _subject(res)
    when, problem = _time(res)
    if problem:
        msg.left_out.append(f"{where}: {_name(res.code)}: {problem}: not stored")
        return _subject(res)
    console = _device(res)
    for part_where, concept, quantity, _absent in readable:
        chosen = first_mapped(concept, table)
        if chosen is None:
            msg.left_out.append(f"{part_where}: {_name(concept)} has no mapping: not stored")
            continue
        system, code = chosen
        msg.values.append(
            DeviceValue(
                part_where,
                system,
                (code,),
                str(quantity.value),
                _unit(quantity),
                when,
                (console,) if console else (),
            )
        )
    for part_where, concept, quantity, absent in parts[1:]:
        if quantity is None or quantity.value is None:
            why = f"data absent ({_name(absent)})" if absent is not None else "no valueQuantity"
            msg.left_out.append(f"{part_where}: {_name(concept)}: {why}: not stored")
    return _subject(res)


def _unit(quantity: Any) -> str:
    code, unit = str(quantity.code or ""), str(quantity.unit or "")
    return UCUM_EXTRA.get(code.strip().lower()) or unit_of(code, unit)


def _codings(concept: Any) -> list[tuple[str, str]]:
    if concept is None:
        return []
    return [
        (system_of(str(c.system or "")), str(c.code or "").strip())
        for c in concept.coding or []
        if str(c.code or "").strip()
    ]


# Base codes the FHIR vital-signs profile requires beside a more specific one: LOINC
# 2708-6 (oxygen saturation in arterial blood) comes with 59408-5 (… by pulse oximetry).
# When a later coding of the same concept maps too, the later, specific one is read.
VITAL_SIGNS_BASE_CODES = {("LOINC", "2708-6")}


def first_mapped(concept: Any, table: MappingTable) -> tuple[str, str] | None:
    """The first coding (system, code) of a CodeableConcept that maps to a vocabulary code
    (senders often put SNOMED CT first and LOINC second); a vital-signs base code gives way
    to a more specific coding that maps."""
    mapped = [c for c in _codings(concept) if lookup(table, *c)]
    specific = [c for c in mapped if c not in VITAL_SIGNS_BASE_CODES]
    return (specific or mapped or [None])[0]


def _name(concept: Any) -> str:
    """A CodeableConcept as a reader knows it: its codings, else its text."""
    shown = [f"{code} ({system})" for system, code in _codings(concept)]
    text = getattr(concept, "text", None) if concept is not None else None
    return " / ".join(shown) or (str(text) if text else "(no code)")


def _no_value_reason(res: Any) -> str:
    if res.dataAbsentReason is not None:
        return f"data absent ({_name(res.dataAbsentReason)})"
    kinds = [f for f in ("valueString", "valueCodeableConcept", "valueBoolean",
                         "valueInteger", "valueRange", "valueRatio", "valueSampledData")
             if getattr(res, f, None) is not None]  # fmt: skip
    if kinds:
        return f"{kinds[0]} is not read (a valueQuantity is needed)"
    if res.component:
        return "no component has a valueQuantity.value"
    return "no valueQuantity.value and no component"


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
        msg = read_bundle(data, received, mapping_table(session))
    except MessageRefused as exc:
        msg = DeviceMessage.refused("fhir", exc, received)
    return outcome_json(store_messages(session, actor, [msg])[0])
