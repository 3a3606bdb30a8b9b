"""Safe documentation defaults in a real browser, each form at a desktop (1280 px), a ward
tablet (1024×768) and a phone (390×844): the circuit check shows the last grade as a hint
and selects nothing; a round refuses to save until every open alert has a disposition; a
plan warning is acknowledged with a reason; an outside patient is referred under a
temporary identifier; candidacy scores share their inputs. Screenshots go to
$CONTINUUM_SHOTS (default /tmp)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from continuum.rounds.schemas import INSPECTION_SITES
from tests.e2e.conftest import login

WIDTHS = [1280, 1024, 390]
HEIGHTS = {1280: 900, 1024: 768, 390: 844}
SHOTS = Path(os.environ.get("CONTINUUM_SHOTS", "/tmp/continuum-shots"))


def _at(page: Page, width: int) -> None:
    page.set_viewport_size({"width": width, "height": HEIGHTS[width]})


def _shot(page: Page, name: str, width: int) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)


def _no_sideways_scroll(page: Page) -> None:
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1, f"the page scrolls sideways by {overflow} px"


@pytest.mark.parametrize("width", WIDTHS)
def test_circuit_check_hints_the_last_grade_and_selects_nothing(page: Page, width: int) -> None:
    _at(page, width)
    login(page, "perfusionist", then="/runs/1/circuit-check")
    expect(page.locator("#check-alerts")).to_contain_text("hemolysis")
    for site in INSPECTION_SITES:
        page.select_option(f"select[name='inspect.{site}']", "none")
    page.select_option("select[name='inspect.ml_inlet']", "large_clot")
    page.select_option("select[name='inspect.bridge']", "not_present")
    page.fill("input[name='reading.pre_oxy_pco2']", "48")
    page.click("button:has-text('Save circuit check')")
    expect(page.locator("#checks")).to_contain_text("Membrane lung inlet: large clot")

    page.goto("/runs/1/circuit-check")
    expect(page.locator("select[name='inspect.ml_inlet']")).to_have_value("")
    hint = page.locator("[data-last-check='ml_inlet']")
    expect(hint).to_contain_text("large clot at membrane lung inlet")
    expect(hint).to_have_text(
        re.compile(r"last check \d\d:\d\d: large clot at membrane lung inlet")
    )
    page.select_option("select[name='inspect.pump_head']", "none")
    page.click("button:has-text('Save circuit check')")
    # the browser refuses the unassessed site (required): nothing is saved
    missing = page.locator("select[name='inspect.ml_inlet']").evaluate(
        "e => e.validity.valueMissing"
    )
    assert missing is True
    expect(page.locator("#checks tbody tr")).to_have_count(1)
    _shot(page, "circuit-check", width)
    _no_sideways_scroll(page)


@pytest.mark.parametrize("width", WIDTHS)
def test_round_needs_a_disposition_for_each_open_alert(page: Page, width: int) -> None:
    _at(page, width)
    login(page, "physician", then="/runs/1/rounds")
    form = page.locator("#round-form")
    form.locator("textarea[name=problems]").fill("pfHb rising")
    form.locator("select[name='alert.0.disposition']").select_option("left_open")
    form.locator("input[name='alert.0.note']").fill("recheck at 14:00")
    page.click("button:has-text('Save round')")
    error = page.locator(".error")
    expect(error).to_contain_text("choose what the round decided about the warning")
    expect(form.locator("select[name='alert.0.disposition']")).to_have_value("left_open")
    expect(page.locator("#round-form textarea[name=problems]")).to_have_value("pfHb rising")
    _shot(page, "round-alerts", width)
    _no_sideways_scroll(page)
    page.locator("#round-form select[name='alert.1.disposition']").select_option("acknowledged")
    page.click("button:has-text('Save round')")
    card = page.locator(".card", has_text="Alerts reviewed").last
    expect(card).to_contain_text("left open: recheck at 14:00")
    expect(card).to_contain_text("alert acknowledged")


@pytest.mark.parametrize("width", WIDTHS)
def test_plan_warning_needs_a_reason_and_dual_lumen_placement_is_checked(
    page: Page, width: int
) -> None:
    _at(page, width)
    login(page, "perfusionist", then="/referrals/1")
    plan = page.locator("#plan-form")
    plan.locator("select[name='c0.role']").select_option("drainage")
    plan.locator("input[name='c0.site']").fill("femoral vein")
    plan.locator("select[name='c0.catalogue_id']").select_option("crescent_24")
    plan.locator("input[name=flow_goal_high]").fill("5")
    page.click("button:has-text('Save configuration plan')")
    expect(page.locator("#plan .error").first).to_contain_text("its role is drainage and return")

    plan = page.locator("#plan-form")
    plan.locator("select[name='c0.role']").select_option("drainage_and_return")
    plan.locator("input[name='c0.site']").fill("internal jugular vein")
    page.click("button:has-text('Save configuration plan')")
    warnings = page.locator("#plan-warnings")
    expect(warnings).to_contain_text("TOO SMALL for the flow")
    expect(warnings).to_contain_text("Not acknowledged")
    for box in page.locator("#plan-form input[name$='.reason']").all():
        box.fill("only size in stock; flow capped at 4 L/min")
    page.click("button:has-text('Save configuration plan')")
    expect(page.locator("#plan-warnings")).not_to_contain_text("Not acknowledged")
    expect(page.locator("#plan-warnings")).to_contain_text("Acknowledged: only size in stock")
    _shot(page, "plan-warnings", width)
    _no_sideways_scroll(page)


@pytest.mark.parametrize("width", WIDTHS)
def test_outside_patient_referred_under_a_temporary_identifier(page: Page, width: int) -> None:
    _at(page, width)
    login(page, "coordinator", then="/referrals/new")
    page.click("summary:has-text('or a new patient')")
    page.fill("input[name=new_name]", "Outside Person")
    page.check("input[name=new_outside]")
    page.fill("input[name=referring_hospital]", "Island Hospital")
    page.fill("input[name=referring_clinician]", "Dr Remote")
    page.fill("textarea[name=clinical_picture]", "ARDS, no local record yet")
    page.click("button:has-text('Record referral')")
    expect(page.locator("#temporary-mrn")).to_contain_text("temporary identifier")
    _shot(page, "temporary-mrn", width)
    _no_sideways_scroll(page)
    page.fill("#mrn-form input[name=mrn]", "MRN-4711")
    page.fill("#mrn-form input[name=reason]", "registered on arrival in ED")
    page.click("button:has-text('Replace the temporary identifier')")
    expect(page.locator("h1")).to_contain_text("MRN-4711")
    expect(page.locator("#amendments")).to_contain_text("Temporary identifier replaced")


@pytest.mark.parametrize("width", WIDTHS)
def test_candidacy_scores_share_inputs_and_read_only_roles_see_values(
    page: Page, width: int
) -> None:
    _at(page, width)
    login(page, "coordinator", then="/referrals/1")
    murray = page.locator("#score-murray")
    murray.locator("input[name='murray.peep_cmh2o']").fill("14")
    page.click("button:has-text('Save candidacy')")
    preserve = page.locator("#score-preserve")
    expect(preserve.locator("[data-shared='preserve.peep_cmh2o']")).to_contain_text(
        "uses 14 from Murray"
    )
    expect(page.locator("#other-scores")).to_contain_text("SAVE")
    _shot(page, "candidacy-scores", width)
    _no_sideways_scroll(page)
    page.context.clear_cookies()
    login(page, "qa_lead")  # reads referrals, may not change them (researchers may not open them)
    page.goto("/referrals/1")
    expect(page.locator("#candidacy-readonly")).to_contain_text("Read-only for your role")
    expect(page.locator("#score-murray input")).to_have_count(0)
    expect(page.locator("[data-readonly='murray']")).to_contain_text("14")
