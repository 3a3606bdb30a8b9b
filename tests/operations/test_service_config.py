"""Supervised processes (`continuum service-config`): the systemd units it writes, checked by
``systemd-analyze verify`` where systemd's tools are installed; `continuum serve` exits
non-zero on a fatal error (so ``Restart=on-failure`` restarts it); and an app process
started from its unit, killed with SIGKILL, is restarted as the unit says and serves the
same sessions and the same live alert stream (both live in PostgreSQL)."""

from __future__ import annotations

import contextlib
import getpass
import shutil
import signal
import socket
import subprocess
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest

from continuum.cli import main
from continuum.db import make_engine, make_sessionmaker
from tests.client import http_client, http_get
from tests.operations.processes import CLI, SECRET, app_env, free_port, login, wait_healthy
from tests.operations.test_several_processes import (
    Stream,
    _cookies,
    _deferred_hemolysis,
    _raised_events,
    _wait,
)
from tests.operations.units import UnitRunner, read_unit

EVENT_WAIT_S = 90.0


def _write_units(out: Path, *args: str) -> None:
    main(["service-config", "-o", str(out), *args])


def test_units_for_every_process(tmp_path: Path) -> None:
    out = tmp_path / "units"
    env_file = tmp_path / "continuum.env"
    _write_units(
        out, "--app-port", "8000", "--app-port", "8001", "--mllp-port", "2575",
        "--mqtt", "127.0.0.1:1883", "--via", "nats", "--ingest-workers", "2",
        "--user", "continuum", "--env-file", str(env_file), "--working-dir", str(tmp_path),
        "--restart-burst", "4", "--restart-interval", "120",
    )  # fmt: skip
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted([
        "continuum-app@.service", "continuum-mllp.service", "continuum-mqtt.service",
        "continuum-ingest-worker@.service", "continuum.target", "continuum.env.example",
    ])  # fmt: skip
    app = read_unit(out / "continuum-app@.service")
    assert app["Service"]["ExecStart"][0].endswith(" serve --host 127.0.0.1 --port %i")
    assert Path(app["Service"]["ExecStart"][0].split()[0]).is_absolute()
    assert "postgresql.service" in app["Unit"]["After"][0]
    for name in ("continuum-app@.service", "continuum-mllp.service", "continuum-mqtt.service",
                 "continuum-ingest-worker@.service"):  # fmt: skip
        unit = read_unit(out / name)
        s, u = unit["Service"], unit["Unit"]
        assert s["Restart"] == ["on-failure"] and s["RestartSec"] == ["2"], name
        assert s["User"] == ["continuum"] and s["EnvironmentFile"] == [str(env_file)], name
        assert (u["StartLimitBurst"], u["StartLimitIntervalSec"]) == (["4"], ["120"]), name
        assert u["PartOf"] == ["continuum.target"], name
        assert unit["Install"]["WantedBy"] == ["continuum.target"], name
    mllp = read_unit(out / "continuum-mllp.service")
    assert mllp["Service"]["ExecStart"][0].endswith("ingest mllp --host 0.0.0.0 --port 2575 "
                                                    "--via nats")  # fmt: skip
    assert "nats-server.service" in mllp["Unit"]["After"][0]
    mqtt = read_unit(out / "continuum-mqtt.service")
    assert "--host 127.0.0.1 --port 1883 --via nats" in mqtt["Service"]["ExecStart"][0]
    assert "mosquitto.service" in mqtt["Unit"]["After"][0]
    worker = read_unit(out / "continuum-ingest-worker@.service")
    assert worker["Service"]["ExecStart"][0].endswith(" ingest worker")
    assert {"postgresql.service", "nats-server.service"} <= set(worker["Unit"]["After"][0].split())
    target = read_unit(out / "continuum.target")
    assert target["Unit"]["Wants"][0].split() == [
        "continuum-app@8000.service", "continuum-app@8001.service", "continuum-mllp.service",
        "continuum-mqtt.service", "continuum-ingest-worker@1.service",
        "continuum-ingest-worker@2.service",
    ]  # fmt: skip
    assert "CONTINUUM_SECRET_KEY=" in (out / "continuum.env.example").read_text()


