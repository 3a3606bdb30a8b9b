"""The identified REDCap variant: only a role with export_identified and a stated purpose
(logged in the audit row); the run form carries the identifiers, flagged "Identifier? = y",
and dates as recorded; the manifest says identifiers were kept and dates not shifted. The
de-identified REDCap export of the same cohort holds none of them and shifts its dates.
Command line and web."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import select

from continuum.core.people import PatientIdentity
from continuum.core.record import AuditEntry
from continuum.core.run_record import Run
from continuum.db import make_engine, make_sessionmaker, unit_of_work
from continuum.errors import ValidationFailed
from continuum.research import export, export_redcap
from tests.conftest import Web
from tests.research.test_export_cohorts import _export, built  # noqa: F401

PURPOSE = "ELSO registry submission 2025, audit 4411"


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def test_identified_redcap_keeps_identifiers_and_dates(built, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    sessions, ids = built
    ident_dir, deid_dir = tmp_path / "ident", tmp_path / "deid"
    m = _export(sessions, ident_dir, None, "redcap", role="qa_lead", identified=True,
                purpose=PURPOSE)  # fmt: skip
    d = _export(sessions, deid_dir, None, "redcap")
    with unit_of_work(sessions) as db:
        identities = {i.patient_id: i for i in db.scalars(select(PatientIdentity))}
        runs = {r.id: r for r in db.scalars(select(Run).where(Run.id.in_(ids.values())))}
        audits = db.scalars(
            select(AuditEntry).where(AuditEntry.action.like("export.%")).order_by(AuditEntry.id)
        ).all()
    # the dictionary flags every identifier; the import holds them, one run row per run
    dictionary = {
        r["Variable / Field Name"]: r for r in _csv(ident_dir / "redcap_data_dictionary.csv")
    }
    for name in export_redcap.IDENTIFIER_NAMES:
        assert dictionary[name]["Identifier?"] == "y" and dictionary[name]["Form Name"] == "run"
    assert dictionary["birth_date"]["Text Validation Type OR Show Slider Number"] == "date_ymd"
    rows = [r for r in _csv(ident_dir / "redcap_import.csv") if not r["redcap_repeat_instrument"]]
    by_run = {int(r["run_id"]): r for r in rows}
    assert set(runs) <= set(by_run)
    for run_id, run in runs.items():
        row = by_run[run_id]
        who = identities[run.patient_id]
        assert row["mrn"] == who.mrn and row["name"] == who.name
        assert row["patient_id"] == str(run.patient_id)
        if who.birth_date:
            assert row["birth_date"] == who.birth_date.isoformat()
        # dates as recorded, not shifted
        assert row["started_at"] == run.started_at.strftime("%Y-%m-%d %H:%M:%S")
    # manifest: identified, which identifiers kept, dates not shifted; purpose
    assert m["deidentification"]["identified"] is True
    assert m["deidentification"]["dates_shifted"] is False
    assert set(m["deidentification"]["identifiers_kept"]) >= {"mrn", "name", "birth_date"}
    assert any("not shifted" in k for k in m["deidentification"]["kept"])
    assert m["purpose"] == PURPOSE
    imp = next(f for f in m["files"] if f["file"] == "redcap_import.csv")
    assert {"mrn", "name", "birth_date"} <= {f["name"] for f in imp["fields"]}
    # the audit row: identified, purpose, the import's fields
    ident_audit = next(a for a in audits if a.action == "export.identified")
    assert ident_audit.detail["purpose"] == PURPOSE and ident_audit.detail["format"] == "redcap"
    assert "mrn" in ident_audit.detail["fields"]["redcap_import"]
    # the de-identified variant: no identifier, dates shifted, manifest says so
    text = (deid_dir / "redcap_import.csv").read_text(encoding="utf-8")
    text += (deid_dir / "redcap_data_dictionary.csv").read_text(encoding="utf-8")
    for who in identities.values():
        assert who.mrn not in text and (not who.name or who.name not in text)
    assert "mrn" not in _csv(deid_dir / "redcap_import.csv")[0]
    assert d["deidentification"]["dates_shifted"] is True
    deid_audit = next(a for a in audits if a.action == "export.deidentified")
    assert "mrn" not in deid_audit.detail["fields"]["redcap_import"]
    deid_rows = {r["record_id"]: r for r in _csv(deid_dir / "redcap_import.csv")
                 if not r["redcap_repeat_instrument"]}  # fmt: skip
    for r in rows:
        assert deid_rows[r["record_id"]]["started_at"] != r["started_at"]  # shifted


def test_identified_redcap_refusals(built, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    sessions, _ = built
    with pytest.raises(export.ExportRefused, match="researcher role may not export identified"):
        _export(sessions, tmp_path / "a", None, "redcap", role="researcher", identified=True,
                purpose=PURPOSE)  # fmt: skip
    with pytest.raises(ValidationFailed, match="needs a stated purpose of at least 10"):
        _export(sessions, tmp_path / "b", None, "redcap", role="physician_lead", identified=True)
    with pytest.raises(ValidationFailed, match="purpose"):
        _export(sessions, tmp_path / "c", None, "redcap", role="physician_lead", identified=True,
                purpose="study")  # fmt: skip
    assert not any((tmp_path / x).exists() for x in "abc")
    with unit_of_work(sessions) as db:
        assert db.scalars(select(AuditEntry).where(AuditEntry.action.like("export.%"))).all() == []


def test_identified_redcap_on_the_web(web: Web) -> None:
    web.login("researcher")
    csrf = {"X-CSRF-Token": web.csrf("/research/cohorts")}
    body = {"all_runs": True, "format": "redcap", "identified": True, "purpose": PURPOSE}
    r = web.client.post("/api/v1/research/exports", headers=csrf, json=body)
    assert r.status_code == 403 and "may not export identified data" in r.text
    web.client.cookies.clear()
    web.login("qa_lead")
    csrf = {"X-CSRF-Token": web.csrf("/research/cohorts")}
    r = web.client.post("/api/v1/research/exports", headers=csrf, json={**body, "purpose": ""})
    assert r.status_code == 422 and "stated purpose" in r.text
    r = web.post_form("/research/exports", {"cohort": "all runs", "format": "redcap",
                                            "identified": "1", "purpose": PURPOSE},
                      "/research/cohorts")  # fmt: skip
    assert r.status_code == 303, r.text
    status = web.client.get(r.headers["location"])
    assert "identified" in status.text and "dates as recorded: not shifted" in status.text
    engine = make_engine(web.url)
    with make_sessionmaker(engine)() as db:
        job_id = db.scalars(select(export.ExportJob)).one().id
        mrns = [m for m in db.scalars(select(PatientIdentity.mrn)) if m]
        audit = db.scalars(select(AuditEntry).where(AuditEntry.action == "export.identified")).one()
        assert audit.detail["purpose"] == PURPOSE
    engine.dispose()
    zipped = web.client.get(f"/research/exports/{job_id}/download")
    with zipfile.ZipFile(io.BytesIO(zipped.content)) as z:
        manifest = json.loads(z.read("manifest.json"))
        data = z.read("redcap_import.csv").decode()
    assert manifest["deidentification"]["identifiers_kept"]
    assert any(m in data for m in mrns)


def test_identified_redcap_on_the_command_line(sqlite_url: str, tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    from tests.seed import SECRET_MRNS

    continuum = str(Path(sys.executable).parent / "continuum")
    env = {**os.environ, "CONTINUUM_DATABASE_URL": sqlite_url}

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([continuum, "export", "--format", "redcap", "--all", *args],
                              env=env, capture_output=True, text=True, timeout=180)  # fmt: skip

    refused = cli("--out", str(tmp_path / "a"), "--identified", "--purpose", PURPOSE)
    assert refused.returncode == 2 and "may not export identified data" in refused.stderr
    no_purpose = cli("--out", str(tmp_path / "b"), "--identified", "--as", "qa_lead")
    assert no_purpose.returncode == 2 and "purpose" in no_purpose.stderr
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()
    done = cli("--out", str(tmp_path / "c"), "--identified", "--as", "qa_lead",
               "--purpose", PURPOSE)  # fmt: skip
    assert done.returncode == 0, done.stderr
    data = (tmp_path / "c" / "redcap_import.csv").read_text(encoding="utf-8")
    assert SECRET_MRNS[0] in data
    manifest = json.loads((tmp_path / "c" / "manifest.json").read_text())
    assert manifest["deidentification"]["dates_shifted"] is False
    assert manifest["purpose"] == PURPOSE
