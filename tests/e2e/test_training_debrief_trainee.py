"""A trainee opens the debrief of an air-in-the-circuit drill on a phone (390 px): read-only,
no sign-off, nothing wider than the screen; a nurse not named in the session is refused."""

from __future__ import annotations

import os
from datetime import timedelta

from playwright.sync_api import Page, expect
from sqlalchemy import select

from continuum.core.roles import Actor
from continuum.db import make_engine, make_sessionmaker, unit_of_work, utcnow
from continuum.training import service
from continuum.training.models import TrainingSession
from continuum.training.schemas import SessionIn
from tests.e2e.conftest import login

COORD = Actor(staff_id=4, name="Test coordinator", role="coordinator")
SHOTS = os.environ.get("CONTINUUM_SCREENSHOTS")


def _drill(url: str) -> int:
    engine = make_engine(url)
    now = utcnow()
    with unit_of_work(make_sessionmaker(engine)) as db:
        data = SessionIn(title="Air drill", scenario="control_vv", acceleration=10,
                         trainee_ids=[1])  # fmt: skip
        row = service.start(db, COORD, data, now - timedelta(minutes=30))
        service.inject(db, COORD, row.id, "air_entrainment", now - timedelta(minutes=29))
        service.catch_up(db, row, now)
        service.end(db, COORD, row.id, "Clamp first, then find the open line.", now)
        sid = row.id
    with unit_of_work(make_sessionmaker(engine)) as db:
        assert db.scalar(select(TrainingSession.status)) == "ended"
    engine.dispose()
    return sid


def test_trainee_reads_the_debrief_on_a_phone(page: Page, sqlite_url: str) -> None:
    sid = _drill(sqlite_url)
    page.set_viewport_size({"width": 390, "height": 844})
    login(page, "perfusionist", then=f"/training/{sid}/debrief")
    expect(page.locator("#readonly-note")).to_contain_text("Read-only")
    expect(page.locator("#scores")).to_contain_text("Air entrainment")
    expect(page.locator("#scores")).to_contain_text("de-air")
    expect(page.locator("#timeline")).to_contain_text("Fault injected: air entrainment")
    assert page.locator("#signoff-form").count() == 0
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, width
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/debrief-trainee-390.png", full_page=True)
    page.context.clear_cookies()  # (the phone header folds Log out into its menu)
    login(page, "nurse")
    r = page.goto(f"/training/{sid}/debrief")
    assert r is not None and r.status == 403
