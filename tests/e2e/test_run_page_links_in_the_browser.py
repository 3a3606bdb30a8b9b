"""The run page's links to the run's other pages: always shown on a desktop or tablet; on a
phone folded behind one summary, so the run's state is on the first screen, and one tap
away."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.e2e.conftest import login


def test_run_links_fold_on_a_phone_and_open_with_one_tap(page: Page) -> None:
    login(page, "perfusionist")
    for width in (1280, 1024):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto("/runs/1")
        fold = page.locator("#run-pages")
        expect(fold.locator("summary")).to_be_hidden()
        expect(fold.locator("nav.runlinks a:has-text('Alerts')")).to_be_visible()

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/runs/1")
    fold = page.locator("#run-pages")
    summary = fold.locator("summary")
    expect(summary).to_be_visible()
    count = fold.locator("nav.runlinks a").count()
    assert count >= 8, count
    expect(summary).to_have_text(f"This run's pages ({count})")
    expect(fold.locator("nav.runlinks a").first).to_be_hidden()
    box = page.locator("#summary").bounding_box()  # the run's state on the first screen
    assert box is not None and box["y"] < 500, box

    summary.click()
    link = fold.locator("nav.runlinks a:has-text('Alerts')")
    expect(link).to_be_visible()
    link.click()
    page.wait_for_url("**/runs/1/alerts**")
