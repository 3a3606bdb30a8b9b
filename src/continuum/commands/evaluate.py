"""`continuum evaluate`: detection quality measured on the simulator's scenario library.

Every scenario in every mode it supports is simulated with seeds the detectors were not
tuned on (default 1001–1005; the tests and tuning used seed 1), all detectors run over the
whole run, and each detector is scored against the ground truth beside the static-threshold
set (what a console alarm does):

- sensitivity: injected faults of that kind caught (an alert of its kind open at or after
  the fault's onset) / faults injected;
- false warning/critical alerts per run-day on the fault-free controls;
- warning/critical alerts on other faults' runs: raised on a run whose faults are of other
  kinds and do not explain it (``surveillance.evaluation.RELATED``), e.g. an access-
  insufficiency warning on a pump-thrombosis run (specificity across faults);
- median time from fault onset to the alert (h; negative: the alert was already open).
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    import numpy as np

    from continuum.surveillance import Alert


FORMATS = ("text", "json")
METHODS = ("trend", "static")


def register(app: typer.Typer) -> None:
    app.command("evaluate")(evaluate)


@dataclass
class Tally:
    """One detector, one method: faults injected/caught, onset→alert delays, false alerts."""

    injected: int = 0
    caught: int = 0
    delays_h: list[float] = field(default_factory=list)
    false_alerts: int = 0
    cross_alerts: int = 0

    def row(self, control_days: float) -> dict[str, Any]:
        return {
            "faults": self.injected,
            "caught": self.caught,
            "sensitivity": round(self.caught / self.injected, 3) if self.injected else None,
            "false_alerts_per_run_day": round(self.false_alerts / control_days, 3)
            if control_days
            else None,
            "false_alerts": self.false_alerts,
            "other_fault_alerts": self.cross_alerts,
            "median_onset_to_alert_h": round(statistics.median(self.delays_h), 2)
            if self.delays_h
            else None,
        }


@dataclass
class Paired:
    """Per fault caught by both methods: was the trend detector earlier, tied or later?"""

    earlier: int = 0
    tied: int = 0
    later: int = 0

    def add(self, trend: float | None, static: float | None) -> None:
        if trend is None or static is None:
            return
        if abs(trend - static) < 1 / 60:
            self.tied += 1
        elif trend < static:
            self.earlier += 1
        else:
            self.later += 1

    def row(self) -> dict[str, int]:
        return {"trend_earlier": self.earlier, "tied": self.tied, "trend_later": self.later}


def evaluate(
    seeds: Annotated[str, typer.Option(help="seeds, e.g. 1001-1005 or 1001,1007")] = "1001-1005",
    hours: Annotated[float, typer.Option(help="simulated hours per run")] = 72.0,
    fmt: Annotated[str, typer.Option("--format", help="text or json")] = "text",
    forecast: Annotated[
        bool, typer.Option("--forecast/--no-forecast", help="also score exchange forecasts")
    ] = True,
) -> None:
    """Score every detector on the simulator's scenario library (unseen seeds)."""
    if fmt not in FORMATS:
        typer.echo(f"error: --format must be text or json, not '{fmt}'", err=True)
        raise typer.Exit(2)
    try:
        seed_list = parse_seeds(seeds)
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    result = run_evaluation(seed_list, hours, progress=fmt == "text", forecast=forecast)
    if fmt == "json":
        typer.echo(json.dumps(result, indent=2))
    else:
        print_table(result)
        if "forecast" in result:
            print_forecast_table(result)


def parse_seeds(text: str) -> list[int]:
    out: list[int] = []
    for part in text.split(","):
        a, _, b = part.strip().partition("-")
        if not a.isdigit() or (b and not b.isdigit()):
            raise ValueError(f"--seeds '{text}' must look like 1001-1005 or 1001,1002")
        out += list(range(int(a), int(b or a) + 1))
    if not out or len(out) > 100:
        raise ValueError(f"--seeds '{text}' must name 1 to 100 seeds")
    return out


def runs(seeds: list[int]) -> list[tuple[str, str, int]]:
    from continuum.simulator import list_scenarios

    return [
        (s.name, m, seed)
        for s in list_scenarios()
        if s.evaluated
        for m in s.modes
        for seed in seeds
    ]


def run_evaluation(
    seeds: list[int], hours: float, progress: bool = True, forecast: bool = False
) -> dict[str, Any]:
    from rich.console import Console
    from rich.progress import Progress

    from continuum.forecast.evaluation import ForecastScore
    from continuum.simulator import simulate
    from continuum.surveillance import DETECTOR_CODES, RunSeries
    from continuum.surveillance.engine import run_all_detectors
    from continuum.surveillance.static import run_static_detectors

    forecasts = ForecastScore()
    tallies = {m: {c: Tally() for c in DETECTOR_CODES} for m in METHODS}
    paired = {c: Paired() for c in DETECTOR_CODES}
    control_days = 0.0
    plan = runs(seeds)
    with Progress(console=Console(stderr=True), disable=not progress, transient=True) as bar:
        task = bar.add_task("simulating and scoring", total=len(plan))
        for name, mode, seed in plan:
            sim = simulate(name, mode, hours, seed)
            series = RunSeries.from_grid(sim.times, sim.signals, mode)
            found = {"trend": run_all_detectors(series), "static": run_static_detectors(series)}
            delays = {m: score_run(tallies[m], a, sim.truth) for m, a in found.items()}
            for fault, trend, static in zip(
                sim.truth, delays["trend"], delays["static"], strict=True
            ):
                paired[fault.kind].add(trend, static)
            if not sim.truth:
                control_days += hours / 24
            if forecast:
                score_forecasts(forecasts, name, sim, series, hours)
            bar.advance(task)
    out: dict[str, Any] = {
        "seeds": seeds,
        "hours_per_run": hours,
        "runs": len(plan),
        "control_run_days": round(control_days, 2),
        "detectors": {
            code: {
                **{m: tallies[m][code].row(control_days) for m in METHODS},
                "paired": paired[code].row(),
            }
            for code in DETECTOR_CODES
        },
    }
    if forecast:
        out["forecast"] = forecasts.result()
    return out


