"""Rounds in a real browser: open the board, do a circuit check, record yesterday's round
with goals and an action, and see that open action carried onto the next day's board."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from playwright.sync_api import Page, expect

from continuum.rounds.schemas import INSPECTION_SITES
from tests.e2e.conftest import login


def test_board_circuit_check_round_and_carried_action(page: Page) -> None:
    yesterday = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()
    login(page, "perfusionist")
    page.click("text=Rounds board")
    expect(page.locator("h1")).to_contain_text("Rounds board")
    expect(page.locator("#run-1")).to_contain_text("No round recorded yet")

    page.click("#run-1 >> text=Circuit check")
    for site in INSPECTION_SITES:
        page.select_option(f"select[name='inspect.{site}']", "none")
    page.select_option("select[name='inspect.ml_inlet']", "fibrin")
    page.fill("textarea[name=findings]", "Fibrin strands at the membrane-lung inlet")
    page.fill("input[name='action.0.text']", "Re-inspect ML inlet")
    page.select_option("select[name='action.0.owner_discipline']", "perfusion")
    page.fill("input[name='action.0.due_at']", "2030-01-01T08:00")
    page.click("button:has-text('Save circuit check')")
    expect(page.locator("#checks")).to_contain_text("Membrane lung inlet: fibrin")

    page.goto("/runs/1/rounds")
    form = page.locator("#round-form")
    form.locator("input[name=round_date]").fill(yesterday)
    form.locator("label:has-text('Test perfusionist') input").check()
    form.locator("label:has-text('Test physician (') input").check()
    form.locator("input[name='goal.blood_flow.low']").fill("4")
    form.locator("input[name='goal.blood_flow.high']").fill("5")
    form.locator("input[name='goal.anti_xa.low']").fill("0.3")
    form.locator("input[name='goal.anti_xa.high']").fill("0.5")
    form.locator("input[name='action.0.text']").fill("Echo to assess LV")
    form.locator("select[name='action.0.owner_discipline']").select_option("cardiology")
    form.locator("input[name='action.0.due_at']").fill(f"{yesterday}T18:00")
    for box in form.locator("select[name$='.disposition']").all():  # every open alert
        box.select_option("left_open")
    page.click("button:has-text('Save round')")
    card = page.locator(".card", has_text=yesterday).last
    expect(card).to_contain_text("Perfusion present")
    expect(card).to_contain_text("Flow 4–5 L/min")
    page.click("button:has-text('Sign round')")
    expect(page.locator(".card", has_text=yesterday).last).to_contain_text("signed")

    page.click("text=Rounds board")  # today is the day after the round
    row = page.locator("#run-1")
    expect(row).to_contain_text("1 overdue")
    expect(row).to_contain_text("Echo to assess LV")
    expect(row).to_contain_text(f"Goals of {yesterday}")
    page.evaluate("window.roundsBoardRefresh()")
    expect(page.locator("#run-1")).to_contain_text("Echo to assess LV")


def test_action_without_owner_is_explained(page: Page) -> None:
    login(page, "nurse", then="/runs/1/rounds")
    form = page.locator("#round-form")
    form.locator("input[name='goal.blood_flow.high']").fill("55")
    form.locator("input[name='action.0.text']").fill("Call the surgeon")
    page.click("button:has-text('Save round')")
    error = page.locator(".error")
    expect(error).to_contain_text("55 L/min is outside 0–10 L/min")
    expect(error).to_contain_text("an action needs an owner discipline")
    expect(page.locator("#round-form input[name='action.0.text']")).to_have_value(
        "Call the surgeon"
    )
