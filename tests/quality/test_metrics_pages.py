"""The metrics and audit pages and their JSON: figures with n and CI, charts inline, the
drill-down naming runs only to roles that may see identifiers, bad filters refused."""

from __future__ import annotations

import re

from continuum.db import make_engine, make_sessionmaker, unit_of_work
from tests.conftest import Web
from tests.quality import metrics_cohort as cohort

PERIOD = "start=2025-01-01&end=2025-01-31"


def _build(web: Web) -> dict[str, int]:
    engine = make_engine(web.url)
    with unit_of_work(make_sessionmaker(engine)) as db:
        ids = cohort.build(db)
    engine.dispose()
    return ids


def test_the_metrics_page_shows_figures_charts_and_print_layout(web: Web) -> None:
    _build(web)
    web.login("qa_lead")
    r = web.client.get(f"/quality/metrics?{PERIOD}")
    assert r.status_code == 200
    html = r.text
    assert 'id="fig-complications"' in html
    row = re.search(r'id="fig-complications">(.*?)</tr>', html, re.S)
    assert row and "10.0" in row.group(1) and "1.2–36.1" in row.group(1)
    assert "per 1,000 ECMO h" in row.group(1)
    survival = re.search(r'id="fig-survival_discharge">(.*?)</tr>', html, re.S)
    assert survival and "2 ended runs without a hospital outcome yet" in survival.group(1)
    assert html.count("<svg") >= 2 and "Membrane-lung life" in html
    assert "@media print" in html
    assert 'href="/quality/control-charts"' in html
    assert f'href="/quality/metrics/ttr?{PERIOD.replace("&", "&amp;")}' in html
    assert "<script" not in html.split("<main>")[1]  # no inline script (CSP)


def test_drill_down_names_runs_only_for_roles_with_identifiers(web: Web) -> None:
    ids = _build(web)
    web.login("qa_lead")
    named = web.client.get(f"/quality/metrics/complications?{PERIOD}")
    assert named.status_code == 200
    assert f'href="/runs/{ids["A"]}"' in named.text and f'href="/runs/{ids["B"]}"' in named.text
    assert f'href="/runs/{ids["C"]}"' not in named.text
    web.client.post("/logout", data={"csrf_token": web.csrf("/quality/metrics")})
    web.login("researcher")
    anonymous = web.client.get(f"/quality/metrics/complications?{PERIOD}")
    assert anonymous.status_code == 200
    assert "/runs/" not in anonymous.text.split("<main>")[1]
    assert "HXT-A" not in anonymous.text and "Run A" not in anonymous.text
    assert re.search(r"P-\d{4}", anonymous.text)
    assert "your role sees no identifiers" in anonymous.text


def test_bad_filters_are_refused_on_the_page_and_the_api(web: Web) -> None:
    web.login("qa_lead")
    page = web.client.get("/quality/metrics?start=2025-02-01&end=2025-01-01")
    assert page.status_code == 422
    assert "before it starts" in page.text and "2025-01-01" in page.text
    api = web.client.get("/api/v1/quality/metrics", params={"mode": "VX", "start": "01/02/2025"})
    assert api.status_code == 422
    fields = {p["field"] for p in api.json()["fields"]}
    assert "start" in fields
    api2 = web.client.get("/api/v1/quality/metrics", params={"mode": "VX"})
    assert api2.status_code == 422
    assert api2.json()["fields"][0]["field"] == "mode"
    assert api2.json()["fields"][0]["value"] == "VX"
    drill = web.client.get("/quality/metrics/nonsense")
    assert drill.status_code == 422 and "metric" in drill.text


def test_the_api_gives_aggregates_with_intervals(web: Web) -> None:
    _build(web)
    web.login("researcher")
    r = web.client.get(f"/api/v1/quality/metrics?{PERIOD}&support_type=pulmonary")
    assert r.status_code == 200
    body = r.json()
    figures = {f["key"]: f for f in body["figures"]}
    assert figures["runs"]["value"] == 2
    assert figures["ml_changes"]["ci_low"] is not None
    assert body["membrane_lung_life"]["n"] == 4
    assert "run_id" not in r.text


def test_audit_pages_define_show_failures_and_refuse_bad_input(web: Web) -> None:
    ids = _build(web)
    web.login("qa_lead")
    form = {
        "title": "Perfusion at rounds, January",
        "criterion": "perfusion_at_rounds",
        "standard_pct": "90",
        "period_start": "2025-01-01",
        "period_end": "2025-01-31",
    }
    bad = web.post_form("/quality/audits", {**form, "standard_pct": "150"}, "/quality/audits")
    assert bad.status_code == 422
    assert "150 % is outside 0–100 %" in bad.text
    assert (
        "Perfusion at rounds, January"
        not in web.client.get("/quality/audits").text.split("Define an audit")[0]
    )
    made = web.post_form("/quality/audits", form, "/quality/audits")
    assert made.status_code == 303
    page = web.client.get(made.headers["location"])
    assert page.status_code == 200
    assert "75.0 %" in page.text and "below the standard" in page.text
    assert f'href="/runs/{ids["A"]}"' in page.text
    detail = web.client.get("/api/v1/quality/audits/" + made.headers["location"].rsplit("/", 1)[1])
    body = detail.json()
    assert body["result"]["passed"] == 3 and body["result"]["total"] == 4
    assert body["result"]["failures"][0]["run_id"] == ids["A"]
    new_id = body["result"]["audit"]["id"]
    assert body["previous"] is None  # the first audit of the criterion by period
    later = web.client.get("/api/v1/quality/audits/1").json()  # seeded: the last 30 days
    assert later["previous"]["audit"]["id"] == new_id  # the re-audit shows January beside it
    side = web.client.get("/quality/audits/1").text
    assert "Previous audit of this criterion" in side and "Perfusion at rounds, January" in side


def test_the_drill_down_api_names_runs_only_for_roles_with_identifiers(web: Web) -> None:
    ids = _build(web)
    web.login("qa_lead")
    named = web.client.get(f"/api/v1/quality/metrics/ml_changes?{PERIOD}").json()
    assert {r["run_id"] for r in named["runs"]} == {ids["A"], ids["C"]}
    assert named["figure"]["value"] == 10.0
    web.client.post("/logout", data={"csrf_token": web.csrf("/quality/metrics")})
    web.login("researcher")
    anonymous = web.client.get(f"/api/v1/quality/metrics/ml_changes?{PERIOD}").json()
    assert [r["run_id"] for r in anonymous["runs"]] == [None, None]
    assert all(
        r["started_at"] is None and r["started_month"] == "2025-01" for r in anonymous["runs"]
    )
    bad = web.client.get("/api/v1/quality/metrics/unknown")
    assert bad.status_code == 422 and bad.json()["fields"][0]["field"] == "metric"
