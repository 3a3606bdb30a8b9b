"""The OMOP CDM 5.4 + ECLS-CDM export: every CSV loads with PostgreSQL ``COPY`` into the
published DDL (tests/research/omop_cdm54_ecls_ddl.sql: columns, types, NOT NULL, keys) in a
scratch schema; concepts come from the data dictionary (unmapped: 0, source value kept); a
death row for the run that ended in death; no identifier of any patient (nor a device
serial, lot or UDI) when de-identified; the same shifted dates in two exports."""

from __future__ import annotations

import csv
import json
import uuid
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg
import pytest
from sqlalchemy import select

from continuum.core.people import PatientIdentity
from continuum.db import make_engine, make_sessionmaker, unit_of_work
from continuum.research import export, export_ecls, export_omop
from continuum.research.dictionary_entries import CODE_ENTRIES
from continuum.research.export_tables import sha256_of
from tests.research import standards_cohort as cohort
from tests.research.test_export_cohorts import _export

UTC = ZoneInfo("UTC")
DDL = Path(__file__).with_name("omop_cdm54_ecls_ddl.sql")
LOAD_ORDER = ("person", "observation_period", "visit_occurrence", "procedure_occurrence",
              "device_exposure", "measurement", "death", "ecls_run",
              *export_ecls.TABLES)  # fmt: skip


@pytest.fixture
def built(sessions):  # type: ignore[no-untyped-def]
    with unit_of_work(sessions) as db:
        ids = cohort.build(db)
    return sessions, ids


@pytest.fixture
def pg_built(pg_url: str):  # type: ignore[no-untyped-def]
    engine = make_engine(pg_url)
    sessions = make_sessionmaker(engine)
    with unit_of_work(sessions) as db:
        ids = cohort.build(db)
    yield sessions, ids, pg_url
    engine.dispose()


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _load(pg_url: str, out: Path) -> dict[str, int]:
    """Create the DDL in a scratch schema and COPY every exported table into it; the row
    counts as PostgreSQL holds them. Any column, type, NOT NULL or key that does not fit
    raises."""
    schema = f"omop_{uuid.uuid4().hex[:10]}"
    dsn = pg_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
        try:
            conn.execute(DDL.read_text().replace("@schema", schema))  # type: ignore[arg-type]
            counts = {}
            for table in LOAD_ORDER:
                path = out / f"{table}.csv"
                with path.open(encoding="utf-8") as f:
                    header = f.readline().strip()
                    with conn.cursor().copy(
                        f"COPY {schema}.{table} ({header}) FROM STDIN "  # type: ignore[arg-type]
                        "WITH (FORMAT csv)"
                    ) as copy:
                        for block in iter(lambda: f.read(1 << 16), ""):
                            copy.write(block)
                counts[table] = conn.execute(
                    f"SELECT count(*) FROM {schema}.{table}"  # type: ignore[arg-type]
                ).fetchone()[0]  # type: ignore[index]
            return counts
        finally:
            conn.rollback()  # the scratch schema was made in this transaction: gone


@pytest.mark.parametrize("identified", [False, True])
def test_omop_tables_load_into_the_published_ddl(
    pg_built, tmp_path: Path, identified: bool
) -> None:  # type: ignore[no-untyped-def]
    sessions, _, pg_url = pg_built
    m = _export(sessions, tmp_path, None, "omop", role="physician_lead" if identified
                else "researcher", identified=identified,
                purpose="OMOP load test, study 19" if identified else None)  # fmt: skip
    assert m["standard"]["name"].startswith("OMOP CDM 5.4 + ECLS-CDM v0.2.0")
    counts = _load(pg_url, tmp_path)
    files = {f["table"]: f for f in m["files"]}
    assert set(files) == set(LOAD_ORDER)
    for table, n in counts.items():
        assert files[table]["rows"] == n, table
        assert files[table]["sha256"] == sha256_of(tmp_path / f"{table}.csv")
    runs = m["cohort"]["runs"]
    assert runs >= 3
    assert counts["person"] == counts["observation_period"] >= 3
    assert counts["visit_occurrence"] == counts["procedure_occurrence"] == runs
    assert counts["ecls_run"] == runs
    assert counts["death"] >= 1  # run B: died on ECMO
    assert counts["measurement"] >= len(cohort.READINGS) * 4


