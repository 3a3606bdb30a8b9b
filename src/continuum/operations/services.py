"""systemd units for a hospital's processes (`continuum service-config`).

Pure text: no database, no web code. systemd is the supervisor: it starts the processes at
boot in order (after PostgreSQL and NATS), restarts one that fails (``Restart=on-failure``:
a non-zero exit, a kill by a signal such as SIGKILL from the kernel's out-of-memory killer,
a start that times out) after ``RestartSec``, stops restarting one that fails more than
``StartLimitBurst`` times in ``StartLimitIntervalSec`` (a broken configuration, not a
passing fault: it shows as failed in ``systemctl --failed`` and the journal says why), and
leaves alone one that was stopped on purpose (``systemctl stop``: SIGTERM, a clean exit).

Units written (docs/operations.md, *Supervised processes*):

* ``continuum-app@.service``: one app process per instance, the instance being its port
  (``continuum-app@8000``, ``continuum-app@8001``; the reverse proxy's upstreams);
* ``continuum-mllp.service``, ``continuum-mqtt.service``: the HL7 v2 MLLP listener and the
  MQTT subscriber (direct or ``--via nats``);
* ``continuum-ingest-worker@.service``: NATS ingest workers, one per instance number;
* ``continuum.target``: wants every instance above, so ``systemctl start continuum.target``
  starts them all and ``systemctl stop continuum.target`` stops them all (``PartOf=``).

Every unit reads the same environment file (``CONTINUUM_DATABASE_URL``,
``CONTINUUM_SECRET_KEY``, …; ``continuum.env.example`` is written beside the units) and
runs as an unprivileged user.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

_USER = re.compile(r"^[a-z_][a-z0-9_-]{0,31}$")
_HOST = re.compile(r"^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+)$")
TARGET = "continuum.target"
APP_UNIT = "continuum-app@.service"
MLLP_UNIT = "continuum-mllp.service"
MQTT_UNIT = "continuum-mqtt.service"
WORKER_UNIT = "continuum-ingest-worker@.service"
ENV_EXAMPLE = "continuum.env.example"
DB_AFTER = ["postgresql.service"]


class ServiceConfigError(ValueError):
    """A value that would not make a valid unit."""


@dataclass(frozen=True)
class ServiceConfig:
    executable: Path
    app_ports: tuple[int, ...] = (8000,)
    app_host: str = "127.0.0.1"
    app_workers: int = 1
    mllp_port: int | None = None
    mllp_host: str = "0.0.0.0"
    mqtt: str | None = None  # the MQTT broker (Mosquitto), HOST:PORT
    via: str = "direct"
    ingest_workers: int = 0
    user: str = "continuum"
    group: str | None = None
    env_file: Path = Path("/etc/continuum.env")
    working_dir: Path = Path("/var/lib/continuum")
    restart_sec: int = 2
    start_limit_burst: int = 5
    start_limit_interval_s: int = 300

    def check(self) -> None:
        problems: list[str] = []
        if not self.executable.is_absolute():
            problems.append(f"--executable {self.executable} must be an absolute path")
        if not (self.app_ports or self.mllp_port or self.mqtt or self.ingest_workers):
            problems.append(
                "nothing to run: give --app-port, --mllp-port, --mqtt or --ingest-workers"
            )
        for port in (*self.app_ports, *((self.mllp_port,) if self.mllp_port else ())):
            if not 1 <= port <= 65535:
                problems.append(f"port {port} is outside 1–65535")
        if len(set(self.app_ports)) != len(self.app_ports):
            problems.append("each --app-port once")
        if not 1 <= self.app_workers <= 64:
            problems.append(f"--app-workers {self.app_workers} is outside 1–64")
        for name, host in (("--app-host", self.app_host), ("--mllp-host", self.mllp_host)):
            if not _HOST.match(host):
                problems.append(f"{name} {host!r} is not a host name or address")
        if self.mqtt is not None:
            host, _, port = self.mqtt.rpartition(":")
            if not (_HOST.match(host) and port.isdigit() and 1 <= int(port) <= 65535):
                problems.append(f"--mqtt {self.mqtt!r} is not HOST:PORT (port 1–65535)")
        if self.via not in ("direct", "nats"):
            problems.append(f"--via {self.via}: use direct or nats")
        if not 0 <= self.ingest_workers <= 32:
            problems.append(f"--ingest-workers {self.ingest_workers} is outside 0–32")
        for name, value in (("--user", self.user), ("--group", self.group)):
            if value is not None and not _USER.match(value):
                problems.append(f"{name} {value!r} is not a valid user or group name")
        for name, path in (("--env-file", self.env_file), ("--working-dir", self.working_dir)):
            if not path.is_absolute() or any(c in str(path) for c in " \n%"):
                problems.append(f"{name} {path} must be an absolute path without spaces or %")
        if not 0 <= self.restart_sec <= 600:
            problems.append(f"--restart-sec {self.restart_sec} is outside 0–600")
        if not 1 <= self.start_limit_burst <= 100:
            problems.append(f"--restart-burst {self.start_limit_burst} is outside 1–100")
        if problems:
            raise ServiceConfigError("; ".join(problems))


HEAD = "# ECMO Continuum: written by `continuum service-config` (docs/operations.md). " \
       "Regenerate rather than edit.\n"  # fmt: skip


def _unit(cfg: ServiceConfig, description: str, after: list[str], exec_start: str) -> str:
    group = f"Group={cfg.group}\n" if cfg.group else ""
    return f"""{HEAD}[Unit]
