"""A cohort as one FHIR R4 Bundle (type ``collection``), each resource validated with
``fhir.resources`` (its R4B models, which R4 resources of these types satisfy) as it is
written, the file written entry by entry (never the whole bundle in memory).

Per run: the Patient (pseudonymised when de-identified: the keyed pseudonym as id, sex, no
name, identifier or birth date), an Encounter for the stay, the Procedure for the run
(SNOMED CT 233573008, extracorporeal membrane oxygenation, with its period and outcome),
a Device per membrane lung, and an Observation per code and run-hour holding the hour's
mean (LOINC where the vocabulary has one, else the project's own code system), so a
bundle stays a readable size with 1-minute circuit data.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from datetime import timedelta
from pathlib import Path
from typing import Any

from continuum import vocabulary
from continuum.research.export import RunData

SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"
LOCAL_CODES = "https://ecmo-continuum.org/fhir/CodeSystem/observation-code"
ECMO_PROCEDURE = ("233573008", "Extracorporeal membrane oxygenation")
NAMESPACE = uuid.UUID("6f1c8b8e-1d7a-4c4e-9f0b-3c3e6c0b7a51")


def _url(kind: str, ident: str) -> str:
    return f"urn:uuid:{uuid.uuid5(NAMESPACE, f'{kind}/{ident}')}"


def _time(value: Any) -> str | None:
    return None if value is None else value.isoformat()


def _validated(resource: dict[str, Any]) -> dict[str, Any]:
    """The resource, after fhir.resources accepted it (raises on an invalid one)."""
    import importlib

    kind = resource["resourceType"]
    module = importlib.import_module(f"fhir.resources.R4B.{kind.lower()}")
    getattr(module, kind).model_validate(resource)
    return resource


def run_resources(data: RunData, identified: bool) -> Iterable[dict[str, Any]]:
    r, k = data.row, data.keys
    patient_url, encounter_url = _url("Patient", k.patient_key), _url("Encounter", k.run_key)
    patient: dict[str, Any] = {
        "resourceType": "Patient",
        "id": k.patient_key,
        "gender": r.get("sex") or "unknown",
    }
    if identified:
        if r.get("mrn"):
            patient["identifier"] = [{"type": {"text": "MRN"}, "value": r["mrn"]}]
        if r.get("name"):
            patient["name"] = [{"text": r["name"]}]
        if r.get("birth_date"):
            patient["birthDate"] = r["birth_date"]
    else:
        patient["meta"] = {"security": [{
            "system": "http://terminology.hl7.org/CodeSystem/v3-ObservationValue",
            "code": "PSEUDED", "display": "pseudonymized"}]}  # fmt: skip
    yield {"fullUrl": patient_url, "resource": patient}
    period = {"start": _time(r["started_at"])}
    if r.get("ended_at"):
        period["end"] = _time(r["ended_at"])
    ended = bool(r.get("ended_at"))
    yield {"fullUrl": encounter_url, "resource": {
        "resourceType": "Encounter", "id": k.run_key,
        "status": "finished" if ended else "in-progress",
        "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
                  "code": "IMP", "display": "inpatient encounter"},
        "subject": {"reference": patient_url}, "period": period,
    }}  # fmt: skip
    procedure: dict[str, Any] = {
        "resourceType": "Procedure", "id": k.run_key,
        "status": "completed" if ended else "in-progress",
        "code": {"coding": [{"system": SNOMED, "code": ECMO_PROCEDURE[0],
                             "display": ECMO_PROCEDURE[1]}],
                 "text": f"ECMO run ({r.get('support_type')}, {r.get('modes') or 'mode unknown'})"},
        "subject": {"reference": patient_url}, "encounter": {"reference": encounter_url},
        "performedPeriod": period,
    }  # fmt: skip
    if r.get("outcome"):
        procedure["outcome"] = {"text": str(r["outcome"]).replace("_", " ")}
    yield {"fullUrl": _url("Procedure", k.run_key), "resource": procedure}
    lungs = [m for m in str(r.get("membrane_lung_models") or "").split("; ") if m]
    for n, model in enumerate(lungs, 1):
        ident = f"{k.run_key}-ml{n}"
        yield {"fullUrl": _url("Device", ident), "resource": {
            "resourceType": "Device", "id": ident,
            "deviceName": [{"name": model, "type": "model-name"}],
            "type": {"text": "membrane lung (oxygenator)"},
            "patient": {"reference": patient_url},
        }}  # fmt: skip
    yield from _hourly_observations(data, patient_url, encounter_url)


def _hourly_observations(
    data: RunData, patient_url: str, encounter_url: str
) -> Iterable[dict[str, Any]]:
    k = data.keys
    hour: int | None = None
    sums: dict[str, list[float]] = {}

    def emit() -> Iterable[dict[str, Any]]:
        assert hour is not None
        at = k.shift(k.started + timedelta(hours=hour))
        for code, (total, n) in sums.items():
            c = vocabulary.CODES.get(code)
            coding = [{"system": LOCAL_CODES, "code": code,
                       "display": c.meaning if c else code}]  # fmt: skip
            if c and c.loinc:
                coding.insert(0, {"system": LOINC, "code": c.loinc})
            ident = f"{k.run_key}-h{hour}-{code.replace('_', '-')}"
            yield {"fullUrl": _url("Observation", ident), "resource": {
                "resourceType": "Observation", "id": ident[:64], "status": "final",
                "code": {"coding": coding, "text": f"{c.meaning if c else code}, hourly mean"},
                "subject": {"reference": patient_url},
                "encounter": {"reference": encounter_url},
                "effectivePeriod": {"start": _time(at),
                                    "end": _time(at + timedelta(hours=1))},  # type: ignore[operator]
                "valueQuantity": {"value": round(total / n, 6), "unit": c.unit if c else ""},
            }}  # fmt: skip

    for code, at, value, _unit, _source in data.observations:
        h = int((at - k.started).total_seconds() // 3600)
        if h != hour:
            if hour is not None:
                yield from emit()
            hour, sums = h, {}
        acc = sums.setdefault(code, [0.0, 0])
        acc[0] += value
        acc[1] += 1
    if hour is not None:
        yield from emit()


def write(
    runs: Iterable[RunData], out_dir: Path, identified: bool, timestamp: str
) -> list[tuple[str, str, int]]:
    """Write ``bundle.json``; (file, table, entries)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    n = 0
    with (out_dir / "bundle.json").open("w", encoding="utf-8") as f:
        f.write('{"resourceType": "Bundle", "type": "collection", ')
        f.write(f'"timestamp": {json.dumps(timestamp)}, "entry": [\n')
        for data in runs:
            for entry in run_resources(data, identified):
                _validated(entry["resource"])
                f.write((",\n" if n else "") + json.dumps(entry, separators=(",", ":")))
                n += 1
        f.write("\n]}\n")
    return [("bundle.json", "FHIR R4 Bundle (collection)", n)]
