"""The web path: count a definition, save it, export it in the background (a job row),
follow the status page, download the ZIP and read its manifest; refusals as 4xx."""

from __future__ import annotations

import io
import json
import re
import zipfile

from sqlalchemy import select

from continuum.db import make_engine, make_sessionmaker
from continuum.research.cohort_record import ExportJob
from tests.conftest import Web


def test_cohort_to_export_to_download(web: Web) -> None:
    web.login("researcher")
    page = web.client.get("/research/cohorts", params={"count": "1", "support_types": "pulmonary"})
    assert page.status_code == 200
    assert re.search(r'class="rc-count[^"]*">\d+ runs?<', page.text)
    api = web.client.post("/api/v1/research/cohorts/count", json={"support_types": ["ecpr"]},
                          headers={"X-CSRF-Token": web.csrf("/research/cohorts")})  # fmt: skip
    assert api.status_code == 200 and api.json()["runs"] == 0
    r = web.post_form("/research/cohorts", {"title": "Everyone", "started_from": "2000-01-01"},
                      "/research/cohorts")  # fmt: skip
    assert r.status_code == 303
    r = web.post_form("/research/exports", {"cohort": "Everyone", "format": "parquet"},
                      "/research/cohorts")  # fmt: skip
    assert r.status_code == 303
    status = web.client.get(r.headers["location"])
    assert status.status_code == 200 and "Download" in status.text  # ran after the response
    engine = make_engine(web.url)
    with make_sessionmaker(engine)() as db:
        job = db.scalars(select(ExportJob)).one()
        assert (job.status, job.runs_done, job.identified) == ("done", job.runs_total, False)
    engine.dispose()
    zipped = web.client.get(f"/research/exports/{job.id}/download")
    assert zipped.status_code == 200
    with zipfile.ZipFile(io.BytesIO(zipped.content)) as z:
        manifest = json.loads(z.read("manifest.json"))
        assert manifest["cohort"]["name"] == "Everyone"
        assert set(z.namelist()) == {"manifest.json", *(f["file"] for f in manifest["files"])}


def test_refusals_are_4xx_and_store_nothing(web: Web) -> None:
    web.login("researcher")
    csrf = {"X-CSRF-Token": web.csrf("/research/cohorts")}
    r = web.client.post("/api/v1/research/exports", headers=csrf,
                        json={"all_runs": True, "format": "xlsx"})  # fmt: skip
    assert r.status_code == 422 and "unknown format 'xlsx'" in r.text
    r = web.client.post("/api/v1/research/exports", headers=csrf,
                        json={"all_runs": True, "format": "csv", "identified": True,
                              "purpose": "a study of everything"})  # fmt: skip
    assert r.status_code == 403 and "may not export identified data" in r.text
    web.client.post("/api/v1/research/cohorts", headers=csrf,
                    json={"title": "Empty", "definition": {"support_types": ["ecpr"]}})  # fmt: skip
    r = web.client.post("/api/v1/research/exports", headers=csrf,
                        json={"cohort": "Empty", "format": "csv"})  # fmt: skip
    assert r.status_code == 422 and "cohort 'Empty' holds no runs" in r.text
    r = web.post_form("/research/exports", {"cohort": "Empty", "format": "csv"},
                      "/research/cohorts")  # fmt: skip
    assert r.status_code == 422 and "holds no runs" in r.text
    r = web.client.get("/research/cohorts", params={"count": "1", "modes": "XX"})
    assert r.status_code == 422 and "XX" in r.text
    engine = make_engine(web.url)
    with make_sessionmaker(engine)() as db:
        assert db.scalars(select(ExportJob)).all() == []
    engine.dispose()
    web.client.cookies.clear()
    web.login("nurse")
    assert web.client.get("/research/cohorts").status_code == 403