Description={description}
After=network-online.target {" ".join(after)}
Wants=network-online.target
PartOf={TARGET}
# more than {cfg.start_limit_burst} failures in {cfg.start_limit_interval_s} s: a broken \
configuration, not a passing fault;
# the unit is left failed (systemctl --failed; journalctl -u UNIT says why)
StartLimitIntervalSec={cfg.start_limit_interval_s}
StartLimitBurst={cfg.start_limit_burst}

[Service]
Type=exec
User={cfg.user}
{group}EnvironmentFile={cfg.env_file}
Environment=PYTHONUNBUFFERED=1
WorkingDirectory={cfg.working_dir}
ExecStart={exec_start}
# a non-zero exit or a kill (e.g. the out-of-memory killer) restarts it; systemctl stop
# (SIGTERM, a clean exit) does not
Restart=on-failure
RestartSec={cfg.restart_sec}
TimeoutStopSec=30
NoNewPrivileges=yes
PrivateTmp=yes
ProtectSystem=full
ProtectHome=read-only

[Install]
WantedBy={TARGET}
"""


def units(cfg: ServiceConfig) -> dict[str, str]:
    """File name → text of every unit this configuration needs, and the target."""
    cfg.check()
    exe = str(cfg.executable)
    nats = ["nats-server.service"]
    out: dict[str, str] = {}
    wants: list[str] = []
    if cfg.app_ports:
        workers = f" --workers {cfg.app_workers}" if cfg.app_workers > 1 else ""
        out[APP_UNIT] = _unit(
            cfg,
            "ECMO Continuum app process on port %i",
            DB_AFTER,
            f"{exe} serve --host {cfg.app_host} --port %i{workers}",
        )
        wants += [f"continuum-app@{p}.service" for p in cfg.app_ports]
    receiver_after = nats if cfg.via == "nats" else DB_AFTER
    if cfg.mllp_port is not None:
        out[MLLP_UNIT] = _unit(
            cfg,
            "ECMO Continuum HL7 v2 MLLP listener",
            receiver_after,
            f"{exe} ingest mllp --host {cfg.mllp_host} --port {cfg.mllp_port} --via {cfg.via}",
        )
        wants.append(MLLP_UNIT)
    if cfg.mqtt is not None:
        host, _, port = cfg.mqtt.rpartition(":")
        out[MQTT_UNIT] = _unit(
            cfg,
            "ECMO Continuum MQTT subscriber",
            [*receiver_after, "mosquitto.service"],
            f"{exe} ingest mqtt --host {host} --port {port} --via {cfg.via}",
        )
        wants.append(MQTT_UNIT)
    if cfg.ingest_workers:
        out[WORKER_UNIT] = _unit(
            cfg,
            "ECMO Continuum NATS ingest worker %i",
            [*DB_AFTER, *nats],
            f"{exe} ingest worker",
        )
        wants += [f"continuum-ingest-worker@{i}.service" for i in range(1, cfg.ingest_workers + 1)]
    out[TARGET] = f"""{HEAD}[Unit]
Description=ECMO Continuum (every process of this server)
Wants={" ".join(wants)}

[Install]
WantedBy=multi-user.target
"""
    out[ENV_EXAMPLE] = env_example(cfg)
    return out


def env_example(cfg: ServiceConfig) -> str:
    """What the environment file holds (root-owned, mode 0640, group the service user)."""
    return f"""# {cfg.env_file}: read by every ECMO Continuum unit (README, Configuration).
# chown root:{cfg.group or cfg.user} {cfg.env_file} && chmod 0640 {cfg.env_file}
CONTINUUM_DATABASE_URL=postgresql+psycopg://continuum@127.0.0.1:5432/continuum
CONTINUUM_SECRET_KEY=change-me-to-a-long-random-value
CONTINUUM_DATA_DIR={cfg.working_dir}/data
CONTINUUM_EXPORT_DIR={cfg.working_dir}/exports
CONTINUUM_SECURE_COOKIES=true
CONTINUUM_INGEST_VIA={cfg.via}
CONTINUUM_NATS_URL=nats://127.0.0.1:4222
"""


def instances(cfg: ServiceConfig) -> list[str]:
    """The unit names to enable (``systemctl enable --now …``)."""
    names = [f"continuum-app@{p}.service" for p in cfg.app_ports]
    names += [MLLP_UNIT] if cfg.mllp_port is not None else []
    names += [MQTT_UNIT] if cfg.mqtt is not None else []
    names += [f"continuum-ingest-worker@{i}.service" for i in range(1, cfg.ingest_workers + 1)]
    return [*names, TARGET]
