"""A VV sweep-off trial run step by step to a pass in a real browser, then decannulation
with the checklist signed by the perfusionist and the physician: the run is closed."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.e2e.conftest import login

GAS = {"blood_flow": "4.1", "spo2": "95", "sao2": "94", "pao2": "82", "paco2": "43", "ph": "7.39"}


def record_step(page: Page, stage: str, sweep: str) -> None:
    form = page.locator("#step")
    form.locator("select[name=stage]").select_option(stage)
    form.locator("input[name=sweep_flow]").fill(sweep)
    for code, value in GAS.items():
        form.locator(f"input[name={code}]").fill(value)
    page.click("button:has-text('Record step')")


def check_trial_chart(page: Page, requests: list[str]) -> None:
    """The trial's signals as a server-drawn SVG chart: clinical names, units, axes, a marker
    per step, fitting the page at every width; no chart library requested."""
    for width in (1280, 1024, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.reload()
        chart = page.locator("#weaning-chart")
        sweep = chart.locator('[data-signal="sweep_flow"] .tchart-head')
        expect(sweep).to_contain_text("(L/min)")
        expect(chart.locator('[data-signal="spo2"] .tchart-head')).to_contain_text("(%)")
        expect(chart.locator('[data-signal="sweep_flow"] .tchart-y span').first).to_be_visible()
        expect(chart.locator(".tchart-x span").first).to_be_visible()
        assert chart.locator("svg.tchart-svg").count() >= 3
        assert chart.locator(".tchart-mark.mk-step").count() == 3
        expect(chart.locator(".tchart-legend")).to_contain_text("weaning trial step")
        box = chart.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width
        assert page.evaluate("document.documentElement.scrollWidth") <= width
    dot = chart.locator('[data-signal="sao2"] path.tc-dot title').first  # gases are dots
    expect(dot).to_contain_text("%")
    assert not any("plotly" in u for u in requests), requests
    page.set_viewport_size({"width": 1280, "height": 900})


def test_sweep_off_trial_to_a_pass_then_decannulation(page: Page) -> None:
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    login(page, "physician", then="/runs/1")
    page.click("nav.runlinks >> text=Weaning")
    page.select_option("select[name=kind]", "sweep_off")
    page.click("button:has-text('Start trial')")
    expect(page.locator("#trial-status")).to_have_text("in progress")

    record_step(page, "baseline", "2")
    record_step(page, "sweep_off", "1")  # the sweep is not off: refused, with the reason
    expect(page.locator(".error")).to_contain_text("the sweep is off at this stage")
    record_step(page, "sweep_off", "0")
    record_step(page, "during", "0")
    expect(page.locator("#steps")).to_contain_text("Step 3")
    expect(page.locator("#steps .verdict.not_met")).to_have_count(0)
    check_trial_chart(page, requests)
    page.click("button:has-text('Log out')")

    login(page, "perfusionist", then="/runs/1/weaning/trial")
    expect(page.locator("#safety")).to_contain_text("Anticoagulation must stay adequate")
    page.check("input[name=flow_safe]")
    page.check("input[name=anticoagulation_ok]")
    page.fill("#assessment input[name=assessment]", "Flow 4.1 L/min, circuit clean")
    page.click("button:has-text('Record perfusionist')")
    page.select_option("#finish select[name=outcome]", "passed")
    page.fill("#finish input[name=reason]", "SaO2 and PaCO2 stable off sweep")
    page.click("button:has-text('Record outcome')")
    expect(page.locator("#trial-status")).to_have_text("passed")

    page.goto("/runs/1/decannulation")
    page.fill("input[name=anticoagulation_note]", "heparin off 1 h")
    page.check("input[name=blood_products_available]")
    page.fill("input[name=closure_technique]", "purse-string suture")
    page.fill("input[name=haemostasis_minutes]", "30")
    page.fill("input[name=limb_perfusion]", "warm, pulses present")
    page.click("button:has-text('Save checklist')")
    page.click("button:has-text('Sign as perfusionist')")
    expect(page.locator("#run-status")).to_have_text("weaning")
    page.click("button:has-text('Log out')")

    login(page, "physician", then="/runs/1/decannulation")
    page.click("button:has-text('Sign as physician')")
    expect(page.locator("#run-status")).to_have_text("ended")
    expect(page.locator("#run-outcome")).to_have_text("weaned / recovered")
    expect(page.locator("#follow-ups")).to_contain_text("Venous Doppler")
    page.goto("/runs/1")
    expect(page.locator("#summary")).to_contain_text("weaned / recovered")
