"""An Impella record in a real browser: from the run page's "Circulatory support devices"
link to the seeded Impella CP (device 1 on run 1), a controller reading entered (flow below
the P-level's expected range is flagged), an echo position check, then the removal as a new
version. Each page is checked for sideways scrolling at 1280, 1024 and 390 px; screenshots
are kept (CONTINUUM_SCREENSHOTS, else the test's folder)."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

from tests.e2e.conftest import fits_three_sizes, login, screenshot_folder


def test_an_impella_record_from_the_run_page(page: Page, tmp_path: Path) -> None:
    folder = screenshot_folder(tmp_path)
    login(page, "physician", then="/runs/1")
    page.click("a:has-text('Circulatory support devices')")
    expect(page.locator("h1")).to_contain_text("Circulatory support devices")
    row = page.locator("#device-1")
    expect(row).to_contain_text("Impella CP")
    expect(row).to_contain_text("in place")
    fits_three_sizes(page, "mcs", "run", folder)
    row.locator("a").first.click()
    expect(page.locator("h1")).to_contain_text("Impella CP")
    expect(page.locator("#configuration")).to_contain_text("VV")
    form = page.locator("#reading-form")
    form.locator("input[name=p_level]").fill("8")
    form.locator("input[name=flow]").fill("2.2")
    form.locator("input[name=purge_pressure]").fill("580")
    form.locator("input[name=purge_flow]").fill("12")
    form.locator("button[type=submit]").click()
    latest = page.locator("#latest-reading")
    expect(latest).to_contain_text("Expected flow at this P-level 2.9–3.7 L/min")
    expect(latest).to_contain_text("flow below the expected range")
    expect(page.locator("#expected")).to_contain_text("P-9")
    check = page.locator("#check-form")
    check.locator("select[name=method]").select_option("echo")
    check.locator("select[name=result]").select_option("too_deep")
    check.locator("input[name=note]").fill("inlet 5.5 cm below the valve")
    check.locator("button[type=submit]").click()
    expect(page.locator("#checks tbody")).to_contain_text("Too deep")
    fits_three_sizes(page, "mcs", "impella", folder)
    bad = page.locator("#reading-form")
    bad.locator("input[name=p_level]").evaluate("e => e.removeAttribute('max')")
    bad.locator("input[name=p_level]").fill("12")
    bad.locator("button[type=submit]").click()
    expect(page.locator("#readings")).to_contain_text("P-0 to P-9")
    fits_three_sizes(page, "mcs", "refused", folder)
    version = page.locator("#version-form")
    version.locator("input[name=removal_reason]").fill("LV recovered")
    version.locator("input[name=reason]").fill("removed in the cath lab")
    version.locator("input[name=removed_at]").fill(
        page.locator("#reading-form input[name=at]").input_value()
    )
    version.locator("button[type=submit]").click()
    expect(page.locator("#device")).to_contain_text("removed")
    expect(page.locator("#versions tbody tr")).to_have_count(2)
