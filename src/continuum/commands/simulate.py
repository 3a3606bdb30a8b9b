"""`continuum simulate --scenario NAME --mode VV|VA --hours H --seed S --out FILE.csv`.

Writes FILE.csv (console CSV, docs/contracts.md §2) and FILE.truth.json (injected faults);
`continuum simulate --list` prints the scenario library.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from continuum.errors import ContinuumError, FieldProblem, ValidationFailed

LONG_RUN_HOURS = 24.0


def truth_path(out: Path) -> Path:
    """FILE.csv -> FILE.truth.json (any other name gets .truth.json appended)."""
    if out.suffix.lower() == ".csv":
        return out.with_name(out.name[: -len(out.suffix)] + ".truth.json")
    return out.with_name(out.name + ".truth.json")


def _print_list(as_json: bool) -> None:
    from continuum.simulator import list_scenarios

    infos = list_scenarios()
    if as_json:
        typer.echo(json.dumps([i.as_dict() for i in infos], indent=2, ensure_ascii=False))
        return
    for info in infos:
        faults = ", ".join(info.faults) or "none (control)"
        typer.echo(
            f"{info.name:<28} modes: {'/'.join(info.modes):<6} "
            f"default: {info.default_mode}  faults: {faults}"
        )
        typer.echo(f"{'':<28} {info.description}")


def simulate_command(
    scenario: Annotated[
        str | None, typer.Option("--scenario", help="Scenario name (see --list)")
    ] = None,
    mode: Annotated[
        str | None, typer.Option("--mode", help="VV or VA (default: the scenario's)")
    ] = None,
    hours: Annotated[
        float, typer.Option("--hours", help="Run length in hours (0 < H ≤ 2160)")
    ] = 24.0,
    seed: Annotated[int, typer.Option("--seed", help="Random seed; same seed, same file")] = 1,
    out: Annotated[Path | None, typer.Option("--out", help="Output console CSV file")] = None,
    list_all: Annotated[bool, typer.Option("--list", help="List the scenario library")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="With --list: print JSON")] = False,
) -> None:
    """Simulate a patient + circuit run with injected faults, as a console CSV + ground truth."""
    from rich.console import Console

    from continuum.simulator import list_scenarios, simulate

    if list_all:
        _print_list(as_json)
        return
    err = Console(stderr=True)
    try:
        problems: list[FieldProblem] = []
        if not scenario:
            problems.append(FieldProblem("scenario", "--scenario is required (see --list)"))
        if out is None:
            problems.append(FieldProblem("out", "--out FILE.csv is required"))
        if problems:
            raise ValidationFailed(problems)
        assert scenario is not None and out is not None
        if mode is None:
            names = {i.name: i for i in list_scenarios()}
            mode = names[scenario].default_mode if scenario in names else "VV"
        mode = mode.upper()
        if hours > LONG_RUN_HOURS:
            with err.status(f"simulating {hours:g} h of {scenario} ({mode})…"):
                run = simulate(scenario, mode, hours, seed)
        else:
            run = simulate(scenario, mode, hours, seed)
        out.parent.mkdir(parents=True, exist_ok=True)
        if hours > LONG_RUN_HOURS:
            with err.status(f"writing {out}…"):
                run.to_csv(out)
        else:
            run.to_csv(out)
        tpath = run.write_truth(truth_path(out))
    except ContinuumError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(exc.exit_code) from None
    except OSError as exc:
        typer.echo(f"error: cannot write output: {exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"wrote {out} ({run.times.size} minutes, {len(run.codes)} codes)")
    typer.echo(f"wrote {tpath} ({len(run.truth)} injected fault(s))")
    for t in run.truth:
        d = t.as_dict()
        typer.echo(f"  {d['kind']}: onset {d['onset']}, obvious {d['obvious_at'] or 'never'}")


def register(app: typer.Typer) -> None:
    """Add the `simulate` command to ``app``."""
    app.command("simulate")(simulate_command)
