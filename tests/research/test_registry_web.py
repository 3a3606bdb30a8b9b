"""The registry record through the API, the pages and the command line: response shapes,
bad input answered 4xx naming field and value with nothing saved, the researcher reading it
de-identified, the CLI's JSON. The seeded template has run 1 (VV, cannula 1, membrane lung
1, adverse event 1) for patient 1, whose MRN and name are in tests.seed."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

from tests.conftest import Web
from tests.seed import SECRET_BIRTHS, SECRET_MRNS, SECRET_NAMES

API = "/api/v1/research/registry/runs/1"
CONTINUUM = str(Path(sys.executable).parent / "continuum")


def _csrf(web: Web) -> dict[str, str]:
    return {"X-CSRF-Token": web.csrf("/research/registry/runs/1")}


def test_record_api_names_value_status_and_source_of_every_field(web: Web) -> None:
    web.login("perfusionist")
    body = web.client.get(API).json()
    fields = {f["field"]: f for f in body["fields"]}
    site = fields["cannulas.1.site"]
    assert (site["value"], site["status"], site["source_kind"]) == (
        "4308414 Femoral vein", "filled", "record",
    )  # fmt: skip
    assert fields["complications.1.elso_code"]["value"] == "116"
    assert fields["discharge.discharged_alive"]["status"] == "missing"
    assert "discharge.discharged_alive" in body["work_list"]
    assert body["completeness_pct"] < 100 and body["required"] == sum(
        f["required"] for f in body["fields"]
    )
    assert fields["run.sex"]["allowed"] == ["Female", "Male", "Unknown"]


def test_bad_review_input_is_refused_with_the_field_named_and_nothing_saved(web: Web) -> None:
    web.login("perfusionist")
    headers = _csrf(web)
    url = f"{API}/amendments"
    cases = [
        ({"field": "run.nonsense", "action": "correct", "value": 1, "reason": "x"},
         "reviews.0.field", "no field"),
        ({"field": "run.pao2_24h", "action": "correct", "value": "high", "reason": "x"},
         "reviews.0.value", "must be a number"),
        ({"field": "run.pao2_24h", "action": "correct", "value": 5000, "reason": "x"},
         "reviews.0.value", "outside 0–800"),
        ({"field": "run.pao2_24h", "action": "erase", "value": 80, "reason": "x"},
         "reviews.0.action", "confirm"),
        ({"field": "run.pao2_24h", "action": "correct", "value": {"x": 1}, "reason": "x"},
         "reviews.0.value", ""),
    ]  # fmt: skip
    for review, field, words in cases:
        r = web.client.post(url, json={"reviews": [review]}, headers=headers)
        assert r.status_code == 422, r.text
        problems = r.json()["fields"]
        hit = [p for p in problems if p["field"].startswith(field) and words in p["message"]]
        assert hit, problems
    r = web.client.post(url, json={"reviews": []}, headers=headers)
    assert r.status_code == 422
    r = web.client.post(url, json={"reviews": [], "extra": 1}, headers=headers)
    assert r.status_code == 422
    assert web.client.get(API).json()["fields"][0]["history"] == []
    assert all(not f["history"] for f in web.client.get(API).json()["fields"])
    assert web.client.get("/api/v1/research/registry/runs/999").status_code == 404


def test_ready_refusal_names_the_missing_fields_on_the_page_and_the_api(web: Web) -> None:
    web.login("coordinator")
    r = web.client.post(f"{API}/ready", json={}, headers=_csrf(web))
    assert r.status_code == 422
    named = {p["field"] for p in r.json()["fields"]}
    assert {"discharge.discharged_alive", "diagnoses.primary_icd10"} <= named
    page = web.post_form("/research/registry/runs/1/ready", {}, "/research/registry/runs/1")
    assert page.status_code == 422
    assert 'data-field="discharge.discharged_alive"' in page.text
    assert "Not marked ready." in page.text


def test_page_correction_becomes_an_amendment_and_bad_page_input_is_422(web: Web) -> None:
    web.login("perfusionist")
    page = "/research/registry/runs/1"
    bad = web.post_form(f"{page}/review", {"v.run.pao2_24h": "abc", "reason": "gas"}, page)
    assert bad.status_code == 422 and 'data-field="v.run.pao2_24h"' in bad.text
    ok = web.post_form(
        f"{page}/review", {"v.run.pao2_24h": "81", "v.run.ph_24h": "", "reason": "gas"}, page
    )
    assert ok.status_code == 303
    fields = {f["field"]: f for f in web.client.get(API).json()["fields"]}
    assert (fields["run.pao2_24h"]["value"], fields["run.pao2_24h"]["status"]) == (
        "81", "corrected",
    )  # fmt: skip
    assert fields["run.ph_24h"]["history"] == []  # blank inputs are skipped
    html = web.client.get(page).text
    assert "Work list" in html and "Where to record it" in html


def test_researcher_reads_it_de_identified(web: Web) -> None:
    web.login("physician")
    web.client.post(
        f"{API}/amendments",
        json={"reviews": [{"field": "diagnoses.primary_icd10", "action": "correct",
                           "value": "J12.82", "reason": "letter from Dr Quixote"}]},
        headers=_csrf(web),
    )  # fmt: skip
    web.client.cookies.clear()
    web.login("researcher")
    texts = [
        web.client.get(API).text,
        web.client.get("/research/registry/runs/1").text,
        web.client.get("/research/registry").text,
        web.client.get("/api/v1/research/registry").text,
    ]
    bundle = web.client.get(f"{API}/bundle")
    assert bundle.headers["content-type"] == "application/zip"
    z = zipfile.ZipFile(io.BytesIO(bundle.content))
    texts += [z.read(n).decode() for n in z.namelist()]
    for text in texts:
        for secret in (*SECRET_MRNS, *SECRET_NAMES, *SECRET_BIRTHS, "Dr Quixote"):
            assert secret not in text
    fields = {f["field"]: f for f in json.loads(texts[0])["fields"]}
    assert fields["diagnoses.primary_icd10"]["value"] == "J12.82"  # a code, not prose
    assert fields["diagnoses.primary_icd10"]["history"][0]["reason"] is None
    assert web.client.post(f"{API}/ready", json={}).status_code == 403


def test_cli_prints_the_record_as_json_and_refuses_bad_usage(sqlite_url: str) -> None:
    env = {**os.environ, "CONTINUUM_DATABASE_URL": sqlite_url}

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([CONTINUUM, *args], env=env, capture_output=True, text=True,
                              timeout=120)  # fmt: skip

    done = cli("registry", "elso", "--run", "1", "--format", "json")
    assert done.returncode == 0, done.stderr
    body = json.loads(done.stdout)
    fields = {f["field"]: f for f in body["fields"]}
    assert fields["cannulas.1.size_fr"]["value"] == "25"
    assert fields["cannulas.1.size_fr"]["source"] == "cannula 1 size"
    assert fields["discharge.discharged_alive"]["status"] == "missing"
    assert body["completeness_pct"] == round(
        100 * sum(f["status"] in ("filled", "confirmed", "corrected") for f in body["fields"]
                  if f["required"]) / body["required"], 1,
    )  # fmt: skip
    assert SECRET_MRNS[0] not in done.stdout
    text = cli("registry", "elso", "--run", "1")
    assert text.returncode == 0 and "Work list" in text.stdout
    assert cli("registry", "elso", "--run", "1", "--format", "xml").returncode == 2
    missing = cli("registry", "elso", "--run", "999")
    assert missing.returncode != 0 and "no run 999" in missing.stderr
    summary = cli("registry", "completeness", "--format", "json")
    assert summary.returncode == 0
    assert json.loads(summary.stdout)["runs"] >= 1


def test_one_click_confirms_every_value_a_table_shows(web: Web) -> None:
    web.login("qa_lead")
    page = "/research/registry/runs/1"
    done = web.post_form(f"{page}/review", {"confirm_table": "cannulas"}, page)
    assert done.status_code == 303 and done.headers["location"].endswith("#t-cannulas")
    fields = [f for f in web.client.get(API).json()["fields"] if f["table"] == "cannulas"]
    filled = [f for f in fields if f["value"] is not None]
    assert filled and all(f["status"] == "confirmed" for f in filled)
    assert all(f["history"][0]["by"] == "Test qa_lead" for f in filled)
    nothing = web.post_form(f"{page}/review", {"confirm_table": "cannulas"}, page)
    assert nothing.status_code == 422  # nothing left to confirm there: said, not saved
