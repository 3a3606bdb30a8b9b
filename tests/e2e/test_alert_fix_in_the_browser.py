"""From an alert the fix is one step away (issue #16), at a desktop (1280×900), a ward tablet
(1024×768) and a phone (390×844): a perfusionist replaces the membrane lung from the alert
(the alert resolves and links the new component with the old one's stop reason) and raises
an action from another (linked; the alert keeps its state). The page never scrolls
sideways (screenshots: CONTINUUM_SCREENSHOTS, else the test's folder)."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import login, screenshot_folder

SIZES = [{"width": 1280, "height": 900}, {"width": 1024, "height": 768},
         {"width": 390, "height": 844}]  # fmt: skip


@pytest.mark.parametrize("size", SIZES, ids=["desktop", "tablet", "phone"])
def test_replace_and_raise_an_action_from_the_alert(
    page: Page, size: dict[str, int], tmp_path: Path
) -> None:
    page.set_viewport_size(size)
    login(page, "perfusionist", then="/runs/1/alerts")
    first = page.locator("#alert-1")
    fix = first.locator("details.fix")
    fix.locator("summary").click()
    form = fix.locator("form.replace-form")
    form.locator("select[name=replaces_id]").select_option("1")  # the membrane lung
    form.locator("select[name=stop_reason]").select_option("thrombus")
    form.locator("input[name=note]").fill("clot seen at the inlet")
    form.locator("button[type=submit]").click()
    page.wait_for_url("**/runs/1/alerts**")
    first = page.locator("#alert-1")
    expect(first.locator(".badge.state-resolved")).to_be_visible()
    link = first.locator(".interventions a[data-intervention='component']")
    expect(link).to_contain_text("replaced by #")
    expect(first).to_contain_text("thrombus")

    second = page.locator("#alert-2")
    fix = second.locator("details.fix")
    fix.locator("summary").click()
    action = fix.locator("form.action-form")
    action.locator("input[name=text]").fill("Repeat anti-Xa at 18:00")
    action.locator("select[name=owner_discipline]").select_option("nursing")
    action.locator("button", has_text="Raise action").click()
    page.wait_for_url("**/runs/1/alerts**")
    second = page.locator("#alert-2")
    expect(second.locator(".interventions")).to_contain_text("Repeat anti-Xa at 18:00")
    expect(second.locator(".badge.state-resolved")).to_have_count(0)  # keeps its state
    overflow = page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 1, f"the alert page scrolls sideways by {overflow} px"
    page.screenshot(
        path=str(screenshot_folder(tmp_path) / f"alert-fix-{size['width']}.png"), full_page=True
    )
