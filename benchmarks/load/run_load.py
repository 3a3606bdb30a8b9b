"""Load test on loopback: clinicians on the web pages plus a device feed over MLLP, against
two ``continuum serve`` processes and ``continuum ingest mllp`` on one fresh PostgreSQL
database holding the demo programme. Drives benchmarks/load/locustfile.py with Locust
(headless) and prints p50/p95/p99 per page, errors and the ingest lag.

1. CREATE DATABASE load_<random> on 127.0.0.1:5432, migrate, load the demo, add
   ``--users`` clinician accounts (perfusionist, physician, nurse in turn);
2. start two app processes (``continuum serve``, ports ``--app-ports`` or free ones) and the
   MLLP listener, each its own process, logs in a temporary folder;
3. run Locust for ``--minutes`` (or ``--seconds``): ``--users`` clinicians (think time
   ``--wait`` s between pages) and ``--oru-rate`` ORU^R01 messages/s over ``--senders``
   lock-step MLLP connections (default one per 5 messages/s) for the demo's active runs;
4. stop everything, drop the database (``--keep-db`` keeps it), print the table; exit 1
   when anything failed (a page, a message, or a traceback in a server log).

``--host URL`` sends the clinicians to URL (e.g. a reverse proxy in front of the two app
processes, started on ``--app-ports``) instead of to the two processes in turn.

Needs the optional ``load`` dependencies: ``.venv/bin/python -m pip install -e '.[load]'``.

    .venv/bin/python benchmarks/load/run_load.py [--minutes 10] [--users 50] [--oru-rate 100]
        [--host http://127.0.0.1:8080 --app-ports 8101,8102] [--json out.json] [--keep-db]
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import resource
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
PG_ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
PASSWORD = "load-test-password"
ROLES = (("perfusionist", "perfusion"), ("physician", "intensive_care"), ("nurse", "nursing"))
CLI = "from continuum.cli import main; main()"  # this venv's continuum, whatever the shebang


@dataclass
class Row:
    kind: str
    name: str
    count: int
    failures: int
    p50: float
    p95: float
    p99: float
    max: float


@dataclass
class Result:
    seconds: float
    users: int
    oru_rate: float
    rows: list[Row] = field(default_factory=list)
    failures: list[dict[str, str]] = field(default_factory=list)
    server_errors: list[str] = field(default_factory=list)
    # CPU seconds used during the run per process, and the machine's (all processes).
    cpu: dict[str, float] = field(default_factory=dict)
    # Each page alone before the load (one client, median of 5, ms): its own cost.
    alone: dict[str, float] = field(default_factory=dict)
    load_average: float = 0.0

    @property
    def errors(self) -> int:
        return sum(r.failures for r in self.rows) + len(self.server_errors)

    def row(self, kind: str, name: str) -> Row | None:
        return next((r for r in self.rows if r.kind == kind and r.name == name), None)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def create_database(name: str) -> str:
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"


def drop_database(name: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def prepare(url: str, users: int) -> tuple[list[str], list[tuple[int, str]]]:
    """The demo programme, ``users`` clinician accounts, and the active runs (id, MRN)."""
    from rich.console import Console
    from sqlalchemy import select

    from continuum import demo
    from continuum.config import Settings
    from continuum.core import accounts
    from continuum.core.people import PatientIdentity
    from continuum.core.roles import SYSTEM
    from continuum.core.run_record import Run
    from continuum.db import make_engine, make_sessionmaker, unit_of_work

    settings = Settings(demo=True, database_url=url)
    demo.build(settings, console=Console(file=open(os.devnull, "w")))  # noqa: SIM115
    engine = make_engine(url)
    names: list[str] = []
    with unit_of_work(make_sessionmaker(engine)) as db:
        for i in range(users):
            role, discipline = ROLES[i % len(ROLES)]
            username = f"load{i:03d}"
            accounts.create_staff(
                db,
                SYSTEM,
                accounts.StaffCreate(
                    name=f"Load {role} {i}",
                    discipline=discipline,
                    role=role,
                    username=username,
                    password=PASSWORD,
                ),
            )
            names.append(f"{username}:{role}")
        stmt = (
            select(Run.id, PatientIdentity.mrn)
            .join(PatientIdentity, PatientIdentity.patient_id == Run.patient_id)
            .where(Run.ended_at.is_(None))
            .order_by(Run.id)
        )
        runs = [(int(r), str(m)) for r, m in db.execute(stmt)]
    engine.dispose()
    # As autovacuum does after a bulk load (a server running with autovacuum off would
    # otherwise plan every read of the fresh demo tables without statistics).
    with psycopg_connect(url) as conn:
        conn.execute("VACUUM ANALYZE")
    return names, runs


def psycopg_connect(url: str) -> Any:
    import psycopg

    return psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True)


def wait_http(url: str, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url + "/healthz", timeout=2).read()
            return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"{url} did not answer within {seconds:g} s")


def wait_tcp(port: int, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"the MLLP listener on {port} did not open within {seconds:g} s")


def start(
    args: list[str], env: dict[str, str], log: Path, name: str = ""
) -> subprocess.Popen[bytes]:
    """``name``: the process's PostgreSQL connections say so (``application_name``)."""
    env = {**env, "PGAPPNAME": f"load {name}"} if name else env
    with open(log, "wb") as out:
        return subprocess.Popen(
            [sys.executable, "-c", CLI, *args], env=env, stdout=out, stderr=subprocess.STDOUT
        )


