"""Ingest throughput on PostgreSQL (127.0.0.1:5432; a database of its own, dropped after).

1. Console CSV import (`csv_service.import_csv`, one transaction: read, convert, binary
   COPY, derived ΔP, audit, surveillance due mark) in observations/s, beside a raw COPY of
   the same rows into the same run; then the time the deferred surveillance takes.
2. HL7 v2 ORU^R01 over MLLP (20 OBX each) to `continuum ingest mllp` running as its own
   process, ACK after durable commit: lock-step and pipelined, messages/s.
3. Arrival → committed latency at a paced 100 messages/s (send → AA received), p50/p99.
4. ("csvread", no database) reading the same console file, CPU seconds (best of 5): the
   project's layout, and the same rows as a Cardiohelp-style export read with its preset
   (semicolons, decimal commas, local times) — what a preset costs over the fast path.

Each timed MLLP measurement starts after VACUUM ANALYZE and CHECKPOINT, so that it does
not pay for the maintenance the earlier parts left due (autovacuum, a checkpoint).
The "baseline" part first measures the issue's yardstick on this machine, in the same run:
python-hl7's asyncio MLLP server (`benchmarks/hl7_echo_server.py`: parse + ACK, stores
nothing) driven by the same client and messages, lock-step and pipelined; the MLLP parts
then print their lock-step and pipelined figures as ratios to it.

    .venv/bin/python benchmarks/bench_ingest.py [--rows 100000] [--messages 3000]
        [--parts csv,baseline,mllp,hooks,csvread] [--db postgres|sqlite] [--quick]

``--db sqlite``: the same MLLP parts against an embedded SQLite file (a temporary
directory, removed after); the CSV part is PostgreSQL only (binary COPY) and is skipped.
``--quick``: the MLLP parts measure lock-step (1 connection) and pipelined only, the two
figures printed as ratios to the baseline (several senders and the paced latency skipped).

Figures that hold on a loaded machine (Linux, from /proc): the CPU milliseconds per
lock-step message of the baseline server, of the listener process and of its PostgreSQL
backends; and, on PostgreSQL, the round trip of a one-row durable INSERT (its own
transaction: commit and WAL flush) — the least any lock-step message that is acknowledged
only after its commit can take, whatever the listener does.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.seed import SECRET_MRNS, seed  # noqa: E402

from continuum.alerts.due import evaluate_due  # noqa: E402
from continuum.core import observation_service  # noqa: E402
from continuum.core.roles import CLI_ACTOR  # noqa: E402
from continuum.db import make_engine, make_sessionmaker, unit_of_work  # noqa: E402
from continuum.ingest.copy_rows import HEADER, TRAILER, binary_tuples  # noqa: E402
from continuum.ingest.csv_service import import_csv  # noqa: E402
from continuum.ingest.mllp_client import MllpSender, msa, oru  # noqa: E402
from continuum.migrate import upgrade  # noqa: E402

PG_ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
CODES = ("blood_flow", "pump_speed", "p_access", "p_preoxy", "p_postoxy", "sweep_flow",
         "sweep_fio2", "blood_temp")  # fmt: skip
BASE = (4.5, 3500, -60, 260, 240, 4, 0.8, 36.8)
SENDERS = (4, 8)  # concurrent lock-step sender connections


def make_db() -> tuple[str, str]:
    import psycopg

    name = f"bench_ingest_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    upgrade(url)
    seed(url)
    return name, url


def make_sqlite_db() -> tuple[str, str]:
    folder = tempfile.mkdtemp(prefix="bench_ingest_")
    url = f"sqlite:///{folder}/bench.db"
    upgrade(url)
    seed(url)
    return folder, url


def drop_db(name: str) -> None:
    if name.startswith("/"):  # an SQLite file's folder
        import shutil

        shutil.rmtree(name, ignore_errors=True)
        return
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def write_csv(path: Path, rows: int) -> None:
    start = datetime.now(UTC) - timedelta(hours=40)
    times = np.datetime64(start.replace(tzinfo=None), "s") + np.arange(rows) * np.timedelta64(
        1, "s"
    )
    rng = np.random.default_rng(3)
    cols = [np.round(b + rng.normal(0, abs(b) * 0.01 + 0.001, rows), 3) for b in BASE]
    cols[6] = np.clip(cols[6], 0.21, 1.0)
    with open(path, "w") as fh:
        fh.write("time," + ",".join(CODES) + "\n")
        stamps = np.datetime_as_string(times, unit="s")
        for i in range(rows):
            fh.write(stamps[i] + "Z," + ",".join(str(c[i]) for c in cols) + "\n")


def bench_csv(url: str, rows: int) -> None:
    factory = make_sessionmaker(make_engine(url))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "console.csv"
        write_csv(path, rows)
        checkpoint(url)
        t0 = time.perf_counter()
        with unit_of_work(factory) as db:
            result = import_csv(db, CLI_ACTOR, 1, path, "console.csv")
        t_import = time.perf_counter() - t0
        t0 = time.perf_counter()
        evaluated = evaluate_due(factory)
        t_eval = time.perf_counter() - t0
    n = result.stored + result.derived
    series = [*result.console.series.items(), *result.console.derived.items()]
    kept = [(c, (t[~np.isnan(v)], v[~np.isnan(v)])) for c, (t, v) in series]
    data = HEADER + b"".join(binary_tuples(1, kept, "csv", "raw-copy", None)) + TRAILER
    rows_copied = sum(len(v) for _, (_, v) in kept)
    engine = make_engine(url)
    checkpoint(url)
    with engine.begin() as conn:
        raw = conn.connection.driver_connection
        columns = ", ".join(observation_service.BULK_COLUMNS)
        t0 = time.perf_counter()
        sql = f"COPY observation ({columns}) FROM STDIN (FORMAT BINARY)"
        with raw.cursor() as cur, cur.copy(sql) as copy:
            step = 8 << 20
            for i in range(0, len(data), step):
                copy.write(data[i : i + step])
    t_copy = time.perf_counter() - t0
    print(
        f"CSV import : {rows:,} rows → {n:,} observations in {t_import:.2f} s "
        f"= {n / t_import:,.0f} obs/s (read + convert + COPY + ΔP + audit + surveillance due "
        "mark, one commit)"
    )
    print(
        f"  then surveillance of the imported run ({evaluated} run, whole run read back as "
        f"its baseline forms): {t_eval:.2f} s → alerts {t_import + t_eval:.2f} s after the start"
    )
    print(
        f"raw COPY   : {rows_copied:,} rows as prepared binary COPY in {t_copy:.2f} s "
        f"= {rows_copied / t_copy:,.0f} rows/s (same run, binary tuples built beforehand)"
    )
    narrow = narrow_copy(engine, rows_copied)
    print(f"narrow COPY: {narrow:,.0f} rows/s (4 columns, no index, no FK: the machine's ceiling)")


def cpu_best(fn, repeat: int = 5) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        t0 = time.process_time()
        fn()
        times.append(time.process_time() - t0)
    return min(times)


def bench_csv_read(rows: int) -> None:
    """Reading only (no database), CPU time: own layout vs a Cardiohelp-style preset."""
    from zoneinfo import ZoneInfo

    from continuum.ingest.console_csv import read_console_csv
    from continuum.ingest.console_presets import SHIPPED

    with tempfile.TemporaryDirectory() as tmp:
        own, other = Path(tmp) / "own.csv", Path(tmp) / "cardiohelp.csv"
        write_csv(own, rows)
        names = {"p_access": "Pven", "p_preoxy": "Pint", "p_postoxy": "Part",
                 "blood_flow": "Flow", "pump_speed": "Speed", "sweep_flow": "Sweep",
                 "sweep_fio2": "FiO2"}  # fmt: skip
        zone = ZoneInfo("Europe/Berlin")
        with open(own) as src, open(other, "w") as dst:
            head = next(src).strip().split(",")
            dst.write(";".join(["Time", *(names.get(h, h) for h in head[1:])]) + "\n")
            for line in src:
                cells = line.strip().split(",")
                t = datetime.fromisoformat(cells[0]).astimezone(zone)
                vals = [str(round(float(c) * 100, 1)) if h == "sweep_fio2" else c
                        for h, c in zip(head[1:], cells[1:], strict=True)]  # fmt: skip
                dst.write(t.strftime("%d.%m.%Y %H:%M:%S") + ";"
                          + ";".join(v.replace(".", ",") for v in vals) + "\n")  # fmt: skip
        layout = SHIPPED["cardiohelp"].layout(zone)
        t_own = cpu_best(lambda: read_console_csv(own))
        t_preset = cpu_best(lambda: read_console_csv(other, layout=layout))
        n = read_console_csv(own).report.observations
        m = read_console_csv(other, layout=layout).report.observations
    print(f"CSV read   : {rows:,} rows, own layout → {n:,} values in {t_own:.2f} CPU s "
          f"= {n / t_own:,.0f} values/s (read + convert, no database; best of 5)")  # fmt: skip
    print(f"  Cardiohelp-style export with its preset → {m:,} values in {t_preset:.2f} CPU s "
          f"= {m / t_preset:,.0f} values/s (semicolons, decimal commas, local times)")  # fmt: skip


def checkpoint(url: str, vacuum: bool = False) -> None:
    """Start each timed part without a checkpoint pending from earlier writes (and, with
    ``vacuum``, without autovacuum due on the tables the earlier parts filled)."""
    from sqlalchemy import text

    if url.startswith("sqlite"):
        with make_engine(url).connect() as conn:  # SQLite: fold the WAL back, fresh stats
            conn.exec_driver_sql("ANALYZE" if vacuum else "SELECT 1")
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        return
    with make_engine(url).connect() as conn:
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        if vacuum:
            conn.execute(text("VACUUM ANALYZE observation, ingest_message, audit_log"))
        conn.execute(text("CHECKPOINT"))


def narrow_copy(engine, n: int) -> float:  # type: ignore[no-untyped-def]
    """Reference: COPY of narrow rows (int, text, timestamptz, float) into an unindexed table."""
    from sqlalchemy import text

    stamps = np.datetime_as_string(
        np.datetime64("2026-01-01T00:00:00") + np.arange(n) * np.timedelta64(1, "s"), unit="s"
    )
    data = "".join(f"1\tblood_flow\t{t}+00\t4.5\n" for t in stamps)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE bench_narrow (a int, b text, c timestamptz, d float8)"))
        raw = conn.connection.driver_connection
        t0 = time.perf_counter()
        with raw.cursor() as cur, cur.copy("COPY bench_narrow FROM STDIN") as copy:
            copy.write(data)
    elapsed = time.perf_counter() - t0
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE bench_narrow"))
    return n / elapsed


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def proc_cpu(pids: list[int]) -> float | None:
    """User + system CPU seconds of the processes so far (None: no /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            return None
        total += (int(fields[11]) + int(fields[12])) / tick
    return total


def backend_pids(url: str) -> list[int]:
    """The PostgreSQL backends connected to the benchmark's database (none on SQLite)."""
    if url.startswith("sqlite"):
        return []
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            (name,),
        ).fetchall()
    return [int(r[0]) for r in rows]


