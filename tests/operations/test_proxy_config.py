"""`continuum proxy-config`: the nginx configuration for several app processes is valid for
nginx (`nginx -t`, plain and with TLS), carries what the app relies on, and refuses bad
input with a message (exit 2)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from continuum.operations.proxy import (
    STREAM_PATH,
    ProxyConfig,
    ProxyConfigError,
    site_config,
    standalone_config,
)
from tests.conftest import need
from tests.operations.processes import CLI, nginx_path

UPSTREAMS = ("127.0.0.1:8001", "10.1.2.3:8000", "[::1]:8002")


def test_the_site_config_carries_what_the_app_relies_on() -> None:
    text = site_config(ProxyConfig(UPSTREAMS, listen=8443, server_name="ecmo.example"))
    for u in UPSTREAMS:
        assert f"server {u} max_fails=1 fail_timeout=10s;" in text
    assert "proxy_set_header X-Forwarded-For $remote_addr;" in text  # replaced, not appended
    assert "proxy_set_header X-Forwarded-Proto $scheme;" in text
    assert "proxy_set_header Upgrade $http_upgrade;" in text
    stream = text.split(f"location = {STREAM_PATH} {{", 1)[1].split("}", 1)[0]
    assert "proxy_buffering off;" in stream and "proxy_read_timeout 3700s;" in stream
    assert "client_max_body_size 201m;" in text and "listen 8443;" in text
    assert "non_idempotent" not in text  # a POST that reached a process is never resent


@pytest.mark.parametrize(
    ("cfg", "message"),
    [
        (ProxyConfig(()), "at least one --upstream"),
        (ProxyConfig(("localhost",)), "is not HOST:PORT"),
        (ProxyConfig(("127.0.0.1:70000",)), "is not HOST:PORT"),
        (ProxyConfig(UPSTREAMS, listen=0), "outside 1–65535"),
        (ProxyConfig(UPSTREAMS, server_name="a;b"), "characters nginx would misread"),
        (ProxyConfig(UPSTREAMS, tls_cert=Path("/x.pem")), "both --tls-cert and --tls-key"),
    ],
)
def test_bad_input_is_refused(cfg: ProxyConfig, message: str) -> None:
    with pytest.raises(ProxyConfigError, match=message):
        site_config(cfg)


def test_the_command_line_refuses_with_a_message() -> None:
    done = subprocess.run(
        [*CLI, "proxy-config", "--upstream", "nohost"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2 and "is not HOST:PORT" in done.stderr


def _nginx_t(prefix: Path, cfg: ProxyConfig) -> None:
    conf = prefix / "nginx.conf"
    conf.write_text(standalone_config(cfg))
    for sub in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (prefix / sub).mkdir(exist_ok=True)
    exe = nginx_path()
    assert exe
    done = subprocess.run(
        [exe, "-t", "-p", str(prefix), "-c", str(conf)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr + conf.read_text()


def test_nginx_accepts_it_plain_and_with_tls(tmp_path: Path) -> None:
    need(nginx_path() is not None, "nginx is not installed (apt-get install nginx)")
    _nginx_t(tmp_path, ProxyConfig(UPSTREAMS, listen=18080, prefix=tmp_path))
    openssl = shutil.which("openssl")
    need(openssl is not None, "openssl is not installed")
    assert openssl
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
         "/CN=ecmo.example", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    tls = ProxyConfig(UPSTREAMS, 18443, "ecmo.example", cert, key, prefix=tmp_path)
    _nginx_t(tmp_path, tls)
