"""HL7 over MLLP through NATS JetStream beside the direct path, on PostgreSQL.

The same message set (``--messages`` ORU^R01, 20 OBX each, one patient) is sent pipelined
(window 200) on one connection to:

* **direct**: `continuum ingest mllp` (ACK AA after the database commit; its evaluator on);
* **nats, N workers** (N = 1, 2, 4): `continuum ingest mllp --via nats` (ACK after the
  JetStream publish acknowledgement) and N `continuum ingest worker --no-evaluate`
  processes, plus one `continuum alerts worker` (one evaluator, as on the direct path).

Each case gets a fresh copy of a migrated, seeded database (CREATE DATABASE … TEMPLATE)
and its own stream; both are deleted after. Figures: messages/s acknowledged to the
sender, and messages/s stored and acknowledged to the broker (sent → the last message
committed by a worker; on the direct path the two are the same), with ratios to direct.
The cases are interleaved over ``--repeat`` rounds and the medians printed (the machine
the figures come from is shared).

    .venv/bin/python benchmarks/bench_nats_ingest.py [--messages 3000] [--workers 1,2,4]
        [--repeat 3]

Needs PostgreSQL on 127.0.0.1:5432 and NATS with JetStream on 127.0.0.1:4222.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from statistics import median

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_ingest import (  # noqa: E402
    PG_ADMIN,
    drop_db,
    free_port,
    make_db,
    messages,
    pipelined,
    start_server,
)

from continuum.ingest.nats_ingest import BrokerConfig, delete_stream  # noqa: E402

CONTINUUM = str(ROOT / ".venv/bin/continuum")


def clone(template: str) -> tuple[str, str]:
    import psycopg

    name = f"bench_nats_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    return name, f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"


def stored(url: str) -> int:
    import psycopg

    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn) as conn:
        row = conn.execute("SELECT count(*) FROM ingest_message WHERE channel = 'hl7'").fetchone()
    return int(row[0]) if row else 0


def wait_stored(url: str, n: int, timeout: float = 600) -> float:
    deadline = time.monotonic() + timeout
    while stored(url) < n:
        if time.monotonic() > deadline:
            raise RuntimeError(f"only {stored(url)} of {n} stored after {timeout:.0f} s")
        time.sleep(0.05)
    return time.perf_counter()


async def _waiting(config: BrokerConfig) -> int:
    import nats
    from nats.js.errors import NotFoundError

    nc = await nats.connect(config.url)
    try:
        info = await nc.jetstream().consumer_info(config.stream, config.durable)
        return int(info.num_waiting or 0)
    except NotFoundError:
        return 0
    finally:
        await nc.close()


def wait_workers(config: BrokerConfig, n: int, timeout: float = 60) -> None:
    """Until the workers have their pull requests waiting on the consumer."""
    deadline = time.monotonic() + timeout
    while asyncio.run(_waiting(config)) < n:
        if time.monotonic() > deadline:
            raise RuntimeError("workers did not start")
        time.sleep(0.2)


def stop(procs: list[subprocess.Popen[bytes]]) -> None:
    for p in procs:
        p.terminate()
    for p in procs:
        try:
            p.wait(timeout=15)
        except subprocess.TimeoutExpired:
            p.kill()


def run_direct(template: str, batch: list[str]) -> tuple[float, float]:
    name, url = clone(template)
    port = free_port()
    env = dict(os.environ, CONTINUUM_DATABASE_URL=url)
    proc = start_server([CONTINUUM, "ingest", "mllp", "--port", str(port)], port, env)
    try:
        rate = pipelined(port, batch)
        assert stored(url) == len(batch)
        return rate, rate
    finally:
        stop([proc])
        drop_db(name)


def run_nats(template: str, batch: list[str], workers: int) -> tuple[float, float]:
    name, url = clone(template)
    tag = uuid.uuid4().hex[:8]
    config = BrokerConfig(stream=f"BENCH_{tag}", subject=f"bench{tag}.ingest")
    env = dict(
        os.environ,
        CONTINUUM_DATABASE_URL=url,
        CONTINUUM_NATS_STREAM=config.stream,
        CONTINUUM_NATS_SUBJECT=config.subject,
    )
    port = free_port()
    procs = [
        start_server([CONTINUUM, "ingest", "mllp", "--via", "nats", "--port", str(port)], port, env)
    ]
    try:
        for _ in range(workers):
            procs.append(subprocess.Popen(
                [CONTINUUM, "ingest", "worker", "--no-evaluate"], env=env,
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            ))  # fmt: skip
        procs.append(subprocess.Popen(
            [CONTINUUM, "alerts", "worker"], env=env,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        ))  # fmt: skip
        wait_workers(config, workers)
        t0 = time.perf_counter()
        acked_rate = pipelined(port, batch)
        done = wait_stored(url, len(batch))
        return acked_rate, len(batch) / (done - t0)
    finally:
        stop(procs)
        asyncio.run(delete_stream(config))
        drop_db(name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=3000)
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--repeat", type=int, default=3, help="rounds; medians are printed")
    args = parser.parse_args()
    counts = [int(w) for w in args.workers.split(",")]
    template, _ = make_db()
    batch = messages("B", args.messages)
    print(f"{args.messages} ORU^R01 (20 OBX), pipelined (window 200), PostgreSQL; "
          f"{os.cpu_count()} CPUs")  # fmt: skip
    runs: dict[str, list[tuple[float, float]]] = {"-": [], **{str(n): [] for n in counts}}
    try:
        for _ in range(args.repeat):  # rounds interleave the cases: a shared machine's noise
            runs["-"].append(run_direct(template, batch))
            for n in counts:
                runs[str(n)].append(run_nats(template, batch, n))
    finally:
        drop_db(template)
    rows = [
        (
            "direct" if key == "-" else "nats",
            key,
            median(a for a, _ in got),
            median(d for _, d in got),
        )
        for key, got in runs.items()
    ]
    for key, got in runs.items():
        name = "direct" if key == "-" else f"nats, {key} worker(s)"
        shown = ", ".join(f"{a:,.0f}/{d:,.0f}" for a, d in got)
        print(f"  {name}: ACK/stored msg/s by round: {shown}")
    print(f"median of {args.repeat} rounds")
    direct_stored = rows[0][3]
    print(f"{'path':<7} {'workers':>7} {'sender ACK msg/s':>17} {'stored msg/s':>13} "
          f"{'stored / direct':>16}")  # fmt: skip
    for path, workers, acked, done in rows:
        print(f"{path:<7} {workers:>7} {acked:>17,.0f} {done:>13,.0f} "
              f"{done / direct_stored:>16.2f}")  # fmt: skip
    one = next((r[3] for r in rows if r[1] == "1"), None)
    if one:
        for _path, workers, _, done in rows[1:]:
            print(f"  {workers} worker(s): stored {done / one:.2f} × one worker")


if __name__ == "__main__":
    main()
