"""FHIR R4 bundles shaped like the vital-signs profile: a blood-pressure panel's components
are read, the first coding that maps is used, and an Observation that cannot be used is a
warning naming its entry, not a refusal of the bundle."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from tests.ingest.helpers import count, log_rows, values
from tests.seed import SECRET_MRNS

from continuum.core.roles import CLI_ACTOR
from continuum.db import unit_of_work
from continuum.ingest.fhir_bundle import ingest_bundle, read_bundle

AT = (datetime.now(UTC) - timedelta(minutes=20)).replace(microsecond=0)
LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
UCUM = "http://unitsofmeasure.org"
VITAL_SIGNS = "http://hl7.org/fhir/StructureDefinition/vitalsigns"


def coding(system: str, code: str, display: str) -> dict[str, str]:
    return {"system": system, "code": code, "display": display}


def quantity(value: float, unit: str, code: str) -> dict[str, Any]:
    return {"value": value, "unit": unit, "system": UCUM, "code": code}


def vital(codings: list[dict[str, str]], text: str, **fields: Any) -> dict[str, Any]:
    """An Observation as the vital-signs profile shapes it (profile, category, subject,
    effectiveDateTime with offset, UCUM quantity)."""
    resource = {
        "resourceType": "Observation",
        "meta": {"profile": [VITAL_SIGNS]},
        "status": "final",
        "category": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                        "code": "vital-signs",
                    }
                ]
            }
        ],
        "code": {"coding": codings, "text": text},
        "subject": {
            "reference": f"Patient?identifier=urn:oid:1.2.3|{SECRET_MRNS[0]}",
        },
        "effectiveDateTime": AT.astimezone(timezone(timedelta(hours=1))).isoformat(),
        **fields,
    }
    return {"fullUrl": f"urn:uuid:{abs(hash(text)):032x}", "resource": resource}


def bp_panel(systolic: float, diastolic: float, mean: float | None) -> dict[str, Any]:
    components = [
        {"code": {"coding": [coding(LOINC, "8480-6", "Systolic blood pressure")]},
         "valueQuantity": quantity(systolic, "mmHg", "mm[Hg]")},
        {"code": {"coding": [coding(LOINC, "8462-4", "Diastolic blood pressure")]},
         "valueQuantity": quantity(diastolic, "mmHg", "mm[Hg]")},
    ]  # fmt: skip
    if mean is not None:
        components.append(
            {"code": {"coding": [coding(LOINC, "8478-0", "Mean blood pressure")]},
             "valueQuantity": quantity(mean, "mmHg", "mm[Hg]")}
        )  # fmt: skip
    return vital(
        [coding(LOINC, "85354-9", "Blood pressure panel with all children optional")],
        "Blood pressure",
        component=components,
    )


def ward_bundle(bundle_id: str, *extra: dict[str, Any]) -> bytes:
    """Seven usable observations and a blood-pressure panel (no valueQuantity)."""
    entries = [
        vital([coding(LOINC, "8867-4", "Heart rate")], "Heart rate",
              valueQuantity=quantity(104, "beats/minute", "/min")),
        vital([coding(LOINC, "2708-6", "Oxygen saturation in Arterial blood"),
               coding(LOINC, "59408-5", "Oxygen saturation by Pulse oximetry")],
              "SpO2", valueQuantity=quantity(93, "%", "%")),
        vital([coding(SNOMED, "6797001", "Mean blood pressure"),
               coding(LOINC, "8478-0", "Mean blood pressure")],
              "MAP (arterial line)", valueQuantity=quantity(9.1, "kPa", "kPa")),
        vital([coding(LOINC, "60985-9", "Central venous pressure")], "CVP",
              valueQuantity=quantity(11, "mmHg", "mm[Hg]")),
        vital([coding(LOINC, "32693-4", "Lactate")], "Lactate",
              valueQuantity=quantity(2.4, "mmol/L", "mmol/L")),
        vital([coding(LOINC, "718-7", "Hemoglobin")], "Hb",
              valueQuantity=quantity(10.2, "g/dL", "g/dL")),
        vital([coding(LOINC, "2744-1", "pH of Arterial blood")], "pH",
              valueQuantity=quantity(7.38, "[pH]", "[pH]")),
        bp_panel(118, 64, 82),
        *extra,
    ]  # fmt: skip
    body = {
        "resourceType": "Bundle",
        "type": "collection",
        "identifier": {"system": "urn:ietf:rfc:3986", "value": bundle_id},
        "entry": entries,
    }
    return json.dumps(body).encode()


def send(sessions, data: bytes):  # type: ignore[no-untyped-def]
    with unit_of_work(sessions) as db:
        return ingest_bundle(db, CLI_ACTOR, data)


def diagnostics(result, severity: str) -> list[str]:  # type: ignore[no-untyped-def]
    return [i["diagnostics"] for i in result.body["issue"] if i["severity"] == severity]


def test_blood_pressure_panel_components_are_read(sessions) -> None:  # type: ignore[no-untyped-def]
    result = send(sessions, ward_bundle("VS-1"))
    assert result.status == 200, result.body
    assert count(sessions, "fhir:VS-1") == 8  # seven observations + the panel's mean
    got = values(sessions, 1)
    assert sorted(got["map"]) == pytest.approx([9.1 * 7.50062, 82.0])
    assert got["hr"] == [104.0] and got["lactate"] == [2.4] and got["ph"] == [7.38]
    warnings = diagnostics(result, "warning")
    # systolic and diastolic have no vocabulary code: named, not stored
    assert any("entry[7].component[0]" in w and "8480-6" in w for w in warnings)
    assert any("entry[7].component[1]" in w and "8462-4" in w for w in warnings)
    assert not any("component[2]" in w for w in warnings)


def test_first_coding_that_maps_is_used(sessions) -> None:  # type: ignore[no-untyped-def]
    """SNOMED first and LOINC second: LOINC maps (the SNOMED code has no mapping here);
    SpO2 coded 2708-6 + 59408-5 is pulse oximetry, not an arterial blood gas."""
    send(sessions, ward_bundle("VS-2"))
    got = values(sessions, 1)
    assert got["spo2"] == [93.0]
    assert "sao2" not in got
    assert len(got["map"]) == 2


def test_unusable_observations_are_warnings_naming_entry_and_reason(sessions) -> None:  # type: ignore[no-untyped-def]
    extra = [
        vital([coding(LOINC, "8867-4", "Heart rate")], "HR (entered in error)",
              valueQuantity=quantity(250, "/min", "/min"), status="entered-in-error"),
        vital([coding(LOINC, "8867-4", "Heart rate")], "HR", valueString="irregular"),
        vital([coding(LOINC, "2703-7", "pO2")], "pO2", dataAbsentReason={
            "coding": [{"system": "http://terminology.hl7.org/CodeSystem/data-absent-reason",
                        "code": "error"}]}),
        vital([coding(LOINC, "8310-5", "Body temperature")], "Temp",
              valueQuantity=quantity(37.2, "C", "Cel")),
        bp_panel(101, 55, None),
        {"resource": {"resourceType": "Patient", "id": "p1"}},
    ]  # fmt: skip
    result = send(sessions, ward_bundle("VS-3", *extra))
    assert result.status == 200, result.body
    assert count(sessions, "fhir:VS-3") == 8
    warnings = "\n".join(diagnostics(result, "warning"))
    assert "entry[8]: 8867-4 (LOINC): status 'entered-in-error': not stored" in warnings
    assert "entry[9]: 8867-4 (LOINC): valueString is not read" in warnings
    assert "entry[10]: 2703-7 (LOINC): data absent (error (" in warnings
    assert "entry[11]: 8310-5 (LOINC) has no mapping: not stored" in warnings
    assert "entry[12].component[1]: 8462-4 (LOINC) has no mapping" in warnings
    assert "entry[13]: a Patient is not read" in warnings
    assert values(sessions, 1)["hr"] == [104.0]  # the entered-in-error 250 is not stored
    log = next(r for r in log_rows(sessions) if r.message_id == "VS-3")
    assert log.ack_code == "AA" and log.detail and len(log.detail["warnings"]) >= 6


def test_a_bad_value_still_refuses_the_bundle(sessions) -> None:  # type: ignore[no-untyped-def]
    """A value read and refused by the vocabulary (out of range) refuses the bundle, as HL7
    does (docs/contracts.md §1); an unusable Observation alone stores nothing either."""
    bad = vital([coding(LOINC, "8867-4", "Heart rate")], "HR",
                valueQuantity=quantity(400, "/min", "/min"))  # fmt: skip
    result = send(sessions, ward_bundle("VS-4", bad))
    assert result.status == 422 and "entry[8]" in diagnostics(result, "error")[0]
    assert count(sessions, "fhir:VS-4") == 0
    only_text = json.dumps({"resourceType": "Bundle", "type": "collection", "id": "VS-5",
                            "entry": [vital([coding(LOINC, "8867-4", "HR")], "HR",
                                            valueString="n/a")]}).encode()  # fmt: skip
    result = send(sessions, only_text)
    assert result.status == 422
    errors = diagnostics(result, "error")
    assert errors[0].startswith("the bundle holds no Observation that can be stored")
    assert any("entry[0]" in e and "valueString" in e for e in errors)


def test_read_bundle_without_a_database_uses_the_default_mappings() -> None:
    msg = read_bundle(ward_bundle("VS-6"))
    read = {(v.where, v.identifiers[0]) for v in msg.values}
    assert ("entry[7].component[2]", "8478-0") in read
    assert ("entry[2]", "8478-0") in read and ("entry[1]", "59408-5") in read
    assert len(msg.values) == 8 and len(msg.left_out) == 2
