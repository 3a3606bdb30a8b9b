"""`continuum ingest …`: console CSV files, the HL7 v2 MLLP listener, MQTT, FHIR bundles."""

from __future__ import annotations

import json
from datetime import tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from continuum.errors import ValidationFailed

if TYPE_CHECKING:
    from continuum.ingest.console_presets import Preset

ingest_app = typer.Typer(help="Console and device data in.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(ingest_app, name="ingest")


def _long_running() -> None:
    """A receiver or worker that runs for days: the garbage collector's thresholds for it
    (continuum.heap: no 100+ ms pauses of every message in flight)."""
    from continuum.config import get_settings
    from continuum.heap import tune_collector

    tune_collector(get_settings().gc_young_threshold)


def _sessions():  # type: ignore[no-untyped-def]
    from continuum.config import get_settings
    from continuum.db import make_engine, make_sessionmaker
    from continuum.hooks import install_all_hooks

    install_all_hooks()

    return make_sessionmaker(make_engine(get_settings().database_url))


@ingest_app.command("csv")
def ingest_csv(
    file: Annotated[Path, typer.Argument(help="console CSV file (docs/contracts.md §2)")],
    run: Annotated[int, typer.Option("--run", help="run id")],
    fmt: Annotated[str, typer.Option("--format", help="text or json")] = "text",
    preset_name: Annotated[
        str | None,
        typer.Option("--preset", help="how the export is laid out (default: continuum)"),
    ] = None,
    preview_only: Annotated[
        bool, typer.Option("--preview", help="show how each column is read; store nothing")
    ] = False,
) -> None:
    """Load a console CSV file into a run; prints rows, observations stored, refused cells.
    ``--preset`` reads another console's export (docs/ingest.md, `ingest presets`)."""
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from continuum.alerts.due import DueEvaluator
    from continuum.core.roles import CLI_ACTOR
    from continuum.db import unit_of_work
    from continuum.ingest.csv_service import import_csv

    out = Console(soft_wrap=True)

    if not file.is_file():
        raise ValidationFailed(f"no such file: {file}", "file")
    from continuum.config import get_settings
    from continuum.ingest.console_preset_service import get_preset

    zone = get_settings().zone
    sessions = _sessions()
    with sessions() as db:
        preset = get_preset(db, preset_name)
    if preview_only:
        _print_preview(file, preset, zone, fmt)
        return
    with Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), TextColumn("{task.completed}/"
        "{task.total} columns"), TimeElapsedColumn(), console=Console(stderr=True),
        transient=True,
    ) as bar:  # fmt: skip
        task = bar.add_task(f"reading {file.name}", total=None)

        def tick(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        with unit_of_work(sessions) as db:
            result = import_csv(db, CLI_ACTOR, run, file, file.name, progress=tick,
                                preset=preset, zone=zone)  # fmt: skip
            bar.update(task, description="committing")
        bar.update(task, description="surveillance")
        DueEvaluator(sessions).drain()  # the imported run's alerts, before we return
    if fmt == "json":
        typer.echo(json.dumps(result.to_dict(), indent=2, default=str))
        return
    report = result.console.report
    out.print(
        f"[bold]{file.name}[/] ({preset.name}) → run {run}: {report.rows_read} rows, "
        f"{result.stored + result.derived} observations stored "
        f"({result.derived} derived ΔP), {report.refused_count} cells refused"
    )
    for line in report.text().splitlines()[1:]:
        out.print(f"  {line}", highlight=False)


def _print_preview(file: Path, preset: Preset, zone: tzinfo, fmt: str) -> None:
    from rich.console import Console

    from continuum.ingest.console_preset_service import read_with_preset

    read = read_with_preset(file, preset, zone)
    p = read.preview
    if fmt == "json":
        typer.echo(json.dumps(p.to_dict(), indent=2, default=str))
        return
    out = Console(soft_wrap=True, highlight=False)
    out.print(f"{file.name} read with the preset {preset.name}: {p.rows} rows, "
              f"{p.observations} observations would be stored (nothing stored)")  # fmt: skip
    if p.first_time:
        out.print(f"  time column {p.time_column}: '{p.first_time[0]}' is read as "
                  f"{p.first_time[1].isoformat()}")  # fmt: skip
    for c in p.columns:
        first = ", ".join(f"{v:g}" for _, v in c.first)
        unit = c.unit_read + (f" → {c.unit_stored}" if c.unit_read != c.unit_stored else "")
        out.print(f"  {c.header} → {c.code} ({unit}): {first or 'no values'}; "
                  f"{c.stored} stored, {c.refused} refused")  # fmt: skip
    for head, why in p.unreadable:
        out.print(f"  not read: {head}: {why}")


@ingest_app.command("presets")
def ingest_presets(
    fmt: Annotated[str, typer.Option("--format", help="text or json")] = "text",
) -> None:
    """The console-export presets `ingest csv --preset` may name (shipped and the site's)."""
    from continuum.ingest.console_preset_service import list_presets

    with _sessions()() as db:
        presets = list_presets(db)
    if fmt == "json":
        typer.echo(json.dumps([p.to_dict() for p in presets], indent=2))
        return
    for p in presets:
        typer.echo(f"{p.name} ({p.origin}): {p.title}")
        for line in p.columns_text().splitlines():
            typer.echo(f"    {line}")


Via = Annotated[
    str | None,
    typer.Option(
        "--via",
        help="direct (write to the database) or nats (publish to JetStream; "
        "`ingest worker` stores); default CONTINUUM_INGEST_VIA or direct",
    ),
]
NatsUrl = Annotated[str | None, typer.Option("--nats-url", help="default CONTINUUM_NATS_URL")]
Stream = Annotated[
    str | None, typer.Option("--stream", help="JetStream stream; default CONTINUUM_NATS_STREAM")
]


def _via(via: str | None) -> str:
    from continuum.config import get_settings

    chosen = via or get_settings().ingest_via
    if chosen not in ("direct", "nats"):
        raise ValidationFailed(f"--via {chosen}: use direct or nats", "via")
    return chosen


@ingest_app.command("mllp")
def ingest_mllp(
    port: Annotated[int, typer.Option(help="TCP port to listen on")] = 2575,
    host: Annotated[str, typer.Option(help="address to bind")] = "127.0.0.1",
    via: Via = None,
    nats_url: NatsUrl = None,
    stream: Stream = None,
) -> None:
    """Listen for HL7 v2 ORU^R01 over MLLP; ACK AA only after each message is committed
    (direct) or stored by the broker (--via nats)."""
    import asyncio
    import logging

    from rich.console import Console

    from continuum.config import get_settings
    from continuum.ingest.mllp_listener import MllpListener

    out = Console(soft_wrap=True)

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    _long_running()
    if _via(via) == "nats":
        from continuum.ingest.nats_ingest import BrokerConfig, BrokerMllpSubmitter, Publisher

        config = BrokerConfig.from_settings(url=nats_url, stream=stream)

        async def broker_main() -> None:
            publisher = await Publisher(config).start()
            submitter = BrokerMllpSubmitter(publisher)
            listener = MllpListener(None, zone=get_settings().zone, submit=submitter.submit)
            server = await listener.serve(host, port)
            out.print(f"listening for HL7 v2 over MLLP on {host}:{port}, via NATS "
                      f"{config.url} stream {config.stream}", highlight=False)  # fmt: skip
            async with server:
                await server.serve_forever()

        try:
            asyncio.run(broker_main())
        except KeyboardInterrupt:
            out.print("stopped")
        return

    from continuum.alerts.due import DueEvaluator

    sessions = _sessions()
    listener = MllpListener(sessions, zone=get_settings().zone)
    evaluator = DueEvaluator(sessions).start()  # surveillance of the deferred batches

    async def main() -> None:
        server = await listener.serve(host, port)
        out.print(f"listening for HL7 v2 over MLLP on {host}:{port}", highlight=False)
        async with server:
            await server.serve_forever()

    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        out.print("stopped")
    finally:
        evaluator.stop()


@ingest_app.command("mqtt")
def ingest_mqtt(
    topic: Annotated[str, typer.Option(help="topic filter")] = "continuum/console/+",
    host: Annotated[str, typer.Option(help="broker host")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="broker port")] = 1883,
    client_id: Annotated[
        str,
        typer.Option(
            "--client-id",
            help="MQTT client id: its persistent session keeps what arrives while it is down",
        ),
    ] = "continuum-ingest",
    via: Via = None,
    nats_url: NatsUrl = None,
    stream: Stream = None,
) -> None:
    """Subscribe to bedside-bridge JSON messages (docs/ingest.md) and store them (direct)
    or publish them to JetStream (--via nats); PUBACK only after either."""
    import logging

    from rich.console import Console

    out = Console(soft_wrap=True)

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    _long_running()
    if _via(via) == "nats":
        from continuum.ingest.nats_ingest import BrokerConfig, run_broker_subscriber

        config = BrokerConfig.from_settings(url=nats_url, stream=stream)
        out.print(f"subscribed to {topic} on {host}:{port}, via NATS {config.url} "
                  f"stream {config.stream}", highlight=False)  # fmt: skip
        run_broker_subscriber(config, host, port, topic, client_id)
        return

    from continuum.alerts.due import DueEvaluator
    from continuum.ingest.mqtt_bridge import run_subscriber

    sessions = _sessions()
    evaluator = DueEvaluator(sessions).start()  # surveillance of the deferred batches
    out.print(f"subscribed to {topic} on {host}:{port}", highlight=False)
    try:
        run_subscriber(sessions, host, port, topic, client_id)
    finally:
        evaluator.stop()


