"""A reviewer's complete review of one demo run on the ELSO record page, in a real browser,
against issue #19's goal: the review of one run in under 5 minutes.

Builds the demo programme (embedded SQLite) in a temporary folder, serves it, and drives
Debian's Chromium through Playwright, logged in as the quality lead (a reviewer). For one
ended run it does what a reviewer does:

1. opens the run's registry record;
2. types a value for each required field of the work list (the fields still needing a human
   decision: a select is chosen, a number, time or code typed), one reason for all, saves;
3. reads the values filled from the record (listed on the page with their source) and
   confirms them all in one step;
4. marks the run ready for submission (refused while a required field is missing).

The same review is then done on a second ended run the way the page allowed before the
one-step confirmation: one "Confirm the N values" submit per table (one page load each).
A third figure is computed, not driven: one page load per field (confirming each value on
its own), the slow path the issue warns about.

Printed per flow: fields needing a human decision, values confirmed, page loads, clicks,
keystrokes, machine time (browser and server, wall clock; the machine is shared with other
work, so read the ratios), and the estimated human time with its assumptions, against 300 s.

    .venv/bin/python benchmarks/bench_registry_review.py [--run RUN]
"""

from __future__ import annotations

import argparse
import io
import os
import re
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvicorn
from rich.console import Console

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from continuum import demo
from continuum.app import create_app
from continuum.config import Settings
from continuum.core.roles import CLI_ACTOR
from continuum.db import make_engine, make_sessionmaker
from continuum.hooks import install_all_hooks
from continuum.research import registry_service

CHROMIUM = os.environ.get("CONTINUUM_CHROMIUM", "/usr/bin/chromium")
SECRET = "bench-secret-" + "x" * 32
GOAL_S = 300.0
# Human-time assumptions (stated in the output): a field that needs a decision (look the
# value up in the notes, decide, enter it) 10 s; reading one value filled from the record
# with its source before confirming 1.5 s; one click 1 s; one keystroke 0.25 s (≈ 40 words
# a minute); the reason typed once.
DECISION_S = 10.0
READ_S = 1.5
CLICK_S = 1.0
KEY_S = 0.25
REASON = "discharge summary and ICU notes"


@dataclass
class Tally:
    decisions: int = 0
    confirmed: int = 0
    loads: int = 0
    clicks: int = 0
    keys: int = 0
    machine_s: float = 0.0
    notes: list[str] = field(default_factory=list)

    def human_s(self) -> float:
        return (
            self.decisions * DECISION_S
            + self.confirmed * READ_S
            + self.clicks * CLICK_S
            + self.keys * KEY_S
            + self.machine_s
        )


def copy_db(source: Path, target: Path) -> None:
    """A consistent copy of a SQLite database (the backup API: WAL pages included)."""
    target.unlink(missing_ok=True)
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve(settings: Settings) -> tuple[str, uvicorn.Server]:
    port = free_port()
    srv = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    )
    threading.Thread(target=srv.run, daemon=True).start()
    deadline = time.monotonic() + 90
    while not srv.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the app did not start within 90 s")
        time.sleep(0.05)
    return f"http://127.0.0.1:{port}", srv


