"""Issue #16 (bedside grade) on the demo programme, as a clinician meets it at a desktop
(1280×900), a ward tablet (1024×768) and a phone (390×844): each page the issue names is
opened once per size and read for what the issue asks of it — alert states in words,
history in clinical time, the fix one step away, console silence, chart labels, one clock
(the programme runs in America/New_York), the board's readings, safe circuit-check and
round defaults — and for fit: no sideways scroll of the page, no table cut off (a wide
table scrolls in its own container), the navigation in two rows or behind the Menu button,
no text smaller than 11 px. Screenshots: CONTINUUM_SCREENSHOTS, else the test's folder.

The demo is served once for the module (``demo_server``: its own copy of the session's
demo database) and read by one logged-in perfusionist; nothing here writes to it but the
minute's console-feed check the served demo would have run."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from continuum.alerts import feed
from continuum.db import make_engine, make_sessionmaker, unit_of_work
from tests.e2e.conftest import BROWSER_TIMEOUT_MS, screenshot_folder

DESKTOP = {"width": 1280, "height": 900}
TABLET = {"width": 1024, "height": 768}
PHONE = {"width": 390, "height": 844}
SIZES = [DESKTOP, TABLET, PHONE]
IDS = ["desktop", "tablet", "phone"]
DEMO_PASSWORD = "continuum-demo"

# Page, table and text fit, measured in the page: sideways overflow of the document; tables
# whose right edge is past the screen and not inside a scroll container that itself fits;
# the header's height, whether the nav is shown, and the smallest text in <main>.
FIT = """() => {
  const vw = document.documentElement.clientWidth;
  const cut = [];
  for (const t of document.querySelectorAll('main table')) {
    if (!t.offsetParent) continue;
    const r = t.getBoundingClientRect();
    if (r.right <= vw + 1 && r.left >= -1) continue;
    let p = t.parentElement, held = false;
    while (p && p !== document.body) {
      const s = getComputedStyle(p);
      if (s.overflowX === 'auto' || s.overflowX === 'scroll') {
        const pr = p.getBoundingClientRect();
        held = pr.right <= vw + 1 && pr.left >= -1;
        break;
      }
      p = p.parentElement;
    }
    if (!held) cut.push((t.closest('[id]') || {}).id + ' table to ' + Math.round(r.right) + ' px');
  }
  let smallest = 99, where = '';
  for (const e of document.querySelectorAll('main *')) {
    if (!e.offsetParent) continue;
    if (![...e.childNodes].some(n => n.nodeType === 3 && n.textContent.trim())) continue;
    const f = parseFloat(getComputedStyle(e).fontSize);
    if (f < smallest) { smallest = f; where = e.textContent.trim().slice(0, 40); }
  }
  const header = document.querySelector('header.top');
  const nav = document.querySelector('header.top nav');
  return {
    overflow: document.documentElement.scrollWidth - vw,
    cut,
    header: header ? header.getBoundingClientRect().height : 0,
    navShown: !!(nav && nav.offsetParent),
    smallest, where,
  };
}"""


def _run_id(url: str, mrn: str) -> int:
    engine = make_engine(url)
    with engine.connect() as conn:
        found = conn.exec_driver_sql(
            "SELECT r.id FROM run r JOIN patient_identity p ON p.patient_id = r.patient_id "
            "WHERE p.mrn = ?",
            (mrn,),
        ).scalar_one()
    engine.dispose()
    return int(found)


@pytest.fixture(scope="module")
def runs(demo_url: str) -> dict[str, int]:
    """The demo's runs by their story (README, Quick start): the silent console (ICU 1), the
    failing oxygenator (ICU 2), the VA-ECPR run (CCU 2) and the sweep-off trial (ICU 5).
    The feed check that the served demo's evaluator runs every minute is run once here (the
    test app runs no evaluator)."""
    engine = make_engine(demo_url)
    with unit_of_work(make_sessionmaker(engine)) as db:
        feed.check_feeds(db)
    engine.dispose()
    return {
        "silent": _run_id(demo_url, "MRN100245"),
        "failing": _run_id(demo_url, "MRN100262"),
        "ecpr": _run_id(demo_url, "MRN100305"),
        "weaning": _run_id(demo_url, "MRN100297"),
    }


@pytest.fixture(scope="module")
def clinician(browser, demo_server: str, runs: dict[str, int]) -> Iterator[Page]:  # type: ignore[no-untyped-def]
    """One perfusionist logged in to the demo for the whole module (after ``runs``' feed
    check, so every page sees the silent console)."""
    context = browser.new_context(base_url=demo_server, viewport=DESKTOP)
    page = context.new_page()
    page.set_default_timeout(BROWSER_TIMEOUT_MS)
    page.set_default_navigation_timeout(2 * BROWSER_TIMEOUT_MS)
    page.goto("/login")
    page.fill("input[name=username]", "perfusionist")
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button:has-text('Log in')")
    page.wait_for_url(re.compile(r"/rounds$"))
    yield page
    context.close()


def _open(page: Page, path: str, size: dict[str, int]) -> None:
    page.set_viewport_size(size)
    response = page.goto(path)
    assert response is not None and response.status == 200, (
        f"{path}: {response and response.status}"
    )


def _fits(page: Page, size: dict[str, int], name: str, folder: Path) -> None:
    fit = page.evaluate(FIT)
    width = size["width"]
    assert fit["overflow"] <= 1, f"{name} scrolls sideways by {fit['overflow']} px at {width} px"
    assert not fit["cut"], f"{name} at {width} px: tables cut off: {fit['cut']}"
    if width >= 1000:
        assert fit["navShown"], f"{name} at {width} px: the navigation is hidden"
        assert fit["header"] < 100, f"{name} at {width} px: the header is {fit['header']} px"
    else:
        assert not fit["navShown"], f"{name} at {width} px: the navigation is not folded"
        expect(page.locator("label.menu-button")).to_be_visible()
    assert fit["smallest"] >= 11, f"{name} at {width} px: {fit['smallest']} px text: {fit['where']}"
    page.screenshot(path=str(folder / f"bedside-{name}-{width}.png"), full_page=True)


def _axis_readable(chart: Locator) -> None:
    """The time axis's visible labels do not run into each other."""
    boxes = [b for b in (s.bounding_box() for s in chart.locator(".tchart-x span").all()) if b]
    boxes = sorted((b for b in boxes if b["width"] > 0), key=lambda b: b["x"])
    for left, right in itertools.pairwise(boxes):
        assert left["x"] + left["width"] <= right["x"] + 1, (left, right)


