"""Browser tests: the real app served by uvicorn on a free port, driven by Playwright in
Debian's Chromium (/usr/bin/chromium — never a downloaded browser)."""

from __future__ import annotations

import os
import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from continuum.app import create_app
from tests.conftest import need, test_settings

CHROMIUM = os.environ.get("CONTINUUM_CHROMIUM", "/usr/bin/chromium")
# One limit for every browser wait (page actions, navigation, Playwright's `expect`, whose
# own default is 5 s): generous, because a loaded or slow machine is slow, not broken. A
# wait that passes returns as soon as its condition holds, so this costs nothing when fast.
BROWSER_TIMEOUT_MS = int(os.environ.get("CONTINUUM_BROWSER_TIMEOUT_MS", "30000"))
SERVER_START_S = 60.0
# WebUIOmniboxPopup(+Aim): Chromium 156's full headless browser builds the address bar's
# pop-up as a web page of its own, in a renderer process, for every window (each browser
# context is one), though no test types in an address bar. Measured on tests/e2e with 3
# workers: Chromium's CPU 194 → 124 s, that renderer 47 s → gone, the directory 144 → 109 s.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--disable-features=WebUIOmniboxPopup,WebUIOmniboxAimPopup",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(sqlite_url: str) -> Iterator[str]:
    yield from serve(test_settings(sqlite_url))


@pytest.fixture(scope="session")
def browser():  # type: ignore[no-untyped-def]
    need(os.path.exists(CHROMIUM), f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=BROWSER_TIMEOUT_MS)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


def _no_screenshot(self, *args, **kwargs) -> bytes:  # type: ignore[no-untyped-def]
    return b""


@pytest.fixture(scope="session", autouse=True)
def screenshots_only_when_kept() -> Iterator[None]:
    """Screenshots are for a person to look at and no test reads them back: they are taken
    only when CONTINUUM_SCREENSHOTS names a folder to keep them in. Otherwise Page, Locator
    and ElementHandle ``screenshot`` return at once, without rendering a PNG: full-page
    screenshots at three widths were about half of the browser tests' time (measured:
    tests/e2e/test_adverse_events_in_the_browser.py 65 s → 27 s). What each test asserts
    about the page is unchanged."""
    if os.environ.get("CONTINUUM_SCREENSHOTS"):
        yield
        return
    from playwright.sync_api import ElementHandle, Locator, Page

    patch = pytest.MonkeyPatch()
    for cls in (Page, Locator, ElementHandle):
        patch.setattr(cls, "screenshot", _no_screenshot)
    yield
    patch.undo()


@pytest.fixture
def page(browser, server):  # type: ignore[no-untyped-def]
    context = browser.new_context(base_url=server, viewport={"width": 1280, "height": 900})
    pg = context.new_page()
    pg.set_default_timeout(BROWSER_TIMEOUT_MS)
    pg.set_default_navigation_timeout(2 * BROWSER_TIMEOUT_MS)
    yield pg
    context.close()


def screenshot_folder(tmp_path: Path) -> Path:
    """Where browser tests keep their screenshots: CONTINUUM_SCREENSHOTS, else the test's
    temporary folder."""
    folder = Path(os.environ.get("CONTINUUM_SCREENSHOTS", tmp_path))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def fits_three_sizes(page, prefix: str, name: str, folder: Path) -> None:  # type: ignore[no-untyped-def]
    """The page at desktop, tablet and phone width (1280, 1024, 390 px): no sideways scroll,
    a full-page screenshot of each; back at desktop width afterwards."""
    for width in (1280, 1024, 390):
        page.set_viewport_size({"width": width, "height": 900})
        overflow = page.evaluate(
            "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 1, f"{name} scrolls sideways by {overflow} px at {width} px"
        page.screenshot(path=str(folder / f"{prefix}-{name}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def open_nav_link(page, label: str) -> None:  # type: ignore[no-untyped-def]
    """Follow a header link, opening the "Quality & research" menu first when the link is
    folded into it (web/pages.py PROGRAMME_PREFIXES)."""
    menu = page.locator("header.top details.nav-more")
    inside = menu.locator(f"a:has-text('{label}')")
    if inside.count():
        if menu.get_attribute("open") is None:
            menu.locator("summary").click()
        inside.first.click()
    else:
        page.click(f"header.top nav a:has-text('{label}')")


def login(page, username: str, then: str = "/runs") -> None:  # type: ignore[no-untyped-def]
    """Log in and open ``then`` (default the runs list, a role's own start page): a test
    that starts elsewhere names its page here rather than loading the runs list first for
    nothing (about 110 ms of Chromium's CPU for each of 40 logins).

    The login form's own GET and POST go through the context's request client, which
    shares the browser's cookies, so the page is not rendered first: that saved two page
    loads per login, about 160 ms of Chromium's CPU each time (57 logins in the suite).
    Filling in the form in the browser is tested where it is the subject:
    tests/e2e/test_first_day_in_the_browser.py, test_bedside_grade_*, test_ingest_*."""
    from tests.seed import password_for

    form = page.request.get("/login?next=/runs")
    assert form.ok, f"GET /login answered {form.status}"
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text())
    assert token, "the login form carries no CSRF token"
    done = page.request.post(
        "/login",
        form={
            "username": username,
            "password": password_for(username),
            "csrf_token": token.group(1),
            "next": "/runs",
        },
        max_redirects=0,
    )
    assert done.status == 303, f"logging in as {username} answered {done.status}: {done.text()}"
    page.goto(then)
    assert "/login" not in page.url, f"logged in as {username}, but {then} went to {page.url}"


def serve(settings) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """The app for ``settings`` on a free port, in a thread, until the generator closes."""
    port = _free_port()
    srv = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + SERVER_START_S
    while not srv.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail(f"the test server did not start within {SERVER_START_S:g} s")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def demo_server(demo_url: str) -> Iterator[str]:
    """The demo programme (the module's own copy, ``demo_url``) served for a whole test
    module, in a programme zone that is not UTC (America/New_York: one clock is checked)."""
    settings = test_settings(demo_url).model_copy(update={"timezone": "America/New_York"})
    yield from serve(settings)
