"""A cohort as OMOP CDM 5.4 tables plus the ECLS-CDM v0.2.0 ``ecls_run`` table and the other
ECLS-CDM tables the record can fill (``export_ecls``: circuits, modes, components, cannulas,
their links and materials), one CSV per table (PostgreSQL ``COPY … CSV HEADER`` loads them
into the DDL in tests/research/omop_cdm54_ecls_ddl.sql).

Per patient: ``person`` (year of birth only when de-identified; the keyed pseudonym as
``person_source_value``) and one ``observation_period`` spanning the patient's runs. Per run:
a ``visit_occurrence`` (the stay on ECMO), a ``procedure_occurrence`` (the run: the ECLS-CDM
mode concept of its first mode, SNOMED 233573008 kept as source value), a
``device_exposure`` per circuit component and cannula, an ``ecls_run`` row, a ``death`` row
when the patient died (on ECMO, or later in hospital by the run's hospital outcome in
force), and a ``measurement`` row per final observation whose data dictionary
entry (``research.dictionary_entries.CODE_ENTRIES``) maps it to ``measurement``: the concept
id named there, else 0 with the code (and LOINC, where the vocabulary has one) kept in
``measurement_source_value``. Codes the dictionary maps elsewhere (drugs, device settings)
are counted in the manifest as not exported.

Ids are integers numbered within the export (the OMOP columns are ``integer``); the stable
link across exports is the pseudonym in the ``*_source_value`` columns. De-identified
exports leave out device serial numbers, lots and UDIs (HIPAA counts them as identifiers).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from continuum import vocabulary
from continuum.core import hospital_outcome
from continuum.core.run_record import Cannula, Component
from continuum.db import utcnow
from continuum.research import export_ecls
from continuum.research.dictionary_entries import CODE_ENTRIES
from continuum.research.export import RunData
from continuum.research.export_tables import Column, CsvWriter

VERSION = (
    "OMOP CDM 5.4 + ECLS-CDM v0.2.0 (ecls_run, ecls_circuit, ecls_mode, the component, "
    "cannula and material tables, ecls_circuit_component)"
)
EHR = 32817  # type concept: EHR
INPATIENT_VISIT = 9201
ECMO_SNOMED = "SNOMED 233573008"

GENDER = {"female": 8532, "male": 8507}
# ECLS-CDM mode concepts (its ecls_mode page); a mode with an added device keeps
# its circuit's concept.
MODE_CONCEPT = {
    "VV": 37206603, "VA": 37206601, "VVA": 36717790, "V-PA": 36717791, "VAV": 36717792,
    "VA+Impella": 37206601, "VA+IABP": 37206601, "VV+IABP": 37206603, "VV+RVAD": 37206603,
    "VV-ECCO2R": 36717795,
}  # fmt: skip
START_REASON = {"pulmonary": 320136, "cardiac": 134057, "ecpr": 4205502}
STOP_REASON = {
    "weaned_recovered": 4149524, "died_on_ecmo": 434489, "withdrawn": 4154766,
    "bridged_to_vad": 4337306,
}  # fmt: skip
DEVICE_CONCEPT = {
    "membrane_lung": 4180582, "pump": 4129113, "console": 45768426, "heater": 36717854,
    "cannula": 36717851, "cannula_dual": 36717852,
}  # fmt: skip
DIED = ("died_on_ecmo",)
_CONCEPT = re.compile(r"^measurement \((\d{5,})")


def measurement_concepts() -> dict[str, int]:
    """Observation code → OMOP measurement concept id (0 = mapped to measurement, no concept),
    read from the data dictionary so the dictionary and the export agree."""
    out: dict[str, int] = {}
    for code, entry in CODE_ENTRIES.items():
        text = entry.omop or ""
        if not text.startswith("measurement"):
            continue
        m = _CONCEPT.match(text)
        out[code] = int(m.group(1)) if m else 0
    return out


def _c(name: str, kind: str, desc: str = "") -> Column:
    return Column(name, kind, None, desc)


INT, STR, TS, DAY = "int", "str", "time", "date"
TABLES: dict[str, list[Column]] = {
    "person": [_c(n, k) for n, k in [
        ("person_id", INT), ("gender_concept_id", INT), ("year_of_birth", INT),
        ("month_of_birth", INT), ("day_of_birth", INT), ("birth_datetime", TS),
        ("race_concept_id", INT), ("ethnicity_concept_id", INT), ("person_source_value", STR),
        ("gender_source_value", STR)]],
    "observation_period": [_c(n, k) for n, k in [
        ("observation_period_id", INT), ("person_id", INT), ("observation_period_start_date", DAY),
        ("observation_period_end_date", DAY), ("period_type_concept_id", INT)]],
    "visit_occurrence": [_c(n, k) for n, k in [
        ("visit_occurrence_id", INT), ("person_id", INT), ("visit_concept_id", INT),
        ("visit_start_date", DAY), ("visit_start_datetime", TS), ("visit_end_date", DAY),
        ("visit_end_datetime", TS), ("visit_type_concept_id", INT), ("visit_source_value", STR)]],
    "procedure_occurrence": [_c(n, k) for n, k in [
        ("procedure_occurrence_id", INT), ("person_id", INT), ("procedure_concept_id", INT),
        ("procedure_date", DAY), ("procedure_datetime", TS), ("procedure_end_date", DAY),
        ("procedure_end_datetime", TS), ("procedure_type_concept_id", INT),
        ("visit_occurrence_id", INT), ("procedure_source_value", STR)]],
    "device_exposure": [_c(n, k) for n, k in [
        ("device_exposure_id", INT), ("person_id", INT), ("device_concept_id", INT),
        ("device_exposure_start_date", DAY), ("device_exposure_start_datetime", TS),
        ("device_exposure_end_date", DAY), ("device_exposure_end_datetime", TS),
        ("device_type_concept_id", INT), ("unique_device_id", STR), ("production_id", STR),
        ("visit_occurrence_id", INT), ("device_source_value", STR)]],
    "measurement": [_c(n, k) for n, k in [
        ("measurement_id", INT), ("person_id", INT), ("measurement_concept_id", INT),
        ("measurement_date", DAY), ("measurement_datetime", TS),
        ("measurement_type_concept_id", INT),
        ("value_as_number", "float"), ("visit_occurrence_id", INT),
        ("measurement_source_value", STR), ("unit_source_value", STR)]],
    "death": [_c(n, k) for n, k in [
        ("person_id", INT), ("death_date", DAY), ("death_datetime", TS),
        ("death_type_concept_id", INT), ("cause_source_value", STR)]],
    "ecls_run": [_c(n, k) for n, k in [
        ("run_id", INT), ("start_datetime", TS), ("stop_datetime", TS), ("person_id", INT),
        ("visit_occurrence_id", INT), ("urgency_concept_id", INT), ("start_reason_concept_id", INT),
        ("stop_reason_concept_id", INT)]],
}  # fmt: skip
# Every table an OMOP export writes: the OMOP and ecls_run tables above, then the other
# ECLS-CDM tables the record can fill (export_ecls), in an order a loader can follow.
ALL_TABLES: dict[str, list[Column]] = {**TABLES, **export_ecls.TABLES}


def _date(value: datetime | None) -> str | None:
    return None if value is None else value.date().isoformat()


def _src(text: str) -> str:
    return text[:50]


@dataclass
class _Person:
    person_id: int
    row: dict[str, Any]
    start: datetime
    end: datetime
    died_at: datetime | None = None
    runs: list[str] = field(default_factory=list)


class _Table:
    def __init__(self, out_dir: Path, name: str) -> None:
        self.cols = [c.name for c in ALL_TABLES[name]]
        self.writer = CsvWriter(out_dir / f"{name}.csv", ALL_TABLES[name])

    def add(self, **values: Any) -> None:
        self.writer.write({c: [values.get(c)] for c in self.cols})


class _Rows:
    """Buffered rows of the measurement table, flushed in batches."""

    def __init__(self, table: _Table, size: int = 50_000) -> None:
        self.table, self.size = table, size
        self.cols: dict[str, list[Any]] = {c: [] for c in table.cols}
        self.n = 0

    def add(self, values: tuple[Any, ...]) -> None:
        for col, v in zip(self.cols.values(), values, strict=True):
            col.append(v)
        self.n += 1
        if self.n >= self.size:
            self.flush()

    def flush(self) -> None:
        if self.n:
            self.table.writer.write(self.cols)
            for v in self.cols.values():
                v.clear()
            self.n = 0


def _year_of_birth(row: dict[str, Any], identified: bool) -> tuple[int | None, ...]:
    birth = row.get("birth_date")
    if identified and birth:
        y, m, d = (int(x) for x in str(birth).split("-"))
        return y, m, d
    age = row.get("age_years")
    if age is None:
        return None, None, None
    years = 90 if str(age) == "90+" else int(age)
    return row["started_at"].year - years, None, None


def write(
    db: Session, runs: Iterable[RunData], out_dir: Path, identified: bool
) -> tuple[list[tuple[str, str, int]], dict[str, Any]]:
    """Write the tables; (file, layout, rows) per table and what was not exported."""
    out_dir.mkdir(parents=True, exist_ok=True)
    t = {name: _Table(out_dir, name) for name in ALL_TABLES}
    ecls = export_ecls.State()

    def add(table: str, **values: Any) -> None:
        t[table].add(**values)

    meas = _Rows(t["measurement"])
    concepts = measurement_concepts()
    persons: dict[str, _Person] = {}
    skipped_codes: dict[str, int] = {}
    no_birth_year: list[str] = []
    visit = device = measurement = 0
    now = utcnow()
    try:
        for data in runs:
            r, k = data.row, data.keys
            yob, mob, dob = _year_of_birth(r, identified)
            if yob is None:
                no_birth_year.append(k.run_key)
                for _ in data.observations:
                    pass
                continue
            start: datetime = r["started_at"]
            end: datetime | None = r.get("ended_at")
            person = persons.get(k.patient_key)
            if person is None:
                person = persons[k.patient_key] = _Person(
                    len(persons) + 1,
                    {"gender_concept_id": GENDER.get(r.get("sex") or "", 0),
                     "year_of_birth": yob, "month_of_birth": mob, "day_of_birth": dob,
                     "gender_source_value": r.get("sex"),
                     "person_source_value": (r.get("mrn") if identified else None)
                     or k.patient_key},
                    start, end or k.shift(now) or now,
                )  # fmt: skip
            person.start = min(person.start, start)
            person.end = max(person.end, end or k.shift(now) or now)
            if r.get("outcome") in DIED and end is not None:
                person.died_at = end
            discharge = hospital_outcome.in_force(db, k.run_id)
            if discharge is not None and discharge.status == "died_in_hospital":
                died = k.shift(discharge.at)  # after ECMO, before hospital discharge
                if died is not None and (person.died_at is None or died > person.died_at):
                    person.died_at = died
            visit += 1
            pid = person.person_id
            stop = end or k.shift(now) or now
            t["visit_occurrence"].add(
                visit_occurrence_id=visit, person_id=pid, visit_concept_id=INPATIENT_VISIT,
                visit_start_date=_date(start), visit_start_datetime=start,
                visit_end_date=_date(stop), visit_end_datetime=end,
                visit_type_concept_id=EHR, visit_source_value=k.run_key,
            )  # fmt: skip
            first_mode = r.get("first_mode") or ""
            t["procedure_occurrence"].add(
                procedure_occurrence_id=visit, person_id=pid,
                procedure_concept_id=MODE_CONCEPT.get(first_mode, 0),
                procedure_date=_date(start), procedure_datetime=start,
                procedure_end_date=_date(end), procedure_end_datetime=end,
                procedure_type_concept_id=EHR, visit_occurrence_id=visit,
                procedure_source_value=_src(f"{ECMO_SNOMED} {first_mode}".strip()),
            )  # fmt: skip
            t["ecls_run"].add(
                run_id=visit, start_datetime=start, stop_datetime=end, person_id=pid,
                visit_occurrence_id=visit, urgency_concept_id=0,
                start_reason_concept_id=START_REASON.get(r.get("support_type") or "", 0),
                stop_reason_concept_id=STOP_REASON.get(r.get("outcome") or "", 0)
                if end else None,
            )  # fmt: skip
            export_ecls.write_run(
                db, add, ecls, run_id=k.run_id, ecls_run_id=visit, person_id=pid,
                run_stop_reason=STOP_REASON.get(r.get("outcome") or "", 0) if end else None,
                identified=identified, shift=k.shift,
            )  # fmt: skip
            for dev in _devices(db, k.run_id, identified, k.shift):
                device += 1
                t["device_exposure"].add(
                    device_exposure_id=device, person_id=pid, visit_occurrence_id=visit,
                    device_type_concept_id=EHR, **dev,
                )  # fmt: skip
            for code, at, value, unit, _source in data.observations:
                concept = concepts.get(code)
                if concept is None:
                    skipped_codes[code] = skipped_codes.get(code, 0) + 1
                    continue
                measurement += 1
                shifted = at + k.shift.delta
                c = vocabulary.CODES.get(code)
                source = f"{code} LOINC {c.loinc}" if c and c.loinc and not concept else code
                meas.add((measurement, pid, concept, shifted.date().isoformat(), shifted,
                          EHR, value, visit, _src(source), unit))  # fmt: skip
        meas.flush()
        for key, person in persons.items():
            t["person"].add(person_id=person.person_id, race_concept_id=0,
                            ethnicity_concept_id=0, birth_datetime=None,
                            **person.row)  # fmt: skip
            t["observation_period"].add(
                observation_period_id=person.person_id, person_id=person.person_id,
                observation_period_start_date=_date(person.start),
                observation_period_end_date=_date(person.end), period_type_concept_id=EHR,
            )  # fmt: skip
            if person.died_at is not None:
                t["death"].add(person_id=person.person_id, death_date=_date(person.died_at),
                               death_datetime=person.died_at, death_type_concept_id=EHR,
                               cause_source_value=None)  # fmt: skip
            del key
    finally:
        for table in t.values():
            table.writer.close()
    written = [
        (f"{name}.csv", f"{'ECLS-CDM' if name.startswith('ecls_') else 'OMOP'} {name}",
         t[name].writer.rows)
        for name in ALL_TABLES
    ]  # fmt: skip
    not_exported = {
        "ecls_rows_left_out": dict(sorted(ecls.left_out.items())),
        "observation_codes_not_in_measurement": dict(sorted(skipped_codes.items())),
        "runs_without_birth_year": len(no_birth_year),
    }
    return written, not_exported


def _devices(db: Session, run_id: int, identified: bool, shift: Any) -> Iterable[dict[str, Any]]:
    def row(concept: int, start: datetime, end: datetime | None, source: str,
            udi: str | None, production: str | None) -> dict[str, Any]:  # fmt: skip
        s, e = shift(start), shift(end)
        return {
            "device_concept_id": concept,
            "device_exposure_start_date": _date(s), "device_exposure_start_datetime": s,
            "device_exposure_end_date": _date(e), "device_exposure_end_datetime": e,
            "unique_device_id": udi if identified else None,
            "production_id": production if identified else None,
            "device_source_value": _src(source),
        }  # fmt: skip

    for c in db.scalars(
        select(Component).where(Component.run_id == run_id).order_by(Component.started_at)
    ):
        name = " ".join(x for x in (c.make, c.model) if x)
        yield row(DEVICE_CONCEPT.get(c.kind, 0), c.started_at, c.stopped_at,
                  f"{c.kind}: {name}".rstrip(": "), c.udi, c.lot or c.serial)  # fmt: skip
    for cn in db.scalars(
        select(Cannula).where(Cannula.run_id == run_id).order_by(Cannula.inserted_at)
    ):
        kind = "cannula_dual" if cn.role == "drainage_and_return" else "cannula"
        size = f" {cn.french} Fr" if cn.french else ""
        yield row(DEVICE_CONCEPT[kind], cn.inserted_at, cn.removed_at,
                  f"cannula {cn.role} {cn.site}{size}", cn.udi, cn.lot or cn.serial)  # fmt: skip
