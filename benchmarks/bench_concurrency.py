"""Parallel clients against the real app under uvicorn (one process): requests/s and
p50/p99 latency for 1 and N concurrent clients on SQLite and PostgreSQL, and the ratio of
throughput to one client. Each client runs a loop of authenticated reads (GET /api/v1/me,
GET /api/v1/runs) and writes (POST /api/v1/runs/1/observations) with an API token.

    .venv/bin/python benchmarks/bench_concurrency.py [--clients 1 10 50] [--seconds 8]
                                                     [--only sqlite|postgres]
"""

from __future__ import annotations

import argparse
import socket
import statistics
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import uvicorn

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.seed import seed

from continuum.app import create_app
from continuum.config import Settings
from continuum.core import accounts
from continuum.core.roles import SYSTEM
from continuum.db import make_engine, make_sessionmaker, unit_of_work
from continuum.migrate import upgrade

PG_ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _token(url: str) -> str:
    engine = make_engine(url)
    with unit_of_work(make_sessionmaker(engine)) as db:
        token = accounts.issue_token(db, SYSTEM, 8, "bench")
    engine.dispose()
    return token


def _client_loop(
    base: str, token: str, until: float, latencies: list[float], errors: list[int]
) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    i = 0
    with httpx.Client(base_url=base, timeout=60, headers=headers) as c:
        while time.perf_counter() < until:
            kind = i % 3
            i += 1
            t0 = time.perf_counter()
            if kind == 0:
                r = c.get("/api/v1/me")
            elif kind == 1:
                r = c.get("/api/v1/runs")
            else:
                at = (datetime.now(UTC) - timedelta(seconds=5)).isoformat()
                r = c.post(
                    "/api/v1/runs/1/observations",
                    json={"observations": [{"code": "hb", "value": 10.2, "time": at}]},
                )
            latencies.append(time.perf_counter() - t0)
            if not 200 <= r.status_code < 300:
                errors.append(r.status_code)


def measure(base: str, token: str, clients: int, seconds: float) -> dict[str, float]:
    latencies: list[float] = []
    errors: list[int] = []
    until = time.perf_counter() + seconds
    threads = [
        threading.Thread(target=_client_loop, args=(base, token, until, latencies, errors))
        for _ in range(clients)
    ]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    q = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [latencies[0]] * 99
    return {
        "rps": len(latencies) / elapsed,
        "p50": statistics.median(latencies) * 1000,
        "p99": q[98] * 1000,
        "max": max(latencies) * 1000,
        "errors": float(len(errors)),
        "n": float(len(latencies)),
    }


def bench(name: str, url: str, counts: list[int], seconds: float) -> None:
    upgrade(url)
    seed(url)
    token = _token(url)
    settings = Settings(
        database_url=url,
        secret_key="bench-secret-" + "x" * 32,
        evaluator_interval_s=0,
        housekeeping_interval_h=0,
    )
    app = create_app(settings)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    base = f"http://127.0.0.1:{port}"
    try:
        one = None
        for n in counts:
            m = measure(base, token, n, seconds)
            one = one or m["rps"]
            print(
                f"{name:9} {n:3} clients: {m['rps']:7.1f} req/s  p50 {m['p50']:7.1f} ms  "
                f"p99 {m['p99']:7.1f} ms  max {m['max']:7.1f} ms  errors {int(m['errors'])}"
                f"/{int(m['n'])}  ×{m['rps'] / one:.2f} of 1 client",
                flush=True,
            )
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        app.state.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 10, 50])
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--only", choices=["sqlite", "postgres"])
    args = parser.parse_args()
    counts = sorted(set([1, *args.clients]))
    if args.only != "postgres":
        with tempfile.TemporaryDirectory() as tmp:
            bench("SQLite", f"sqlite:///{tmp}/bench.db", counts, args.seconds)
    if args.only != "sqlite":
        import psycopg

        name = f"ct_bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        try:
            bench("PostgreSQL", f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}",
                  counts, args.seconds)  # fmt: skip
        finally:
            with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
