"""The rounds board in a real browser at a desktop (1280 px), a small laptop or tablet
(1024 px) and a phone (390 px): every patient card is within the page's width (no table cut
off or scrolled sideways), its readings visible; and the decannulation checklist and the
configuration plan print as clean records (print media emulated: no forms, no navigation,
the copy notice shown)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from continuum.core import observation_service
from continuum.core.roles import Actor
from continuum.core.run_record import Run
from continuum.core.schemas import ObservationIn
from continuum.db import make_engine, make_sessionmaker, unit_of_work, utcnow
from tests.e2e.conftest import login

NURSE = Actor(staff_id=3, name="Test nurse", role="nurse", discipline="nursing")


def _values(url: str) -> None:
    engine = make_engine(url)
    with unit_of_work(make_sessionmaker(engine)) as db:
        run = db.get_one(Run, 1)
        run.location = "ICU 3"
        now = utcnow()
        observation_service.record_observations(
            db,
            NURSE,
            run,
            [
                ObservationIn(code="hb", value=6.2, time=now - timedelta(minutes=5)),
                ObservationIn(code="platelets", value=150, time=now - timedelta(hours=30)),
                ObservationIn(code="vent_fio2", value=0.5, time=now - timedelta(minutes=5)),
            ],
        )
    engine.dispose()


def _no_sideways_scroll(page: Page) -> None:
    overflow = page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 1, f"the page scrolls sideways by {overflow} px"
    card = page.locator("#run-1")
    box = card.bounding_box()
    width = page.viewport_size["width"] if page.viewport_size else 0
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width + 1


@pytest.mark.parametrize("width", [1280, 1024, 390])
def test_the_board_fits_the_screen_and_marks_values(
    page: Page, sqlite_url: str, width: int
) -> None:
    _values(sqlite_url)
    page.set_viewport_size({"width": width, "height": 900})
    login(page, "nurse", then="/rounds")
    card = page.locator("#run-1")
    expect(card).to_contain_text("ICU 3")
    expect(card.locator('[data-code="hb"]')).to_have_class("rd st-off")
    expect(card.locator('[data-code="hb"]')).to_contain_text("off goal")
    expect(card.locator('[data-code="platelets"]')).to_contain_text("stale")
    expect(card.locator('[data-code="vent_fio2"]')).to_have_class("rd st-ok")
    expect(card.locator(".ml-age")).to_contain_text(" d")
    _no_sideways_scroll(page)
    for code in ("hb", "platelets", "fluid_balance_24h", "driving_pressure"):
        expect(card.locator(f'[data-code="{code}"]')).to_be_visible()
    page.screenshot(path=f"/tmp/board-{width}.png", full_page=True)


def test_the_decannulation_checklist_prints_as_a_record(page: Page) -> None:
    login(page, "physician", then="/runs/1/decannulation")
    page.fill("input[name=no_trial_reason]", "Family chose palliation after MDT")
    page.fill("input[name=positioning]", "Trendelenburg")
    page.fill("input[name=closure_technique]", "purse-string")
    page.fill("input[name=haemostasis_minutes]", "30")
    page.fill("input[name=limb_perfusion]", "warm, pulses present")
    page.check("input[name=blood_products_available]")
    page.fill("input[name=anticoagulation_note]", "heparin off 1 h before")
    page.click("button:has-text('Save checklist')")
    expect(page.locator("#sign")).to_contain_text("waiting for signatures")
    page.emulate_media(media="print")
    expect(page.locator("#sign")).to_be_visible()
    expect(page.locator("header.top")).to_be_hidden()
    expect(page.locator("button:has-text('Sign as physician')")).to_be_hidden()
    expect(page.locator("text=Print checklist")).to_be_hidden()
    expect(page.locator(".printed")).to_be_visible()
    pdf = page.pdf(format="A4")
    assert pdf[:4] == b"%PDF" and len(pdf) > 1000
    page.emulate_media(media="screen")
    expect(page.locator(".printed")).to_be_hidden()


def test_the_configuration_plan_prints_as_a_record(page: Page) -> None:
    login(page, "perfusionist", then="/referrals/1/print")
    expect(page.locator("h1")).to_contain_text("ECMO initiation plan")
    expect(page.locator("text=Back to the record")).to_be_visible()
    page.emulate_media(media="print")
    expect(page.locator("text=Back to the record")).to_be_hidden()
    expect(page.locator("header.top")).to_be_hidden()
    expect(page.locator("text=Perfusionist's configuration plan")).to_be_visible()
    expect(page.locator(".printed")).to_be_visible()
    assert page.pdf(format="A4")[:4] == b"%PDF"