def test_concepts_follow_the_data_dictionary(built, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    sessions, _ = built
    m = _export(sessions, tmp_path, None, "omop")
    rows = _rows(tmp_path / "measurement.csv")
    by_source = {r["measurement_source_value"]: r["measurement_concept_id"] for r in rows}
    assert by_source["blood_flow"] == "36717869"
    assert "36717869" in (CODE_ENTRIES["blood_flow"].omop or "")
    assert by_source["pump_speed"] == "36717870"
    assert by_source["sweep_fio2"] == "36717883"
    # anti-Xa: the dictionary says "LOINC concept" with no OMOP id: concept 0, LOINC kept
    assert by_source["anti_xa LOINC 66483-9"] == "0"
    procedures = {r["procedure_source_value"]: r["procedure_concept_id"]
                  for r in _rows(tmp_path / "procedure_occurrence.csv")}  # fmt: skip
    assert procedures == {"SNOMED 233573008 VV": "37206603", "SNOMED 233573008 VA": "37206601"}
    runs = _rows(tmp_path / "ecls_run.csv")
    assert {r["start_reason_concept_id"] for r in runs} == {"134057", "320136"}
    died = next(r for r in runs if r["stop_reason_concept_id"] == "434489")
    death = _rows(tmp_path / "death.csv")[0]
    assert death["person_id"] == died["person_id"]
    assert death["death_datetime"] == died["stop_datetime"]
    devices = _rows(tmp_path / "device_exposure.csv")
    assert {"4180582", "45768426", "36717852"} <= {d["device_concept_id"] for d in devices}
    assert m["standard"]["not_exported"]["runs_without_birth_year"] == 0
    assert set(export_omop.measurement_concepts()) <= set(CODE_ENTRIES)


def test_deidentified_omop_holds_no_identifier(built, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    sessions, _ = built
    with unit_of_work(sessions) as db:
        secrets = [cohort.SERIAL, cohort.LOT, cohort.UDI]
        for i in db.scalars(select(PatientIdentity)):
            secrets += [i.mrn, i.name]
            if i.birth_date:
                secrets.append(i.birth_date.isoformat())
    out = tmp_path / "first"  # tmp_path also holds the SQLite database
    m = _export(sessions, out, None, "omop")
    assert m["deidentification"]["identified"] is False
    for f in out.iterdir():
        text = f.read_text(encoding="utf-8").lower()
        assert [s for s in secrets if s and s.lower() in text] == [], f.name
    persons = _rows(out / "person.csv")
    assert all(p["month_of_birth"] == "" and p["day_of_birth"] == "" for p in persons)
    assert all(p["person_source_value"].startswith("S-") for p in persons)
    # the same patient, the same shifted dates in a second export
    again = tmp_path / "again"
    _export(sessions, again, None, "omop")
    assert _rows(again / "visit_occurrence.csv") == _rows(out / "visit_occurrence.csv")


def test_identified_omop_keeps_device_identifiers(built, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    sessions, _ = built
    _export(sessions, tmp_path, None, "omop", role="physician_lead", identified=True,
            purpose="device recall review, approved")  # fmt: skip
    devices = _rows(tmp_path / "device_exposure.csv")
    cannula = next(d for d in devices if d["device_concept_id"] == "36717852")
    assert (cannula["unique_device_id"], cannula["production_id"]) == (cohort.UDI, cohort.LOT)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["deidentification"]["identified"] is True


def test_omop_and_clif_are_known_formats() -> None:
    from continuum.research.cohort_record import EXPORT_FORMATS

    assert {"omop", "clif"} <= set(EXPORT_FORMATS)
    assert export.EXPORT_FORMATS is EXPORT_FORMATS


def test_the_load_refuses_a_row_that_does_not_fit(pg_url: str, tmp_path: Path) -> None:
    """The harness itself: a person without a year of birth (NOT NULL) fails the COPY."""
    for table in LOAD_ORDER:
        cols = [c.name for c in export_omop.ALL_TABLES[table]]
        (tmp_path / f"{table}.csv").write_text(",".join(cols) + "\n", encoding="utf-8")
    cols = [c.name for c in export_omop.TABLES["person"]]
    row = {"person_id": "1", "gender_concept_id": "8532", "year_of_birth": "",
           "race_concept_id": "0", "ethnicity_concept_id": "0"}  # fmt: skip
    (tmp_path / "person.csv").write_text(
        ",".join(cols) + "\n" + ",".join(row.get(c, "") for c in cols) + "\n", encoding="utf-8"
    )
    with pytest.raises(psycopg.errors.NotNullViolation, match="year_of_birth"):
        _load(pg_url, tmp_path)


def test_a_death_in_hospital_after_ecmo_is_a_death_row(built, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Run A was weaned alive; its hospital outcome in force says the patient died in
    hospital five days later: the OMOP export holds a death row for A's person at that time
    (shifted like every other date of that patient)."""
    from datetime import timedelta

    from continuum.core.hospital_outcome import HospitalOutcome
    from continuum.core.run_record import Run

    sessions, ids = built
    before = _export(sessions, tmp_path / "before", None, "omop")
    deaths_before = {r["person_id"] for r in _rows(tmp_path / "before" / "death.csv")}
    with unit_of_work(sessions) as db:
        run = db.get_one(Run, ids["A"])
        assert run.ended_at is not None
        died = run.ended_at + timedelta(days=5)
        db.add(HospitalOutcome(run_id=run.id, patient_id=run.patient_id,
                               status="died_in_hospital", at=died))  # fmt: skip
    _export(sessions, tmp_path / "after", None, "omop")
    after = {r["person_id"]: r for r in _rows(tmp_path / "after" / "death.csv")}
    [new] = set(after) - deaths_before
    stop = next(r["stop_datetime"] for r in _rows(tmp_path / "after" / "ecls_run.csv")
                if r["person_id"] == new)  # fmt: skip
    from datetime import datetime

    gap = datetime.fromisoformat(after[new]["death_datetime"]) - datetime.fromisoformat(stop)
    assert gap == timedelta(days=5)  # the same shift as the run's own dates
    assert before["cohort"]["runs"] >= 3