def cpu_ms(before: float | None, after: float | None, n: int) -> str:
    return "n/a" if before is None or after is None else f"{1000 * (after - before) / n:.2f} ms"


def commit_floor(url: str, n: int = 200) -> float:
    """Median ms of a one-row INSERT in autocommit (round trip, commit, WAL flush)."""
    import psycopg

    conninfo = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("CREATE TABLE bench_floor (a int)")
        times = []
        for i in range(n):
            t0 = time.perf_counter()
            conn.execute("INSERT INTO bench_floor VALUES (%s)", (i,))
            times.append(time.perf_counter() - t0)
        conn.execute("DROP TABLE bench_floor")
    return float(np.median(times) * 1000)


NO_HOOKS = (
    "import sys, continuum.models_all; from continuum.core import observation_service as o; "
    "o.AFTER_STORE_HOOKS.clear(); from continuum.cli import main; "
    "sys.argv = ['continuum', 'ingest', 'mllp', '--port', sys.argv[1]]; main()"
)


def start_listener(url: str, port: int, hooks: bool = True) -> subprocess.Popen[bytes]:
    env = dict(os.environ, CONTINUUM_DATABASE_URL=url)
    cmd = [str(ROOT / ".venv/bin/continuum"), "ingest", "mllp", "--port", str(port)]
    if not hooks:
        cmd = [sys.executable, "-c", NO_HOOKS, str(port)]
    return start_server(cmd, port, env)


