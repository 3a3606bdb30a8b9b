"""The `continuum` command line (contracts.md §4). Errors print a message, never a traceback:
exit 0 ok, 1 failure, 2 bad usage or invalid input."""

from __future__ import annotations

import json
import sys
from datetime import date
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.console import Console

from continuum.config import get_settings
from continuum.core import accounts, patient_service, run_service, run_view
from continuum.core.roles import CLI_ACTOR, SYSTEM
from continuum.core.schemas import PatientCreate, RunCreate
from continuum.db import make_engine, make_sessionmaker, unit_of_work
from continuum.errors import ContinuumError
from continuum.web.pages import validation_failed

app = typer.Typer(
    help="ECMO Continuum: the perfusionist's expertise across the ECMO continuum.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database maintenance.", no_args_is_help=True)
patient_app = typer.Typer(help="Patients.", no_args_is_help=True)
run_app = typer.Typer(help="ECMO runs.", no_args_is_help=True)
user_app = typer.Typer(help="Staff accounts and API tokens.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(patient_app, name="patient")
app.add_typer(run_app, name="run")
app.add_typer(user_app, name="user")
err = Console(stderr=True)


def _sessions():  # type: ignore[no-untyped-def]
    return make_sessionmaker(make_engine(get_settings().database_url))


def _validate(model, data):  # type: ignore[no-untyped-def]
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise validation_failed(exc) from None


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply migrations to the database named by CONTINUUM_DATABASE_URL."""
    from continuum.migrate import upgrade

    upgrade(get_settings().database_url)
    typer.echo("database is up to date")


@patient_app.command("add")
def patient_add(
    mrn: Annotated[str, typer.Option(help="medical record number")],
    name: Annotated[str, typer.Option()],
    sex: Annotated[str, typer.Option(help="female|male|other|unknown")],
    birth_date: Annotated[str | None, typer.Option(help="YYYY-MM-DD")] = None,
    height_cm: Annotated[float | None, typer.Option()] = None,
    weight_kg: Annotated[float | None, typer.Option()] = None,
) -> None:
    """Create a patient; prints its id."""
    data = _validate(
        PatientCreate,
        {
            "mrn": mrn,
            "name": name,
            "sex": sex,
            "birth_date": _date(birth_date),
            "height_cm": height_cm,
            "weight_kg": weight_kg,
        },
    )
    with unit_of_work(_sessions()) as db:
        patient = patient_service.create_patient(db, CLI_ACTOR, data)
        db.flush()
        typer.echo(patient.id)


def _date(value: str | None) -> date | str | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return value


@run_app.command("start")
def run_start(
    mrn: Annotated[str, typer.Option()],
    support: Annotated[str, typer.Option(help="pulmonary|cardiac|ecpr")],
    mode: Annotated[str, typer.Option(help="VV|VA|VAV|VVA|V-PA|VA+Impella|VA+IABP|…")],
    start: Annotated[str | None, typer.Option(help="ISO 8601 with offset; default now")] = None,
    location: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Start a run for a patient; prints the run id."""
    data = _validate(
        RunCreate,
        {
            "mrn": mrn,
            "support_type": support,
            "mode": mode,
            "started_at": start,
            "location": location,
        },
    )
    with unit_of_work(_sessions()) as db:
        run = run_service.start_run(db, CLI_ACTOR, data)
        db.flush()
        typer.echo(run.id)


@run_app.command("show")
def run_show(
    run_id: Annotated[int, typer.Argument(metavar="RUN")],
    format: Annotated[str, typer.Option(help="text|json")] = "text",
) -> None:
    """A run's summary: mode, observation counts and latest values, open alerts."""
    with unit_of_work(_sessions()) as db:
        summary = run_view.summary(db, CLI_ACTOR, run_service.get_run(db, CLI_ACTOR, run_id))
    if format == "json":
        typer.echo(json.dumps(summary, indent=2, default=str))
        return
    if format != "text":
        raise typer.BadParameter("format must be text or json", param_hint="--format")
    _print_summary(summary)


def _print_summary(s: dict) -> None:  # type: ignore[type-arg]
    out = Console()
    who = s["patient"].get("name") or s["patient"]["label"]
    out.print(
        f"[bold]Run {s['id']}[/] · {who} · {s['support']} · {s['mode']} · {s['status']} · "
        f"day {s['ecmo_day']} · started {s['started_at']}"
    )
    for code, o in s["observations"].items():
        latest = o["latest"]
        out.print(
            f"  {code:<16} n={o['count']:<7} latest {latest['value']:g} {latest['unit']} "
            f"at {latest['time']}"
        )
    out.print(f"  open alerts: {len(s['open_alerts'])}")


@user_app.command("add")
def user_add(
    name: Annotated[str, typer.Option()],
    role: Annotated[str, typer.Option()],
    discipline: Annotated[str, typer.Option()],
    username: Annotated[str | None, typer.Option()] = None,
    password: Annotated[str | None, typer.Option(prompt=False)] = None,
) -> None:
    """Add a staff member (with a login when username and password are given)."""
    data = _validate(
        accounts.StaffCreate,
        {
            "name": name,
            "role": role,
            "discipline": discipline,
            "username": username,
            "password": password,
        },
    )
    with unit_of_work(_sessions()) as db:
        staff = accounts.create_staff(db, SYSTEM, data)
        db.flush()
        typer.echo(staff.id)


@user_app.command("token")
def user_token(
    staff_id: Annotated[int, typer.Argument()],
    label: Annotated[str, typer.Option()] = "API token",
) -> None:
    """Issue an API token for a service account (role integration); prints it once.

    IT bootstrap for device gateways and EHR interfaces only: a person's tokens are issued
    by that person on their account page (/account), never by IT or the command line."""
    with unit_of_work(_sessions()) as db:
        typer.echo(accounts.issue_token(db, SYSTEM, staff_id, label))


@app.command()
def serve(
    host: Annotated[str, typer.Option()] = "127.0.0.1",
    port: Annotated[int, typer.Option()] = 8000,
    workers: Annotated[int, typer.Option(help="app processes")] = 1,
) -> None:
    """Serve the web app and the API on the configured database."""
    import uvicorn

    get_settings().check_secret()
    uvicorn.run(
        "continuum.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="info",
    )


@app.command()
def demo(
    port: Annotated[int, typer.Option()] = 8000,
    host: Annotated[str, typer.Option()] = "127.0.0.1",
    keep: Annotated[bool, typer.Option(help="reuse an existing demo database")] = False,
    no_serve: Annotated[bool, typer.Option("--no-serve", help="build the data only")] = False,
) -> None:
    """Build a realistic demo programme in an embedded database, then serve it."""
    from continuum import demo as demo_data

    settings = demo_data.demo_settings()
    demo_data.build(settings, reuse=keep, console=Console())
    if no_serve:
        return
    import uvicorn

    from continuum.app import create_app

    typer.echo(f"\nECMO Continuum demo: open http://{host}:{port}/  (Ctrl-C to stop)")
    uvicorn.run(create_app(settings), host=host, port=port, log_level="warning")


def _register_commands() -> None:
    import importlib

    from continuum.domains import COMMAND_MODULES

    for name in COMMAND_MODULES:
        importlib.import_module(f"continuum.commands.{name}").register(app)


_register_commands()


def main() -> None:
    try:
        code = app(standalone_mode=False)
    except ValidationError as exc:
        err.print(f"[red]error:[/] {validation_failed(exc).message}", highlight=False)
        sys.exit(2)
    except ContinuumError as exc:
        err.print(f"[red]error:[/] {exc.message}", highlight=False)
        sys.exit(exc.exit_code)
    except typer.Abort:
        sys.exit(1)
    except Exception as exc:  # click usage errors
        import click

        if isinstance(exc, click.ClickException):
            exc.show()
            sys.exit(2)
        raise
    if isinstance(code, int) and code:
        sys.exit(code)