def _one_clock(page: Page) -> None:
    """Times in the programme's zone, one format: no ISO 'T…Z' or '+00:00' and no 'UTC' in
    what the page says; the footer names the zone once."""
    text = page.locator("main").inner_text()
    assert not re.search(r"\d\d:\d\d(:\d\d)?(\.\d+)?(Z|\+00:00)\b", text), "an ISO UTC time"
    assert not re.search(r"\b\d{4}-\d\d-\d\dT\d\d:\d\d", text), "an ISO time"
    assert " UTC" not in text.replace("UTC−", ""), "a time labelled UTC"
    expect(page.locator("footer.page-foot")).to_contain_text("America/New_York")


@pytest.mark.parametrize("size", SIZES, ids=IDS)
def test_rounds_board(
    clinician: Page, runs: dict[str, int], size: dict[str, int], tmp_path: Path
) -> None:
    page = clinician
    _open(page, "/rounds", size)
    failing = page.locator(f"#run-{runs['failing']}")
    states = failing.locator("[data-alert-states]")
    expect(states).to_contain_text("1 critical · active")  # states in words, present only
    expect(failing).to_contain_text("ICU 2")
    silent = page.locator(f"#run-{runs['silent']} .feed-silent")
    expect(silent).to_contain_text(re.compile(r"no console data for \d+ min"))  # feed health
    ecpr = page.locator(f"#run-{runs['ecpr']}")
    expect(ecpr).to_contain_text("ECPR")  # a clinical name, not the code 'ecpr'
    expect(ecpr.locator(".badge.goal-va")).to_have_text("VA goals")  # goals fit the run
    for code in ("vent_fio2", "peep", "driving_pressure", "vis", "lactate", "hb", "platelets",
                 "fibrinogen", "fluid_balance_24h"):  # fmt: skip
        cell = ecpr.locator(f'[data-code="{code}"]')
        expect(cell).to_be_visible()
        expect(cell).to_contain_text(re.compile(r"ago|none"))  # every value shows its age
    expect(ecpr.locator('[data-code="vent_fio2"]')).to_contain_text("off goal")
    expect(ecpr.locator(".ml-age")).to_contain_text(" d")
    assert page.locator("header.top a[href='/api/docs']").count() == 0  # integration roles only
    _one_clock(page)
    _fits(page, size, "board", screenshot_folder(tmp_path))