def start_server(cmd: list[str], port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """Spawn ``cmd`` and wait until it accepts connections on ``port``."""
    proc = subprocess.Popen(
        cmd,
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError(f"{cmd[0]} did not start")


def second_run(url: str) -> None:
    """A fresh run for patient 2, so surveillance's window holds only MLLP data."""
    from continuum.core import run_service
    from continuum.core.schemas import RunCreate

    start = datetime.now(UTC) - timedelta(hours=3)
    with unit_of_work(make_sessionmaker(make_engine(url))) as db:
        data = RunCreate(mrn=SECRET_MRNS[1], support_type="pulmonary", mode="VV", started_at=start)
        run_service.start_run(db, CLI_ACTOR, data)


def messages(prefix: str, n: int, mrn: str = SECRET_MRNS[0]) -> list[str]:
    now = datetime.now(UTC).replace(microsecond=0)
    values = [(CODES[i % 8], BASE[i % 8], "") for i in range(20)]
    return [oru(f"{prefix}{i}", mrn, now - timedelta(seconds=n - i), values)
            for i in range(n)]  # fmt: skip


def lockstep(port: int, batch: list[str]) -> float:
    sender = MllpSender("127.0.0.1", port, timeout=120)
    t0 = time.perf_counter()
    for m in batch:
        assert msa(sender.exchange(m))[0] == "AA"
    elapsed = time.perf_counter() - t0
    sender.close()
    return len(batch) / elapsed


def concurrent_lockstep(port: int, batches: list[list[str]]) -> float:
    """Several senders (one connection each, as a gateway with several consoles), each
    waiting for its ACK before sending its next message: total messages/s."""
    from concurrent.futures import ThreadPoolExecutor

    senders = [MllpSender("127.0.0.1", port, timeout=120) for _ in batches]

    def run(i: int) -> None:
        for m in batches[i]:
            assert msa(senders[i].exchange(m))[0] == "AA"

    t0 = time.perf_counter()
    with ThreadPoolExecutor(len(batches)) as pool:
        list(pool.map(run, range(len(batches))))
    elapsed = time.perf_counter() - t0
    for sender in senders:
        sender.close()
    return sum(len(b) for b in batches) / elapsed


def pipelined(port: int, batch: list[str], window: int = 200) -> float:
    sender = MllpSender("127.0.0.1", port, timeout=120)
    t0 = time.perf_counter()
    sent = acked = 0
    while acked < len(batch):
        while sent < len(batch) and sent - acked < window:
            sender.send(batch[sent])
            sent += 1
        assert msa(sender.read_ack())[0] == "AA"
        acked += 1
    elapsed = time.perf_counter() - t0
    sender.close()
    return len(batch) / elapsed


def paced(port: int, batch: list[str], rate: float) -> list[float]:
    """Send at ``rate`` msg/s on one connection (a reader thread collects ACKs)."""
    import threading

    sender = MllpSender("127.0.0.1", port, timeout=120)
    sent_at: list[float] = []
    lat: list[float] = []

    def read() -> None:
        for i in range(len(batch)):
            sender.read_ack()
            lat.append(time.perf_counter() - sent_at[i])

    reader = threading.Thread(target=read)
    reader.start()
    t0 = time.perf_counter()
    for i, m in enumerate(batch):
        delay = t0 + i / rate - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        sent_at.append(time.perf_counter())
        sender.send(m)
    reader.join()
    sender.close()
    return lat


def bench_baseline(n: int) -> tuple[float, float]:
    """The issue's yardstick on this machine: python-hl7's MLLP server, parse + ACK and
    nothing stored, driven by the same client and messages: (lock-step, pipelined) msg/s."""
    port = free_port()
    cmd = [sys.executable, str(ROOT / "benchmarks/hl7_echo_server.py"), str(port)]
    proc = start_server(cmd, port, dict(os.environ))
    try:
        lockstep(port, messages("bwarm", 200))
        c0 = proc_cpu([proc.pid])
        ls = lockstep(port, messages("bls", n))
        c1 = proc_cpu([proc.pid])
        pl = pipelined(port, messages("bpl", n))
    finally:
        proc.terminate()
        proc.wait()
    print("[python-hl7 MLLP server: parse + ACK, stores nothing (the issue's baseline)]")
    print(f"  lock-step : {ls:,.0f} ORU msg/s over {n} messages (1 connection); "
          f"server CPU {cpu_ms(c0, c1, n)} a message")  # fmt: skip
    print(f"  pipelined : {pl:,.0f} ORU msg/s (window 200)")
    return ls, pl


def vs(rate: float, base: float | None) -> str:
    return f" (×{rate / base:.2f} of the baseline)" if base else ""


def bench_mllp(
    url: str,
    n: int,
    hooks: bool,
    baseline: tuple[float, float] | None = None,
    quick: bool = False,
) -> int:
    port = free_port()
    proc = start_listener(url, port, hooks)
    deployed = "as deployed: runs marked due, the listener's evaluator evaluating them"
    tag = deployed if hooks else "ingest only, hooks off"
    p, mrn = ("h", SECRET_MRNS[1]) if hooks else ("n", SECRET_MRNS[0])
    n_ls = n
    per = max(25, n_ls // 4)
    try:
        lockstep(port, messages(p + "warm", 200, mrn))
        checkpoint(url, vacuum=True)
        backends = backend_pids(url)
        c0, b0 = proc_cpu([proc.pid]), proc_cpu(backends)
        ls = lockstep(port, messages(p + "ls", n_ls, mrn))
        c1, b1 = proc_cpu([proc.pid]), proc_cpu(backends)
        multi = {}
        for k in () if quick else SENDERS:
            batches = [messages(f"{p}c{k}s{j}_", per, mrn) for j in range(k)]
            checkpoint(url, vacuum=True)
            multi[k] = concurrent_lockstep(port, batches)
        batch = messages(p + "pl", n, mrn)
        checkpoint(url, vacuum=True)
        pl = pipelined(port, batch)
        lat = np.array([np.nan])
        if not quick:
            batch = messages(p + "lat", 1000, mrn)
            checkpoint(url, vacuum=True)
            lat = np.array(paced(port, batch, 100.0)) * 1000
    finally:
        proc.terminate()
        proc.wait()
    base_ls, base_pl = baseline or (None, None)
    print(f"[MLLP, {tag}]")
    print(
        f"  lock-step : {ls:,.0f} ORU msg/s over {n_ls} messages (20 OBX each, ACK after "
        f"commit, 1 connection){vs(ls, base_ls)}"
    )
    db_cpu = f", database backends {cpu_ms(b0, b1, n_ls)}" if backends else ""
    print(f"    CPU a message: listener {cpu_ms(c0, c1, n_ls)}{db_cpu}")
    for k, rate in multi.items():
        print(
            f"  lock-step, {k} senders: {rate:,.0f} ORU msg/s in total ({k} connections, each "
            f"waiting for its ACK; {per} messages each; commits shared across connections)"
        )
    print(f"  pipelined : {pl:,.0f} ORU msg/s (window 200, batched commits){vs(pl, base_pl)}")
    if quick:
        return 200 + n_ls + n
    print(
        f"  arrival→commit at 100 msg/s: p50 {np.percentile(lat, 50):.1f} ms, "
        f"p99 {np.percentile(lat, 99):.1f} ms, max {lat.max():.1f} ms (send → AA received)"
    )
    return 200 + n_ls + per * sum(SENDERS) + n + 1000


def count_hl7(url: str, sent: int) -> None:
    from sqlalchemy import text

    with make_engine(url).connect() as conn:
        stored = conn.execute(text("select count(*) from observation where source = 'hl7'"))
        n = stored.scalar() or 0
    print(f"stored via MLLP: {n:,} observations (expected {sent * 21:,}: 20 OBX + ΔP each)")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--messages", type=int, default=3000)
    ap.add_argument(
        "--parts", default="csv,baseline,mllp,hooks", help="any of csv, baseline, mllp, hooks"
    )
    ap.add_argument("--db", choices=("postgres", "sqlite"), default="postgres")
    ap.add_argument(
        "--quick", action="store_true", help="MLLP: lock-step and pipelined only (the ratios)"
    )
    args = ap.parse_args()
    parts = set(args.parts.split(","))
    if args.db == "sqlite":
        parts.discard("csv")  # binary COPY: PostgreSQL only
    if "csvread" in parts:
        bench_csv_read(args.rows)
        if parts == {"csvread"}:
            return
    name, url = make_sqlite_db() if args.db == "sqlite" else make_db()
    print(f"[database: {args.db}]")
    try:
        sent = 0
        if "csv" in parts:
            bench_csv(url, args.rows)
        baseline = bench_baseline(args.messages) if "baseline" in parts else None
        if args.db == "postgres" and parts & {"mllp", "hooks"}:
            checkpoint(url)
            floor = commit_floor(url)
            ceiling = 1000 / floor
            print(f"[durable commit floor: a one-row INSERT in its own transaction, p50 "
                  f"{floor:.2f} ms → at most {ceiling:,.0f} lock-step msg/s with nothing else "
                  f"done{vs(ceiling, baseline[0] if baseline else None)}]")  # fmt: skip
        if "mllp" in parts:
            sent += bench_mllp(url, args.messages, False, baseline, args.quick)
        if "hooks" in parts:
            second_run(url)
            sent += bench_mllp(url, args.messages, True, baseline, args.quick)
        count_hl7(url, sent)
    finally:
        drop_db(name)


if __name__ == "__main__":
    main()
