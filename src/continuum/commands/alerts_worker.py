"""`continuum alerts worker [--interval S] [--once]`: the deferred-surveillance evaluator
as its own process (``continuum.alerts.due``).

`continuum ingest mllp` and `continuum ingest mqtt` already evaluate what they mark due;
sites may run any number of workers besides (on PostgreSQL each run is evaluated by one of
them at a time). ``--once`` evaluates what is due now, prints how many runs, and exits.
"""

from __future__ import annotations

import logging
from typing import Annotated

import typer

from continuum.errors import FieldProblem, ValidationFailed

alerts_app = typer.Typer(help="Circuit alerts.", no_args_is_help=True)
MAX_INTERVAL_S = 3600.0


def register(app: typer.Typer) -> None:
    app.add_typer(alerts_app, name="alerts")


@alerts_app.command("worker")
def alerts_worker(
    interval: Annotated[
        float, typer.Option("--interval", help="seconds between passes over the due runs")
    ] = 1.0,
    once: Annotated[
        bool, typer.Option("--once", help="evaluate what is due now, then exit")
    ] = False,
) -> None:
    """Evaluate the runs that streaming ingest marked due (surveillance alerts)."""
    import importlib

    from rich.console import Console

    from continuum.alerts.due import DueEvaluator  # installs every domain's hooks
    from continuum.config import get_settings
    from continuum.db import make_engine, make_sessionmaker
    from continuum.domains import MODEL_MODULES

    for name in MODEL_MODULES:  # every domain's tables (mapper relationships)
        importlib.import_module(name)
    out = Console(soft_wrap=True)

    if not 0 < interval <= MAX_INTERVAL_S:
        message = f"{interval:g} s is outside the allowed range (> 0 s, ≤ {MAX_INTERVAL_S:g} s)"
        raise ValidationFailed([FieldProblem("--interval", message, interval)])
    engine = make_engine(get_settings().database_url)
    evaluator = DueEvaluator(make_sessionmaker(engine), interval=interval)
    try:
        if once:
            n = evaluator.drain()
            out.print(f"evaluated {n} due run{'' if n == 1 else 's'}", highlight=False)
            out.print(str(evaluator.check_feeds(force=True)), highlight=False)
            return
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
        from continuum.config import get_settings
        from continuum.heap import tune_collector

        tune_collector(get_settings().gc_young_threshold)  # no 100+ ms pauses (continuum.heap)
        out.print(f"evaluating due runs every {interval:g} s", highlight=False)
        try:
            evaluator.run()
        except KeyboardInterrupt:
            out.print("stopped")
    finally:
        engine.dispose()
