"""Run facts a domain provides through core's hook (ambulation's highest ICU Mobility Scale
level) are columns of the cohort export's runs table, CSV and Parquet, with a manifest field
and a data dictionary entry; a run without the fact has the column empty."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from zoneinfo import ZoneInfo

import pyarrow.parquet as pq
import pytest
from sqlalchemy.orm import Session, sessionmaker

from continuum.ambulation import hooks as ambulation_hooks
from continuum.ambulation import service as ambulation
from continuum.core import run_facts
from continuum.db import unit_of_work
from continuum.research import data_dictionary, export
from continuum.research.deidentify import Policy
from tests.ambulation.test_sessions import NURSE, RESEARCHER, T0, _data

UTC = ZoneInfo("UTC")
KEY = b"k" * 32


def _export(sessions: sessionmaker[Session], out: Path, fmt: str) -> dict:  # type: ignore[type-arg]
    with unit_of_work(sessions) as db:
        p = export.plan(db, RESEARCHER, UTC, fmt=fmt, all_runs=True)
        policy = Policy(key=KEY)
        job = export.create_job(db, RESEARCHER, p, policy)
        return export.write_export(db, RESEARCHER, p, policy, out, UTC, job.id)


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_highest_ims_is_a_column_of_the_runs_table(
    sessions: sessionmaker[Session], tmp_path: Path, fmt: str
) -> None:
    ambulation_hooks.install_hooks()
    from datetime import timedelta

    with unit_of_work(sessions) as db:
        ambulation.record(db, NURSE, 1, _data(ims_level=7))
        ambulation.record(db, NURSE, 1, _data(ims_level=5, started_at=T0 + timedelta(hours=2),
                                              ended_at=T0 + timedelta(hours=3)))  # fmt: skip
    m = _export(sessions, tmp_path, fmt)
    runs_file = next(f for f in m["files"] if f["table"] == "runs")
    field = next(f for f in runs_file["fields"] if f["name"] == "highest_ims")
    assert field["type"] == "int" and field["unit"] == "IMS 0–10"
    assert "Highest ICU Mobility Scale level" in field["description"]
    if fmt == "csv":
        with (tmp_path / "runs.csv").open(encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
        values = [r["highest_ims"] for r in rows]
    else:
        table = pq.read_table(tmp_path / "runs.parquet")
        assert str(table.schema.field("highest_ims").type) == "int64"
        values = [("" if v is None else str(v)) for v in table.column("highest_ims").to_pylist()]
    assert "7" in values  # the highest of the run's two sessions, not the latest (5)
    assert "5" not in values
    assert "" in values or len(values) == 1  # other runs: no session, column empty
    # the audit row names the column as a field of the runs table
    assert json.dumps(m).count("highest_ims") >= 1


def test_every_run_fact_is_exported_and_described() -> None:
    """Each run-level fact of every provider is a runs column, and the data dictionary names
    that column where it describes the field's source."""
    ambulation_hooks.install_hooks()
    names = {c.name for c in export.run_columns(Policy(key=KEY))}
    fields = [f for p in run_facts.FACT_PROVIDERS for f in p.fields if f.table == "run"]
    assert fields, "no run facts installed"
    text = " ".join(f.text() for f in data_dictionary.build())
    for f in fields:
        if f.kind in export.FACT_TYPES:
            assert f.name in names, f.name
            assert f"column {f.name}" in text, f"no dictionary entry mentions runs.{f.name}"
