"""`continuum serve --workers N`: every worker starts and serves, and the log never says
"Child process died".

uvicorn's parent pings each worker over a pipe and kills one that has not answered within
its health-check timeout (5 s by default), logging "Child process died", then starts
another, which is just as slow. A worker answers only once its process has bootstrapped
(spawn re-imports the main module); four at once on a busy two-core server can take longer
than that. The slow bootstrap is made reproducible here: the main module sleeps 6.5 s when a
spawned worker re-imports it (as ``__mp_main__``; the parent does not sleep, its own start
is not what uvicorn checks). With uvicorn's default the worker is killed (the
reproduction); `continuum serve` gives workers WORKER_HEALTHCHECK_S. Two workers prove it
as well as four (each worker is checked by itself, one after another) at half the start-up
cost of a shared test machine."""

from __future__ import annotations

import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from continuum.cli import WORKER_HEALTHCHECK_S
from tests.client import http_client
from tests.operations.processes import Proc, app_env, free_port

pytestmark = pytest.mark.slow  # long single tests: first in the queue (tests/conftest.py)

SLOW_BOOT_S = 6.5
WORKERS = 2
MAIN = """import os, sys, time
if __name__ == "__mp_main__":  # a spawned worker re-importing the main module
    time.sleep(float(os.environ.get("SLOW_BOOT_S", "0")))
if __name__ == "__main__":
{body}
"""
CONTINUUM = "    from continuum.cli import main\n    main(sys.argv[1:])"
UVICORN_DEFAULT = (
    "    import uvicorn\n"
    "    uvicorn.run('continuum.app:create_app', factory=True, port=int(sys.argv[1]), workers=2)"
)


def _script(tmp: Path, name: str, body: str) -> Path:
    path = tmp / name
    path.write_text(MAIN.format(body=body))
    return path


def _pids(base: str, want: int, timeout: float) -> set[str]:
    """Process ids answering /healthz (fresh connections from eight threads)."""
    seen: set[str] = set()
    deadline = time.monotonic() + timeout

    def one(_: int) -> str | None:
        try:
            with http_client(timeout=10) as c:
                return str(c.get(f"{base}/healthz").json()["process"])
        except httpx.HTTPError:
            return None

    with ThreadPoolExecutor(8) as pool:
        while len(seen) < want and time.monotonic() < deadline:
            seen |= {p for p in pool.map(one, range(32)) if p}
    return seen


def test_uvicorn_default_kills_a_slow_worker_the_reproduction(
    sqlite_url: str, tmp_path: Path
) -> None:
    script = _script(tmp_path, "uvicorn_default.py", UVICORN_DEFAULT)
    env = app_env(sqlite_url, tmp_path, SLOW_BOOT_S=str(SLOW_BOOT_S))
    proc = Proc([sys.executable, str(script), str(free_port())], env, tmp_path / "default.log")
    try:
        deadline = time.monotonic() + 90
        while "Child process" not in proc.text() and time.monotonic() < deadline:
            time.sleep(0.5)
    finally:
        proc.stop()
    assert "died" in proc.text() or "not ready" in proc.text(), proc.text()[-2000:]


def test_serve_workers_start_and_all_serve(sqlite_url: str, tmp_path: Path) -> None:
    assert SLOW_BOOT_S * 4 < WORKER_HEALTHCHECK_S  # four slow workers would fit as well
    script = _script(tmp_path, "continuum_main.py", CONTINUUM)
    port = free_port()
    env = app_env(sqlite_url, tmp_path, SLOW_BOOT_S=str(SLOW_BOOT_S))
    args = [sys.executable, str(script), "serve", "--port", str(port), "--workers", str(WORKERS)]
    proc = Proc(args, env, tmp_path / "serve.log")
    try:
        deadline = time.monotonic() + 240
        while proc.text().count("Application startup complete") < WORKERS:
            assert proc.alive() and time.monotonic() < deadline, proc.text()[-3000:]
            time.sleep(0.5)
        pids = _pids(f"http://127.0.0.1:{port}", WORKERS, 60)
        # every worker answers, so every worker answers uvicorn's pings (the pong thread
        # starts before the server); a kill would have been logged before its replacement
        # started. Two more rounds of the parent's 0.5 s health-check loop, to be sure.
        time.sleep(1.5)
    finally:
        proc.stop()
    log = proc.text()
    assert "Child process" not in log and "not ready" not in log, log[-3000:]
    assert log.count("Started server process") == WORKERS, log[-3000:]
    assert len(pids) == WORKERS, (pids, log[-2000:])