@pytest.mark.parametrize("size", SIZES, ids=IDS)
def test_run_page(
    clinician: Page, runs: dict[str, int], size: dict[str, int], tmp_path: Path
) -> None:
    page = clinician
    run = runs["failing"]
    _open(page, f"/runs/{run}", size)
    expect(page.locator("h1")).to_contain_text("MRN100262")
    expect(page.locator("h1")).not_to_contain_text("MRN MRN")
    alerts = page.locator("#alerts")
    expect(alerts.locator('li[data-state="active"]').first).to_contain_text("active")
    expect(alerts).to_contain_text("transmembrane gradient rise")
    # the lung is past its exchange line: said so, not "no criterion forecast to be reached"
    expect(page.locator("#forecast-beyond")).to_contain_text("already past")
    expect(page.locator("#forecasts")).not_to_contain_text("No exchange criterion is forecast")
    chart = page.locator("#trend")
    expect(chart.locator('[data-signal="blood_flow"] .tchart-head')).to_contain_text(
        "ECMO blood flow (L/min)"
    )
    lung = chart.locator('[data-signal="dp_per_flow"]')
    expect(lung.locator(".tchart-head")).to_contain_text("this lung's baseline")
    expect(lung.locator(".tchart-ref-text.tc-threshold")).to_contain_text("alert at +30%")
    expect(chart.locator(".tchart-mark.mk-alert").first).to_be_visible()  # alert markers
    assert chart.locator('[data-signal="post_oxy_po2"] path.tc-dot').count() >= 1  # gases
    assert chart.evaluate("e => e.scrollWidth <= e.clientWidth + 1")
    _axis_readable(chart)
    assert "sweep gas FiO2 (FdO2) 1 1" not in page.locator("#latest").inner_text()
    _one_clock(page)
    _fits(page, size, "run", screenshot_folder(tmp_path))


@pytest.mark.parametrize("size", SIZES, ids=IDS)
def test_alert_page(
    clinician: Page, runs: dict[str, int], size: dict[str, int], tmp_path: Path
) -> None:
    page = clinician
    _open(page, f"/runs/{runs['failing']}/alerts", size)
    card = page.locator(".card[data-alert]", has_text="transmembrane gradient rise").first
    expect(card.locator(".badge.state-active")).to_have_text("active")
    history = card.locator("table.history")
    expect(history).to_contain_text("raised")
    assert "{'" not in history.inner_text()  # sentences, not raw evidence
    first = history.locator("tr").first.locator("td").first.inner_text()
    assert re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d", first), first  # clinical time, one format
    row = card.locator('tr[data-threshold="tmp_rise_warning"]')
    expect(row).to_contain_text("ΔP/flow rise warning")  # a name, not the key
    expect(row).to_contain_text("30 %")
    expect(card.locator("td.evidence-values").first).to_contain_text("mmHg per L/min")
    expect(card.locator(".tchart-head").first).to_contain_text("(mmHg per L/min)")
    _axis_readable(card.locator(".tchart").first)
    values = card.locator("td.evidence-values").first
    assert values.evaluate("e => e.scrollWidth <= e.clientWidth + 1"), "evidence cut off"
    fix = card.locator("details.fix")
    expect(fix.locator("summary")).to_contain_text("replace a component or raise an action")
    fix.locator("summary").click()
    expect(fix.locator("select[name=replaces_id] option:checked")).to_contain_text("membrane lung")
    expect(fix.locator("button", has_text="Raise action")).to_be_visible()
    expect(card.locator("a.plan-exchange")).to_be_visible()
    _one_clock(page)
    _fits(page, size, "alert", screenshot_folder(tmp_path))


