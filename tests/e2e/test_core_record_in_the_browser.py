"""A clinician in a real browser: log in, create a patient and a run, record an
observation, amend it, and see both on the run page."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.e2e.conftest import login


def test_patient_run_observation_amendment(page: Page) -> None:
    login(page, "perfusionist")
    page.click("text=Patients")
    page.click("text=New patient")
    page.fill("input[name=mrn]", "MRN-E2E-1")
    page.fill("input[name=name]", "Brow Ser")
    page.fill("input[name=birth_date]", "1984-06-01")
    page.select_option("select[name=sex]", "male")
    page.fill("input[name=height_cm]", "181")
    page.fill("input[name=weight_kg]", "83")
    page.click("button:has-text('Create patient')")

    expect(page).to_have_url(re.compile(r"/runs/new\?patient_id=\d+"))
    page.select_option("select[name=support_type]", "pulmonary")
    page.select_option("select[name=mode]", "VV")
    page.fill("input[name=location]", "ICU bed 7")
    page.click("button:has-text('Start run')")
    expect(page.locator("h1")).to_contain_text("Brow Ser")
    expect(page.locator("#summary")).to_contain_text("VV")

    form = page.locator("#observation-form")
    form.locator("select[name=code]").select_option("blood_flow")
    form.locator("input[name=value]").fill("4.6")
    form.locator("button").click()
    expect(page.locator("#manual")).to_contain_text("4.6 L/min")

    page.click("#manual >> text=Amend")
    page.fill("input[name=value]", "4.2")
    page.fill("input[name=reason]", "console read wrongly at handover")
    page.click("button:has-text('Save amendment')")

    manual = page.locator("#manual")
    expect(manual).to_contain_text("4.6 L/min")
    expect(manual).to_contain_text("superseded")
    expect(manual).to_contain_text("4.2 L/min")
    expect(manual).to_contain_text("console read wrongly at handover")
    expect(page.locator("#latest")).to_contain_text("4.2")


def test_bad_value_is_explained_in_the_browser(page: Page) -> None:
    login(page, "nurse", then="/runs/1")
    form = page.locator("#observation-form")
    form.locator("select[name=code]").select_option("blood_flow")
    form.locator("input[name=value]").fill("55")
    form.locator("button").click()
    expect(page.locator(".error")).to_contain_text("ECMO blood flow 55 L/min is outside 0–10 L/min")


def test_researcher_sees_pseudonyms_in_the_browser(page: Page) -> None:
    login(page, "researcher")
    expect(page.locator("#runs")).to_contain_text("P-0001")
    expect(page.locator("#runs")).not_to_contain_text("Zelda")
    page.goto("/runs/1")
    expect(page.locator("h1")).to_contain_text("P-0001")
