"""The CLIF 2.1 ``ecmo_mcs`` export checked against the column/type/permissible table written
from the CLIF 2.1 data dictionary (tests/research/clif_2_1_ecmo_mcs.csv): the CSV's columns
in order, every value of its type and in its mCIDE list, the Parquet schema's types; one row
per console reading with its values; no identifier when de-identified; and the command line's
exit codes for omop and clif."""

from __future__ import annotations

import csv
import os
import re
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlalchemy import select

from continuum.core.people import PatientIdentity
from continuum.db import unit_of_work
from continuum.research import export_clif
from continuum.research.dictionary_entries import CODE_ENTRIES
from tests.research import standards_cohort as cohort
from tests.research.test_export_cohorts import _export

SCHEMA_FILE = Path(__file__).with_name("clif_2_1_ecmo_mcs.csv")
CLIF_TIME = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\+00:00$")
ARROW = {"VARCHAR": pa.string(), "DATETIME": pa.timestamp("us", tz="UTC"), "FLOAT": pa.float64()}


def _schema() -> list[dict[str, str]]:
    with SCHEMA_FILE.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture
def built(sessions):  # type: ignore[no-untyped-def]
    with unit_of_work(sessions) as db:
        ids = cohort.build(db)
    return sessions, ids


def _check(row: dict[str, str], spec: dict[str, str]) -> None:
    value = row[spec["column"]]
    if value == "":
        return
    if spec["type"] == "DATETIME":
        assert CLIF_TIME.match(value), (spec["column"], value)
    elif spec["type"] == "FLOAT":
        float(value)
    if spec["permissible"]:
        assert value in spec["permissible"].split(";"), (spec["column"], value)


def test_ecmo_mcs_fits_the_clif_2_1_schema(built, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    sessions, _ = built
    out = tmp_path / "clif"
    m = _export(sessions, out, None, "clif")
    assert m["standard"]["name"] == "CLIF 2.1 ecmo_mcs"
    schema = _schema()
    with (out / "ecmo_mcs.csv").open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        assert reader.fieldnames == [s["column"] for s in schema]
        rows = list(reader)
    for row in rows:
        for spec in schema:
            _check(row, spec)
    table = pq.read_table(out / "ecmo_mcs.parquet")
    assert [(f.name, f.type) for f in table.schema] == [
        (s["column"], ARROW[s["type"]]) for s in schema
    ]
    assert table.num_rows == len(rows)
    assert {f["file"]: f["rows"] for f in m["files"]} == {
        "ecmo_mcs.csv": len(rows), "ecmo_mcs.parquet": len(rows)
    }  # fmt: skip
    readings = [r for r in rows if r["device_name"] == "Getinge Cardiohelp"]
    assert len(readings) == len(cohort.READINGS)
    got = [(float(r["flow"]), float(r["control_parameter_value"]), float(r["sweep_set"]),
            float(r["fdO2_set"])) for r in readings]  # fmt: skip
    assert got == [tuple(x[1:]) for x in cohort.READINGS]
    assert {(r["device_category"], r["mcs_group"], r["ecmo_configuration_category"],
             r["control_parameter_category"]) for r in readings} == {
        ("cardiohelp_ecmo", "ecmo", "v_v", "rpm")
    }  # fmt: skip
    assert all(r["hospitalization_id"].startswith("R-") for r in rows)


def test_clif_columns_are_those_the_dictionary_names() -> None:
    named = {
        (e.clif or "").split(" ")[0] for e in CODE_ENTRIES.values() if e.clif
    }  # e.g. "flow", "sweep_set", "fdO2_set", "control_parameter_value"
    assert named <= {c.name for c in export_clif.COLUMNS}
    assert [c.name for c in export_clif.COLUMNS] == [s["column"] for s in _schema()]


def test_deidentified_clif_holds_no_identifier(built, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    sessions, _ = built
    with unit_of_work(sessions) as db:
        secrets = []
        for i in db.scalars(select(PatientIdentity)):
            secrets += [i.mrn, i.name]
    out = tmp_path / "clif"
    _export(sessions, out, None, "clif")
    for f in out.iterdir():
        text = (
            pq.read_table(f).to_pandas().to_csv() if f.suffix == ".parquet" else f.read_text()
        ).lower()
        assert [s for s in secrets if s and s.lower() in text] == [], f.name


def _cli(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CONTINUUM_DATABASE_URL": url,
           "CONTINUUM_SECRET_KEY": "test-secret-" + "y" * 32}  # fmt: skip
    return subprocess.run(
        [str(Path(sys.executable).parent / "continuum"), *args],
        capture_output=True, text=True, env=env, timeout=300,
    )  # fmt: skip


def test_command_line_exports_omop_and_clif_and_refuses_with_exit_2(
    sqlite_url: str, tmp_path: Path
) -> None:
    from continuum.db import make_engine, make_sessionmaker

    engine = make_engine(sqlite_url)
    with unit_of_work(make_sessionmaker(engine)) as db:
        cohort.build(db)
    engine.dispose()
    for fmt, first in (("omop", "person.csv"), ("clif", "ecmo_mcs.csv")):
        out = tmp_path / fmt
        r = _cli(sqlite_url, "export", "--format", fmt, "--out", str(out), "--all")
        assert r.returncode == 0, r.stderr
        assert (out / first).exists() and (out / "manifest.json").exists()
        assert f"de-identified, {fmt}" in r.stdout
    r = _cli(sqlite_url, "export", "--format", "omop", "--out", str(tmp_path / "x"), "--all",
             "--identified", "--purpose", "a study with approval")  # fmt: skip
    assert r.returncode == 2
    assert "may not export identified" in (r.stderr + r.stdout)
    assert not (tmp_path / "x").exists()
    r = _cli(sqlite_url, "export", "--format", "omop6", "--out", str(tmp_path / "y"), "--all")
    assert r.returncode == 2
    assert "omop, clif" in (r.stderr + r.stdout)
