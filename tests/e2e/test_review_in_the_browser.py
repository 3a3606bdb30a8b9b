"""An M&M review in a real browser: open run 1's case packet, create a meeting, add the case,
record attendance with a perfusionist, add a care delivery problem with contributory
factors, open voting and vote, agree the cause class and sign, then add an action with a PDSA
measure and a measurement (charted). Screenshots at 1280, 1024 and 390 px; no page scrolls
sideways at any width."""

from __future__ import annotations

import os
from datetime import date, timedelta
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.e2e.conftest import login, open_nav_link

SHOTS = Path(os.environ.get("CONTINUUM_SCREENSHOTS", "/tmp/continuum-screenshots"))


def shots(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    for width in (1280, 1024, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.reload()
        page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth") <= width, (name, width)
    page.set_viewport_size({"width": 1280, "height": 900})


def test_a_case_from_packet_to_signed_review_with_a_pdsa_action(page: Page) -> None:
    login(page, "qa_lead", then="/quality/runs/1/packet")
    expect(page.locator("#sbar")).to_contain_text("Situation")
    expect(page.locator("#sbar")).to_contain_text("Recommendation")
    expect(page.locator("#trends svg.tchart-svg").first).to_be_visible()
    shots(page, "packet")

    open_nav_link(page, "M&M")
    held = date.today()
    page.fill("#new-meeting input[name=held_on]", held.isoformat())
    page.fill("#new-meeting input[name=title]", "ECMO M&M, browser test")
    page.click("button:has-text('Create meeting')")
    expect(page.locator("#perfusion-present")).to_have_text("Perfusion present: no")

    form = page.locator("#attendance-form")
    form.locator("select[name=staff_id]").select_option(label="Test qa_lead (Other)")
    page.click("button:has-text('Add to attendance')")
    form.locator("select[name=staff_id]").select_option(label="Test perfusionist (Perfusion)")
    page.click("button:has-text('Add to attendance')")
    expect(page.locator("#perfusion-present")).to_have_text("Perfusion present: yes")

    page.locator("#case-form select[name=run_id]").select_option("1")
    page.click("button:has-text('Add case')")
    expect(page.locator("h1")).to_contain_text("Review #1")

    problem = page.locator("#problem-form")
    problem.locator("textarea[name=description]").fill("Haemolysis alert acknowledged late")
    problem.locator("input[value=team]").check()
    problem.locator("input[value=ecmo_alarm_configuration]").check()
    page.click("button:has-text('Add care delivery problem')")
    expect(page.locator("#problems")).to_contain_text("ECMO: alarm configuration")
    shots(page, "review-draft")

    page.click("button:has-text('Open voting')")
    page.locator("#vote-form select[name=cause_class]").select_option("technical")
    page.click("button:has-text('Cast my vote')")
    expect(page.locator("#tally")).to_contain_text("Technical: 1")
    expect(page.locator("#tally")).to_contain_text("1 voted")

    # Signing without a cause class is refused, naming the field
    page.click("button:has-text('Sign review')")
    expect(page.locator("#error-summary")).to_contain_text("cause")
    consensus = page.locator("#consensus-form")
    consensus.locator("select[name=cause_class]").select_option("technical")
    consensus.locator("select[name=harm]").select_option("mild")
    consensus.locator("textarea[name=lessons]").fill("Route circuit alerts to the perfusionist")
    page.click("button:has-text('Save consensus')")
    page.click("button:has-text('Sign review')")
    expect(page.locator("h1 + p .badge")).to_have_text("signed")

    action = page.locator("#action-form")
    action.locator("input[name=text]").fill("Alert routing audit")
    action.locator("select[name=owner_id]").select_option(label="Test perfusionist (Perfusion)")
    action.locator("input[name=due_on]").fill((held + timedelta(days=30)).isoformat())
    action.locator("textarea[name=pdsa_plan]").fill("Weekly audit for two months")
    action.locator("input[name=measure_name]").fill("Alerts acknowledged within 5 min")
    action.locator("input[name=measure_unit]").fill("%")
    page.click("button:has-text('Add action')")
    m = page.locator(".measure-form").first
    m.locator("input[name=measured_on]").fill((held + timedelta(days=7)).isoformat())
    m.locator("input[name=value]").fill("65")
    page.click("button:has-text('Add measurement')")
    expect(page.locator("#action-1 svg.tchart-svg")).to_be_visible()
    expect(page.locator("#action-1")).to_contain_text("65 %")
    shots(page, "review")

    page.goto("/quality/actions")
    expect(page.locator("#action-1")).to_contain_text("Alert routing audit")
    shots(page, "actions")
    page.goto("/quality/reviews/meetings/1")
    shots(page, "meeting")
