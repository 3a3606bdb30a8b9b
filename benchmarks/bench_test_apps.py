"""The suite's apps: CPU to build a test app and answer its first requests, with the routes
built for each app (``continuum.app._routes``) against the routes of the process's first app
shared (tests/conftest.py ``routes_once``), and against routes and compiled SQL statements
shared (tests/shared_dialects.py); every test process uses both.

Most test files build an app per test (the ``web`` fixture: one suite run built 482). After
one app to warm up (imports, the first build), the three ways alternate app by app, so a host
whose speed drifts slows both alike; each figure is the median app. Each app logs in as the
perfusionist and reads the runs list and one run's JSON, on its own copy of a migrated and
seeded SQLite file; every answer must be 200 either way.

    .venv/bin/python benchmarks/bench_test_apps.py [--apps 10]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from fastapi import FastAPI  # noqa: E402
from sqlalchemy import create_engine  # noqa: E402
from tests import shared_dialects  # noqa: E402
from tests.client import FastClient  # noqa: E402
from tests.conftest import Web, routes_once, test_settings  # noqa: E402
from tests.seed import seed  # noqa: E402

import continuum.app as app_module  # noqa: E402
import continuum.db as db_module  # noqa: E402
from continuum.migrate import upgrade  # noqa: E402

PATHS = ("/runs", "/api/v1/runs/1")


def one_app(
    template: Path,
    folder: Path,
    routes: Callable[[FastAPI], None],
    engines: Callable[..., object] = create_engine,
) -> float:
    """CPU seconds to build one app with ``routes`` and its engine with ``engines``, and
    answer its first requests."""
    copy = folder / f"app-{time.monotonic_ns()}.db"
    shutil.copy(template, copy)
    url = f"sqlite:///{copy}"
    app_module._routes = routes  # type: ignore[assignment]
    db_module.create_engine = engines  # type: ignore[assignment]
    began = time.process_time()
    app = app_module.create_app(test_settings(url))
    with FastClient(app, base_url="http://testserver") as client:
        Web(client, url).login("perfusionist")
        for path in PATHS:
            status = client.get(path).status_code
            assert status == 200, (path, status)
    spent = time.process_time() - began
    app.state.engine.dispose()
    copy.unlink()
    return spent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--apps", type=int, default=10, help="apps built each way")
    apps = parser.parse_args().apps
    build = app_module._routes
    shared = routes_once(build)
    compiled_once = shared_dialects.share(create_engine)
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        template = folder / "template.db"
        upgrade(f"sqlite:///{template}")
        seed(f"sqlite:///{template}")
        # Warms up, builds the shared routes and lends the shared dialect.
        first = one_app(template, folder, shared, compiled_once)
        each: list[float] = []
        once: list[float] = []
        both: list[float] = []
        for _ in range(apps):
            each.append(one_app(template, folder, build))
            once.append(one_app(template, folder, shared))
            both.append(one_app(template, folder, shared, compiled_once))
    app_module._routes = build  # type: ignore[assignment]
    db_module.create_engine = create_engine
    print(f"CPU s per test app (build, log in, {', '.join(PATHS)}); median of {apps} each")
    print(f"first app in the process (imports, first build): {first:.2f}")
    built, reused, compiled = (statistics.median(x) for x in (each, once, both))
    print(f"{'routes built per app':44s} {built:6.3f}")
    print(f"{'routes shared (routes_once)':44s} {reused:6.3f}  ratio {reused / built:5.3f}")
    print(
        f"{'routes and compiled statements shared':44s} {compiled:6.3f}  "
        f"ratio {compiled / built:5.3f} (to routes shared: {compiled / reused:5.3f})"
    )


if __name__ == "__main__":
    main()