@ingest_app.command("worker")
def ingest_worker(
    nats_url: NatsUrl = None,
    stream: Stream = None,
    batch: Annotated[int, typer.Option(help="messages fetched at a time (1–1000)")] = 500,
    poison_after: Annotated[
        int, typer.Option("--poison-after", help="failed deliveries before a message is refused")
    ] = 5,
    evaluate: Annotated[
        bool, typer.Option(help="run a surveillance evaluator in this process")
    ] = True,
) -> None:
    """Store messages the receivers published to NATS JetStream (run any number: they
    share one durable consumer); acknowledge to the broker only after the commit."""
    import asyncio
    import logging
    import signal

    from rich.console import Console

    from continuum.config import get_settings
    from continuum.ingest.nats_ingest import BrokerConfig, IngestWorker

    if not 1 <= batch <= 1000:
        raise ValidationFailed(f"--batch {batch} is outside 1–1000", "batch")
    if not 1 <= poison_after <= 100:
        raise ValidationFailed(f"--poison-after {poison_after} is outside 1–100", "poison_after")
    out = Console(soft_wrap=True)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    _long_running()
    config = BrokerConfig.from_settings(url=nats_url, stream=stream, poison_after=poison_after)
    sessions = _sessions()
    worker = IngestWorker(sessions, config, zone=get_settings().zone, batch=batch)
    evaluator = None
    if evaluate:
        from continuum.alerts.due import DueEvaluator

        evaluator = DueEvaluator(sessions).start()

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        out.print(f"ingest worker on NATS {config.url} stream {config.stream}", highlight=False)
        await worker.run(stop)

    try:
        asyncio.run(main())
    finally:
        if evaluator is not None:
            evaluator.stop()
    out.print(f"stopped: {worker.acked} messages stored and acknowledged, "
              f"{worker.refused} refused after repeated failures")  # fmt: skip