def score_forecasts(score: Any, name: str, sim: Any, series: Any, hours: float) -> None:
    """The simulator's noiseless signals give the true crossing; a fault ended by an
    exchange (its ``ended_at``) bounds it."""
    from continuum.surveillance import RunSeries

    if not sim.truth:
        score.score_control_run(series, hours)
        return
    clean = RunSeries.from_grid(sim.times, sim.clean, sim.mode)
    ends = [_ms(f.ended_at) for f in sim.truth if f.ended_at is not None]
    score.score_fault_run(name, series, clean, min(ends) if ends else None)


def score_run(
    tally: dict[str, Tally], alerts: list[Alert], faults: Iterable[Any]
) -> list[float | None]:
    """Faults of each kind: caught or not, and the delay from onset; on a fault-free run,
    every warning/critical alert counts as false. Returns each fault's delay (None: missed)."""
    import numpy as np

    faults = list(faults)
    delays: list[float | None] = []
    for f in faults:
        t = tally[f.kind]
        t.injected += 1
        onset = _ms(f.onset)
        hits = [
            a
            for a in alerts
            if a.detector == f.kind and (a.cleared_at is None or a.cleared_at > onset)
        ]
        delay = float((hits[0].raised_at - onset) / np.timedelta64(1, "h")) if hits else None
        delays.append(delay)
        if delay is not None:
            t.caught += 1
            t.delays_h.append(delay)
    if not faults:
        for a in alerts:
            if a.severity in ("warning", "critical"):
                tally[a.detector].false_alerts += 1
    else:
        from continuum.surveillance.evaluation import RELATED

        kinds = {f.kind for f in faults}
        explained = kinds.union(*(RELATED.get(k, frozenset()) for k in kinds))
        for a in alerts:
            if a.severity in ("warning", "critical") and a.detector not in explained:
                tally[a.detector].cross_alerts += 1
    return delays


def _ms(t: datetime) -> np.datetime64:
    from continuum.surveillance.series import to_ms

    return to_ms(t)[0]


def _cell(v: Any, pct: bool = False) -> str:
    if v is None:
        return "—"
    return f"{100 * v:.0f}%" if pct else f"{v:g}"


def print_table(result: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(
        title=f"Detection quality: {result['runs']} simulated runs × "
        f"{result['hours_per_run']:g} h, "
        f"seeds {result['seeds'][0]}–{result['seeds'][-1]} (not used for tuning); "
        f"controls {result['control_run_days']:g} run-days"
    )
    for col in (
        "detector",
        "faults",
        "sensitivity\ntrend | static",
        "false warn/crit per run-day\ntrend | static",
        "warn/crit on other faults' runs\ntrend | static",
        "median onset→alert (h)\ntrend | static",
        "per fault caught by both\ntrend earlier / tied / later",
    ):
        table.add_column(col, justify="left" if col == "detector" else "right")
    for code, m in result["detectors"].items():
        t, s = m["trend"], m["static"]
        table.add_row(
            code,
            str(t["faults"]),
            f"{_cell(t['sensitivity'], True)} | {_cell(s['sensitivity'], True)}",
            f"{_cell(t['false_alerts_per_run_day'])} | {_cell(s['false_alerts_per_run_day'])}",
            f"{t['other_fault_alerts']} | {s['other_fault_alerts']}",
            f"{_cell(t['median_onset_to_alert_h'])} | {_cell(s['median_onset_to_alert_h'])}",
            "{trend_earlier} / {tied} / {trend_later}".format(**m["paired"]),
        )
    Console(width=190).print(table)


def print_forecast_table(result: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    fc = result["forecast"]
    table = Table(
        title="Exchange-criterion forecasts made 6, 12 and 24 h before the true crossing "
        f"(noiseless signal beyond the line in force); stated interval {fc['interval_level']:.0%}"
    )
    for col in ("scenario", "criterion", "lead (h)", "crossings", "forecasts made",
                "median |error| (h)", "interval coverage", "refused (reason: n)"):  # fmt: skip
        table.add_column(col, justify="left" if col in ("scenario", "criterion") else "right")
    for r in fc["faults"]:
        table.add_row(
            r["scenario"] if "scenario" in r else r["fault"],
            r["criterion"],
            str(r["lead_h"]),
            str(r["crossings"]),
            str(r["forecasts_made"]),
            _cell(r["median_abs_error_h"]),
            _cell(r["interval_coverage"], True),
            ", ".join(f"{k}: {v}" for k, v in r["refused"].items()) or "—",
        )
    console = Console(width=190)
    console.print(table)
    controls = Table(
        title=f"False forecasts on fault-free controls ({fc['controls']['run_days']:g} run-days, "
        f"asked every {fc['controls']['every_h']:g} h)"
    )
    for col in ("criterion", "forecasts asked", "false forecasts", "per run-day"):
        controls.add_column(col, justify="left" if col == "criterion" else "right")
    for code, c in fc["controls"]["criteria"].items():
        controls.add_row(
            code,
            str(c["forecasts_asked"]),
            str(c["false_forecasts"]),
            _cell(c["false_per_run_day"]),
        )
    console.print(controls)
