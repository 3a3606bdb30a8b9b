"""`continuum replay FILE.csv --mode VV|VA [--format json|text]` (docs/contracts.md §4).

Runs every detector over a console CSV file without touching a database and prints the
alert episodes: a JSON list in the docs/contracts.md §3 shape, or readable text. What the
reader refused (bad cells, unknown columns) goes to stderr. Bad file or mode: exit 2.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from continuum.errors import ContinuumError, ValidationFailed
from continuum.support_configuration import MODES, find

if TYPE_CHECKING:
    from continuum.ingest.console_csv import ConsoleFile
    from continuum.surveillance import Alert

FORMATS = ("json", "text")


def register(app: typer.Typer) -> None:
    app.command("replay")(replay)


def replay(
    file: Annotated[Path, typer.Argument(help="console CSV file (docs/contracts.md §2)")],
    mode: Annotated[str, typer.Option(help="VV, VA or any mode of the vocabulary (VV+IABP, …)")],
    fmt: Annotated[str, typer.Option("--format", help="json or text")] = "text",
    flow_goal: Annotated[float | None, typer.Option(help="blood-flow goal, L/min")] = None,
    forecasts: Annotated[
        bool,
        typer.Option(
            "--forecasts",
            help="also list the exchange-criterion forecasts made along the run "
            "(JSON: {alerts, forecasts})",
        ),
    ] = False,
    every: Annotated[float, typer.Option(help="hours between forecasts (0.25–24)")] = 1.0,
) -> None:
    """Run every circuit-surveillance detector over a console file; print the alerts."""
    try:
        if not 0.25 <= every <= 24:
            raise ValidationFailed(f"--every must be 0.25–24 hours, not {every:g}", "every")
        alerts = _run(file, mode, fmt, flow_goal)
        made = _forecasts(file, mode, every) if forecasts else None
    except ContinuumError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(exc.exit_code) from None
    if made is not None:
        if fmt == "json":
            out = {"alerts": [a.to_dict() for a in alerts], "forecasts": made}
            typer.echo(json.dumps(out, indent=2, ensure_ascii=False))
        else:
            typer.echo(alerts_text(alerts))
            typer.echo(forecasts_text(made))
        return
    if fmt == "json":
        typer.echo(json.dumps([a.to_dict() for a in alerts], indent=2, ensure_ascii=False))
    else:
        typer.echo(alerts_text(alerts))


def _run(file: Path, mode: str, fmt: str, flow_goal: float | None) -> list[Alert]:
    from continuum.ingest.console_csv import read_console_csv
    from continuum.surveillance import RunSeries, RunTargets, run_all_detectors

    if find(mode) is None:
        raise ValidationFailed(f"--mode must be one of {', '.join(MODES)}, not '{mode}'", "mode")
    if fmt not in FORMATS:
        raise ValidationFailed(f"--format must be json or text, not '{fmt}'", "format")
    if not file.is_file():
        raise ValidationFailed(f"no such file: {file}", "file")
    console = read_console_csv(file)
    _report(console)
    series = RunSeries(mode, console.series)
    return run_all_detectors(series, targets=RunTargets(flow_goal=flow_goal))


def _forecasts(file: Path, mode: str, every: float) -> list[dict[str, Any]]:
    from continuum.forecast import brief, forecasts_along
    from continuum.ingest.console_csv import read_console_csv
    from continuum.surveillance import RunSeries

    series = RunSeries(mode, read_console_csv(file).series)
    return [brief(f) for f in forecasts_along(series, every)]


def forecasts_text(made: list[dict[str, Any]]) -> str:
    lines = [f"forecasts ({sum(f['status'] == 'forecast' for f in made)} made of {len(made)}):"]
    for f in made:
        if f["status"] == "forecast":
            lines.append(
                f"  {f['made_at']}  {f['criterion']:13} crosses ~{f['predicted_crossing']} "
                f"({f['interval_earliest']} – {f['interval_latest'] or 'open'})"
            )
    return "\n".join(lines)


def _report(console: ConsoleFile) -> None:
    if not console.report.clean:
        typer.echo(console.report.text(), err=True)
    if not console.series:
        raise ValidationFailed("the file holds no readable observations", "file")


def alerts_text(alerts: list[Alert]) -> str:
    if not alerts:
        return "no alerts"
    lines = []
    for a in alerts:
        d = a.to_dict()
        until = d["cleared_at"] or "still open"
        lines.append(f"[{a.severity.upper():8}] {a.detector}  {d['raised_at']} → {until}")
        lines.append(f"           {a.summary}")
        lines.append(f"           rule: {a.evidence.get('rule', '')}")
    return "\n".join(lines)
