"""Real processes for the deployment tests: `continuum serve`, `continuum alerts worker` and
nginx, each in its own process group, stopped by that group only (never by name)."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.client import http_get
from tests.seed import password_for

CLI = [sys.executable, "-c", "from continuum.cli import main; main()"]
SECRET = "deployment-test-secret-" + "x" * 32
START_S = 180.0  # a busy shared two-core machine has taken a minute to start four workers


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def app_env(url: str, data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONTINUUM_")}
    env |= {
        "CONTINUUM_DATABASE_URL": url,
        "CONTINUUM_SECRET_KEY": SECRET,
        "CONTINUUM_DATA_DIR": str(data_dir),
        "CONTINUUM_EVALUATOR_INTERVAL_S": "0.5",
        "CONTINUUM_HOUSEKEEPING_INTERVAL_H": "0",
        "CONTINUUM_DB_CONNECTIONS": "4",
        "PYTHONUNBUFFERED": "1",
    }
    return env | extra


class Proc:
    """A child process in a session of its own, its output in a log file."""

    def __init__(self, args: list[str], env: dict[str, str], log: Path) -> None:
        self.log = log
        self._out = log.open("wb")
        self.popen = subprocess.Popen(
            args, env=env, stdout=self._out, stderr=subprocess.STDOUT, start_new_session=True
        )

    @property
    def pid(self) -> int:
        return self.popen.pid

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def alive(self) -> bool:
        return self.popen.poll() is None

    def kill(self) -> None:
        """SIGKILL to the whole group (the process and any workers it spawned)."""
        self._signal(signal.SIGKILL)
        self.popen.wait(30)

    def stop(self, timeout: float = 30.0) -> None:
        if self.alive():
            self._signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self._signal(signal.SIGKILL)
                self.popen.wait(30)
        else:
            self._signal(signal.SIGKILL)  # workers a dead parent may have left behind
        self._out.close()

    def _signal(self, sig: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, sig)


def serve(url: str, tmp: Path, name: str, workers: int = 1, **env: str) -> tuple[Proc, str]:
    port = free_port()
    args = [*CLI, "serve", "--port", str(port), "--workers", str(workers)]
    proc = Proc(args, app_env(url, tmp, **env), tmp / f"{name}.log")
    return proc, f"http://127.0.0.1:{port}"


def wait_healthy(base: str, proc: Proc | None = None, timeout: float = START_S) -> str:
    """Wait until ``base``/healthz answers; returns the answering process id."""
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        if proc is not None and not proc.alive():
            raise AssertionError(f"the process exited:\n{proc.text()[-3000:]}")
        try:
            r = http_get(f"{base}/healthz", timeout=5)
            if r.status_code == 200:
                return str(r.json()["process"])
        except httpx.HTTPError as exc:
            last = exc
        time.sleep(0.3)
    log = proc.text()[-3000:] if proc else ""
    raise AssertionError(f"{base} did not answer in {timeout:g} s ({last}):\n{log}")


def nginx_path() -> str | None:
    return shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx",) if Path(p).exists()), None
    )


class Nginx:
    """nginx from a standalone configuration written by `continuum proxy-config`."""

    def __init__(self, prefix: Path, port: int) -> None:
        self.prefix, self.port = prefix, port
        self.conf = prefix / "nginx.conf"
        self.proc: Proc | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def write(self, upstreams: list[str]) -> None:
        args = ["proxy-config", "--listen", str(self.port), "--standalone", str(self.prefix)]
        for u in upstreams:
            args += ["--upstream", u.removeprefix("http://")]
        done = subprocess.run(
            [*CLI, *args, "-o", str(self.conf)], capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stderr

    def _cmd(self, *extra: str) -> list[str]:
        exe = nginx_path()
        assert exe
        return [exe, "-p", str(self.prefix), "-c", str(self.conf), *extra]

    def start(self) -> None:
        self.proc = Proc(self._cmd("-g", "daemon off;"), dict(os.environ), self.prefix / "out.log")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                assert self.proc.alive(), self.proc.text() + self.error_log()
                time.sleep(0.1)
        raise AssertionError("nginx did not listen:\n" + self.error_log())

    def reload(self) -> None:
        done = subprocess.run(self._cmd("-s", "reload"), capture_output=True, text=True)
        assert done.returncode == 0, done.stderr

    def error_log(self) -> str:
        path = self.prefix / "error.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.stop()


CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def login(client: httpx.Client, username: str, password: str | None = None) -> httpx.Response:
    page = client.get("/login")
    found = CSRF.search(page.text)
    assert found, page.text[:500]
    return client.post(
        "/login",
        data={
            "username": username,
            "password": password if password is not None else password_for(username),
            "csrf_token": found.group(1),
            "next": "/runs",
        },
    )
