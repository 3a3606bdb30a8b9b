"""The web export form offers OMOP and CLIF: each runs in the background like the other
formats (a job row, an audit row naming the fields and the de-identification), and the ZIP
holds the standard's tables with the manifest naming the version targeted."""

from __future__ import annotations

import io
import json
import zipfile

from sqlalchemy import select

from continuum.core.record import AuditEntry
from continuum.db import make_engine, make_sessionmaker
from continuum.research.cohort_record import ExportJob
from continuum.research.export_clif import COLUMNS
from tests.conftest import Web


def test_omop_and_clif_from_the_export_form(web: Web) -> None:
    web.login("researcher")
    page = web.client.get("/research/cohorts")
    assert '<option value="omop">' in page.text and '<option value="clif">' in page.text
    r = web.post_form("/research/cohorts", {"title": "Everyone", "started_from": "2000-01-01"},
                      "/research/cohorts")  # fmt: skip
    assert r.status_code == 303
    expected = {"omop": ("OMOP CDM 5.4", "person.csv"), "clif": ("CLIF 2.1", "ecmo_mcs.csv")}
    for fmt, (standard, table) in expected.items():
        r = web.post_form("/research/exports", {"cohort": "Everyone", "format": fmt},
                          "/research/cohorts")  # fmt: skip
        assert r.status_code == 303, r.text
        job_id = int(r.headers["location"].rstrip("/").rsplit("/", 1)[-1])
        zipped = web.client.get(f"/research/exports/{job_id}/download")
        assert zipped.status_code == 200
        with zipfile.ZipFile(io.BytesIO(zipped.content)) as z:
            manifest = json.loads(z.read("manifest.json"))
            assert manifest["standard"]["name"].startswith(standard)
            assert manifest["deidentification"]["identified"] is False
            assert table in z.namelist()
    engine = make_engine(web.url)
    with make_sessionmaker(engine)() as db:
        jobs = db.scalars(select(ExportJob).order_by(ExportJob.id)).all()
        assert [(j.format, j.status) for j in jobs] == [("omop", "done"), ("clif", "done")]
        audits = db.scalars(
            select(AuditEntry).where(AuditEntry.action == "export.deidentified")
        ).all()
        assert len(audits) == 2
        fields = [a.detail["fields"] for a in audits]  # type: ignore[index]
        assert "measurement" in fields[0] and "ecls_run" in fields[0]
        assert fields[1] == {"ecmo_mcs": [c.name for c in COLUMNS]}
    engine.dispose()
