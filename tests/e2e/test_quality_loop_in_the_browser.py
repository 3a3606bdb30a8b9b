"""The whole quality loop in a real browser, as the quality lead walks it: the programme's
complications per 1,000 ECMO hours; the haemolysis alert on run 1 → "Record as adverse
event" (the form filled in from the alert) → the event → its case packet → an M&M meeting
with a perfusionist present, the case of that event, consensus (harm, preventability,
cause class), signed, and a PDSA action → the event's history says "set by M&M review of
<date>", the run page shows the open action, and the metric has changed (a metabolic
incident now counts). Screenshots at 1280, 1024 and 390 px under /tmp/qloop_shots."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.e2e.conftest import login, open_nav_link

SHOTS = Path("/tmp/qloop_shots")


def shots(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    for width in (1280, 1024, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.reload()
        page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth") <= width, (name, width)
    page.set_viewport_size({"width": 1280, "height": 900})


def test_alert_to_event_to_packet_to_review_to_metric(page: Page) -> None:
    login(page, "qa_lead")
    # The metric before: one mechanical incident (the seeded membrane-lung clot).
    page.goto("/quality/metrics")
    metabolic = page.locator("#complications tbody tr", has_text="Metabolic / haemolysis")
    expect(metabolic.locator("td").nth(1)).to_have_text("0")
    mechanical = page.locator("#complications tbody tr", has_text="Mechanical / circuit")
    expect(mechanical.locator("td").nth(1)).to_have_text("1")
    before = page.locator("#fig-complications").inner_text()
    assert re.search(r"\d", before), before

    # The alert → the pre-filled form → the event.
    page.goto("/runs/1/alerts")
    page.locator("#alert-1 a.record-ae").click()
    expect(page.locator("#source-note")).to_contain_text("From alert 1")
    expect(page.locator("#code")).to_have_value("metab_haemolysis_moderate")
    expect(page.locator("#detected_by")).to_have_value("alert")
    page.select_option("#event_class", "incident")
    page.select_option("#harm", "moderate")
    page.click("#event-form button[type=submit]")
    expect(page.locator("h1")).to_contain_text("Moderate haemolysis")
    event_id = int(page.url.rsplit("/", 1)[1].split("#")[0])
    expect(page.locator("#in-force")).to_contain_text("Moderate")
    expect(page.locator("#reviews")).to_contain_text("Not yet discussed at an M&M meeting")

    # The event → its case packet, which links back to the event.
    page.click("#packet-link")
    expect(page.locator("h1")).to_contain_text("ase packet")
    events = page.locator("#adverse-events")
    expect(events).to_contain_text("Moderate haemolysis")
    expect(events.locator(f'a[href="/quality/events/{event_id}"]')).to_have_count(1)
    expect(page.locator("#sbar")).to_contain_text(f"Centred on adverse event #{event_id}")

    # The M&M meeting: attendance with a perfusionist, the case of this event.
    page.goto("/quality/reviews")
    held = date.today()
    page.fill("#new-meeting input[name=held_on]", held.isoformat())
    page.fill("#new-meeting input[name=title]", "ECMO M&M, the whole loop")
    page.click("button:has-text('Create meeting')")
    form = page.locator("#attendance-form")
    form.locator("select[name=staff_id]").select_option(label="Test qa_lead (Other)")
    page.click("button:has-text('Add to attendance')")
    form.locator("select[name=staff_id]").select_option(label="Test perfusionist (Perfusion)")
    page.click("button:has-text('Add to attendance')")
    expect(page.locator("#perfusion-present")).to_have_text("Perfusion present: yes")
    page.locator("#case-form select[name=run_id]").select_option("1")
    page.locator("#case-form select[name=adverse_event_id]").select_option(str(event_id))
    page.click("button:has-text('Add case')")
    expect(page.locator("#event")).to_contain_text("Moderate haemolysis")
    expect(page.locator("#event")).to_contain_text("harm Moderate")

    consensus = page.locator("#consensus-form")
    consensus.locator("select[name=cause_class]").select_option("technical")
    consensus.locator("select[name=harm]").select_option("severe")
    consensus.locator("select[name=preventability]").select_option("probably")
    consensus.locator("textarea[name=lessons]").fill("Haemolysis alerts go to the perfusionist")
    page.click("button:has-text('Save consensus')")
    page.click("button:has-text('Sign review')")
    expect(page.locator("h1 + p .badge")).to_have_text("signed")
    expect(page.locator("#event")).to_contain_text("harm Severe")
    expect(page.locator("#event")).to_contain_text(f"set by M&M review of {held.isoformat()}")

    action = page.locator("#action-form")
    action.locator("input[name=text]").fill("Pump-head inspection at every circuit check")
    action.locator("select[name=owner_id]").select_option(label="Test perfusionist (Perfusion)")
    action.locator("input[name=due_on]").fill((held + timedelta(days=30)).isoformat())
    action.locator("textarea[name=pdsa_plan]").fill("Audit circuit checks weekly for a month")
    action.locator("input[name=measure_name]").fill("Checks with pump-head inspection")
    action.locator("input[name=measure_unit]").fill("%")
    page.click("button:has-text('Add action')")
    expect(page.locator("#action-1")).to_contain_text("Pump-head inspection at every circuit")
    review_url = page.url.split("#")[0]
    shots(page, "review")

    # The event's history names the review; the event links to it.
    page.goto(f"/quality/events/{event_id}")
    expect(page.locator("#in-force")).to_contain_text("Severe")
    expect(page.locator("#in-force")).to_contain_text("Probably preventable")
    expect(page.locator("#in-force")).to_contain_text("Technical")
    expect(page.locator("#history")).to_contain_text(f"set by M&M review of {held.isoformat()}")
    expect(page.locator("#reviews a")).to_have_attribute(
        "href", re.compile(r"/quality/reviews/cases/\d+$")
    )
    assert review_url.endswith(page.locator("#reviews a").first.get_attribute("href") or "?")
    shots(page, "event")

    # The run page and the coordinator's list show the open action.
    page.goto("/rounds")
    expect(page.locator(".pc-note", has_text="1 open M&M action")).to_have_count(1)
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(SHOTS / f"board-{width}.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto("/runs/1")
    note = page.locator("#run-notes a", has_text="1 open M&M action")
    expect(note).to_have_count(1)
    shots(page, "run")
    note.click()
    expect(page.locator("#action-1")).to_contain_text("Pump-head inspection at every circuit")

    # The metric has changed: a metabolic incident now counts.
    page.goto("/quality/metrics")
    expect(metabolic.locator("td").nth(1)).to_have_text("1")
    expect(mechanical.locator("td").nth(1)).to_have_text("1")
    after = page.locator("#fig-complications").inner_text()
    assert after != before, (before, after)
    page.goto("/quality/metrics/complications")
    expect(page.locator("#drill")).to_contain_text("Metabolic / haemolysis 1")
    shots(page, "metric")


def test_a_researcher_reads_events_counted_not_one_by_one(page: Page) -> None:
    login(page, "researcher")
    expect(page.locator("nav a", has_text="Adverse events")).to_have_count(0)
    open_nav_link(page, "Event counts")
    expect(page.locator("h1")).to_have_text("Adverse events counted")
    mechanical = page.locator("#by-category tbody tr", has_text="Mechanical / circuit")
    expect(mechanical.locator("td").last).to_have_text("<5")
    expect(page.locator("#total")).to_contain_text("<5 events in 12 months")
    expect(page.locator("main")).not_to_contain_text("membrane-lung inlet")
    page.select_option("select[name=group]", "quarter")
    page.fill("input[name=periods]", "4")
    page.click("#filters button")
    expect(page.locator("#by-harm thead")).to_contain_text(" Q")
    shots(page, "summary")
    page.goto("/quality/events/1")
    expect(page.locator("main")).to_contain_text("/quality/events/summary")
