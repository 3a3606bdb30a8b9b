"""The data dictionary in a real browser at 1280, 1024 and 390 px: nothing scrolls sideways,
filtering by table and standard narrows the list, and each standard's cell of a field reads
on a phone with the standard's name beside it."""

from __future__ import annotations

import os

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import login

SHOTS = os.environ.get("CONTINUUM_SCREENSHOTS")  # a folder: save each width's screenshot


@pytest.mark.parametrize("width", [1280, 1024, 390])
def test_the_dictionary_fits_the_screen_and_filters(page: Page, width: int) -> None:
    page.set_viewport_size({"width": width, "height": 900})
    login(page, "researcher", then="/research/dictionary")
    expect(page.locator("h1")).to_have_text("Data dictionary")
    overflow = page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 1, f"the page scrolls sideways by {overflow} px at {width} px"
    page.select_option("select[name=table]", "observation")
    page.select_option("select[name=standard]", "clif")
    page.fill("input[name=q]", "flow")
    page.click("button:has-text('Show')")
    page.wait_for_url("**/research/dictionary?*")
    row = page.locator("tr[id='observation.value[blood_flow]']")
    expect(row).to_be_visible()
    expect(row.locator("td[data-label='CLIF 2.1 ecmo_mcs']")).to_have_text("flow")
    expect(page.locator("tr[id='run.started_at']")).to_have_count(0)
    if SHOTS:
        page.goto("/research/dictionary?table=cannula")
        page.screenshot(path=os.path.join(SHOTS, f"dictionary_{width}.png"), full_page=False)
