"""At a desktop (1280×900), on a ward tablet (1024×768) and a phone (390×844): the menu
fits (no three-row header), folds into a Menu button on the phone and opens without script,
error pages keep it, a refused form says so at the top with links that lead to the field,
and a researcher starts on the runs list, kept off the live board."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.seed import password_for

SHOTS = os.environ.get("CONTINUUM_SCREENSHOTS")  # a folder: keep the screenshots to look at
DESKTOP = {"width": 1280, "height": 900}
TABLET = {"width": 1024, "height": 768}
PHONE = {"width": 390, "height": 844}


def _shot(page: Page, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=False)


def _log_in(page: Page, username: str) -> None:
    page.goto("/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password_for(username))
    page.click("button:has-text('Log in')")
    page.wait_for_load_state()


def _no_sideways_scroll(page: Page) -> None:
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1, f"the page scrolls sideways by {overflow} px"


@pytest.mark.parametrize("size", [DESKTOP, TABLET, PHONE], ids=["desktop", "tablet", "phone"])
def test_header_fits_and_opens(page: Page, size: dict[str, int]) -> None:
    page.set_viewport_size(size)
    _log_in(page, "physician_lead")
    expect(page).to_have_url(re.compile(r"/rounds$"))  # the clinician's board
    header = page.locator("header.top")
    logout = page.locator("header.top button:has-text('Log out')")
    if size is not PHONE:
        height = header.bounding_box()["height"]  # type: ignore[index]
        assert height < 100, f"the header takes {height:.0f} px: more than two rows"
        expect(page.locator("header.top nav >> text=Runs")).to_be_visible()
        expect(logout).to_be_visible()
    else:
        menu = page.locator("label.menu-button")
        expect(menu).to_be_visible()
        expect(page.locator("header.top nav")).to_be_hidden()
        assert header.bounding_box()["height"] < 70  # type: ignore[index]
        _shot(page, "phone-menu-closed")
        menu.click()
        expect(page.locator("header.top nav >> text=Runs")).to_be_visible()
        expect(logout).to_be_visible()
    _no_sideways_scroll(page)
    _shot(page, f"board-{size['width']}")
    page.locator("header.top nav >> text=Runs").click()
    expect(page).to_have_url(re.compile(r"/runs$"))
    _no_sideways_scroll(page)


@pytest.mark.parametrize("size", [DESKTOP, TABLET, PHONE], ids=["desktop", "tablet", "phone"])
def test_error_page_keeps_the_menu_and_log_out(page: Page, size: dict[str, int]) -> None:
    page.set_viewport_size(size)
    _log_in(page, "admin")
    expect(page).to_have_url(re.compile(r"/admin/users$"))
    response = page.goto("/runs/1")
    assert response is not None and response.status == 403
    expect(page.locator("h1")).to_contain_text("Not allowed")
    _shot(page, f"forbidden-{size['width']}")
    if size is PHONE:
        page.locator("label.menu-button").click()
    page.locator("header.top button:has-text('Log out')").click()
    expect(page).to_have_url(re.compile(r"/login"))


@pytest.mark.parametrize("size", [DESKTOP, TABLET, PHONE], ids=["desktop", "tablet", "phone"])
def test_form_error_at_the_top_leads_to_the_field(page: Page, size: dict[str, int]) -> None:
    page.set_viewport_size(size)
    _log_in(page, "perfusionist")
    page.goto("/runs/1")
    form = page.locator("#observation-form")
    form.locator("select[name=code]").select_option("blood_flow")
    form.locator("input[name=value]").fill("55")
    form.locator("button").click()
    summary = page.locator("#error-summary")
    expect(summary).to_contain_text("ECMO blood flow")
    expect(summary).to_contain_text("outside 0–10 L/min")
    box = summary.bounding_box()
    assert box is not None and box["y"] < size["height"], "the summary is below the fold"
    _shot(page, f"form-error-{size['width']}")
    summary.locator("a").first.click()
    focused = page.evaluate("document.activeElement && document.activeElement.name")
    assert focused == "value", focused
    field = page.locator("#observation-form input[name=value]")
    expect(field).to_be_in_viewport()
    _no_sideways_scroll(page)


@pytest.mark.parametrize("size", [DESKTOP, TABLET, PHONE], ids=["desktop", "tablet", "phone"])
def test_a_researcher_starts_on_runs_and_is_kept_off_the_live_board(
    page: Page, size: dict[str, int]
) -> None:
    page.set_viewport_size(size)
    _log_in(page, "researcher")
    expect(page).to_have_url(re.compile(r"/runs$"))  # their own start page, de-identified
    assert page.locator("header.top a[href='/rounds']").count() == 0  # no board in the menu
    assert page.locator("header.top a[href='/referrals']").count() == 0  # nor referrals
    response = page.goto("/rounds")
    assert response is not None and response.status == 403
    expect(page.locator("h1")).to_contain_text("Not allowed")
    if size is PHONE:
        page.locator("label.menu-button").click()
    expect(page.locator("header.top button:has-text('Log out')")).to_be_visible()
    _no_sideways_scroll(page)
    _shot(page, f"researcher-board-{size['width']}")
