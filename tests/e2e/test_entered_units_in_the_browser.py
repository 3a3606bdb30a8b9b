"""A value entered in kPa reads "62 kPa (465 mmHg)" on the run page, and the longer text
stays inside its card on a phone (390 px; screenshots in the test's tmp dir)."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

from tests.e2e.conftest import login


def test_an_entered_kpa_value_fits_the_run_page_on_a_phone(page: Page, tmp_path: Path) -> None:
    login(page, "nurse")
    page.goto("/runs/1")
    form = page.locator("#observation-form")
    form.locator("select[name=code]").select_option("post_oxy_po2")
    form.locator("input[name=value]").fill("62")
    form.locator("input[name=unit]").fill("kPa")
    form.locator("button", has_text="Record").click()
    page.wait_for_url("**/runs/1**")
    page.set_viewport_size({"width": 390, "height": 900})
    page.goto("/runs/1")
    row = page.locator("#latest tr", has_text="post-oxygenator pO2")
    expect(row).to_contain_text("62 kPa (465 mmHg)")
    manual = page.locator("#manual tr", has_text="post-oxygenator pO2").first
    expect(manual).to_contain_text("62 kPa (465 mmHg)")
    page.screenshot(path=str(tmp_path / "entered-390.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    for card in ("#latest", "#observations"):
        box = page.locator(card).bounding_box()
        assert box is not None and box["x"] + box["width"] <= 390, card
        assert page.locator(card).evaluate("e => e.scrollWidth <= e.clientWidth"), card
    # The latest values still fit without scrolling: the bracket wraps below if need be.
    for table in page.locator("#latest .table-scroll").all():
        assert table.evaluate("e => e.scrollWidth <= e.clientWidth")
    cell = row.locator("td.num")
    box = cell.bounding_box()
    assert box is not None and box["x"] + box["width"] <= 390
