"""A simulation session in the browser: the instructor (coordinator) starts it and injects a
fault; the stream is advanced with the test's own clock (ten minutes at 10×); the trainee
(perfusionist) sees the TRAINING run and acknowledges its alert on the ordinary alert page;
the instructor ends the session and reads the debrief, then signs a competency off."""

from __future__ import annotations

import re
from datetime import timedelta

from playwright.sync_api import Page, expect
from sqlalchemy import select

from continuum.db import make_engine, make_sessionmaker, unit_of_work, utcnow
from continuum.training import service
from continuum.training.models import TrainingSession
from tests.e2e.conftest import login


def _advance(url: str, minutes: float) -> None:
    engine = make_engine(url)
    with unit_of_work(make_sessionmaker(engine)) as db:
        row = db.scalar(select(TrainingSession))
        assert row is not None
        service.catch_up(db, row, utcnow() + timedelta(minutes=minutes))
    engine.dispose()


def _logout(page: Page) -> None:
    page.click("button:has-text('Log out')")
    page.wait_for_url("**/login**")


def test_training_session_from_start_to_debrief(page: Page, sqlite_url: str) -> None:
    login(page, "coordinator", then="/training")
    expect(page.locator(".training-banner")).to_contain_text("TRAINING")
    page.fill("input[name=title]", "Access drill")
    page.select_option("select[name=scenario]", "control_vv")
    page.fill("input[name=acceleration]", "10")
    page.check("input[name=trainee_ids][value='1']")
    page.click("button:has-text('Start training session')")
    page.wait_for_url(re.compile(r".*/training/\d+$"))
    expect(page.locator("#status")).to_contain_text("running")
    page.select_option("select[name=scenario]", "access_insufficiency")
    page.click("button:has-text('Inject fault')")
    expect(page.locator("table")).to_contain_text("access insufficiency")
    run_href = page.get_attribute("a:has-text('Run page')", "href")
    assert run_href is not None
    _advance(sqlite_url, 10)  # ten wall minutes at 10×: the drainage alert is raised
    _logout(page)

    login(page, "perfusionist", then=run_href)
    expect(page.locator("#training-banner")).to_contain_text("TRAINING — simulated patient")
    page.goto(f"{run_href}/alerts")
    ack = page.locator("form.ack-form").first
    ack.locator("input[name=comment]").fill("drainage chattering, volume given")
    ack.locator("button:has-text('Acknowledge')").click()
    expect(page.locator("body")).to_contain_text("drainage chattering")
    _logout(page)

    login(page, "coordinator", then="/training")
    page.click("a:has-text('Access drill')")
    page.fill("#end-form input[name=note]", "good call on the drainage pressure")
    page.click("button:has-text('End session and debrief')")
    page.wait_for_url(re.compile(r".*/training/\d+/debrief$"))
    sid = page.url.rsplit("/", 2)[-2]
    score = page.request.get(f"/api/v1/training/{sid}/debrief").json()["scores"][0]
    assert score["recognised_by"] == "Test perfusionist"
    assert 0 <= score["time_to_recognise_s"] < 300
    expect(page.locator("#scores")).to_contain_text("Access insufficiency")
    expect(page.locator("#timeline")).to_contain_text("Fault injected")
    expect(page.locator("#timeline")).to_contain_text("Alert acknowledged")
    expect(page.locator("#timeline")).to_contain_text("Test perfusionist")
    page.click("button:has-text('Sign off')")
    page.goto("/competencies/staff/1")
    expect(page.locator("#history")).to_contain_text("Simulated circuit emergency")
    expect(page.locator("#history")).to_contain_text("session #")
