"""A secondary transport mission in a real browser: started from the missions list for run 1
(already on ECMO at the referring hospital), its pre-departure checklist refused while a
failed item has no reason and then signed with the reason, a milestone recorded, and run 1's
page flagged "Arrived on ECMO from St Catherine's". Screenshots at 1280, 1024 and 390 px are
kept (CONTINUUM_SCREENSHOTS, else the test's folder); no page scrolls sideways."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

from tests.e2e.conftest import fits_three_sizes, login, screenshot_folder


def test_secondary_mission_with_its_checklist(page: Page, tmp_path: Path) -> None:
    folder = screenshot_folder(tmp_path)
    login(page, "perfusionist", then="/transport")
    fits_three_sizes(page, "transport", "list", folder)
    page.click("a:has-text('Start a mission')")
    page.check("input[name=mission_type][value=secondary]")
    page.select_option("select[name=vehicle]", "rotor")
    page.fill("input[name=run_id]", "1")
    page.fill("input[name=referring_hospital]", "St Catherine's")
    page.fill("input[name=expected_min]", "45")
    fits_three_sizes(page, "transport", "new", folder)
    page.click("button:has-text('Start the mission')")
    expect(page.locator("h1")).to_contain_text("Transport mission")
    expect(page.locator("#arrived-badge")).to_contain_text("Arrived on ECMO from St Catherine's")
    form = page.locator("form.checklist-form")
    form.locator("input[name=cylinder_pressure_bar]").fill("190")
    form.locator("input[name=cylinders]").fill("2")
    form.locator("input[name=sweep_l_min]").fill("5")
    form.locator("input[name=console_battery_min]").fill("120")
    form.locator("input[name=pump_battery_min]").fill("95")
    for row in form.locator(".check-row[data-item]").all():
        row.locator("input[value=pass]").check()
    form.locator(".check-row[data-item=blood_products] input[value=fail]").check()
    form.locator("button:has-text('Sign the checklist')").click()
    expect(page.locator("#form-error")).to_contain_text("Blood products packed")
    expect(page.locator("#form-error")).to_contain_text("give the reason")
    fits_three_sizes(page, "transport", "checklist-refused", folder)
    form = page.locator("form.checklist-form")
    form.locator("input[name=reason_blood_products]").fill("2 units cross-matched there")
    form.locator("button:has-text('Sign the checklist')").click()
    expect(page.locator("#summary")).to_contain_text("signed with failed items")
    expect(page.locator("#checklist-items [data-item=blood_products]")).to_contain_text(
        "2 units cross-matched there"
    )
    # 2 × 10 L × 190 bar = 3,800 L at 5 L/min: 760 min, well over 45 min × 2
    expect(page.locator("#checklist-items [data-item=oxygen]")).to_contain_text("760 min")
    page.locator("form.milestone-form select[name=milestone]").select_option("activation")
    page.locator("form.milestone-form button").click()
    expect(page.locator("#milestones [data-milestone=activation]")).not_to_contain_text("—")
    expect(page.locator("#intervals [data-interval=activation]")).to_be_visible()
    fits_three_sizes(page, "transport", "mission", folder)
    page.emulate_media(media="print")
    page.screenshot(path=str(folder / "transport-mission-print.png"), full_page=True)
    page.emulate_media(media="screen")
    page.goto("/runs/1")
    expect(page.locator("#run-notes")).to_contain_text("Arrived on ECMO from St Catherine's")
