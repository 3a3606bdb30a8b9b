"""An ambulation session recorded in a real browser: the run page's "Ambulation" link →
"Record a session" → the safety check answered (one item failed, refused until a reason is
given), staff ticked, ICU Mobility Scale level chosen, a flow drop noted → the session page
shows the level, the event and the circuit values taken from the stored observations
("not recorded" where none) → the run page's summary names the highest level. Screenshots
at 1280, 1024 and 390 px are kept (CONTINUUM_SCREENSHOTS, else the test's folder) and no
page scrolls sideways."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from playwright.sync_api import Page, expect

from continuum.core import observation_service
from continuum.core.roles import Actor
from continuum.core.run_record import Run
from continuum.core.schemas import ObservationIn
from continuum.db import make_engine, make_sessionmaker, unit_of_work, utcnow
from tests.e2e.conftest import fits_three_sizes, login, screenshot_folder

NURSE = Actor(staff_id=3, name="Test nurse", role="nurse")


def _flow_around_now(url: str) -> None:
    """Blood flow and SpO2 every 5 min over the last 90 min on run 1."""
    engine = make_engine(url)
    with unit_of_work(make_sessionmaker(engine)) as db:
        now = utcnow().replace(second=0, microsecond=0)
        items = [
            ObservationIn(code=code, value=value - (0.6 if code == "blood_flow" and 20 <= m <= 30
                                                    else 0), time=now - timedelta(minutes=m))
            for m in range(0, 90, 5)
            for code, value in (("blood_flow", 4.0), ("spo2", 93.0))
        ]  # fmt: skip
        observation_service.record_observations(db, NURSE, db.get_one(Run, 1), items)
    engine.dispose()


def test_record_an_ambulation_session(page: Page, sqlite_url: str, tmp_path: Path) -> None:
    _flow_around_now(sqlite_url)
    folder = screenshot_folder(tmp_path)
    login(page, "nurse", then="/runs/1")
    page.click("nav.runlinks a:has-text('Ambulation')")
    page.wait_for_url("**/runs/1/ambulation")
    page.click("#record-session")
    page.wait_for_url("**/runs/1/ambulation/new")
    start = datetime.fromisoformat(page.input_value("input[name=started_at]"))
    for item in ("flow_stable", "cannula_secured", "tubing_slack", "roles_assigned",
                 "stop_criteria"):  # fmt: skip
        page.check(f"input[name=safety_{item}][value=pass]")
    page.check("input[name=safety_clamps_at_hand][value=fail]")
    page.check("#staff input[value='1']")  # the perfusionist
    page.check("input[name=ims_level][value='7']")
    page.select_option("select[name=event_kind_1]", "flow_drop")
    page.fill("input[name=event_at_1]", (start + timedelta(minutes=20)).strftime("%H:%M"))
    page.fill("input[name=event_note_1]", "flow 4.0 to 3.4 L/min on standing, recovered sitting")
    fits_three_sizes(page, "ambulation", "form", folder)
    page.click("button:has-text('Record the session')")
    expect(page.locator("#error-summary")).to_contain_text("Clamps at hand")
    expect(page.locator("select[name=event_kind_1]")).to_have_value("flow_drop")
    page.fill("textarea[name=safety_reason]", "second clamp pair fetched before standing")
    page.click("button:has-text('Record the session')")
    page.wait_for_url("**/ambulation/*")
    expect(page.locator("#session")).to_contain_text("Walking with the help of 2 or more people")
    expect(page.locator("#staff-present")).to_contain_text("Test perfusionist")
    expect(page.locator("#staff-present")).to_contain_text("Test nurse")
    expect(page.locator("#session-events")).to_contain_text("Flow drop")
    flow = page.locator("#circuit-values tr[data-code=blood_flow]")
    expect(flow).to_contain_text("3.4")  # the lowest during the session
    expect(page.locator("#circuit-values tr[data-code=pump_speed]")).to_contain_text("not recorded")
    expect(page.locator("#safety-check tr[data-item=clamps_at_hand]")).to_contain_text("fail")
    fits_three_sizes(page, "ambulation", "session", folder)
    page.click("a:has-text('Printable')")
    expect(page.locator("h1")).to_contain_text("Ambulation / physiotherapy session")
    fits_three_sizes(page, "ambulation", "print", folder)
    page.goto("/runs/1/ambulation")
    expect(page.locator("#highest")).to_contain_text("IMS 7")
    fits_three_sizes(page, "ambulation", "run-sessions", folder)
    page.goto("/runs/1")
    expect(page.locator("dd[data-summary=Mobility]")).to_contain_text(
        "highest ICU Mobility Scale 7"
    )
