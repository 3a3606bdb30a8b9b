"""A programme's threshold shows in the rule texts people read: the rules API, the
thresholds page and a run's alerts page."""

from __future__ import annotations

from tests.conftest import Web


def test_a_changed_threshold_shows_in_the_rule_api_and_pages(web: Web) -> None:
    web.login("qa_lead")
    before = {r["detector"]: r for r in web.client.get("/api/v1/surveillance/rules").json()}
    assert "pfHb ≥ 50 mg/dL (warning)" in before["hemolysis"]["rule"]
    assert "≥ 50% (critical)" in before["transmembrane_gradient_rise"]["rule"]
    assert before["recirculation"]["modes"] == ["VV", "VAV", "VV+IABP", "VV-ECCO2R", "VV+RVAD"]

    saved = web.post_form(
        "/settings/surveillance",
        {"t_pfhb_warning": "40", "t_tmp_rise_critical": "0.6", "note": "QA committee"},
    )
    assert saved.status_code == 303

    after = {r["detector"]: r for r in web.client.get("/api/v1/surveillance/rules").json()}
    assert "pfHb ≥ 40 mg/dL (warning)" in after["hemolysis"]["rule"]
    assert "≥ 60% (critical)" in after["transmembrane_gradient_rise"]["rule"]
    settings_page = web.client.get("/settings/surveillance").text
    assert "pfHb ≥ 40 mg/dL (warning)" in settings_page
    assert "≥ 60% (critical)" in settings_page

    web.login("nurse")  # the seeded haemolysis alert was raised under the published 50 mg/dL
    alerts_page = web.client.get("/runs/1/alerts").text
    assert "pfHb ≥ 50 mg/dL (warning)" in alerts_page  # the rule it was raised under
    assert "Rule with the thresholds in force now" in alerts_page
    assert "pfHb ≥ 40 mg/dL (warning)" in alerts_page
