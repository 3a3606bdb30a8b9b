"""`continuum quality arl` and `continuum quality limit`: the in-control run length of a
risk-adjusted CUSUM for a programme's own risk mix, and the limit h for a wanted number of
false alarms a year (docs/clinical/reference.md §7.6).

The risk file holds one predicted risk of death per line (0 < p < 1); blank lines and lines
starting with ``#`` are skipped. A bad file exits 2 with the line and the value, no traceback.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from continuum.errors import ValidationFailed

if TYPE_CHECKING:
    from continuum.control_charts.run_length import RunLength

FORMATS = ("text", "json")
quality_app = typer.Typer(
    help="Quality control charts: run lengths and control limits.", no_args_is_help=True
)

RisksOption = Annotated[
    Path,
    typer.Option("--risks", help="file of predicted risks of death, one per line (0 < p < 1)"),
]
OddsRatioOption = Annotated[
    float,
    typer.Option("--ra", help="odds ratio the chart detects: 2 deterioration, 0.5 improvement"),
]
StatesOption = Annotated[
    int, typer.Option("--states", help="Markov-chain steps between 0 and h (10–2000)")
]
FormatOption = Annotated[str, typer.Option("--format", help="text or json")]


def register(app: typer.Typer) -> None:
    """Add the `quality` command group to ``app``."""
    app.add_typer(quality_app, name="quality")


def read_risks(path: Path) -> list[float]:
    """The risks in ``path``; refuses a missing file, a non-number or a value outside (0, 1)
    naming the line and the value."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ValidationFailed(f"risk file {path} does not exist", "risks") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ValidationFailed(f"risk file {path} cannot be read: {exc}", "risks") from None
    risks: list[float] = []
    for number, line in enumerate(text.splitlines(), start=1):
        given = line.strip()
        if not given or given.startswith("#"):
            continue
        try:
            risk = float(given)
        except ValueError:
            raise ValidationFailed(
                f"{path} line {number}: {given!r} is not a number; give one predicted risk per "
                "line, 0 < risk < 1",
                "risks",
            ) from None
        if not 0 < risk < 1:
            raise ValidationFailed(
                f"{path} line {number}: {given} is outside the allowed range 0 < risk < 1",
                "risks",
            )
        risks.append(risk)
    if not risks:
        raise ValidationFailed(
            f"risk file {path} holds no risks (one per line, 0 < p < 1)", "risks"
        )
    return risks


def _checked_format(fmt: str) -> None:
    if fmt not in FORMATS:
        raise ValidationFailed(f"--format {fmt!r} is not known; allowed: text or json", "format")


def _refuse(exc: ValueError) -> ValidationFailed:
    """The calculation's refusal ("h = 0 is outside …"), its field named as the option."""
    message = str(exc)
    field = message.split(" = ", 1)[0] if " = " in message else "input"
    return ValidationFailed(message, field if field.isidentifier() else "input")


def _as_dict(found: RunLength, runs_per_year: float | None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "arl": round(found.arl, 2),
        "h": found.h,
        "odds_ratio": found.odds_ratio,
        "states": found.inputs["states"],
        "risks": found.inputs["risks"],
        "mean_risk": round(found.inputs["mean_risk"], 4),
        "method": found.method,
        "units": found.units,
        "formula": found.formula,
        "source": found.source,
    }
    if runs_per_year is not None:
        data["runs_per_year"] = runs_per_year
        data["false_alarms_per_year"] = round(found.false_alarms_per_year(runs_per_year), 4)
    return data


def _text(found: RunLength, runs_per_year: float | None) -> str:
    lines = [
        f"In-control ARL: {found.arl:,.1f} runs until a false signal",
        f"  chart: upper risk-adjusted CUSUM, odds ratio {found.odds_ratio:g}, h {found.h:g}",
        f"  risk mix: {found.inputs['risks']} risks, mean {found.inputs['mean_risk']:.3f}",
        f"  method: {found.method} ({found.source})",
    ]
    if runs_per_year is not None:
        per_year = found.false_alarms_per_year(runs_per_year)
        lines.append(
            f"At {runs_per_year:g} runs a year: {per_year:.3f} false alarms a year "
            f"(one every {1 / per_year:,.1f} years)"
        )
    return "\n".join(lines)


@quality_app.command("arl")
def arl(
    risks: RisksOption,
    h: Annotated[float, typer.Option("--h", help="control limit h (> 0)")],
    ra: OddsRatioOption,
    states: StatesOption = 300,
    runs_per_year: Annotated[
        float | None,
        typer.Option("--runs-per-year", help="runs a year, to print the false alarms a year"),
    ] = None,
    fmt: FormatOption = "text",
) -> None:
    """Print the in-control average run length (ARL₀) for a risk mix (Markov chain)."""
    _checked_format(fmt)
    mix = read_risks(risks)
    from continuum.control_charts import run_length

    try:
        if runs_per_year is not None and not runs_per_year > 0:
            raise ValueError(f"runs_per_year = {runs_per_year:g} is outside the allowed range > 0")
        found = run_length.arl_markov(mix, ra, h, states=states)
    except ValueError as exc:
        raise _refuse(exc) from None
    if fmt == "json":
        typer.echo(json.dumps(_as_dict(found, runs_per_year), indent=2, ensure_ascii=False))
    else:
        typer.echo(_text(found, runs_per_year))


@quality_app.command("limit")
def limit(
    risks: RisksOption,
    ra: OddsRatioOption,
    runs_per_year: Annotated[float, typer.Option("--runs-per-year", help="runs a year (> 0)")],
    false_alarms_per_year: Annotated[
        float,
        typer.Option("--false-alarms-per-year", help="false alarms a year you accept (> 0)"),
    ],
    states: StatesOption = 300,
    fmt: FormatOption = "text",
) -> None:
    """Find h so that the in-control ARL is runs a year / false alarms a year."""
    _checked_format(fmt)
    mix = read_risks(risks)
    from continuum.control_charts import run_length

    try:
        found = run_length.choose_h(mix, ra, runs_per_year, false_alarms_per_year, states=states)
    except ValueError as exc:
        raise _refuse(exc) from None
    if fmt == "json":
        data = _as_dict(found.run_length, runs_per_year)
        data["target_arl"] = round(found.target_arl, 2)
        data["h"] = round(found.h, 4)
        typer.echo(json.dumps(data, indent=2, ensure_ascii=False))
    else:
        typer.echo(
            f"h = {found.h:.3f} for about {false_alarms_per_year:g} false alarms a year at "
            f"{runs_per_year:g} runs a year (target ARL₀ {found.target_arl:,.1f} runs)\n"
            + _text(found.run_length, runs_per_year)
        )
