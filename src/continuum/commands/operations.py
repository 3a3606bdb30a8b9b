"""Running it in a hospital: `continuum proxy-config` (nginx in front of several app
processes), `continuum backup`, `continuum restore` and `continuum verify-backup`
(continuum.operations; docs/operations.md)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from continuum.operations.backup import TableCheck


def register(app: typer.Typer) -> None:
    app.command("proxy-config")(proxy_config)
    app.command("backup")(backup)
    app.command("restore")(restore)
    app.command("verify-backup")(verify_backup)
    app.command("service-config")(service_config)


def proxy_config(
    upstream: Annotated[
        list[str],
        typer.Option("--upstream", help="an app process, HOST:PORT (repeat for each)"),
    ],
    listen: Annotated[int, typer.Option(help="the port nginx listens on")] = 8080,
    server_name: Annotated[str, typer.Option(help="nginx server_name")] = "_",
    tls_cert: Annotated[Path | None, typer.Option(help="TLS certificate (PEM)")] = None,
    tls_key: Annotated[Path | None, typer.Option(help="TLS private key (PEM)")] = None,
    standalone: Annotated[
        Path | None,
        typer.Option(
            help="write a whole nginx.conf that keeps its pid, logs and temporary files in "
            "this directory (run: nginx -p DIR -c FILE)"
        ),
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="file to write (default: print)")
    ] = None,
    server: Annotated[
        str, typer.Option(help="the reverse proxy: nginx (Debian's nginx) or caddy (a Caddyfile)")
    ] = "nginx",
) -> None:
    """The nginx configuration (or, with --server caddy, the Caddyfile) for several
    `continuum serve` processes behind one address."""
    from continuum.errors import ValidationFailed
    from continuum.operations import proxy

    cfg = proxy.ProxyConfig(
        upstreams=tuple(upstream),
        listen=listen,
        server_name=server_name,
        tls_cert=tls_cert,
        tls_key=tls_key,
        prefix=standalone.resolve() if standalone else None,
    )
    if server not in ("nginx", "caddy"):
        raise ValidationFailed(f"--server {server}: use nginx or caddy", "server")
    try:
        if server == "caddy":
            text = proxy.caddy_config(cfg)
        else:
            text = proxy.standalone_config(cfg) if standalone else proxy.site_config(cfg)
    except proxy.ProxyConfigError as exc:
        raise ValidationFailed(str(exc), "proxy-config") from None
    if standalone:
        subs = (
            ("data",) if server == "caddy" else ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        for sub in subs:
            (standalone / sub).mkdir(parents=True, exist_ok=True)
    if output is None:
        typer.echo(text, nl=False)
        return
    output.write_text(text)
    typer.echo(
        f"wrote {output} ({server}: {len(cfg.upstreams)} app processes behind port {listen})"
    )


def _url() -> str:
    from continuum.config import get_settings

    return get_settings().database_url


def _print_checks(checks: list[TableCheck]) -> None:
    width = max([len(c.table) for c in checks] + [5])
    typer.echo(f"{'table':<{width}}  {'backup rows':>11}  {'restored':>11}  checksum")
    for c in checks:
        expected = "—" if c.rows_expected is None else str(c.rows_expected)
        found = "—" if c.rows_found is None else str(c.rows_found)
        mark = "same" if c.checksum_ok else "DIFFERENT"
        typer.echo(f"{c.table:<{width}}  {expected:>11}  {found:>11}  {mark}")
    bad = [c.table for c in checks if not c.ok]
    tables, rows = len(checks), sum(c.rows_found or 0 for c in checks)
    if bad:
        typer.echo(f"MISMATCH in {len(bad)} of {tables} tables: {', '.join(bad)}")
    else:
        typer.echo(f"verified: {tables} tables, {rows} rows, every count and checksum the same")


def backup(
    file: Annotated[Path, typer.Argument(help="the backup file to write")],
    verify: Annotated[
        bool, typer.Option("--verify", help="then restore it into a scratch database and compare")
    ] = False,
) -> None:
    """Back up the configured database to FILE (SQLite online backup or pg_dump -Fc), with a
    manifest of every table's row count and checksum beside it (FILE.manifest.json)."""
    from continuum.operations import backup as ops

    url = _url()
    done = ops.backup(url, file)
    m = done.manifest
    typer.echo(
        f"backed up {len(m.tables)} tables, {m.rows} rows ({ops.engine_of_url(url)}, revision "
        f"{m.revision}) to {done.file} ({done.size} bytes); manifest "
        f"{ops.manifest_path(done.file).name}"
    )
    if verify:
        _verify(file, url)


def _verify(file: Path, url: str) -> None:
    from continuum.operations import backup as ops

    result = ops.verify(file, url)
    typer.echo(f"restored {file} into a scratch database and compared it with its manifest:")
    _print_checks(result.checks)
    if not result.ok:
        raise typer.Exit(1)


