"""The one settings page in a real browser, wide (1280 px) and phone-narrow (390 px): a
quality lead changes a surveillance threshold, a bad value is named at its field with the
typed text kept, and the page does not scroll sideways on a phone.
Set CONTINUUM_SCREENSHOTS=<folder> to keep the screenshots."""

from __future__ import annotations

import os
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.e2e.conftest import login


def shot(page: Page, name: str) -> None:
    folder = os.environ.get("CONTINUUM_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"))


def test_settings_page_wide_and_narrow(page: Page) -> None:
    login(page, "qa_lead")
    page.click("header nav >> text=Settings")
    expect(page.locator("h1")).to_have_text("Programme settings")
    shot(page, "settings-index-1280")
    page.click("a:has-text('Circuit-surveillance thresholds')")
    shot(page, "settings-top-1280")
    row = page.locator("#s-pfhb_warning")
    expect(row).to_contain_text("50 mg/dL")
    expect(row.locator(".prov")).to_have_text("P")
    page.fill("#f-pfhb_warning", "40")
    page.fill("#f-pfhb_critical", "2000")
    page.fill("input[name=note]", "QA committee")
    page.click("button:has-text('Save circuit-surveillance thresholds')")
    expect(page.locator("#e-pfhb_critical")).to_contain_text("outside the allowed 0–1000 mg/dL")
    expect(page.locator("#f-pfhb_critical")).to_have_value("2000")
    expect(page.locator("#f-pfhb_warning")).to_have_value("40")
    page.locator("#s-pfhb_critical").scroll_into_view_if_needed()
    shot(page, "settings-error-1280")
    page.fill("#f-pfhb_critical", "")
    page.click("button:has-text('Save circuit-surveillance thresholds')")
    expect(page.locator(".notice[role=status]")).to_contain_text("1 value changed")
    expect(page.locator("#s-pfhb_warning")).to_contain_text("40 mg/dL")
    shot(page, "settings-saved-1280")

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/settings/initiation")
    page.fill("#f-ecpr_max_age_years", "250")
    page.click("button:has-text('Save ECPR cut-offs')")
    expect(page.locator("#e-ecpr_max_age_years")).to_contain_text("18–100 years")
    wide = page.evaluate("document.documentElement.scrollWidth")
    assert wide <= 390, f"the page scrolls sideways on a phone ({wide} px)"
    shot(page, "settings-error-390")
    page.locator("#s-ecpr_max_age_years").scroll_into_view_if_needed()
    shot(page, "settings-error-field-390")
    page.goto("/settings/surveillance")
    shot(page, "settings-surveillance-390")
