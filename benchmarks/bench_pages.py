"""The run page and an alert page in a real browser: bytes and times, server-drawn charts
against the old Plotly charts in the same run.

Builds the demo programme (embedded SQLite) in a temporary folder, serves it, and drives
Debian's Chromium through Playwright. Each page is opened ``--repeat`` times in a fresh
browser context (cold cache), logged in beforehand (not timed). Per page it prints medians:

- HTML bytes: the page's own document;
- JS bytes: every script the page loaded (decoded size);
- time to HTML: navigation start → last byte of the document;
- time to usable: DOMContentLoaded, or the first chart in the DOM if later (a Plotly chart
  appears only after its 4.8 MB bundle has run);
- load: the load event.

The old approach is the same app at ``--old-rev`` (default: the last commit whose run and
alert pages drew their charts with Plotly), exported with ``git archive`` into a temporary
folder and served from there on the same database; ``--no-old`` skips it. The old app
serves Plotly from the ``plotly`` package, which the project no longer installs: put it in
the venv first (``.venv/bin/pip install plotly``), or the old side is reported as not measured.

    .venv/bin/python benchmarks/bench_pages.py [--repeat 5] [--old-rev 6f1c754] [--no-old]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import socket
import statistics
import subprocess
import sys
import tarfile
import tempfile
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import uvicorn
from playwright.sync_api import Error as PlaywrightError
from rich.console import Console
from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from continuum import demo
from continuum.app import create_app
from continuum.config import Settings
from continuum.db import make_engine

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("CONTINUUM_CHROMIUM", "/usr/bin/chromium")
OLD_REV = "6f1c754"  # last commit with Plotly charts on the run and alert pages
SECRET = "bench-secret-" + "x" * 32
# The first chart of a page, new (server-drawn SVG) and old (Plotly's drawing).
CHART = "svg.tchart-svg, #trend .main-svg, .alert-chart .main-svg"
WATCH = f"""
window.__chartAt = null;
new MutationObserver((_, obs) => {{
  if (!document.querySelector({CHART!r})) return;
  window.__chartAt = performance.now();
  obs.disconnect();
}}).observe(document, {{ childList: true, subtree: true }});
"""
MEASURE = (
    """() => {
  const nav = performance.getEntriesByType("navigation")[0];
  const js = performance.getEntriesByType("resource")
    .filter(r => r.initiatorType === "script" || r.name.endsWith(".js"))
    .reduce((n, r) => n + r.decodedBodySize, 0);
  const chart = document.querySelector(CHART) ? window.__chartAt : null;
  return { html: nav.decodedBodySize, js: js, html_ms: nav.responseEnd - nav.startTime,
           dcl_ms: nav.domContentLoadedEventEnd - nav.startTime, chart_ms: chart,
           load_ms: nav.loadEventEnd - nav.startTime };
}"""
).replace("CHART", repr(CHART))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(url: str, seconds: float = 90) -> None:
    import urllib.request

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url + "/login", timeout=2).read()
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not start within {seconds:g} s")


def serve_new(settings: Settings) -> tuple[str, uvicorn.Server]:
    port = free_port()
    srv = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    )
    threading.Thread(target=srv.run, daemon=True).start()
    url = f"http://127.0.0.1:{port}"
    wait_for(url)
    return url, srv


def serve_old(rev: str, database_url: str, folder: Path) -> tuple[str, subprocess.Popen[bytes]]:
    """The app as it was at ``rev`` (git archive of src/), on the same database."""
    archive = subprocess.run(
        ["git", "-C", str(REPO), "archive", rev, "src/continuum"],
        check=True,
        capture_output=True,
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(folder, filter="data")
    port = free_port()
    code = textwrap.dedent(
        f"""
        import sys
        sys.path.insert(0, {str(folder / "src")!r})
        import uvicorn
        from continuum.app import create_app
        from continuum.config import Settings
        s = Settings(demo=True, database_url={database_url!r}, secret_key={SECRET!r})
        uvicorn.run(create_app(s), host="127.0.0.1", port={port}, log_level="warning")
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=folder)
    url = f"http://127.0.0.1:{port}"
    wait_for(url)
    return url, proc


def busiest_run(database_url: str) -> int:
    engine = make_engine(database_url)
    with engine.connect() as conn:
        row = conn.execute(
            text("SELECT run_id FROM alert GROUP BY run_id ORDER BY count(*) DESC LIMIT 1")
        ).first()
    engine.dispose()
    return int(row[0]) if row else 1


def measure(browser: Any, base: str, path: str, repeat: int) -> dict[str, float]:
    samples: list[dict[str, float]] = []
    for _ in range(repeat):
        ctx = browser.new_context(base_url=base, viewport={"width": 1280, "height": 900})
        page = ctx.new_page()
        page.goto("/login?next=/runs")  # a physician's own start page is the board
        page.fill("input[name=username]", "physician")
        page.fill("input[name=password]", demo.DEMO_PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url("**/runs")
        page.add_init_script(WATCH)
        page.goto(path, wait_until="load")
        with contextlib.suppress(PlaywrightError):  # a page without a chart is reported
            page.wait_for_selector(CHART, state="attached", timeout=30_000)
        m = page.evaluate(MEASURE)
        m["usable_ms"] = max(m["dcl_ms"], m["chart_ms"] or 0)
        samples.append(m)
        ctx.close()
    keys = ("html", "js", "html_ms", "usable_ms", "load_ms")
    return {k: statistics.median(s[k] for s in samples) for k in keys}


def report(name: str, new: dict[str, float], old: dict[str, float] | None) -> None:
    rows = [
        ("HTML bytes", "html", "{:,.0f}"),
        ("JS bytes", "js", "{:,.0f}"),
        ("time to HTML (ms)", "html_ms", "{:,.0f}"),
        ("time to usable (ms)", "usable_ms", "{:,.0f}"),
        ("load (ms)", "load_ms", "{:,.0f}"),
    ]
    print(f"\n{name}")
    print(f"  {'':22}{'server SVG':>14}{'old Plotly':>14}{'old / new':>11}")
    for label, key, fmt in rows:
        o = old[key] if old else None
        ratio = f"{o / new[key]:.1f}×" if o and new[key] else "—"
        print(
            f"  {label:22}{fmt.format(new[key]):>14}"
            f"{fmt.format(o) if o is not None else '—':>14}{ratio:>11}"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--old-rev", default=OLD_REV)
    ap.add_argument("--no-old", action="store_true")
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'demo.db'}"
        settings = Settings(demo=True, database_url=url, secret_key=SECRET)
        demo.build(settings, console=Console(file=io.StringIO()))
        run_id = busiest_run(url)
        pages = [("run page", f"/runs/{run_id}"), ("alert page", f"/runs/{run_id}/alerts")]
        new_base, srv = serve_new(settings)
        old_base, proc = None, None
        if not args.no_old:
            try:
                old_base, proc = serve_old(args.old_rev, url, Path(tmp) / "old")
            except (subprocess.CalledProcessError, RuntimeError, OSError) as exc:
                print(f"old approach not measured ({args.old_rev}): {exc}")
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(
                    executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
                )
                print(f"demo run {run_id}; medians of {args.repeat} cold loads at 1280 px")
                for name, path in pages:
                    new = measure(browser, new_base, path, args.repeat)
                    old = measure(browser, old_base, path, args.repeat) if old_base else None
                    report(f"{name} ({path})", new, old)
                browser.close()
        finally:
            srv.should_exit = True
            if proc is not None:
                proc.terminate()
                proc.wait(timeout=10)


if __name__ == "__main__":
    main()