def pick_runs(url: str, wanted: int | None) -> list[tuple[int, int]]:
    """Two ended runs (id, required fields missing), the median ones by work-list length."""
    install_all_hooks()
    engine = make_engine(url)
    with make_sessionmaker(engine)() as db:
        prog = registry_service.programme(db, CLI_ACTOR, ended_only=True)
    engine.dispose()
    runs = sorted(((r.run_id, len(r.missing)) for r in prog.runs), key=lambda x: (x[1], x[0]))
    if wanted is not None:
        chosen = [r for r in runs if r[0] == wanted]
        if not chosen:
            raise SystemExit(f"run {wanted} is not an ended run of the demo")
        rest = [r for r in runs if r[0] != wanted]
        return chosen + rest[len(rest) // 2 : len(rest) // 2 + 1]
    mid = len(runs) // 2
    return runs[mid : mid + 2] if len(runs) > 1 else runs


def value_for(kind: str, placeholder: str, options: list[str], started: str) -> str:
    """What the reviewer enters for a work-list field (a plausible value of its kind)."""
    if options:
        return options[0]
    if kind == "datetime-local":
        return started
    if placeholder:
        m = re.search(r"e\.g\. (\S+)", placeholder)
        if m:
            return m.group(1).rstrip(")")
        m = re.match(r"(-?[\d.]+)–(-?[\d.]+)", placeholder)
        if m:
            low, high = float(m.group(1)), float(m.group(2))
            return f"{(low + high) / 2:g}"
    return "as documented"


def work_list(page: Any, t: Tally, started: str) -> None:
    """Type a value in every work-list input, one reason, one save."""
    inputs = page.locator("#work-list .wl select, #work-list .wl input")
    n = inputs.count()
    if n == 0:
        return
    for i in range(n):
        el = inputs.nth(i)
        tag = el.evaluate("e => e.tagName.toLowerCase()")
        label = page.locator("#work-list .wl > div").nth(i).locator("b").first.inner_text()
        t.decisions += 1
        t.keys += 1  # Tab to the field
        if tag == "select":
            options = [o for o in el.locator("option").all_inner_texts() if o != "choose…"]
            el.select_option(label=options[0])
            t.keys += 1  # first letter / arrow key picks the option
            t.notes.append(f"decided: {label} = {options[0]}")
            continue
        kind = el.get_attribute("type") or "text"
        value = value_for(kind, el.get_attribute("placeholder") or "", [], started)
        el.fill(value)
        t.keys += len(value)
        t.notes.append(f"typed: {label} = {value}")
    page.fill("#wl-reason", REASON)
    t.keys += len(REASON) + 1
    with page.expect_navigation():
        page.click("#work-list button[type=submit]")
    t.clicks += 1
    t.loads += 1
    left = page.locator("#work-list .wl > div").count()
    if left:
        errors = page.locator("#work-list .form-error, #work-list .error").all_inner_texts()
        t.notes.append(f"{left} work-list field(s) not accepted: {' '.join(errors)[:300]}")


def confirm_all(page: Any, t: Tally) -> None:
    button = page.locator("#confirm-all button[type=submit]")
    if not button.count():
        return
    t.confirmed += int(re.search(r"\d+", button.inner_text()).group(0))  # type: ignore[union-attr]
    with page.expect_navigation():
        button.click()
    t.clicks += 1
    t.loads += 1


def confirm_per_table(page: Any, t: Tally) -> None:
    while True:
        buttons = page.locator("section form.inline button", has_text="Confirm the")
        if not buttons.count():
            return
        button = buttons.first
        t.confirmed += int(re.search(r"\d+", button.inner_text()).group(0))  # type: ignore[union-attr]
        with page.expect_navigation():
            button.click()
        t.clicks += 1
        t.loads += 1


def mark_ready(page: Any, t: Tally) -> bool:
    with page.expect_navigation():
        page.click("#ready form button[type=submit]")
    t.clicks += 1
    t.loads += 1
    return "Marked ready for submission" in page.inner_text("#ready")


def review(browser: Any, base: str, run_id: int, one_step: bool) -> tuple[Tally, bool]:
    ctx = browser.new_context(base_url=base, viewport={"width": 1280, "height": 900})
    page = ctx.new_page()
    page.goto("/login")
    page.fill("input[name=username]", "qalead")
    page.fill("input[name=password]", demo.DEMO_PASSWORD)
    with page.expect_navigation():
        page.click("button[type=submit]")
    if "/login" in page.url:
        raise SystemExit("the reviewer could not log in")
    t = Tally()
    began = time.perf_counter()
    page.goto(f"/research/registry/runs/{run_id}")
    t.loads += 1
    t.clicks += 1  # open the run from the registry list
    started = page.locator("#ready .rg-score").inner_text()
    m = re.search(r"time on (\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2})", started)
    start = f"{m.group(1)}T{m.group(2)}" if m else "2026-01-01T08:00"
    work_list(page, t, start)
    if one_step:
        confirm_all(page, t)
    else:
        confirm_per_table(page, t)
    ready = mark_ready(page, t)
    if not ready:
        t.notes.append("not marked ready: " + page.inner_text("#ready")[:300])
    t.machine_s = time.perf_counter() - began
    ctx.close()
    return t, ready


def show(name: str, run_id: int, t: Tally, ready: bool) -> None:
    human = t.human_s()
    print(f"\n{name} (run {run_id}): {'marked ready' if ready else 'NOT marked ready'}")
    print(f"  fields needing a human decision (work list): {t.decisions}")
    print(f"  values filled from the record, read and confirmed: {t.confirmed}")
    print(f"  page loads: {t.loads}; clicks: {t.clicks}; keystrokes: {t.keys}")
    print(f"  machine time (browser + server, wall): {t.machine_s:.1f} s")
    print(
        f"  estimated human time: {human:.0f} s = {human / 60:.1f} min "
        f"({'within' if human <= GOAL_S else 'OVER'} the 5-minute goal; "
        f"{100 * human / GOAL_S:.0f} % of it)"
    )
    for note in t.notes:
        print(f"  note: {note}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--run", type=int, help="the demo run to review (default: a median one)")
    ap.add_argument("--keep", help="build the demo into this SQLite file and keep it (a copy "
                    "of a fresh build: reviews change it), or reuse it if it exists")  # fmt: skip
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        db_file = Path(tmp) / "demo.db"
        url = f"sqlite:///{db_file}"
        settings = Settings(demo=True, database_url=url, secret_key=SECRET)
        kept = Path(args.keep) if args.keep else None
        if kept and kept.exists():
            copy_db(kept, db_file)
            print(f"demo copied from {kept}")
        else:
            t0 = time.perf_counter()
            demo.build(settings, console=Console(file=io.StringIO()))
            print(f"demo built in {time.perf_counter() - t0:.0f} s (machine shared with other "
                  "work)")  # fmt: skip
            if kept:
                copy_db(db_file, kept)
        runs = pick_runs(url, args.run)
        base, srv = serve(settings)
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(
                    executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
                )
                new, ready_new = review(browser, base, runs[0][0], one_step=True)
                show("one-step review (confirm all sourced values at once)", runs[0][0], new,
                     ready_new)  # fmt: skip
                if len(runs) > 1:
                    old, ready_old = review(browser, base, runs[1][0], one_step=False)
                    show("per-table review (one confirm per table)", runs[1][0], old, ready_old)
                    per_load = statistics.mean(
                        [new.machine_s / max(1, new.loads), old.machine_s / max(1, old.loads)]
                    )
                    field_loads = 2 + new.confirmed + (1 if new.decisions else 0)
                    field = Tally(
                        decisions=new.decisions, confirmed=new.confirmed, loads=field_loads,
                        clicks=field_loads + new.confirmed, keys=new.keys,
                        machine_s=field_loads * per_load,
                    )  # fmt: skip
                    print(
                        f"\none page load per field (computed for run {runs[0][0]}, not driven: "
                        f"open 'Confirm or correct' and submit for each of {new.confirmed} "
                        f"values, {per_load:.2f} s per load measured above): "
                        f"{field.loads} page loads, {field.clicks} clicks, estimated human "
                        f"time {field.human_s():.0f} s"
                    )
                    print(
                        f"\nratios: page loads per-table / one-step = "
                        f"{old.loads / max(1, new.loads):.1f}×; per-field / one-step = "
                        f"{field.loads / max(1, new.loads):.1f}×; clicks per-field / one-step = "
                        f"{field.clicks / max(1, new.clicks):.1f}×"
                    )
                browser.close()
        finally:
            srv.should_exit = True
    print(
        f"\nassumptions: {DECISION_S:g} s per field needing a decision, {READ_S:g} s to read "
        f"each value filled from the record, {CLICK_S:g} s per click, {KEY_S:g} s per "
        "keystroke, plus the machine time measured; goal 300 s per run"
    )


if __name__ == "__main__":
    main()