@ingest_app.command("fhir")
def ingest_fhir(
    file: Annotated[Path, typer.Argument(help="FHIR R4 Bundle of Observations (JSON)")],
) -> None:
    """Load a FHIR R4 Observation bundle; prints the outcome (OperationOutcome on refusal)."""
    from continuum.core.roles import CLI_ACTOR
    from continuum.db import unit_of_work
    from continuum.ingest.fhir_bundle import ingest_bundle

    if not file.is_file():
        raise ValidationFailed(f"no such file: {file}", "file")
    with unit_of_work(_sessions()) as db:
        result = ingest_bundle(db, CLI_ACTOR, file.read_bytes())
    typer.echo(json.dumps(result.body, indent=2))
    if result.status >= 400:
        raise typer.Exit(2)


@ingest_app.command("prune")
def ingest_prune(
    older_than_days: Annotated[
        int | None,
        typer.Option("--older-than-days", help="default: the programme's log retention"),
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="only count")] = False,
) -> None:
    """Delete message-log rows older than the retention (observations are never deleted)."""
    from datetime import timedelta

    from rich.console import Console

    from continuum.db import unit_of_work

    out = Console(soft_wrap=True)

    from continuum.core.roles import SYSTEM  # an operator on the server: administrator rights
    from continuum.ingest import integration_service as integration

    with unit_of_work(_sessions()) as db:
        days = integration.log_retention(db).days if older_than_days is None else older_than_days
        n = integration.prune_message_log(db, SYSTEM, timedelta(days=days), dry_run=dry_run)
    verb = "would delete" if dry_run else "deleted"
    out.print(f"{verb} {n} message-log rows received more than {days} days ago")
