"""The main pages under the real Content-Security-Policy: no violation is reported (no
inline script, no eval, nothing from elsewhere), and the pages' own scripts still run."""

from __future__ import annotations

from playwright.sync_api import Page

from tests.e2e.conftest import login

PAGES = (
    "/runs",
    "/runs/1",
    "/runs/1/alerts",
    "/alerts",
    "/rounds",
    "/runs/1/rounds",
    "/runs/1/weaning",
    "/referrals",
    "/rounds/sheet",
    "/patients",
    "/calculators",
    "/api/docs",
    "/no-such-page",
)


def test_main_pages_report_no_csp_violation(page: Page) -> None:
    messages: list[str] = []
    page.on("console", lambda m: messages.append(f"{m.type}: {m.text}"))
    page.on("pageerror", lambda e: messages.append(f"pageerror: {e}"))
    page.add_init_script(
        "document.addEventListener('securitypolicyviolation', e => console.error("
        "'CSP violation: ' + e.violatedDirective + ' ' + e.blockedURI));"
    )
    login(page, "physician")
    for path in PAGES:
        page.goto(path)
        page.wait_for_load_state("networkidle")
    csp = [m for m in messages if "Content Security Policy" in m or "CSP violation" in m]
    assert not csp, csp
    assert not [m for m in messages if m.startswith("pageerror")], messages
    # the scripts moved out of the templates still run: the board exposes its refresh,
    # Swagger UI starts from its static init script, the run page shows its trends
    page.goto("/rounds")
    assert page.evaluate("typeof window.roundsBoardRefresh") == "function"
    page.goto("/api/docs")
    page.wait_for_selector("#swagger-ui .swagger-ui", state="attached")
    assert page.evaluate("typeof window.ui") == "object"
    page.goto("/runs/1")
    page.wait_for_selector("#trend svg.tchart-svg")
