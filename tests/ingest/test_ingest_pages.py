"""The upload page on a run and the administrators' integration page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from tests.conftest import Web
from tests.seed import RUN_START, SECRET_MRNS, SECRET_NAMES

from continuum.core.record import Observation
from continuum.db import make_engine, make_sessionmaker
from continuum.ingest.models import CodeMapping

AT = (RUN_START + timedelta(hours=2)).isoformat()
CSV = f"time,blood_flow,pump_speed\n{AT},4.2,3300\n{AT.replace('T', ' ')},abc,3400\n"


def stored(web: Web, source: str) -> int:
    with make_sessionmaker(make_engine(web.url))() as db:
        stmt = select(func.count()).where(Observation.source == source)
        return int(db.scalar(stmt) or 0)


def test_upload_shows_the_report(web: Web) -> None:
    web.login("perfusionist")
    assert "Import console data" in web.client.get("/runs/1").text
    page = web.client.get("/runs/1/ingest")
    assert page.status_code == 200 and 'type="file"' in page.text
    r = web.client.post(
        "/runs/1/ingest",
        data={"csv_text": "", "csrf_token": web.csrf("/runs/1/ingest")},
        files={"file": ("console.csv", CSV.encode(), "text/csv")},
    )
    assert r.status_code == 200, r.text[:500]
    assert (
        "Observations stored" in r.text
        and "ECMO blood flow value &#39;abc&#39; is not a number" in r.text
    )
    assert stored(web, "csv") == 3


def test_a_bad_upload_is_refused_and_changes_nothing(web: Web) -> None:
    web.login("perfusionist")
    r = web.post_form("/runs/1/ingest", {"csv_text": "flow\n1\n"}, page="/runs/1/ingest")
    assert r.status_code == 422 and "first column" in r.text
    early = CSV.replace(AT[:10], "2001-01-01")
    r = web.post_form("/runs/1/ingest", {"csv_text": early}, page="/runs/1/ingest")
    assert r.status_code == 422 and "before the run started" in r.text
    assert stored(web, "csv") == 0


def test_integration_page_shows_runs_by_label_never_identifiers(web: Web) -> None:
    web.login("integration")
    bundle = {"resourceType": "Bundle", "type": "collection", "identifier": {"value": "P1"},
              "entry": [{"resource": {"resourceType": "Observation", "status": "final",
                         "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4"}]},
                         "subject": {"identifier": {"value": "NOT-A-PATIENT"}},
                         "effectiveDateTime": datetime.now(UTC).isoformat(),
                         "valueQuantity": {"value": 80}}}]}  # fmt: skip
    r = web.client.post("/api/v1/fhir/Bundle", json=bundle,
                        headers={"X-CSRF-Token": web.csrf("/runs")})  # fmt: skip
    assert r.status_code == 422
    admin = Web(web.client, web.url)
    web.client.post("/logout", data={"csrf_token": web.csrf("/runs")})
    admin.login("admin")
    r = admin.post_form(
        "/integration/consoles", {"console_id": "CH-7", "run_id": 1}, "/integration"
    )
    assert r.status_code == 303
    page = admin.client.get("/integration").text
    assert "CH-7" in page and "P-0001" in page and "run 1" in page
    assert "no patient with the MRN" in page and "<b>AE</b>" in page
    for secret in (*SECRET_MRNS, *SECRET_NAMES, "NOT-A-PATIENT"):
        assert secret not in page


def test_mapping_form_refuses_unknown_codes_and_saves_good_ones(web: Web) -> None:
    web.login("admin")
    bad = {"system": "LOCAL-X", "identifier": "F1", "code": "flowish", "active": "on"}
    r = web.post_form("/integration/mappings", bad, "/integration")
    assert r.status_code == 422 and "not a vocabulary code" in r.text
    good = {**bad, "code": "blood_flow"}
    assert web.post_form("/integration/mappings", good, "/integration").status_code == 303
    with make_sessionmaker(make_engine(web.url))() as db:
        rows = db.scalars(select(CodeMapping)).all()
    assert [(m.system, m.identifier, m.code) for m in rows] == [("LOCAL-X", "F1", "blood_flow")]
    assert "LOCAL-X" in web.client.get("/integration").text
