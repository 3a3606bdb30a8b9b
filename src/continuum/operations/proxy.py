"""The nginx configuration in front of several app processes (`continuum proxy-config`),
and the equivalent Caddyfile (``--server caddy``: ``caddy_config`` below).

Pure text: no database, no web code. What it sets and why (docs/operations.md):

* one ``upstream`` with every app process (``continuum serve`` on its own port, or one port
  with ``--workers N``); a process that refuses connections is skipped for ``fail_timeout``
  and a GET that could not reach it is passed to the next one (``proxy_next_upstream``); a
  POST that already reached a process is never sent twice (nginx's default for
  non-idempotent requests);
* ``X-Forwarded-For`` set to the address nginx sees (never appended to what the client
  sent, which it could forge), ``X-Forwarded-Proto`` and ``-Host``: the app trusts them from
  the proxy's address only (``continuum serve --forwarded-allow-ips``), so login throttling
  per source and the audit see the clinician's workstation, not the proxy;
* the live alert stream (Server-Sent Events, ``/api/v1/alerts/stream``) unbuffered, with a
  read timeout longer than the stream's own limit (3600 s); HTTP/1.1 with the ``Upgrade``
  header passed on, so a WebSocket route would work the same way;
* bodies up to the app's own upload limit (the console CSV upload), so the app, not nginx,
  answers an oversized request with its explanation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

STREAM_PATH = "/api/v1/alerts/stream"
STREAM_READ_TIMEOUT_S = 3700  # the stream ends itself after at most 3600 s (alerts.api)
READ_TIMEOUT_S = 300  # the slowest page: a research export or a large upload
_ADDRESS = re.compile(r"^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d{1,5})$")
_NAME = re.compile(r"^[A-Za-z0-9.*_-]+( [A-Za-z0-9.*_-]+)*$")


class ProxyConfigError(ValueError):
    """An upstream, port or path that would not make a valid configuration."""


@dataclass(frozen=True)
class ProxyConfig:
    upstreams: tuple[str, ...]
    listen: int = 8080
    server_name: str = "_"
    tls_cert: Path | None = None
    tls_key: Path | None = None
    max_body_mb: int = 201
    # standalone: a whole nginx.conf that runs from ``prefix`` without root (pid, logs and
    # temporary files there); else a site file for /etc/nginx/sites-available/.
    prefix: Path | None = None

    def check(self) -> None:
        problems = []
        if not self.upstreams:
            problems.append("give at least one --upstream HOST:PORT (a `continuum serve`)")
        for u in self.upstreams:
            m = _ADDRESS.match(u)
            if m is None or not 1 <= int(m.group(2)) <= 65535:
                problems.append(f"upstream {u!r} is not HOST:PORT (port 1–65535)")
        if not 1 <= self.listen <= 65535:
            problems.append(f"listen port {self.listen} is outside 1–65535")
        if not _NAME.match(self.server_name):
            problems.append(f"server name {self.server_name!r} has characters nginx would misread")
        if (self.tls_cert is None) != (self.tls_key is None):
            problems.append("TLS needs both --tls-cert and --tls-key")
        if not 1 <= self.max_body_mb <= 4096:
            problems.append(f"body limit {self.max_body_mb} MB is outside 1–4096 MB")
        if problems:
            raise ProxyConfigError("; ".join(problems))


def _upstream(cfg: ProxyConfig) -> str:
    servers = "\n".join(f"    server {u} max_fails=1 fail_timeout=10s;" for u in cfg.upstreams)
    return f"""upstream continuum_app {{
    # every app process (continuum serve); add one here and `nginx -s reload`
{servers}
    keepalive 32;
}}

# WebSocket upgrade when asked, else an empty Connection header (upstream keep-alive)
map $http_upgrade $continuum_connection {{
    default upgrade;
    ''      '';
}}
"""


_PROXIED = """        proxy_pass http://continuum_app;
        proxy_http_version 1.1;
        proxy_set_header Host $http_host;
        proxy_set_header X-Forwarded-For $remote_addr;
        proxy_set_header X-Forwarded-Proto $scheme;
        proxy_set_header X-Forwarded-Host $http_host;
        proxy_set_header Upgrade $http_upgrade;
        proxy_set_header Connection $continuum_connection;
        proxy_connect_timeout 5s;
        proxy_next_upstream error timeout http_502 http_503;
        proxy_next_upstream_tries 3;"""


def _server(cfg: ProxyConfig) -> str:
    tls = cfg.tls_cert is not None
    listen = f"    listen {cfg.listen}{' ssl' if tls else ''};"
    ssl = (
        f"\n    ssl_certificate {cfg.tls_cert};\n    ssl_certificate_key {cfg.tls_key};"
        "\n    ssl_protocols TLSv1.2 TLSv1.3;"
        if tls
        else ""
    )
    return f"""server {{
{listen}
    server_name {cfg.server_name};{ssl}
    client_max_body_size {cfg.max_body_mb}m;

    # the live alert stream (Server-Sent Events): unbuffered, long read timeout
    location = {STREAM_PATH} {{
{_PROXIED}
        proxy_buffering off;
        proxy_cache off;
        proxy_read_timeout {STREAM_READ_TIMEOUT_S}s;
    }}

    location / {{
{_PROXIED}
        proxy_read_timeout {READ_TIMEOUT_S}s;
        proxy_send_timeout {READ_TIMEOUT_S}s;
    }}
}}
"""


def site_config(cfg: ProxyConfig) -> str:
    """The ``upstream``, ``map`` and ``server`` blocks (an nginx ``http``-level include)."""
    cfg.check()
    head = (
        "# ECMO Continuum behind nginx: written by `continuum proxy-config` "
        "(docs/operations.md). Regenerate it rather than edit it by hand.\n"
    )
    return head + _upstream(cfg) + "\n" + _server(cfg)


def standalone_config(cfg: ProxyConfig) -> str:
    """A whole nginx.conf that runs from ``cfg.prefix`` (``nginx -p PREFIX -c FILE``): pid,
    logs and temporary files under the prefix, so it needs no root and no system paths."""
    if cfg.prefix is None:
        raise ProxyConfigError("a standalone configuration needs a prefix directory")
    p = cfg.prefix
    site = site_config(cfg)
    indented = "\n".join(("    " + line) if line else "" for line in site.splitlines())
    return f"""worker_processes 1;
