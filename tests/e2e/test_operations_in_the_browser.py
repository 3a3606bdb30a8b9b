"""In a real browser: an administrator follows Integration → Operations and reads the ingest
broker's status and what to do, at desktop, tablet and phone width (the machine's broker may
or may not hold this installation's stream: any of the statuses, always with next steps)."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

from continuum.operations.broker_health import STATUSES
from tests.e2e.conftest import fits_three_sizes, open_nav_link, screenshot_folder
from tests.e2e.test_ingest_in_the_browser import login_admin


def test_admin_reads_the_broker_status(page: Page, tmp_path: Path) -> None:
    login_admin(page)
    open_nav_link(page, "Integration")
    page.click("main >> a:has-text('Operations')")
    page.wait_for_url("**/operations/health")
    badge = page.locator("#broker-status")
    expect(badge).to_be_visible()
    assert badge.get_attribute("data-status") in STATUSES
    expect(page.locator("#next-steps li").first).to_be_visible()
    expect(page.locator("#workers")).to_be_visible()
    fits_three_sizes(page, "operations", "health", screenshot_folder(tmp_path))
    open_nav_link(page, "Operations")  # in the header as well
    page.wait_for_url("**/operations/health")
