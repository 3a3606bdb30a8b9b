"""The participation map in a real browser with six months of history: the two panels side
by side at 1280 and 1024 px and stacked at 390 px, no sideways scroll of the page, a step of
the drawn pathway opening its records (those without perfusion first, each linked to its
record). Screenshots are kept in the test's temporary folder (and in CONTINUUM_SCREENSHOTS
if set) for a person to look at."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from continuum.db import make_engine, make_sessionmaker, unit_of_work, utcnow
from continuum.quality import demo_history
from tests.e2e.conftest import login
from tests.quality.metrics_cohort import staff


def _history(url: str) -> None:
    engine = make_engine(url)
    with unit_of_work(make_sessionmaker(engine)) as db:
        people = staff(db)
        for spec in demo_history.cohort(utcnow()):
            demo_history.insert_run(db, spec, people)
    engine.dispose()


def _shots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("CONTINUUM_SCREENSHOTS", tmp_path))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.mark.parametrize("width", [1280, 1024, 390])
def test_the_map_draws_current_beside_target_and_fits_each_screen(
    page: Page, sqlite_url: str, tmp_path: Path, width: int
) -> None:
    _history(sqlite_url)
    page.set_viewport_size({"width": width, "height": 900})
    login(page, "coordinator", then="/quality/participation")
    current, target = page.locator("#current svg.pathway"), page.locator("#target svg.pathway")
    expect(current).to_be_visible()
    expect(target).to_be_visible()
    overflow = page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 1, f"the page scrolls sideways by {overflow} px at {width} px"
    a, b = current.bounding_box(), target.bounding_box()
    assert a is not None and b is not None
    if width >= 1024:
        assert b["x"] > a["x"] + a["width"] - 1 and abs(b["y"] - a["y"]) < 40  # side by side
    else:
        assert b["y"] > a["y"] + a["height"] - 1  # stacked
        assert a["x"] >= 0 and a["x"] + a["width"] <= width + 1
    rounds = page.locator("#current [data-step='rounds'] text").nth(1)
    assert " of " in (rounds.text_content() or "")
    transport = page.locator("#current [data-step='transport'] text").nth(1)
    assert transport.text_content() == "no records"
    page.screenshot(path=str(_shots(tmp_path) / f"participation-{width}.png"), full_page=True)


def test_a_step_in_the_drawing_opens_its_records_without_perfusion_first(
    page: Page, sqlite_url: str
) -> None:
    _history(sqlite_url)
    login(page, "qa_lead", then="/quality/participation")
    page.locator("#current a[data-step='rounds']").click()
    expect(page.locator("h1")).to_have_text("Daily rounds and circuit checks")
    first = page.locator("#records tbody tr").first
    expect(first).to_have_attribute("data-with", "no")
    expect(first.locator("td").nth(2)).to_have_text("none")
    link = first.locator("a").first
    href = link.get_attribute("href") or ""
    assert href.startswith("/runs/") and href.endswith("/rounds")
    link.click()
    page.wait_for_url(f"**{href}")