def verify_backup(
    file: Annotated[Path, typer.Argument(help="a file written by `continuum backup`")],
) -> None:
    """Restore FILE into a fresh scratch database and compare each table's row count and
    checksum with the manifest made at backup time (exit 1 on any difference)."""
    _verify(file, _url())


def restore(
    file: Annotated[Path, typer.Argument(help="a file written by `continuum backup`")],
    force: Annotated[
        bool,
        typer.Option("--force", help="replace a database that is not empty (everything in it)"),
    ] = False,
) -> None:
    """Restore FILE into the configured database (refused when that database holds tables,
    unless --force), then compare it with the backup's manifest."""
    from continuum.operations import backup as ops

    done = ops.restore(_url(), file, force=force)
    typer.echo(f"restored {file} ({done.engine}, revision {done.revision})")
    if done.checks:
        _print_checks(done.checks)
        if not done.ok:
            raise typer.Exit(1)
    else:
        typer.echo("no manifest beside the file: the restored tables were not compared")
    typer.echo("next: `continuum db upgrade` if this backup predates the installed version")


def _continuum_script() -> Path:
    import shutil
    import sys

    beside = Path(sys.executable).parent / "continuum"
    found = beside if beside.exists() else shutil.which("continuum")
    return Path(found).resolve() if found else beside


def service_config(
    output_dir: Annotated[
        Path, typer.Option("--output-dir", "-o", help="directory to write the units into")
    ],
    app_port: Annotated[
        list[int] | None,
        typer.Option("--app-port", help="an app process's port (repeat; one unit instance each)"),
    ] = None,
    app_host: Annotated[str, typer.Option(help="address the app processes bind")] = "127.0.0.1",
    app_workers: Annotated[int, typer.Option(help="`serve --workers` of each app unit")] = 1,
    mllp_port: Annotated[
        int | None, typer.Option(help="run the MLLP listener on this port")
    ] = None,
    mllp_host: Annotated[str, typer.Option(help="address the MLLP listener binds")] = "0.0.0.0",
    mqtt: Annotated[
        str | None, typer.Option(help="run the MQTT subscriber against this broker, HOST:PORT")
    ] = None,
    via: Annotated[
        str, typer.Option(help="receivers store directly or publish to NATS")
    ] = "direct",
    ingest_workers: Annotated[int, typer.Option(help="NATS ingest worker instances")] = 0,
    user: Annotated[str, typer.Option(help="the unprivileged user the services run as")] = (
        "continuum"
    ),
    group: Annotated[str | None, typer.Option(help="their group (default: the user's)")] = None,
    env_file: Annotated[Path, typer.Option(help="the environment file every unit reads")] = Path(
        "/etc/continuum.env"
    ),
    working_dir: Annotated[Path, typer.Option(help="the services' working directory")] = Path(
        "/var/lib/continuum"
    ),
    executable: Annotated[
        Path | None, typer.Option(help="the `continuum` script (default: this installation's)")
    ] = None,
    restart_sec: Annotated[int, typer.Option(help="seconds before a restart")] = 2,
    restart_burst: Annotated[
        int, typer.Option(help="failures within --restart-interval before systemd gives up")
    ] = 5,
    restart_interval: Annotated[int, typer.Option(help="seconds (StartLimitIntervalSec)")] = 300,
) -> None:
    """systemd units for this server's processes: app processes, MLLP/MQTT receivers, NATS
    ingest workers and continuum.target (Restart=on-failure with a restart limit)."""
    from continuum.errors import ValidationFailed
    from continuum.operations import services

    cfg = services.ServiceConfig(
        executable=executable or _continuum_script(),
        app_ports=tuple(app_port or ()),
        app_host=app_host,
        app_workers=app_workers,
        mllp_port=mllp_port,
        mllp_host=mllp_host,
        mqtt=mqtt,
        via=via,
        ingest_workers=ingest_workers,
        user=user,
        group=group,
        env_file=env_file,
        working_dir=working_dir,
        restart_sec=restart_sec,
        start_limit_burst=restart_burst,
        start_limit_interval_s=restart_interval,
    )
    try:
        files = services.units(cfg)
    except services.ServiceConfigError as exc:
        raise ValidationFailed(str(exc), "service-config") from None
    output_dir.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (output_dir / name).write_text(text)
        typer.echo(f"wrote {output_dir / name}")
    typer.echo(
        f"install: cp {output_dir}/continuum*.service {output_dir}/{services.TARGET} "
        "/etc/systemd/system/ && systemctl daemon-reload"
    )
    typer.echo("enable:  systemctl enable --now " + " ".join(services.instances(cfg)))
