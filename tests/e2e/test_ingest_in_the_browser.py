"""In a real browser: a perfusionist imports a console file from the run page (preview,
then confirm) and reads the report, also with a console-export preset at desktop width
and on a phone (390 px); an administrator assigns a console to a run on the Integration
page. Set CONTINUUM_SCREENSHOTS=<folder> to keep the screenshots."""

from __future__ import annotations

import os
from datetime import UTC, timedelta
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.e2e.conftest import login
from tests.seed import RUN_START


def test_import_console_file_from_the_run_page(page: Page, tmp_path: Path) -> None:
    at = RUN_START + timedelta(hours=1)
    rows = [f"{(at + timedelta(minutes=i)).isoformat()},4.{i},250,20{i}" for i in range(5)]
    path = tmp_path / "cardiohelp.csv"
    path.write_text("time,blood_flow,p_preoxy,p_postoxy\n" + "\n".join(rows) + "\n,,\n")
    login(page, "perfusionist", then="/runs/1")
    page.click("text=Import console data")
    page.set_input_files("input[name=file]", str(path))
    page.click("button:has-text('Preview')")
    expect(page.locator("#preview")).to_contain_text("Nothing is stored yet")
    page.click("#confirm")
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


def shot(page: Page, name: str) -> None:
    folder = os.environ.get("CONTINUUM_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def cardiohelp_file(tmp_path: Path, hours: int) -> Path:
    """A Cardiohelp-style export: semicolons, decimal commas, local (programme, here UTC)
    times, FiO2 in %, and a column no preset reads."""
    at = (RUN_START + timedelta(hours=hours)).astimezone(UTC)
    lines = ["Time;Pven;Pint;Part;Flow;Speed;Sweep;FiO2;Alarm text"]
    for i in range(4):
        t = (at + timedelta(minutes=i)).strftime("%d.%m.%Y %H:%M:%S")
        lines.append(f"{t};-6{i},5;25{i};23{i};4,{i}5;340{i};3,5;8{i};")
    lines.append(f"{(at + timedelta(minutes=9)).strftime('%d.%m.%Y %H:%M:%S')};abc;;;;;;;HIGH")
    path = tmp_path / "cardiohelp-export.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_import_with_a_preset_preview_then_confirm(page: Page, tmp_path: Path) -> None:
    for width, hours in ((1280, 2), (390, 3)):
        page.set_viewport_size({"width": width, "height": 900 if width > 400 else 844})
        login(page, "perfusionist", then="/runs/1/ingest")
        page.set_input_files("input[name=file]", str(cardiohelp_file(tmp_path, hours)))
        page.select_option("select[name=preset]", "cardiohelp")
        shot(page, f"ingest-upload-{width}")
        page.click("button:has-text('Preview')")
        preview = page.locator("#preview")
        expect(preview).to_contain_text("Nothing is stored yet")
        expect(preview).to_contain_text("cardiohelp-export.csv")
        pven = page.locator("#columns tr", has_text="Pven")
        expect(pven).to_contain_text("p_access")
        expect(pven).to_contain_text("-60 mmHg")  # per-code decimals (display_names)
        fio2 = page.locator("#columns tr", has_text="FiO2")
        expect(fio2).to_contain_text("% → fraction")
        expect(fio2).to_contain_text("0.81")
        expect(page.locator("#unreadable")).to_contain_text("Alarm text")
        expect(preview).to_contain_text("'abc'")  # the refused cell, named before import
        wide = page.evaluate("document.documentElement.scrollWidth")
        assert wide <= width, f"the preview scrolls sideways at {width} px ({wide} px)"
        shot(page, f"ingest-preview-{width}")
        expect(page.locator("#confirm")).to_have_text("Import 32 observations")
        page.click("#confirm")
        report = page.locator("#report")
        expect(report).to_contain_text("Imported cardiohelp-export.csv")
        expect(report).to_contain_text("Read with the preset cardiohelp")
        expect(report).to_contain_text("including 4 derived ΔP")
        shot(page, f"ingest-imported-{width}")
        page.context.clear_cookies()


def test_admin_edits_a_preset_and_a_bad_column_is_named(page: Page) -> None:
    login_admin(page)
    page.goto("/integration")
    page.click("text=Console presets")
    expect(page.locator("#preset-cardiohelp")).to_contain_text("Pven = p_access [mmHg]")
    shot(page, "presets-1280")
    page.click("#preset-cardiohelp >> text=Edit")
    columns = page.locator("textarea[name=columns]")
    expect(columns).to_contain_text("Pint = p_preoxy [mmHg]")
    columns.fill("Pven = p_access [mmHg]\nTven = blood_temp [bar]")
    page.click("button:has-text('Save preset')")
    expect(page.locator(".error")).to_contain_text("unit 'bar' cannot be converted")
    expect(columns).to_have_value("Pven = p_access [mmHg]\nTven = blood_temp [bar]")
    columns.fill("Pven = p_access [mmHg]\nTven = blood_temp [°C]")
    page.click("button:has-text('Save preset')")
    row = page.locator("#preset-cardiohelp")
    expect(row).to_contain_text("Tven = blood_temp [°C]")
    expect(row).to_contain_text("site v1")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/integration/presets?edit=cardiohelp")
    wide = page.evaluate("document.documentElement.scrollWidth")
    assert wide <= 390, f"the presets page scrolls sideways on a phone ({wide} px)"
    shot(page, "presets-390")
