"""Run a unit written by `continuum service-config` the way systemd runs it, for the
directives those units use — a test harness (this machine has systemd's tools but no
systemd running as PID 1), not a product: a hospital runs the units under systemd.

Obeyed: ``EnvironmentFile=`` and ``Environment=`` (on a clean environment, as systemd gives
a service: nothing of the test's own leaks in), ``WorkingDirectory=``, ``ExecStart=`` with
``%i``, ``Restart=on-failure`` (restart after a non-zero exit or a kill by any signal but
the clean ones, SIGHUP/SIGINT/SIGTERM/SIGPIPE; not after a clean exit), ``RestartSec=``,
``StartLimitBurst=`` within ``StartLimitIntervalSec=`` (then the unit is left failed).
``User=`` is read but not switched to (the tests run as one user)."""

from __future__ import annotations

import contextlib
import os
import shlex
import signal
import subprocess
import threading
import time
from pathlib import Path

CLEAN_SIGNALS = {signal.SIGHUP, signal.SIGINT, signal.SIGTERM, signal.SIGPIPE}


def read_unit(path: Path) -> dict[str, dict[str, list[str]]]:
    """Section → key → values (a key may repeat), comments and blank lines skipped."""
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] | None = None
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], {})
            continue
        assert current is not None, f"{path}: {line!r} outside a section"
        key, sep, value = line.partition("=")
        assert sep, f"{path}: {line!r} is not KEY=VALUE"
        current.setdefault(key.strip(), []).append(value.strip())
    return sections


def read_env_file(path: Path) -> dict[str, str]:
    env = {}
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            env[key.strip()] = value.strip().strip('"')
    return env


class UnitRunner:
    """One instance of a unit, supervised on a thread; ``starts`` holds each start time."""

    def __init__(self, unit: Path, instance: str, log: Path) -> None:
        spec = read_unit(unit)
        service, head = spec["Service"], spec["Unit"]
        self.restart = service["Restart"][-1]
        self.restart_sec = float(service["RestartSec"][-1])
        self.burst = int(head["StartLimitBurst"][-1])
        self.interval = float(head["StartLimitIntervalSec"][-1])
        self.user = service["User"][-1]
        self.cwd = service["WorkingDirectory"][-1]
        self.argv = [a.replace("%i", instance) for a in shlex.split(service["ExecStart"][-1])]
        env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8"}
        for file in service.get("EnvironmentFile", []):
            env |= read_env_file(Path(file.lstrip("-")))
        for assignment in service.get("Environment", []):
            key, _, value = assignment.partition("=")
            env[key] = value
        self.env = env
        self.log = log
        self.starts: list[float] = []
        self.exits: list[int] = []
        self.state = "inactive"
        self.proc: subprocess.Popen[bytes] | None = None
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._supervise, daemon=True)

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    def start(self) -> UnitRunner:
        self._spawn()
        self._thread.start()
        return self

    def _spawn(self) -> None:
        self.starts.append(time.monotonic())
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                self.argv, env=self.env, cwd=self.cwd, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        self.state = "active"

    def failed(self, code: int) -> bool:
        """Restart=on-failure: a non-zero exit, or a kill by a signal that is not clean."""
        if code < 0:
            return signal.Signals(-code) not in CLEAN_SIGNALS
        return code != 0

    def _supervise(self) -> None:
        while True:
            assert self.proc is not None
            code = self.proc.wait()
            self.exits.append(code)
            if self._stopping.is_set() or self.restart != "on-failure" or not self.failed(code):
                self.state = "inactive" if not self.failed(code) else "failed"
                return
            recent = [t for t in self.starts if time.monotonic() - t < self.interval]
            if len(recent) >= self.burst:  # the start limit: left failed
                self.state = "failed"
                return
            self.state = "activating"
            if self._stopping.wait(self.restart_sec):
                self.state = "inactive"
                return
            self._spawn()

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """A signal to the running process's group (as the out-of-memory killer would)."""
        assert self.proc is not None
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, sig)

    def stop(self, timeout: float = 30.0) -> None:
        """systemctl stop: SIGTERM, and no restart."""
        self._stopping.set()
        if self.proc is not None and self.proc.poll() is None:
            self.kill(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill(signal.SIGKILL)
                self.proc.wait(30)
        self._thread.join(timeout=timeout)
