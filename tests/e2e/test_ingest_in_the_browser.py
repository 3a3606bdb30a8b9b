"""In a real browser: a perfusionist imports a console file from the run page and reads
the report; an administrator assigns a console to a run on the Integration page."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.e2e.conftest import login
from tests.seed import RUN_START


def test_import_console_file_from_the_run_page(page: Page, tmp_path: Path) -> None:
    at = RUN_START + timedelta(hours=1)
    rows = [f"{(at + timedelta(minutes=i)).isoformat()},4.{i},250,20{i}" for i in range(5)]
    path = tmp_path / "cardiohelp.csv"
    path.write_text("time,blood_flow,p_preoxy,p_postoxy\n" + "\n".join(rows) + "\n,,\n")
    login(page, "perfusionist")
    page.goto("/runs/1")
    page.click("text=Import console data")
    page.set_input_files("input[name=file]", str(path))
    page.click("button:has-text('Import')")
    report = page.locator("#report")
    expect(report).to_contain_text("Imported cardiohelp.csv")
    expect(report).to_contain_text("20")  # 15 cells + 5 derived ΔP
    expect(report).to_contain_text("including 5 derived ΔP")


def test_admin_assigns_and_unassigns_a_console(page: Page) -> None:
    login_admin(page)
    page.goto("/admin/users")
    page.click("header >> text=Integration")
    page.fill("input[name=console_id]", "CARDIOHELP-42")
    page.click("button:has-text('Assign')")
    consoles = page.locator("#consoles")
    expect(consoles).to_contain_text("CARDIOHELP-42")
    expect(consoles).to_contain_text("P-0001")
    page.click("#consoles >> button:has-text('Unassign')")
    expect(consoles).to_contain_text("No console is assigned.")


def login_admin(page: Page) -> None:
    from tests.seed import password_for

    page.goto("/login")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", password_for("admin"))
    page.click("button:has-text('Log in')")
    page.wait_for_load_state()


def test_admin_adds_a_unit_alias_and_is_told_when_it_cannot_be(page: Page) -> None:
    login_admin(page)
    page.goto("/integration")
    units = page.locator("#units")
    page.fill("#units input[name=spelling]", "LPM_X")
    page.fill("#units input[name=unit]", "furlongs")
    page.click("button:has-text('Save unit alias')")
    expect(page.locator("body")).to_contain_text("'furlongs' is not a unit the vocabulary")
    expect(page.locator("#units input[name=spelling]")).to_have_value("LPM_X")  # kept
    page.fill("#units input[name=unit]", "L/min")
    page.click("button:has-text('Save unit alias')")
    expect(units).to_contain_text("lpm_x")
    expect(units).to_contain_text("L/min")
    mappings = page.locator("#mappings")  # the defaults say why they are right
    expect(mappings).to_contain_text("non-invasive (cuff) mean pressure")
