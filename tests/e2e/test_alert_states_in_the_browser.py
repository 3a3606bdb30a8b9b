"""A clinician at 3 a.m., on a ward PC, a laptop or a phone: the run page, the alert list and
the rounds board say in words which alert is active and which cleared and awaits review, and
the words stay on screen at 1280, 1024 and 390 px (screenshots in the test's tmp dir)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from continuum.alerts import lifecycle
from continuum.alerts.models import CircuitAlert
from continuum.core.run_record import Run
from continuum.db import make_engine, make_sessionmaker, unit_of_work
from tests.e2e.conftest import login
from tests.seed import RUN_START


def _clear_haemolysis(url: str) -> None:
    """Seeded alert 1 (haemolysis) cleared by the data; alert 2 (anticoagulation) present."""
    engine = make_engine(url)
    with unit_of_work(make_sessionmaker(engine)) as db:
        alert = db.get_one(CircuitAlert, 1)
        run = db.get_one(Run, alert.run_id)
        lifecycle.clear_alert(db, run, alert, RUN_START + timedelta(hours=3), "back to normal")
    engine.dispose()


def _on_screen(page: Page, selector: str, width: int) -> None:
    badge = page.locator(selector).first
    expect(badge).to_be_visible()
    box = badge.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width + 1, box


@pytest.mark.parametrize("width", [1280, 1024, 390])
def test_state_words_on_run_page_alert_list_and_board(
    page: Page, sqlite_url: str, tmp_path: Path, width: int
) -> None:
    _clear_haemolysis(sqlite_url)
    page.set_viewport_size({"width": width, "height": 900})
    login(page, "nurse")

    page.goto("/runs/1")
    card = page.locator("#alerts")
    expect(card).to_contain_text("Alerts not yet resolved")
    expect(card.locator('li[data-state="cleared"]')).to_contain_text("cleared — awaiting review")
    expect(card.locator('li[data-state="active"]')).to_contain_text("active")
    expect(card.locator("#alert-states")).to_contain_text("1 cleared — awaiting review")
    _on_screen(page, '#alerts li[data-state="cleared"] .badge.state-cleared', width)
    page.screenshot(path=str(tmp_path / f"run_{width}.png"), full_page=True)

    page.goto("/alerts")
    rows = page.locator("#alert-list")
    expect(rows.locator('tr[data-state="cleared"] .badge.state-cleared')).to_have_text(
        "cleared — awaiting review"
    )
    expect(rows.locator('tr[data-state="active"] .badge.state-active')).to_have_text("active")
    _on_screen(page, "#alert-states .badge", width)
    _on_screen(page, 'tr[data-state="cleared"] .badge.state-cleared', width)
    page.screenshot(path=str(tmp_path / f"alerts_{width}.png"), full_page=True)

    page.goto("/rounds")
    cell = page.locator("#run-1 [data-alert-states]")
    expect(cell).to_contain_text("1 warning · active")
    expect(cell).to_contain_text("1 cleared — awaiting review")
    _on_screen(page, "#run-1 [data-alert-states] .badge.state-cleared", width)
    page.screenshot(path=str(tmp_path / f"board_{width}.png"), full_page=True)