pid {p}/nginx.pid;
error_log {p}/error.log warn;
events {{
    worker_connections 1024;
}}
http {{
    access_log {p}/access.log;
    client_body_temp_path {p}/client_body;
    proxy_temp_path {p}/proxy;
    fastcgi_temp_path {p}/fastcgi;
    uwsgi_temp_path {p}/uwsgi;
    scgi_temp_path {p}/scgi;
    default_type application/octet-stream;
{indented}
}}
"""


# Caddy (`continuum proxy-config --server caddy`): the same behaviour as the nginx file above.
HEALTH_PATH = "/healthz"
HEALTH_INTERVAL_S = 5
GRACE_PERIOD_S = 10


def _caddy_upstream(cfg: ProxyConfig, read_timeout_s: int, stream: bool) -> str:
    """One ``reverse_proxy`` over every app process: round robin; a process that refuses
    connections or fails its health check (``/healthz``) is left out and a request that never
    reached it tries the next within 5 s; X-Forwarded-For set to the address Caddy sees."""
    flush = "\n\t\t\tflush_interval -1" if stream else ""
    return f"""\t\treverse_proxy {" ".join(cfg.upstreams)} {{
\t\t\tlb_policy round_robin
\t\t\tlb_try_duration 5s
\t\t\tlb_try_interval 250ms
\t\t\tfail_duration 10s
\t\t\tmax_fails 1
\t\t\thealth_uri {HEALTH_PATH}
\t\t\thealth_interval {HEALTH_INTERVAL_S}s
\t\t\thealth_timeout 5s
\t\t\theader_up X-Forwarded-For {{remote_host}}
\t\t\theader_up X-Forwarded-Proto {{scheme}}
\t\t\theader_up X-Forwarded-Host {{host}}{flush}
\t\t\ttransport http {{
\t\t\t\tdial_timeout 5s
\t\t\t\tread_timeout {read_timeout_s}s
\t\t\t\twrite_timeout {read_timeout_s}s
\t\t\t}}
\t\t}}
"""


def caddy_config(cfg: ProxyConfig) -> str:
    """A Caddyfile equivalent to ``site_config``: the app processes load-balanced with
    active (``/healthz``) and passive health checks, the live alert stream flushed at once
    (no buffering) with a read timeout past the stream's hour, bodies up to the upload
    limit, TLS from the given certificate (never an automatic ACME certificate: a hospital's
    internal name has none). With ``prefix`` (standalone): no admin endpoint, Caddy's storage
    and the access log under the prefix (``caddy run --config FILE --adapter caddyfile``)."""
    cfg.check()
    tls = cfg.tls_cert is not None
    names = [] if cfg.server_name == "_" else cfg.server_name.split()
    if tls:
        address = ", ".join(f"https://{n}:{cfg.listen}" for n in names) or f":{cfg.listen}"
    else:
        address = ", ".join(f"http://{n}:{cfg.listen}" for n in names) or f"http://:{cfg.listen}"
    # grace_period: on stop or reload Caddy waits this long for open requests and then
    # closes them; its default waits for ever, and a live alert stream stays open for an
    # hour, so `systemctl stop caddy` ran into its kill timeout. The same 10 s as the app
    # (cli.GRACEFUL_SHUTDOWN_S); a cut stream's page reconnects by itself.
    options = [
        "\tauto_https off" if not tls else "\tauto_https disable_redirects",
        f"\tgrace_period {GRACE_PERIOD_S}s",
    ]
    log = ""
    if cfg.prefix is not None:
        options += ["\tadmin off", f"\tstorage file_system {cfg.prefix}/data"]
        log = f"\tlog {{\n\t\toutput file {cfg.prefix}/access.log\n\t}}\n"
    tls_line = f"\ttls {cfg.tls_cert} {cfg.tls_key}\n" if tls else ""
    return f"""# ECMO Continuum behind Caddy: written by `continuum proxy-config --server caddy`
# (docs/operations.md). Regenerate it rather than edit it by hand.
{{
{chr(10).join(options)}
}}

{address} {{
{tls_line}{log}\trequest_body {{
\t\tmax_size {cfg.max_body_mb}MB
\t}}

\t# the live alert stream (Server-Sent Events): flushed at once, long read timeout
\thandle {STREAM_PATH} {{
{_caddy_upstream(cfg, STREAM_READ_TIMEOUT_S, stream=True)}\t}}

\thandle {{
{_caddy_upstream(cfg, READ_TIMEOUT_S, stream=False)}\t}}
}}
"""
