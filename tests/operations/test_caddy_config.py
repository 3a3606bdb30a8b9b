"""`continuum proxy-config --server caddy`: a Caddyfile equivalent to the nginx file (load
balancing with health checks, the live stream unbuffered, the body limit, X-Forwarded-For
set by the proxy), well-formed, accepted by `caddy validate` (plain and with TLS) and, for
real, in front of two app processes on PostgreSQL: both take turns, one is killed and
requests go on through the other, the live stream passes unbuffered.

Caddy is optional for a site (nginx is the documented default). The tests that run Caddy
skip, saying so, where it is not installed (Debian: `apt-get install caddy`); .ci/run
installs it and CONTINUUM_REQUIRE_ALL turns that skip into a failure."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

from continuum.operations.proxy import (
    GRACE_PERIOD_S,
    STREAM_PATH,
    ProxyConfig,
    ProxyConfigError,
    caddy_config,
)
from tests.client import http_client, http_get
from tests.conftest import need
from tests.operations.processes import CLI, Proc, free_port, login, serve, wait_healthy
from tests.operations.test_several_processes import Stream, _cookies, _processes, _wait

UPSTREAMS = ("127.0.0.1:8001", "10.1.2.3:8000", "[::1]:8002")


def _caddy() -> str:
    exe = shutil.which("caddy")
    need(exe is not None, "caddy (optional for a site; Debian: apt-get install caddy)")
    assert exe is not None
    return exe


def _blocks(text: str) -> dict[str, str]:
    """The body of each ``handle`` block, by its matcher ('' for the catch-all)."""
    out = {}
    for part in text.split("\thandle ")[1:]:
        head, _, body = part.partition("{\n")
        out[head.strip()] = body
    return out


def test_the_caddyfile_carries_what_the_app_relies_on() -> None:
    text = caddy_config(ProxyConfig(UPSTREAMS, listen=8443, server_name="ecmo.example"))
    assert text.count("{") == text.count("}")  # balanced (placeholders included)
    assert "http://ecmo.example:8443 {" in text and "auto_https off" in text
    assert "request_body {\n\t\tmax_size 201MB" in text
    blocks = _blocks(text)
    assert set(blocks) == {STREAM_PATH, ""}
    for body in blocks.values():
        assert f"reverse_proxy {' '.join(UPSTREAMS)} {{" in body
        assert "health_uri /healthz" in body and "lb_try_duration 5s" in body
        assert "header_up X-Forwarded-For {remote_host}" in body  # replaced, not appended
        assert "header_up X-Forwarded-Proto {scheme}" in body
    assert (
        "flush_interval -1" in blocks[STREAM_PATH] and "read_timeout 3700s" in blocks[STREAM_PATH]
    )
    assert "flush_interval" not in blocks[""] and "read_timeout 300s" in blocks[""]
    tls = caddy_config(ProxyConfig(UPSTREAMS, 443, "ecmo.example", Path("/c.pem"), Path("/k.pem")))
    assert "https://ecmo.example:443 {\n\ttls /c.pem /k.pem" in tls
    assert "auto_https off" not in tls  # the given certificate, never an ACME one
    with pytest.raises(ProxyConfigError, match="is not HOST:PORT"):
        caddy_config(ProxyConfig(("nohost",)))


def test_the_command_line_writes_it_and_refuses_an_unknown_server(tmp_path: Path) -> None:
    out = tmp_path / "Caddyfile"
    done = subprocess.run(
        [*CLI, "proxy-config", "--server", "caddy", "--upstream", "127.0.0.1:8000",
         "--standalone", str(tmp_path / "caddy"), "-o", str(out)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    text = out.read_text()
    assert "admin off" in text and f"storage file_system {tmp_path / 'caddy'}/data" in text
    assert (tmp_path / "caddy" / "data").is_dir()
    done = subprocess.run(
        [*CLI, "proxy-config", "--server", "apache", "--upstream", "127.0.0.1:8000"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 2 and "use nginx or caddy" in done.stderr


def _validate(exe: str, file: Path) -> None:
    done = subprocess.run(
        [exe, "validate", "--config", str(file), "--adapter", "caddyfile"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0 and "Valid configuration" in done.stdout + done.stderr, (
        done.stdout + done.stderr + file.read_text()
    )


def test_caddy_validates_it_plain_and_with_tls(tmp_path: Path) -> None:
    exe = _caddy()
    plain = tmp_path / "plain.Caddyfile"
    plain.write_text(caddy_config(ProxyConfig(UPSTREAMS, 18080, prefix=tmp_path)))
    _validate(exe, plain)
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl is not installed: the TLS variant is not validated")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
         "/CN=ecmo.example", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    tls = tmp_path / "tls.Caddyfile"
    tls.write_text(
        caddy_config(ProxyConfig(UPSTREAMS, 18443, "ecmo.example", cert, key, prefix=tmp_path))
    )
    _validate(exe, tls)
    broken = tmp_path / "broken.Caddyfile"
    broken.write_text(plain.read_text().replace("flush_interval -1", "flush_interval soon"))
    with pytest.raises(AssertionError):  # the check is not vacuous
        _validate(exe, broken)


@pytest.mark.slow
def test_two_app_processes_behind_caddy(pg_url: str, tmp_path: Path) -> None:
    exe = _caddy()
    with _processes() as started:
        (a, a_base), (b, b_base) = serve(pg_url, tmp_path, "a"), serve(pg_url, tmp_path, "b")
        started += [a, b]
        pid_a, pid_b = wait_healthy(a_base, a), wait_healthy(b_base, b)
        port = free_port()
        prefix = tmp_path / "caddy"
        conf = tmp_path / "Caddyfile"
        upstreams = [u.removeprefix("http://") for u in (a_base, b_base)]
        args = ["proxy-config", "--server", "caddy", "--listen", str(port),
                "--standalone", str(prefix), "-o", str(conf)]  # fmt: skip
        for u in upstreams:
            args += ["--upstream", u]
        subprocess.run([*CLI, *args], check=True, capture_output=True, timeout=60)
        run = [exe, "run", "--config", str(conf), "--adapter", "caddyfile"]
        env = {"HOME": str(prefix), "PATH": "/usr/bin:/bin"}
        caddy = Proc(run, env, tmp_path / "caddy.log")
        started.append(caddy)
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert caddy.alive(), caddy.text()
                time.sleep(0.1)

        # both processes take turns behind the one address
        seen = {http_get(f"{base}/healthz").json()["process"] for _ in range(6)}
        assert seen == {pid_a, pid_b}
        c = http_client(base_url=base, timeout=30)
        assert login(c, "physician").status_code == 303
        cookies = _cookies(c)
        # the live stream passes at once (its ready event would wait in a buffer otherwise)
        stream = Stream(base, cookies)
        _wait(stream.ready, 30, "the stream's ready event through Caddy")
        # an oversized body: the app answers (Caddy lets the app's own limit speak)
        r = c.post("/runs", content=b"x" * (2 * 1024 * 1024),
                   headers={"Content-Type": "application/x-www-form-urlencoded"})  # fmt: skip
        assert r.status_code == 413
        # one process dies: requests go on through the other
        a.kill()
        results = [c.get("/runs").status_code for _ in range(10)]
        assert results == [200] * 10
        assert {http_get(f"{base}/healthz").json()["process"] for _ in range(4)} == {pid_b}
        c.close()
        # stopped with the live stream still open, Caddy closes it after its grace period
        # (10 s) instead of waiting for the stream's hour (its default waits for ever)
        assert not stream.ended.is_set()
        stopping = time.monotonic()
        caddy.stop(timeout=GRACE_PERIOD_S + 15)
        took = time.monotonic() - stopping
        assert caddy.popen.returncode is not None and took < GRACE_PERIOD_S + 10, took
