"""On the demo programme: a de-identified export (CSV and Parquet) holds no MRN, name or
birth date of any demo patient, and the command line exports with a progress bar, refuses
what it must (exit 2 with a message) and logs every export in the audit log."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from continuum.core.people import PatientIdentity
from continuum.core.record import AuditEntry
from continuum.db import make_engine, make_sessionmaker


@pytest.fixture
def db(demo_url: str) -> Iterator[Session]:
    engine = make_engine(demo_url)
    with make_sessionmaker(engine)() as session:
        yield session
    engine.dispose()


def cli(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CONTINUUM_DATABASE_URL": url,
           "CONTINUUM_SECRET_KEY": "test-secret-" + "y" * 32}  # fmt: skip
    return subprocess.run(
        [str(Path(sys.executable).parent / "continuum"), *args],
        capture_output=True, text=True, env=env, timeout=600,
    )  # fmt: skip


def _text(path: Path) -> str:
    if path.suffix == ".parquet":
        return pq.read_table(path).to_pandas().to_csv()
    return path.read_text(encoding="utf-8")


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_export_of_the_demo_holds_no_identifier(
    demo_url: str, db: Session, tmp_path: Path, fmt: str
) -> None:
    out = tmp_path / "out"
    r = cli(demo_url, "export", "--format", fmt, "--out", str(out), "--all")
    assert r.returncode == 0, r.stderr
    identifiers = []
    for i in db.scalars(select(PatientIdentity)):
        identifiers += [i.mrn, i.name]
        if i.birth_date:
            identifiers += [i.birth_date.isoformat(), i.birth_date.strftime("%d/%m/%Y")]
    assert len(identifiers) > 20  # the demo's patients and its six months of history
    files = sorted(out.iterdir())
    assert {f.name for f in files} >= {"manifest.json", f"runs.{fmt}", f"observations_long.{fmt}"}
    for f in files:
        text = _text(f).lower()
        assert [s for s in identifiers if s.lower() in text] == [], f.name
    manifest = json.loads((out / "manifest.json").read_text())
    long = next(f for f in manifest["files"] if f["table"] == "observations_long")
    assert long["rows"] > 1000  # the demo's console data are in it


def test_command_line_refusals_exit_2_with_a_message(demo_url: str, tmp_path: Path) -> None:
    r = cli(demo_url, "export", "--format", "xlsx", "--out", str(tmp_path / "a"), "--all")
    assert r.returncode == 2 and "unknown format 'xlsx'" in r.stderr
    r = cli(demo_url, "export", "--format", "csv", "--out", str(tmp_path / "b"), "--all",
            "--identified", "--purpose", "ELSO registry submission")  # fmt: skip
    assert r.returncode == 2 and "may not export identified data" in r.stderr
    r = cli(demo_url, "export", "--format", "csv", "--out", str(tmp_path / "c"),
            "--cohort", "no such cohort")  # fmt: skip
    assert r.returncode == 2 and "no saved cohort named 'no such cohort'" in r.stderr
    r = cli(demo_url, "export", "--format", "csv", "--out", str(tmp_path / "d"), "--all",
            "--identified", "--as", "qalead")  # fmt: skip
    assert r.returncode == 2 and "purpose" in r.stderr
    assert not any((tmp_path / x).exists() for x in "abcd")


def test_identified_export_as_a_quality_lead_is_audited(
    demo_url: str, db: Session, tmp_path: Path
) -> None:
    out = tmp_path / "ident"
    r = cli(demo_url, "export", "--format", "csv", "--out", str(out), "--all", "--identified",
            "--as", "qalead", "--purpose", "ELSO registry submission 2026")  # fmt: skip
    assert r.returncode == 0, r.stderr
    mrns = list(db.scalars(select(PatientIdentity.mrn)))
    runs = (out / "runs.csv").read_text()
    assert any(m in runs for m in mrns)
    row = db.scalars(select(AuditEntry).where(AuditEntry.action == "export.identified")).all()[-1]
    assert row.detail["purpose"] == "ELSO registry submission 2026"
    assert "qalead" not in row.actor and "(qa_lead)" in row.actor