def stop(procs: list[subprocess.Popen[bytes]]) -> None:
    for p in procs:
        if p.poll() is None:
            p.terminate()
    for p in procs:
        try:
            p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def process_cpu(pid: int) -> float:
    """User + system CPU seconds of a live process (Linux /proc)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return math.nan
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_cpu() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot (Linux /proc/stat)."""
    ticks = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = ticks[3] + ticks[4]
    hz = os.sysconf("SC_CLK_TCK")
    return (sum(ticks) - idle) / hz, sum(ticks) / hz


def postgres_cpu(database: str) -> float:
    """CPU seconds of the live PostgreSQL backends connected to ``database``."""
    return sum(postgres_cpu_by_client(database).values())


def postgres_cpu_by_client(database: str) -> dict[str, float]:
    """CPU seconds of the live PostgreSQL backends connected to ``database``, per client
    (its ``application_name``: each process this script starts sets ``PGAPPNAME``, which
    libpq sends; "other" for the rest)."""
    import psycopg

    with psycopg.connect(f"{PG_ADMIN.rsplit(' ', 1)[0]} dbname={database}", autocommit=True) as c:
        names = dict(
            c.execute(
                "SELECT pid, application_name FROM pg_stat_activity WHERE datname = %s "
                "AND pid <> pg_backend_pid()",
                (database,),
            ).fetchall()
        )
    out: dict[str, float] = {}
    for pid, app in names.items():
        cpu = process_cpu(int(pid))
        if not math.isnan(cpu):
            key = app if str(app).startswith("load ") else "other"
            out[key] = out.get(key, 0.0) + cpu
    return out


ALONE = ("/login", "/rounds (board)", "/runs", "/runs/[id]", "/runs/[id]/rounds",
         "/runs/[id]/circuit-check", "/runs/[id]/alerts", "/alerts")  # fmt: skip


def pages_alone(host: str, username: str, run_id: int, repeat: int = 5) -> dict[str, float]:
    """Each page read by one client with nothing else running: median ms of ``repeat``."""
    import re
    import statistics

    import httpx

    out: dict[str, float] = {}
    with httpx.Client(base_url=host, timeout=60) as client:
        page = client.get("/login").text
        token = re.search(r'name="csrf_token" value="([^"]+)"', page)
        client.post("/login", data={"username": username, "password": PASSWORD,
                                    "csrf_token": token.group(1) if token else ""})  # fmt: skip
        for name in ALONE:
            path = name.split(" ")[0].replace("[id]", str(run_id))
            times = []
            for _ in range(repeat):
                t0 = time.perf_counter()
                client.get(path).raise_for_status()
                times.append((time.perf_counter() - t0) * 1000)
            out[name] = statistics.median(times)
    return out


