"""A nurse at 3 a.m. sees the haemolysis alert on run 1, clicks "Record as adverse event",
finds the form filled in from the alert (code, time, how it was detected), chooses class and
harm, saves, and finds the event on the register and on the run's timeline. At 1280, 1024
and 390 px wide; screenshots under /tmp/aevents_shots (and the test's tmp dir)."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import login

SHOTS = Path("/tmp/aevents_shots")


def _fits(page: Page, selector: str, width: int) -> None:
    box = page.locator(selector).first.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width + 1, box


def _shot(page: Page, tmp_path: Path, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    for where in (SHOTS, tmp_path):
        page.screenshot(path=str(where / name), full_page=True)


@pytest.mark.parametrize("width", [1280, 1024, 390])
def test_alert_to_adverse_event_to_register_and_timeline(
    page: Page, tmp_path: Path, width: int
) -> None:
    page.set_viewport_size({"width": width, "height": 900})
    login(page, "nurse", then="/runs/1/alerts")
    offer = page.locator("#alert-1 a.record-ae")
    expect(offer).to_be_visible()
    _shot(page, tmp_path, f"alert_{width}.png")
    offer.click()

    expect(page.locator("h1")).to_contain_text("Record an adverse event")
    expect(page.locator("#source-note")).to_contain_text("From alert 1")
    expect(page.locator("#code")).to_have_value("metab_haemolysis_moderate")
    expect(page.locator("#detected_by")).to_have_value("alert")
    expect(page.locator("#occurred_at")).not_to_have_value("")
    _fits(page, "#event-form button[type=submit]", width)
    _fits(page, "#code", width)
    _shot(page, tmp_path, f"form_{width}.png")

    page.select_option("#event_class", "incident")
    page.select_option("#harm", "moderate")
    page.fill("#immediate_actions", "pfHb repeated, pump head inspected with the torch")
    page.click("#event-form button[type=submit]")

    expect(page.locator("h1")).to_contain_text("Moderate haemolysis")
    expect(page.locator("#in-force")).to_contain_text("ELSO 822")
    expect(page.locator("#in-force")).to_contain_text("from alert 1")
    _shot(page, tmp_path, f"event_{width}.png")

    page.goto("/quality/events")
    row = page.locator("#register tbody tr", has_text="Moderate haemolysis")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Surveillance alert")
    expect(row).to_contain_text("Test nurse")
    _shot(page, tmp_path, f"register_{width}.png")

    page.goto("/runs/1/timeline?kind=adverse_event")
    expect(page.locator("body")).to_contain_text("Adverse event (metabolic): haemolysis moderate")
    _shot(page, tmp_path, f"timeline_{width}.png")
