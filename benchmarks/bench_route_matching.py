"""Route matching: CPU per request with and without the path filter (continuum/web/routing.py).

One app on a migrated and seeded SQLite file; every GET of the role-matrix table
(tests/web/routes_table.py) is sent anonymously (each is refused: what is left is mostly
finding the route), then as the perfusionist where that role may read it (the page or
answer itself is built), plus /healthz and a path no route has (404). The two settings
alternate, pass by pass, so a host whose speed drifts during the run slows both alike;
each figure is the median pass. Every answer's status is the same with the filter off.
(Not the alert event stream, which stays open.)

    .venv/bin/python benchmarks/bench_route_matching.py [--passes 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.client import FastClient  # noqa: E402
from tests.conftest import Web, test_settings  # noqa: E402
from tests.seed import seed  # noqa: E402
from tests.web.routes_table import CASES, PUBLIC  # noqa: E402
from tests.web.test_role_matrix import allowed  # noqa: E402

import continuum.models_all  # noqa: E402,F401
from continuum.app import create_app  # noqa: E402
from continuum.migrate import upgrade  # noqa: E402
from continuum.web.routing import PathFilteredRouter  # noqa: E402

ROLE = "perfusionist"


def one_pass(web: Web, urls: list[str], filtering: bool, statuses: dict[str, int]) -> float:
    """CPU seconds (this process, all threads) for one GET of each url."""
    PathFilteredRouter.filtering = filtering
    began = time.process_time()
    for url in urls:
        status = web.client.get(url, follow_redirects=False).status_code
        assert statuses.setdefault(url, status) == status, f"{url}: {status}, was {statuses[url]}"
    return time.process_time() - began


def measure(web: Web, urls: list[str], passes: int) -> tuple[float, float]:
    statuses: dict[str, int] = {}
    one_pass(web, urls, True, statuses)  # warm up (pages, templates, compiled SQL)
    one_pass(web, urls, False, statuses)
    times: dict[bool, list[float]] = {False: [], True: []}
    for _ in range(passes):
        for filtering in (False, True):
            times[filtering].append(one_pass(web, urls, filtering, statuses))
    PathFilteredRouter.filtering = True
    per = 1000 / len(urls)
    return statistics.median(times[False]) * per, statistics.median(times[True]) * per


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passes", type=int, default=5, help="passes per setting")
    passes = parser.parse_args().passes
    gets = [
        c
        for c in CASES  # not the event stream (it stays open) nor the whole OpenAPI document
        if c.method == "GET" and not c.template.endswith("/stream") and "openapi" not in c.url
    ]
    refused = [c.url for c in gets if c.needs != PUBLIC]
    readable = [c.url for c in gets if c.needs != PUBLIC and allowed(ROLE, c)]
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/bench.db"
        upgrade(url)
        seed(url)
        app = create_app(test_settings(url))
        with FastClient(app, base_url="http://testserver") as client:
            web = Web(client, url)
            rows = [("anonymous, refused", refused, measure(web, refused, passes))]
            rows.append(("/healthz", ["/healthz"] * 50, measure(web, ["/healthz"] * 50, passes)))
            missing = ["/no/such/page"] * 50
            rows.append(("no such path (404)", missing, measure(web, missing, passes)))
            web.login(ROLE)
            rows.append((f"{ROLE}, allowed", readable, measure(web, readable, passes)))
        app.state.engine.dispose()
    print(f"CPU ms per GET request, median of {passes} passes per setting (settings alternate)")
    print(f"{'requests':26s} {'n':>4s} {'no filter':>10s} {'filter':>8s} {'ratio':>6s}")
    for name, urls, (off, on) in rows:
        print(f"{name:26s} {len(urls):4d} {off:10.2f} {on:8.2f} {on / off:6.2f}")


if __name__ == "__main__":
    main()
