"""The `continuum` command line (docs/contracts.md §4). Errors print a message, never a traceback:
exit 0 ok, 1 failure, 2 bad usage or invalid input.

Start-up is kept short: this module and the command modules (continuum.commands) import only
typer at the top; each command imports what it needs (the database, the web stack, numpy)
when it runs, so `continuum --help` or `continuum calc` never load FastAPI or SQLAlchemy
(tests/test_cli_startup.py checks it; benchmarks/bench_startup.py measures it).
"""

from __future__ import annotations

import sys
from datetime import date
from typing import TYPE_CHECKING, Annotated, Any

import typer

from continuum.errors import ContinuumError

if TYPE_CHECKING:
    from rich.console import Console

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


def _console(stderr: bool = False) -> Console:
    from rich.console import Console

    return Console(stderr=stderr)


def _sessions():  # type: ignore[no-untyped-def]
    from continuum.config import get_settings
    from continuum.db import make_engine, make_sessionmaker
    from continuum.hooks import install_all_hooks

    install_all_hooks()
    return make_sessionmaker(make_engine(get_settings().database_url))


def _validate(model, data):  # type: ignore[no-untyped-def]
    from pydantic import ValidationError

    from continuum.errors import validation_failed

    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise validation_failed(exc) from None


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply migrations to the database named by CONTINUUM_DATABASE_URL; says which."""
    from continuum.config import get_settings
    from continuum.migrate import upgrade_report

    typer.echo(upgrade_report(get_settings().database_url).describe())


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
    from continuum.core import patient_service
    from continuum.core.roles import CLI_ACTOR
    from continuum.core.schemas import PatientCreate
    from continuum.db import unit_of_work

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
    from continuum.core import run_service
    from continuum.core.roles import CLI_ACTOR
    from continuum.core.schemas import RunCreate
    from continuum.db import unit_of_work

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
    import json

    from continuum.core import run_service, run_view
    from continuum.core.roles import CLI_ACTOR
    from continuum.db import unit_of_work

    if format not in ("text", "json"):
        raise typer.BadParameter("format must be text or json", param_hint="--format")
    with unit_of_work(_sessions()) as db:
        summary = run_view.summary(db, CLI_ACTOR, run_service.get_run(db, CLI_ACTOR, run_id))
    if format == "json":
        typer.echo(json.dumps(summary, indent=2, default=str))
        return
    _print_summary(summary)


def _print_summary(s: dict[str, Any]) -> None:
    out = _console()
    who = s["patient"].get("name") or s["patient"]["label"]
    out.print(
        f"[bold]Run {s['id']}[/] · {who} · {s['support']} · {s['mode']} · {s['status']} · "
        f"day {s['ecmo_day']} · started {s['started_at']}"
    )
    from continuum.display_names import observed

    for code, o in s["observations"].items():
        latest = o["latest"]
        value = observed({**latest, "code": code})  # "62 kPa (465 mmHg)" when so entered
        out.print(f"  {code:<16} n={o['count']:<7} latest {value} at {latest['time']}")
    out.print(f"  open alerts: {len(s['open_alerts'])}")


@user_app.command("add")
def user_add(
    name: Annotated[str, typer.Option()],
    role: Annotated[str, typer.Option()],
    discipline: Annotated[str, typer.Option()],
    username: Annotated[str | None, typer.Option()] = None,
    password: Annotated[str | None, typer.Option(prompt=False)] = None,
) -> None:
    """Add a staff member (with a login when username and password are given); says who."""
    from continuum.core import accounts
    from continuum.core.roles import SYSTEM
    from continuum.db import unit_of_work

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
        login = f", login {staff.username}" if staff.username else ""
        typer.echo(f"added user {staff.name} (id {staff.id}, role {staff.role}{login})")


@user_app.command("token")
def user_token(
    staff_id: Annotated[int, typer.Argument()],
    label: Annotated[str, typer.Option()] = "API token",
) -> None:
    """Issue an API token for a service account (role integration); prints it once.

    IT bootstrap for device gateways and EHR interfaces only: a person's tokens are issued
    by that person on their account page (/account), never by IT or the command line."""
    from continuum.core import accounts
    from continuum.core.roles import SYSTEM
    from continuum.db import unit_of_work

    with unit_of_work(_sessions()) as db:
        typer.echo(accounts.issue_token(db, SYSTEM, staff_id, label))


# Seconds a worker of `serve --workers N` has to answer uvicorn's health check. Its
# default (5 s) is shorter than N app processes importing the whole app at once on a busy
# two-core server: uvicorn then kills the slow ones as hung and logs "Child process died".
WORKER_HEALTHCHECK_S = 60
# Seconds a stopping process (SIGTERM: systemctl stop/restart) waits for requests in flight
# before it closes the rest; open live alert streams would otherwise hold it for up to an
# hour, past systemd's TimeoutStopSec (30 s), which then kills it. A cut stream's page
# reconnects to another process from its Last-Event-ID.
GRACEFUL_SHUTDOWN_S = 10


@app.command()
def serve(
    host: Annotated[str, typer.Option()] = "127.0.0.1",
    port: Annotated[int, typer.Option()] = 8000,
    workers: Annotated[int, typer.Option(help="app processes")] = 1,
    forwarded_allow_ips: Annotated[
        str,
        typer.Option(
            help="addresses of the reverse proxy whose X-Forwarded-For/-Proto are trusted "
            "(comma-separated; '*' trusts any)",
            envvar="CONTINUUM_FORWARDED_ALLOW_IPS",
        ),
    ] = "127.0.0.1",
) -> None:
    """Serve the web app and the API on the configured database.

    Behind a reverse proxy (`continuum proxy-config`), the client address (login throttling,
    audit) and the scheme come from the proxy's X-Forwarded-* headers when it connects from
    one of --forwarded-allow-ips."""
    import uvicorn

    from continuum.config import get_settings

    if not 1 <= workers <= 64:
        from continuum.errors import FieldProblem, ValidationFailed

        message = f"{workers} is outside the allowed range (1–64 app processes)"
        raise ValidationFailed([FieldProblem("--workers", message, workers)])
    get_settings().check_secret()
    uvicorn.run(
        "continuum.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="info",
        proxy_headers=True,
        forwarded_allow_ips=forwarded_allow_ips,
        timeout_worker_healthcheck=WORKER_HEALTHCHECK_S,
        # Longer than a reverse proxy's idle upstream connection (nginx: 60 s) and a
        # clinician's pause between pages: with uvicorn's 5 s default, a request sent on a
        # connection the server is just closing is reset (benchmarks/load found ~1 in 100).
        timeout_keep_alive=75,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
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
    demo_data.build(settings, reuse=keep, console=_console())
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


def _is_usage_error(exc: BaseException) -> bool:
    """A click/typer usage error (missing or unknown option, unknown command, bad value).

    typer 0.29 vendors click (typer._click) and its ClickException derives from the public
    typer.TyperException; older typers raised click.ClickException. Both carry an exit_code
    and show(); pyproject pins typer to the tested minor release."""
    if isinstance(exc, typer.TyperException):
        return True
    click = sys.modules.get("click")
    return click is not None and isinstance(exc, click.ClickException)


def _is_pydantic_error(exc: BaseException) -> bool:
    pydantic = sys.modules.get("pydantic")  # not imported -> cannot be its error
    return pydantic is not None and isinstance(exc, pydantic.ValidationError)


def _error(message: str) -> None:
    from rich.markup import escape

    _console(stderr=True).print(f"[red]error:[/] {escape(message)}", highlight=False)


# sysexits' EX_TEMPFAIL: a temporary failure, to be tried again (a deadlock, a lock).
BUSY_EXIT = 75


def _busy_reason(exc: Exception) -> str | None:
    """``db.busy_reason`` for an error of a command that used the database (no import of
    SQLAlchemy for one that did not)."""
    if "sqlalchemy" not in sys.modules:
        return None
    from continuum.db import busy_reason

    return busy_reason(exc)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the `continuum` script: usage errors exit 2 with click's message,
    ContinuumError prints its message (exit 2 for bad input, 1 otherwise), a database that
    turned the command away for another change exits 75 saying to run it again; no
    traceback."""
    try:
        code = app(args=argv, prog_name="continuum", standalone_mode=False)
    except ContinuumError as exc:
        _error(exc.message)
        sys.exit(exc.exit_code)
    except typer.Abort:
        sys.exit(1)
    except Exception as exc:
        reason = _busy_reason(exc)
        if reason:
            _error(f"the database turned this command away: {reason}; what it was writing then "
                   "was rolled back. Run it again.")  # fmt: skip
            sys.exit(BUSY_EXIT)
        if _is_pydantic_error(exc):
            from continuum.errors import validation_failed

            _error(validation_failed(exc).message)  # type: ignore[arg-type]
            sys.exit(2)
        if not _is_usage_error(exc):
            raise
        exc.show()  # type: ignore[attr-defined]  # usage line, hint and "Error: …"
        sys.exit(2)
    if isinstance(code, int) and code:
        sys.exit(code)
