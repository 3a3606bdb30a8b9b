"""A planned exchange end to end in a real browser: a failing membrane lung gives a
forecast on the run page → "Plan an exchange" (the open ΔP alert is linked) → the checklist
ticked and the exchange marked done with the lung replaced → the alert is resolved with a
link to the exchange → the metrics page counts one planned exchange. Screenshots at 1280,
1024 and 390 px are kept (CONTINUUM_SCREENSHOTS, else the test's folder)."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect
from sqlalchemy import select

from continuum.alerts.models import CircuitAlert
from continuum.core import run_service
from continuum.core.run_record import Run
from continuum.core.schemas import ComponentCreate
from continuum.db import make_engine, make_sessionmaker, unit_of_work
from tests.alerts.conftest import PHYSICIAN, new_run
from tests.alerts.test_exchange_forecasts import store_failing_lung
from tests.e2e.conftest import fits_three_sizes, login, screenshot_folder
from tests.seed import RUN_START


def _failing_run(url: str) -> tuple[int, list[int]]:
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    run_id = new_run(sessions)
    with unit_of_work(sessions) as db:
        run_service.add_component(
            db, PHYSICIAN, db.get_one(Run, run_id),
            ComponentCreate(kind="membrane_lung", model="HLS 7.0", started_at=RUN_START),
        )  # fmt: skip
    store_failing_lung(sessions, run_id, 42)
    with sessions() as db:
        alerts = db.scalars(
            select(CircuitAlert.id).where(
                CircuitAlert.run_id == run_id,
                CircuitAlert.detector.in_(
                    ("transmembrane_gradient_rise", "oxygenator_dysfunction")
                ),
                CircuitAlert.status != "resolved",
            )
        ).all()
    engine.dispose()
    assert alerts, "the failing lung raised no membrane-lung alert"
    return run_id, list(alerts)


def test_forecast_to_planned_exchange_to_metrics(
    page: Page, sqlite_url: str, tmp_path: Path
) -> None:
    run_id, alert_ids = _failing_run(sqlite_url)
    folder = screenshot_folder(tmp_path)
    login(page, "perfusionist", then=f"/runs/{run_id}")
    card = page.locator("#forecasts")
    expect(card).to_contain_text("ML exchange criterion likely in")
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        card.screenshot(path=str(folder / f"exchange-forecast-card-{width}.png"))
    page.set_viewport_size({"width": 1280, "height": 900})
    card.locator("a.plan-exchange").first.click()
    expect(page.locator("h1")).to_contain_text("Plan an exchange")
    linked = page.locator("select[name=alert_id]")
    alert_id = int(linked.input_value())  # the newest open membrane-lung alert, offered
    assert alert_id in alert_ids
    page.check("input[name=equipment_ready]")
    page.fill("input[name=blood_products]", "2 units red cells cross-matched")
    fits_three_sizes(page, "exchange", "plan", folder)
    page.click("button:has-text('Plan the exchange')")
    expect(page.locator("#plan [data-status]")).to_have_text("Planned")
    fits_three_sizes(page, "exchange", "planned", folder)
    done = page.locator("form.done-form")
    for box in done.locator("input[type=checkbox]").all():
        box.check()
    done.locator("input[name=clamp_s]").fill("75")
    done.locator("button[type=submit]").click()
    expect(page.locator("#plan [data-status]")).to_have_text("Done")
    expect(page.locator("#plan")).to_contain_text("clamp time 75 s")
    fits_three_sizes(page, "exchange", "done", folder)
    page.goto(f"/runs/{run_id}/alerts")
    alert = page.locator(f"#alert-{alert_id}")
    expect(alert).to_have_attribute("data-state", "resolved")
    alert.screenshot(path=str(folder / "exchange-alert-resolved.png"))
    expect(alert.locator("[data-intervention=exchange]")).to_contain_text("planned exchange")
    login(page, "qa_lead", then="/quality/metrics?start=2020-01-01")
    expect(page.locator("#fig-planned_exchanges td").nth(1)).to_be_visible()
    page.locator("#fig-planned_exchanges a").click()
    expect(page.locator("#drill tbody tr")).to_have_count(1)
    expect(page.locator("#drill tbody")).to_contain_text("1 of 1 changes")
