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


def test_an_export_whose_process_stopped_says_so_instead_of_running_for_ever(web: Web) -> None:
    """A job left "running" (its process died mid-export) and one never started are marked
    failed with the reason once they have made no progress for 15 minutes; a job that is
    making progress is left alone; the daily housekeeping does the same."""
    from datetime import timedelta

    from continuum.db import unit_of_work, utcnow
    from continuum.research import export

    now = utcnow()
    engine = make_engine(web.url)
    factory = make_sessionmaker(engine)
    with unit_of_work(factory) as db:
        old = now - timedelta(minutes=40)
        base = {"cohort_name": "All runs", "format": "csv", "runs_total": 40}
        dead = ExportJob(**base, status="running", runs_done=12, requested_at=old,
                         heartbeat_at=now - timedelta(minutes=20))  # fmt: skip
        never = ExportJob(**base, status="queued", runs_done=0, requested_at=old)
        alive = ExportJob(**base, status="running", runs_done=30, requested_at=old,
                          heartbeat_at=now - timedelta(minutes=1))  # fmt: skip
        db.add_all([dead, never, alive])
        db.flush()
        ids = dead.id, never.id, alive.id
    web.login("researcher")
    status = web.client.get(f"/api/v1/research/exports/{ids[0]}").json()
    assert status["status"] == "failed"
    assert (
        "interrupted: no progress since" in status["error"] and "12 of 40 runs" in status["error"]
    )
    assert "Start the export again" in status["error"]
    assert web.client.get(f"/api/v1/research/exports/{ids[2]}").json()["status"] == "running"
    page = web.client.get(f"/research/exports/{ids[1]}")
    assert page.status_code == 200 and "interrupted" in page.text
    with unit_of_work(factory) as db:
        assert export.interrupted(db, now + timedelta(minutes=20)) == [ids[2]]
        assert export.housekeeping(db) == "no interrupted exports"
    engine.dispose()