def test_systemd_analyze_verifies_the_units(tmp_path: Path) -> None:
    exe = shutil.which("systemd-analyze")
    if exe is None:
        pytest.skip("systemd-analyze is not installed (Debian: systemd); the units are "
                    "still checked by the other tests")  # fmt: skip
    out = tmp_path / "units"
    _write_units(
        out, "--app-port", "8000", "--mllp-port", "2575", "--mqtt", "127.0.0.1:1883",
        "--via", "nats", "--ingest-workers", "1", "--user", getpass.getuser(),
        "--env-file", str(tmp_path / "continuum.env"), "--working-dir", str(tmp_path),
    )  # fmt: skip
    # template units are verified through an instance of each
    (out / "continuum-app@8000.service").symlink_to("continuum-app@.service")
    (out / "continuum-ingest-worker@1.service").symlink_to("continuum-ingest-worker@.service")
    units = ["continuum-app@8000.service", "continuum-mllp.service", "continuum-mqtt.service",
             "continuum-ingest-worker@1.service", "continuum.target"]  # fmt: skip
    done = subprocess.run([exe, "verify", "--man=no", *units], cwd=out, capture_output=True,
                          text=True, timeout=120)  # fmt: skip
    # verify exits 0 on unknown keys and bad values too, but names them: nothing may be said
    assert done.returncode == 0 and done.stderr.strip() == "", done.stderr
    # and it does catch a broken unit (the check is not vacuous)
    broken = out / "continuum-mllp.service"
    broken.write_text(broken.read_text().replace("Restart=on-failure", "Restart=on-falure"))
    done = subprocess.run([exe, "verify", "--man=no", "continuum-mllp.service"], cwd=out,
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert "on-falure" in done.stderr


def test_bad_values_are_refused_and_nothing_is_written(tmp_path: Path) -> None:
    out = tmp_path / "units"
    done = subprocess.run(
        [*CLI, "service-config", "-o", str(out), "--app-port", "0", "--user", "Root User",
         "--env-file", "relative.env", "--via", "kafka"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 2
    err = " ".join(done.stderr.split())
    for part in ("port 0 is outside 1–65535", "--user 'Root User'", "--env-file relative.env",
                 "--via kafka"):  # fmt: skip
        assert part in err, err
    assert not out.exists()


def _fatal_exit(args: list[str], env: dict[str, str]) -> tuple[int, str]:
    done = subprocess.run([*CLI, *args], env=env, capture_output=True, text=True, timeout=240)
    return done.returncode, done.stdout + done.stderr


def test_serve_exits_non_zero_on_fatal_errors(sqlite_url: str, tmp_path: Path) -> None:
    """What systemd's Restart=on-failure needs: a process that cannot serve ends with a
    non-zero status rather than lingering (its port taken, no secret key). A database that
    is down is not fatal: the process stays up and its pool reconnects when it is back."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, out = _fatal_exit(["serve", "--port", str(port)], app_env(sqlite_url, tmp_path))
        assert code != 0, out
        assert "address already in use" in out.lower(), out[-2000:]
    env = app_env(sqlite_url, tmp_path)
    env.pop("CONTINUUM_SECRET_KEY")
    code, out = _fatal_exit(["serve", "--port", str(free_port())], env)
    assert code != 0 and "CONTINUUM_SECRET_KEY" in out


@pytest.mark.slow
def test_killed_app_process_restarts_under_its_unit_and_resumes(
    pg_url: str, tmp_path: Path
) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env_file = tmp_path / "continuum.env"
    values = {k: v for k, v in app_env(pg_url, tmp_path).items() if k.startswith("CONTINUUM_")}
    assert values["CONTINUUM_SECRET_KEY"] == SECRET
    env_file.write_text("".join(f"{k}={v}\n" for k, v in values.items()))
    _write_units(
        tmp_path / "units", "--app-port", str(port), "--user", getpass.getuser(),
        "--env-file", str(env_file), "--working-dir", str(tmp_path), "--restart-sec", "1",
    )  # fmt: skip
    engine = make_engine(pg_url)
    sessions = make_sessionmaker(engine)
    unit_file = tmp_path / "units" / "continuum-app@.service"
    unit = UnitRunner(unit_file, str(port), tmp_path / "app.log")
    unit.start()
    try:
        first_pid = wait_healthy(base)
        assert first_pid == str(unit.pid)
        c = http_client(base_url=base, timeout=30)
        assert login(c, "physician").status_code == 303
        cookies = _cookies(c)
        c.close()
        stream = Stream(base, cookies)
        _wait(stream.ready, 30, "the stream's ready event")
        first = _deferred_hemolysis(sessions, "SV-1")
        _wait(lambda: stream.alerts_for(first), EVENT_WAIT_S, "the alert on the live stream")
        cursor = stream.alerts_for(first)[-1][0]

        unit.kill(signal.SIGKILL)  # the out-of-memory killer, say
        _wait(lambda: len(unit.starts) == 2, 30, "the unit restarting the process")
        assert unit.exits == [-signal.SIGKILL]
        second_pid = wait_healthy(base)
        assert second_pid != first_pid and second_pid == str(unit.pid)

        # the same session, without logging in again, and the stream from its cursor
        assert http_get(f"{base}/runs", cookies=cookies, timeout=30).status_code == 200
        again = Stream(base, cookies, last_id=cursor)
        _wait(again.ready, 30, "the resumed stream's ready event")
        second = _deferred_hemolysis(sessions, "SV-2")
        _wait(lambda: again.alerts_for(second), EVENT_WAIT_S, "the alert after the restart")
        assert not again.alerts_for(first)  # nothing the page had already seen
        assert _raised_events(sessions, first) == _raised_events(sessions, second) == 1
    finally:
        # systemctl stop: SIGTERM; the open stream is cut after the graceful-shutdown
        # timeout (cli.GRACEFUL_SHUTDOWN_S), well within TimeoutStopSec; a clean exit
        unit.stop(timeout=float(read_unit(unit_file)["Service"]["TimeoutStopSec"][0]))
        engine.dispose()
    # uvicorn ends with the signal it received (a clean stop for systemd), not SIGKILL
    assert unit.exits[-1] in (0, -signal.SIGTERM), unit.exits
    assert unit.state == "inactive" and len(unit.starts) == 2
    time.sleep(1.5)  # longer than RestartSec: still not restarted
    assert len(unit.starts) == 2


@pytest.mark.slow
def test_killed_ingest_worker_restarts_under_its_unit_and_resumes_the_stream(
    pg_url: str, tmp_path: Path
) -> None:
    """A NATS ingest worker from its unit: SIGKILL once it has stored the first messages,
    more published while it is down; restarted after RestartSec, it takes up the durable
    consumer where the dead one stopped: every message stored once, nothing left on the
    broker, and the Operations check sees the restarted worker (mid-batch kills:
    tests/ingest/test_nats_ingest.py)."""
    from continuum.ingest.nats_ingest import BrokerConfig, Publisher, delete_stream
    from continuum.operations.broker_health import check
    from tests.conftest import need
    from tests.ingest.helpers import per_message
    from tests.ingest.test_mllp_reliability import message
    from tests.ingest.test_nats_ingest import TOTAL, assert_all_once, nats_up, run_async

    need(nats_up(), "NATS (JetStream) is not answering on 127.0.0.1:4222")
    tag = uuid.uuid4().hex[:10]
    config = BrokerConfig(stream=f"CS_{tag}", subject=f"cs{tag}.ingest", ack_wait=2.0)
    env_file = tmp_path / "continuum.env"
    values = {k: v for k, v in app_env(pg_url, tmp_path).items() if k.startswith("CONTINUUM_")}
    values |= {
        "CONTINUUM_NATS_URL": config.url, "CONTINUUM_NATS_STREAM": config.stream,
        "CONTINUUM_NATS_SUBJECT": config.subject, "CONTINUUM_NATS_ACK_WAIT_S": "2",
    }  # fmt: skip
    env_file.write_text("".join(f"{k}={v}\n" for k, v in values.items()))
    _write_units(
        tmp_path / "units", "--ingest-workers", "1", "--user", getpass.getuser(),
        "--env-file", str(env_file), "--working-dir", str(tmp_path), "--restart-sec", "1",
    )  # fmt: skip
    engine = make_engine(pg_url)
    sessions = make_sessionmaker(engine)

    async def publish(numbers: range) -> None:
        publisher = await Publisher(config).start()
        now = datetime.now(UTC)
        for i in numbers:
            await publisher.publish("hl7", f"K{i:05d}", message(i).encode(), now)
        await publisher.close()

    unit_file = tmp_path / "units" / "continuum-ingest-worker@.service"
    unit = UnitRunner(unit_file, "1", tmp_path / "worker.log")
    try:
        run_async(publish(range(0, TOTAL // 3)))
        unit.start()
        _wait(lambda: len(per_message(sessions, "hl7:K%")) > 0, 120, "the worker storing")
        unit.kill(signal.SIGKILL)
        run_async(publish(range(TOTAL // 3, TOTAL)))  # while it is down and restarting
        _wait(lambda: len(unit.starts) == 2, 30, "the unit restarting the worker")
        assert unit.exits == [-signal.SIGKILL]
        assert_all_once(sessions, config)
        health = run_async(check(config))
        assert health.status == "ok" and len(health.workers) == 1, health
        assert health.workers[0].name.endswith(f":{unit.pid}")
        assert (health.stream_messages, health.ack_pending) == (0, 0)
    finally:
        unit.stop()
        engine.dispose()
        with contextlib.suppress(Exception):
            run_async(delete_stream(config))
    assert unit.state == "inactive" and len(unit.starts) == 2
