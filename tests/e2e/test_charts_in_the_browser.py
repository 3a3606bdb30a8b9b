"""The run page's and an alert page's charts in a real browser at 1280, 1024 and 390 px:
clinical labels with units, the run's events as markers, values behind a table toggle, no
chart wider than the screen, and no chart script at all (drawn on the server)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from playwright.sync_api import Page, expect

from continuum.core import observation_service, run_service
from continuum.core.roles import Actor
from continuum.core.run_record import Run
from continuum.core.schemas import ComponentCreate
from continuum.db import make_engine, make_sessionmaker, unit_of_work
from tests.e2e.conftest import login

WIDTHS = (1280, 1024, 390)
ACTOR = Actor(staff_id=None, name="test", role="physician")


@pytest.fixture
def console_data(sqlite_url: str) -> None:
    """Eight hours of one-minute console values on run 1 and its membrane lung replaced
    three hours ago (a component marker on the chart)."""
    end = datetime.now(UTC).replace(second=0, microsecond=0)
    n = 8 * 60
    t0 = np.datetime64((end - timedelta(hours=8)).replace(tzinfo=None), "ms")
    times = t0 + np.arange(n) * np.timedelta64(60_000, "ms")
    engine = make_engine(sqlite_url)
    with unit_of_work(make_sessionmaker(engine)) as db:
        run = db.get_one(Run, 1)
        lung = next(c for c in run.components if c.kind == "membrane_lung")
        replacement = ComponentCreate(
            kind="membrane_lung",
            started_at=end - timedelta(hours=3),
            replaces_id=lung.id,
            stop_reason="rising_transmembrane_gradient",
        )
        run_service.add_component(db, ACTOR, run, replacement)
        rows = []
        for code, value in (("blood_flow", 4.4), ("p_preoxy", 250.0), ("p_postoxy", 228.0)):
            values = value + np.sin(np.arange(n) / 9.0)
            rows += observation_service.series_rows(1, code, times, values, "console")
        observation_service.bulk_insert(db, rows)
    engine.dispose()


def test_run_page_chart_labels_markers_and_widths(page: Page, console_data: None) -> None:
    scripts: list[str] = []
    page.on("request", lambda r: scripts.append(r.url) if r.resource_type == "script" else None)
    login(page, "perfusionist")
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.goto("/runs/1")
        chart = page.locator("#trend")
        flow = chart.locator('[data-signal="blood_flow"] .tchart-head')
        expect(flow).to_contain_text("ECMO blood flow")
        expect(flow).to_contain_text("(L/min)")
        lung = chart.locator('[data-signal="dp_per_flow"] .tchart-head')
        expect(lung).to_contain_text("ΔP per L/min")
        expect(lung).to_contain_text("(mmHg per L/min)")
        expect(chart.locator('[data-signal="blood_flow"] .tchart-y span').first).to_be_visible()
        expect(chart.locator(".tchart-x span").first).to_be_visible()
        expect(chart.locator(".tchart-mark.mk-component").first).to_be_visible()
        assert chart.locator("path.tc-mark.mk-component").count() >= 1
        box = chart.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width
        assert chart.evaluate("e => e.scrollWidth <= e.clientWidth")
    hover = chart.locator('[data-signal="blood_flow"] rect.tc-hover title').last
    expect(hover).to_contain_text("L/min")  # pointing at a period shows its values
    assert not any("plotly" in u for u in scripts), scripts
    chart.locator("summary").click()
    expect(chart.locator(".tchart-table th", has_text="ECMO blood flow (L/min)")).to_be_visible()


def test_alert_page_chart_marks_the_alert_and_shows_results_as_dots(page: Page) -> None:
    login(page, "nurse")
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.goto("/runs/1/alerts")
        chart = page.locator("#alert-1 .tchart")
        expect(chart.locator(".tchart-head").first).to_contain_text("Plasma free haemoglobin")
        expect(chart.locator(".tchart-head").first).to_contain_text("(mg/dL)")
        expect(chart.locator(".tchart-mark.mk-alert").first).to_be_visible()
        dot = chart.locator("path.tc-dot").first
        expect(dot.locator("title")).to_contain_text("mg/dL")
        box = chart.bounding_box()
        assert box is not None and box["x"] + box["width"] <= width
    assert "plotly" not in page.content()


def test_run_page_tables_scroll_inside_their_card_on_a_phone(page: Page) -> None:
    """At 390 px the latest values and components tables scroll within their card; the page
    itself never scrolls sideways."""
    login(page, "nurse")
    page.set_viewport_size({"width": 390, "height": 900})
    page.goto("/runs/1")
    expect(page.locator("#latest table").first).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    for card in ("#latest", "#circuit"):
        box = page.locator(card).bounding_box()
        assert box is not None and box["x"] + box["width"] <= 390, card
        # the card itself never scrolls: a wide table scrolls in its own wrapper
        assert page.locator(card).evaluate("e => e.scrollWidth <= e.clientWidth"), card
        assert page.locator(f"{card} table").first.evaluate(
            "t => t.parentElement.classList.contains('table-scroll')"
        ), card
    # the latest values fit without scrolling: the time and source wrap under each other
    latest = page.locator("#latest .table-scroll").first
    assert latest.evaluate("e => e.scrollWidth <= e.clientWidth")
