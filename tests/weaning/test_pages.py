"""Weaning pages and API through the web layer: refusals a clinician can read, and the run
link on the run page."""

from __future__ import annotations

from tests.conftest import Web

CHECKLIST = {
    "anticoagulation_note": "heparin off 1 h",
    "blood_products_available": "true",
    "positioning": "Trendelenburg",
    "closure_technique": "purse-string",
    "haemostasis_minutes": "30",
    "limb_perfusion": "warm",
}


def test_run_page_links_to_weaning(web: Web) -> None:
    web.login("nurse")
    assert 'href="/runs/1/weaning"' in web.client.get("/runs/1").text
    page = web.client.get("/runs/1/weaning/readiness")
    assert page.status_code == 200
    assert "VV criteria" in page.text and "savinglivesacademy" in page.text


def test_decannulation_without_a_trial_asks_for_a_reason(web: Web) -> None:
    web.login("physician")
    r = web.post_form("/runs/1/decannulation", CHECKLIST)
    assert r.status_code == 422
    assert "no passed weaning trial is recorded" in r.text
    assert 'value="purse-string"' in r.text  # what was typed is kept
    r = web.post_form("/runs/1/decannulation", {**CHECKLIST, "no_trial_reason": "bleeding"})
    assert r.status_code == 303


def test_a_step_out_of_order_is_explained_on_the_page(web: Web) -> None:
    web.login("physician")
    r = web.post_form("/runs/1/weaning/trials", {"kind": "sweep_off"})
    assert r.status_code == 303
    r = web.post_form("/weaning/trials/1/steps", {"stage": "during", "sweep_flow": "0"})
    assert r.status_code == 422
    assert "the first step must be" in r.text


def test_nurse_may_not_sign_decannulation(web: Web) -> None:
    web.login("physician")
    web.post_form("/runs/1/decannulation", {**CHECKLIST, "no_trial_reason": "bleeding"})
    web.login("nurse")
    r = web.post_form("/weaning/decannulations/1/sign", {})
    assert r.status_code == 403
    assert "nurse role may not sign decannulation" in r.text


def test_api_refusal_names_the_field(web: Web) -> None:
    web.login("physician")
    csrf = web.csrf("/runs")
    r = web.client.post(
        "/api/v1/runs/1/weaning/trials",
        json={"kind": "va_flow_reduction"},
        headers={"X-CSRF-Token": csrf},
    )
    assert r.status_code == 422
    assert r.json()["fields"][0]["field"] == "kind"
    history = web.client.get("/api/v1/runs/1/weaning").json()
    assert history["family"] == "VV" and history["trials"] == []


def test_thresholds_page_refuses_a_word_and_saves_a_number(web: Web) -> None:
    web.login("qa_lead")
    old = web.client.get("/weaning/settings", follow_redirects=False)
    assert old.status_code == 303 and old.headers["location"] == "/settings/weaning"
    url = "/settings/weaning"
    r = web.post_form(url, {"t_vv_peep_max": "ten"}, page=url)
    assert r.status_code == 422 and "&#39;ten&#39; is not a number; allowed 0–100 cmH2O" in r.text
    r = web.post_form(url, {"t_vv_peep_max": "12"}, page=url)
    assert r.status_code == 303 and r.headers["location"] == f"{url}?saved=1"
    page = web.client.get(r.headers["location"]).text
    assert "1 value changed" in page and 'name="t_vv_peep_max"' in page and 'value="12"' in page


def test_trial_chart_is_drawn_on_the_server_with_a_marker_per_step(web: Web) -> None:
    web.login("physician")
    web.post_form("/runs/1/weaning/trials", {"kind": "sweep_off"})
    for stage, sweep in (("baseline", "2"), ("sweep_off", "0")):
        gas = {"blood_flow": "4.1", "spo2": "95", "sao2": "94", "paco2": "43"}
        r = web.post_form("/weaning/trials/1/steps", {"stage": stage, "sweep_flow": sweep, **gas})
        assert r.status_code == 303, r.text
    for url in ("/runs/1/weaning/trial?id=1", "/runs/1/weaning"):
        page = web.client.get(url, follow_redirects=True).text
        assert 'id="weaning-chart"' in page and 'data-signal="sweep_flow"' in page, url
        assert '<span class="tchart-unit">(L/min)</span>' in page, url
        assert page.count('class="tchart-mark mk-step"') == 2, url
        assert "plotly" not in page.lower() and "weaning_chart.js" not in page
    assert web.client.get("/static/vendor/plotly.min.js").status_code == 404