@pytest.mark.parametrize("size", SIZES, ids=IDS)
def test_alert_list(clinician: Page, size: dict[str, int], tmp_path: Path) -> None:
    page = clinician
    _open(page, "/alerts", size)
    rows = page.locator("#alert-list")
    expect(rows.locator('tr[data-state="active"] .badge.state-active').first).to_have_text("active")
    expect(rows).to_contain_text("console silent")
    expect(page.locator("#alert-states")).to_contain_text("critical · active")
    # what each alert is and what to do is read in full, without scrolling sideways: on a
    # phone each alert is a card of its own (table.stack-narrow)
    scroller = rows.locator(".table-scroll")
    assert scroller.evaluate("e => e.scrollWidth <= e.clientWidth + 1"), "the list scrolls"
    for cell in rows.locator("td.what").all():
        box = cell.bounding_box()
        assert box is not None and box["x"] + box["width"] <= size["width"], box
    _one_clock(page)
    _fits(page, size, "alerts", screenshot_folder(tmp_path))


@pytest.mark.parametrize("size", SIZES, ids=IDS)
def test_circuit_check(
    clinician: Page, runs: dict[str, int], size: dict[str, int], tmp_path: Path
) -> None:
    page = clinician
    _open(page, f"/runs/{runs['failing']}/circuit-check", size)
    inlet = page.locator("select[name='inspect.ml_inlet']")
    expect(inlet).to_have_value("")  # last time's finding is a hint, never the default
    expect(page.locator("[data-last-check='ml_inlet']")).to_contain_text("fibrin")
    expect(page.locator("input[name='reading.pre_oxy_pco2']")).to_be_visible()
    alerts = page.locator("#check-alerts")
    expect(alerts.locator(".badge.state-active").first).to_have_text("active")
    expect(alerts.locator("a", has_text="evidence and what to do").first).to_be_visible()
    shift = page.locator("select[name=shift]").input_value()
    assert shift in ("day", "night"), shift  # set from the clock
    _one_clock(page)
    _fits(page, size, "circuit-check", screenshot_folder(tmp_path))


@pytest.mark.parametrize("size", SIZES, ids=IDS)
def test_round_form_and_sheet(
    clinician: Page, runs: dict[str, int], size: dict[str, int], tmp_path: Path
) -> None:
    page = clinician
    run = runs["failing"]
    _open(page, f"/runs/{run}/rounds", size)
    form = page.locator("#round-form")
    for box in form.locator("select[name$='.disposition']").all():  # one per open alert
        assert box.input_value() == "", "a disposition is chosen for the clinician"
    assert form.locator("select[name$='.disposition']").count() == 2
    expect(page.locator("#next-patient")).to_be_visible()
    # an open action is marked done without scrolling sideways, on a phone too
    done = page.locator("#open-actions button", has_text="Mark done").first
    expect(done).to_be_visible()
    box = done.bounding_box()
    assert box is not None and box["x"] + box["width"] <= size["width"], box
    # disciplines as they are: the pharmacist and the physiotherapist are not ICU nurses
    expect(form.locator("label", has_text="Hannah Liu")).to_contain_text("(pharmacy)")
    expect(form.locator("label", has_text="Olu Adeyemi")).to_contain_text("(physiotherapy)")
    _one_clock(page)
    _fits(page, size, "round", screenshot_folder(tmp_path))
    _open(page, f"/rounds/sheet?run_id={run}", size)
    expect(page.locator('[data-state="active"]').first).to_contain_text("active")
    _fits(page, size, "sheet", screenshot_folder(tmp_path))


@pytest.mark.parametrize("size", SIZES, ids=IDS)
def test_weaning_page(
    clinician: Page, runs: dict[str, int], size: dict[str, int], tmp_path: Path
) -> None:
    """The weaning run's chart shows the console's sweep with the trial's steps marked."""
    page = clinician
    _open(page, f"/runs/{runs['weaning']}/weaning", size)
    chart = page.locator("#weaning-chart")
    sweep = chart.locator('[data-signal="sweep_flow"]')
    expect(sweep.locator(".tchart-head")).to_contain_text("Sweep gas flow (L/min)")
    assert sweep.locator("path.tc-line").count() == 1
    expect(chart.locator(".tchart-mark.mk-step").first).to_be_attached()
    assert chart.evaluate("e => e.scrollWidth <= e.clientWidth + 1")
    _axis_readable(chart)
    _one_clock(page)
    _fits(page, size, "weaning", screenshot_folder(tmp_path))
