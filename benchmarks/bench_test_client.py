"""The suite's test client against Starlette's: CPU per request, same app, same requests.

tests/client.py's FastClient runs each request in one call into the client's event loop;
Starlette's TestClient streams the response back across the two threads in about eight.
Both clients log in as the perfusionist on a migrated and seeded SQLite file, warm up, then
send each request N times; CPU is this process's (all its threads), per request.

    .venv/bin/python benchmarks/bench_test_client.py [-n 300]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from fastapi.testclient import TestClient  # noqa: E402
from tests.client import FastClient  # noqa: E402
from tests.conftest import Web, test_settings  # noqa: E402
from tests.seed import seed  # noqa: E402

from continuum.app import create_app  # noqa: E402
from continuum.migrate import upgrade  # noqa: E402

PATHS = ("/static/continuum.js", "/runs", "/api/v1/runs/1", "/api/v1/runs/2147483648")


def cpu_ms_per_request(client_class: type[TestClient], url: str, n: int) -> dict[str, float]:
    app = create_app(test_settings(url))
    figures: dict[str, float] = {}
    with client_class(app, base_url="http://testserver") as client:
        Web(client, url).login("perfusionist")
        for path in PATHS:
            for _ in range(20):
                client.get(path)
            began = time.process_time()
            for _ in range(n):
                client.get(path)
            figures[path] = 1000 * (time.process_time() - began) / n
    app.state.engine.dispose()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=300, help="requests per path and client")
    n = parser.parse_args().n
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/bench.db"
        upgrade(url)
        seed(url)
        starlette = cpu_ms_per_request(TestClient, url, n)
        fast = cpu_ms_per_request(FastClient, url, n)
    print(f"CPU ms per request ({n} requests each, after 20 to warm up)")
    print(f"{'path':28s} {'Starlette':>10s} {'FastClient':>11s} {'ratio':>6s}")
    for path in PATHS:
        print(
            f"{path:28s} {starlette[path]:10.2f} {fast[path]:11.2f} "
            f"{fast[path] / starlette[path]:6.2f}"
        )


if __name__ == "__main__":
    main()
