"""`continuum calc NAME --json '{...}'` and `continuum calc --list` (docs/contracts.md §4, §5)."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from continuum.errors import ContinuumError, NotFound, ValidationFailed


def _field_summary(field: dict[str, Any]) -> str:
    text = field["name"]
    if field["unit"]:
        text += f" [{field['unit']}]"
    if field["choices"] and field["type"] != "text":
        text += " (" + "|".join(field["choices"]) + ")"
    return text if field["required"] else text + "?"


def _print_list(as_json: bool) -> None:
    from continuum.calculators import list_calculators

    calculators = list_calculators()
    if as_json:
        typer.echo(json.dumps(calculators, indent=2, ensure_ascii=False))
        return
    for calc in calculators:
        inputs = ", ".join(_field_summary(f) for f in calc["inputs"])
        typer.echo(f"{calc['name']:<24} {calc['title']}")
        typer.echo(f"{'':<24} inputs: {inputs}")
    typer.echo("(? = optional)")


def _parse_inputs(text: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValidationFailed(f"--json is not valid JSON: {exc.msg}", "json") from None
    if not isinstance(data, dict):
        raise ValidationFailed("--json must be a JSON object", "json")
    return data


def calc(
    name: Annotated[str | None, typer.Argument(help="Calculator name (see --list)")] = None,
    json_inputs: Annotated[
        str, typer.Option("--json", help="Inputs as a JSON object, e.g. '{\"height_cm\": 175}'")
    ] = "{}",
    list_all: Annotated[bool, typer.Option("--list", help="List calculators and inputs")] = False,
) -> None:
    """Run one clinical calculator and print its result as JSON."""
    from continuum.calculators import run_calculator

    if list_all:
        _print_list(as_json=False)
        return
    if not name:
        typer.echo("give a calculator NAME, or --list", err=True)
        raise typer.Exit(2)
    try:
        result = run_calculator(name, _parse_inputs(json_inputs))
    except ContinuumError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(2 if isinstance(exc, NotFound) else exc.exit_code) from None
    typer.echo(json.dumps(result.as_dict(), indent=2, ensure_ascii=False))


def register(app: typer.Typer) -> None:
    """Add the `calc` command to ``app``."""
    app.command("calc")(calc)
