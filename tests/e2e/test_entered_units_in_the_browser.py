"""A value entered in kPa reads "62 kPa (465 mmHg)" on the run page, and the longer text
stays inside its card at a desktop (1280 px), a tablet (1024×768) and a phone (390×844);
the chart reads an entered value as entered too: a post-oxygenator pO2 dot and, for a line
signal (drainage pressure entered in kPa), the period under the pointer and the panel's
latest value (screenshots in the test's tmp dir)."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

from tests.e2e.conftest import login

SIZES = ({"width": 1280, "height": 900}, {"width": 1024, "height": 768},
         {"width": 390, "height": 844})  # fmt: skip


def _record(page: Page, code: str, value: str, unit: str = "") -> None:
    form = page.locator("#observation-form")
    form.locator("select[name=code]").select_option(code)
    form.locator("input[name=value]").fill(value)
    form.locator("input[name=unit]").fill(unit)
    form.locator("button", has_text="Record").click()
    page.wait_for_url("**/runs/1**")


def test_an_entered_kpa_value_fits_the_run_page_at_each_size(page: Page, tmp_path: Path) -> None:
    login(page, "nurse", then="/runs/1")
    _record(page, "post_oxy_po2", "62", "kPa")
    _record(page, "p_access", "-8", "kPa")
    _record(page, "hr", "80")  # a later value: the entered ones are not the chart's last instant
    for size in SIZES:
        width = size["width"]
        page.set_viewport_size(size)
        page.goto("/runs/1")
        row = page.locator("#latest tr", has_text="post-oxygenator pO2")
        expect(row).to_contain_text("62 kPa (465 mmHg)")
        manual = page.locator("#manual tr", has_text="post-oxygenator pO2").first
        expect(manual).to_contain_text("62 kPa (465 mmHg)")
        # the chart: the pO2 dot, the drainage pressure's latest value and its period
        dot = page.locator('#trend [data-signal="post_oxy_po2"] path.tc-dot title').last
        expect(dot).to_contain_text("62 kPa (465 mmHg)")
        drainage = page.locator('#trend [data-signal="p_access"]')
        expect(drainage.locator(".tchart-latest")).to_contain_text("-8 kPa (-60 mmHg)")
        strip = drainage.locator("rect.tc-hover title").last
        expect(strip).to_contain_text("entered as -8 kPa (-60 mmHg) at")
        page.screenshot(path=str(tmp_path / f"entered-{width}.png"), full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        for card in ("#latest", "#observations", "#trend"):
            box = page.locator(card).bounding_box()
            assert box is not None and box["x"] + box["width"] <= width, (card, width)
            assert page.locator(card).evaluate("e => e.scrollWidth <= e.clientWidth + 1"), card
        # The latest values still fit without scrolling: the bracket wraps below if need be.
        for table in page.locator("#latest .table-scroll").all():
            assert table.evaluate("e => e.scrollWidth <= e.clientWidth")
        box = row.locator("td.num").bounding_box()
        assert box is not None and box["x"] + box["width"] <= width