def _num(value: str) -> float:
    try:
        return float(value)
    except ValueError:
        return math.nan


def read_stats(prefix: Path) -> tuple[list[Row], list[dict[str, str]]]:
    rows: list[Row] = []
    with open(f"{prefix}_stats.csv", newline="") as fh:
        for rec in csv.DictReader(fh):
            if rec["Name"] == "Aggregated":
                continue
            rows.append(
                Row(
                    rec["Type"],
                    rec["Name"],
                    int(rec["Request Count"]),
                    int(rec["Failure Count"]),
                    _num(rec["50%"]),
                    _num(rec["95%"]),
                    _num(rec["99%"]),
                    _num(rec["Max Response Time"]),
                )
            )
    with open(f"{prefix}_failures.csv", newline="") as fh:
        failures = list(csv.DictReader(fh))
    return rows, failures


def server_errors(logs: list[Path]) -> list[str]:
    """Tracebacks and 5xx answers in the app and listener logs."""
    found: list[str] = []
    for log in logs:
        for line in log.read_text(errors="replace").splitlines():
            if "Traceback" in line or '" 50' in line or "ERROR" in line:
                found.append(f"{log.name}: {line.strip()[:200]}")
    return found


def run(opts: argparse.Namespace) -> Result:
    seconds = opts.seconds if opts.seconds else opts.minutes * 60
    senders = opts.senders if opts.senders is not None else math.ceil(opts.oru_rate / 5)
    senders = senders if opts.oru_rate > 0 else 0
    name = f"load_{uuid.uuid4().hex[:8]}"
    url = create_database(name)
    procs: list[subprocess.Popen[bytes]] = []
    with tempfile.TemporaryDirectory(prefix="continuum_load_") as tmp:
        folder = Path(tmp)
        try:
            say(f"database {name}: demo programme and {opts.users} clinician accounts …")
            accounts, runs = prepare(url, opts.users)
            env = {
                **os.environ,
                "CONTINUUM_DATABASE_URL": url,
                "CONTINUUM_SECRET_KEY": secrets.token_urlsafe(48),
                "CONTINUUM_DATA_DIR": str(folder),
            }
            ports = (
                [int(p) for p in opts.app_ports.split(",")]
                if opts.app_ports
                else [free_port(), free_port()]
            )
            mllp_port = free_port()
            logs = [folder / f"app{i}.log" for i in range(len(ports))] + [folder / "mllp.log"]
            for port, log in zip(ports, logs, strict=False):
                procs.append(start(["serve", "--port", str(port)], env, log, f"app {port}"))
            mllp = ["ingest", "mllp", "--port", str(mllp_port)]
            procs.append(start(mllp, env, logs[-1], "MLLP listener"))
            hosts = [f"http://127.0.0.1:{p}" for p in ports]
            for h in hosts:
                wait_http(h)
            wait_tcp(mllp_port)
            if opts.host:
                wait_http(opts.host.rstrip("/"))
            say(f"apps on {', '.join(hosts)}, MLLP on {mllp_port}; each page alone …")
            alone = pages_alone(hosts[0], accounts[0].split(":")[0], runs[-1][0])
            say(f"Locust for {seconds:g} s …")
            prefix = folder / "locust"
            locust_env = {
                **env,
                "LOAD_HOSTS": opts.host or ",".join(hosts),
                "LOAD_USERS": ",".join(accounts),
                "LOAD_PASSWORD": PASSWORD,
                "LOAD_RUNS": json.dumps(runs),
                "LOAD_MLLP": f"127.0.0.1:{mllp_port}",
                "LOAD_ORU_RATE": str(opts.oru_rate),
                "LOAD_MLLP_SENDERS": str(senders),
                "LOAD_DB": f"host=127.0.0.1 port=5432 user=postgres dbname={name} "
                "application_name='load ingest-lag probe'",
                "LOAD_WAIT": opts.wait,
            }
            cmd = [
                sys.executable,
                "-m",
                "locust",
                "-f",
                str(HERE / "locustfile.py"),
                "--headless",
                "--only-summary",
                "--users",
                str(opts.users + senders),
                "--spawn-rate",
                str(opts.spawn_rate),
                "--run-time",
                f"{int(seconds)}s",
                "--stop-timeout",
                "10",
                "--csv",
                str(prefix),
                "--loglevel",
                "WARNING",
                "--host",
                hosts[0],
            ]
            names = [f"app {p}" for p in ports] + ["MLLP listener"]
            before = {n: process_cpu(p.pid) for n, p in zip(names, procs, strict=True)}
            pg_before = postgres_cpu_by_client(name)
            before["PostgreSQL"] = sum(pg_before.values())
            children, machine = resource.getrusage(resource.RUSAGE_CHILDREN), machine_cpu()
            with open(folder / "locust.log", "wb") as out:
                code = subprocess.run(
                    cmd, env=locust_env, stdout=out, stderr=subprocess.STDOUT, timeout=seconds + 300
                ).returncode
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            busy = machine_cpu()
            cpu = {n: process_cpu(p.pid) - before[n] for n, p in zip(names, procs, strict=True)}
            pg_after = postgres_cpu_by_client(name)
            cpu["PostgreSQL"] = sum(pg_after.values()) - before["PostgreSQL"]
            for client in sorted(pg_after):  # its share, for the processes' connections
                used = pg_after[client] - pg_before.get(client, 0.0)
                cpu[f"PostgreSQL for {client.removeprefix('load ')}"] = used
            cpu["Locust"] = after.ru_utime + after.ru_stime - children.ru_utime - children.ru_stime
            cpu["machine busy"] = busy[0] - machine[0]
            cpu["machine capacity"] = busy[1] - machine[1]
            load_average = os.getloadavg()[0]
            if not Path(f"{prefix}_stats.csv").exists():
                raise RuntimeError(
                    f"Locust exited {code} without statistics:\n"
                    + (folder / "locust.log").read_text()[-3000:]
                )
            rows, failures = read_stats(prefix)
        finally:
            stop(procs)
            if not opts.keep_db:
                drop_database(name)
            elif procs:
                say(f"kept database {name}")
        result = Result(
            seconds,
            opts.users,
            opts.oru_rate,
            rows,
            failures,
            server_errors(logs),
            cpu=cpu,
            load_average=load_average,
            alone=alone,
        )
    return result


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def report(result: Result) -> str:
    out = [
        f"{result.users} clinicians + {result.oru_rate:g} ORU^R01/s for "
        f"{result.seconds:g} s, two app processes + MLLP listener, PostgreSQL",
        "",
        f"{'entry':<48} {'count':>7} {'fail':>5} {'p50':>7} {'p95':>7} {'p99':>7} {'max':>7}  (ms)",
    ]
    pages = [r for r in result.rows if r.kind in ("GET", "POST")]
    for r in sorted(pages, key=lambda r: (r.name.split(" ", 1)[-1], r.kind)) + [
        r for r in result.rows if r.kind not in ("GET", "POST")
    ]:
        out.append(
            f"{r.kind + ' ' + r.name:<48.48} {r.count:>7} {r.failures:>5} {r.p50:>7.0f} "
            f"{r.p95:>7.0f} {r.p99:>7.0f} {r.max:>7.0f} "
            + (
                f"{result.alone[r.name]:>6.0f}"
                if r.kind == "GET" and r.name in result.alone
                else ""
            )
        )
    worst = max((r for r in pages if r.name != "/login"), key=lambda r: r.p95, default=None)
    ack = result.row("MLLP", "ORU^R01 send→AA (committed)")
    seen = result.row("INGEST", "send→visible (DB poll)")
    out.append("")
    if worst:
        ok = "met" if worst.p95 < 500 else "MISSED"
        out.append(
            f"slowest page p95: {worst.kind} {worst.name} {worst.p95:.0f} ms (goal < 500 ms: {ok})"
        )
    out.append(
        f"errors: {result.errors} (goal 0)"
        + (f" — {len(result.server_errors)} in server logs" if result.server_errors else "")
    )
    if ack:
        out.append(
            f"ORU^R01 sent: {ack.count} = {ack.count / result.seconds:.1f}/s "
            f"(asked {result.oru_rate:g}/s); send→AA p50 {ack.p50:.0f} ms, "
            f"p99 {ack.p99:.0f} ms, max {ack.max:.0f} ms"
        )
    if seen:
        ok = "met" if seen.max < 2000 and seen.failures == 0 else "MISSED"
        out.append(
            f"ingest lag (send → observation in the database, {seen.count} probes): "
            f"p50 {seen.p50:.0f} ms, p95 {seen.p95:.0f} ms, p99 {seen.p99:.0f} ms, "
            f"max {seen.max:.0f} ms (goal < 2 s: {ok})"
        )
    if result.cpu:
        cap = result.cpu.get("machine capacity", 0) or math.nan
        shares = {k.removeprefix("PostgreSQL for "): v for k, v in result.cpu.items()
                  if k.startswith("PostgreSQL for ")}  # fmt: skip
        parts = [
            f"{k} {v:.0f} s"
            + (
                " (" + ", ".join(f"for {c} {u:.0f} s" for c, u in shares.items()) + ")"
                if k == "PostgreSQL" and shares
                else ""
            )
            for k, v in result.cpu.items()
            if not k.startswith(("machine", "PostgreSQL for "))
        ]
        out.append(
            f"CPU during the run: {', '.join(parts)}; machine busy "
            f"{result.cpu.get('machine busy', 0):.0f} of {cap:.0f} CPU s "
            f"({os.cpu_count()} cores, load average {result.load_average:.1f} at the end; "
            "the rest is other work on the machine)"
        )
    for f in result.failures[:10]:
        out.append(
            f"  failed {f.get('Occurrences')}× {f.get('Method')} {f.get('Name')}: "
            f"{f.get('Error', '')[:150]}"
        )
    for line in result.server_errors[:10]:
        out.append(f"  server log: {line}")
    return "\n".join(out)


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("--minutes", type=float, default=10.0)
    p.add_argument("--seconds", type=float, default=0, help="overrides --minutes")
    p.add_argument("--users", type=int, default=50, help="simulated clinicians")
    p.add_argument("--oru-rate", type=float, default=100.0, help="ORU^R01 messages/s")
    p.add_argument("--senders", type=int, default=None, help="MLLP connections")
    p.add_argument("--wait", default="2,6", help="think time between pages, low,high s")
    p.add_argument("--spawn-rate", type=float, default=5.0, help="clinicians started per s")
    p.add_argument("--host", default="", help="send the clinicians here (e.g. a proxy)")
    p.add_argument("--app-ports", default="", help="ports of the two app processes")
    p.add_argument("--json", type=Path, default=None, help="also write the figures here")
    p.add_argument("--keep-db", action="store_true")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> Result:
    opts = parse(argv)
    result = run(opts)
    print(report(result), flush=True)
    if opts.json:
        data = asdict(result) | {"errors": result.errors}
        opts.json.write_text(json.dumps(data, indent=2, default=str))
    return result


if __name__ == "__main__":
    sys.exit(1 if main().errors else 0)
