"""`continuum registry elso --run RUN --format json|text`: a run's ELSO-shaped registry
record, each field with value, unit, status and source, and the run's completeness;
`continuum registry completeness`: every run's and the programme's completeness, and the
share of required fields filled from the record without typing (the issue #19 goal).

Read as the command line reads (no identifiers, typed free text hidden); bad usage exits 2.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer

registry_app = typer.Typer(
    help="The ELSO-shaped registry record of a run, and the programme's completeness.",
    no_args_is_help=True,
)
FORMATS = ("text", "json")


def register(app: typer.Typer) -> None:
    """Add the `registry` command group to ``app``."""
    app.add_typer(registry_app, name="registry")


def _sessions():  # type: ignore[no-untyped-def]
    from continuum.config import get_settings
    from continuum.db import make_engine, make_sessionmaker
    from continuum.hooks import install_all_hooks

    install_all_hooks()
    return make_sessionmaker(make_engine(get_settings().database_url))


def _format(value: str) -> str:
    if value not in FORMATS:
        raise typer.BadParameter(f"'{value}' is not one of text, json", param_hint="--format")
    return value


@registry_app.command("elso")
def elso(
    run: Annotated[int, typer.Option("--run", help="the run's id", min=1)],
    format: Annotated[str, typer.Option("--format", help="text or json")] = "text",
) -> None:
    """One run's registry record: every field with value, source and status, the work
    list of required fields still missing, and completeness."""
    _format(format)
    from continuum.core.roles import CLI_ACTOR
    from continuum.db import unit_of_work
    from continuum.research import registry_export, registry_service

    with unit_of_work(_sessions()) as db:
        rec = registry_service.record_for(db, CLI_ACTOR, run)
        out = (
            json.dumps(registry_export.as_json(rec), indent=2)
            if format == "json"
            else registry_export.as_text(rec)
        )
    typer.echo(out)


@registry_app.command("completeness")
def completeness(
    format: Annotated[str, typer.Option("--format", help="text or json")] = "text",
    ended: Annotated[bool, typer.Option("--ended", help="ended runs only")] = False,
) -> None:
    """Every run's completeness and the programme's, with the share of required fields
    filled from the captured record without typing."""
    _format(format)
    from continuum.core.roles import CLI_ACTOR
    from continuum.db import unit_of_work
    from continuum.research import registry_service

    with unit_of_work(_sessions()) as db:
        prog = registry_service.programme(db, CLI_ACTOR, ended_only=ended)
    if format == "json":
        typer.echo(
            json.dumps(
                {
                    "runs": len(prog.runs),
                    "required": prog.required,
                    "filled": prog.filled,
                    "completeness_pct": prog.completeness_pct,
                    "filled_without_typing_pct": prog.untyped_pct,
                    "per_run": [
                        {
                            "run_id": r.run_id,
                            "status": r.status,
                            "completeness_pct": r.completeness_pct,
                            "filled_without_typing_pct": r.untyped_pct,
                            "missing": r.missing,
                        }
                        for r in prog.runs
                    ],
                },
                indent=2,
            )
        )
        return
    for r in prog.runs:
        typer.echo(
            f"run {r.run_id:>4}  {r.status:<8} {r.completeness_pct:5.1f} % complete  "
            f"{r.untyped_pct:5.1f} % without typing  missing {len(r.missing)}"
        )
    typer.echo(
        f"programme: {len(prog.runs)} runs, {prog.filled} of {prog.required} required fields "
        f"filled ({prog.completeness_pct:.1f} %); filled from the record without typing "
        f"{prog.untyped_pct:.1f} %"
    )
