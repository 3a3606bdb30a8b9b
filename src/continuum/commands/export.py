"""`continuum export`: a saved cohort (or every run) as CSV, Parquet, REDCap, FHIR, OMOP CDM
5.4 + ECLS-CDM or CLIF 2.1 ecmo_mcs, with its manifest,
de-identified unless ``--identified`` (which needs ``--as`` a user whose role may, and a
``--purpose``). Every export is a job row and an audit row (who, cohort, fields, purpose).

Without ``--as`` the command line exports as a researcher would: de-identified only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from continuum.errors import ValidationFailed


def register(app: typer.Typer) -> None:
    app.command("export")(export_command)


def export_command(
    fmt: Annotated[str, typer.Option("--format", help="csv, parquet, redcap, fhir, omop or clif")],
    out: Annotated[Path, typer.Option("--out", help="directory to write (created; must be empty)")],
    cohort: Annotated[str | None, typer.Option("--cohort", help="a saved cohort's name")] = None,
    all_runs: Annotated[bool, typer.Option("--all", help="every run")] = False,
    identified: Annotated[
        bool, typer.Option("--identified", help="keep identifiers (needs --as and --purpose)")
    ] = False,
    purpose: Annotated[str | None, typer.Option("--purpose", help="why (identified)")] = None,
    as_user: Annotated[
        str | None, typer.Option("--as", help="username of the person exporting")
    ] = None,
) -> None:
    """Export a cohort's runs, observations long and wide (run-hour), and a manifest."""
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from continuum.config import get_settings
    from continuum.db import make_engine, make_sessionmaker, unit_of_work
    from continuum.research import export, text_release

    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ValidationFailed(f"{out} exists and is not an empty directory", "out")
    settings = get_settings()
    sessions = make_sessionmaker(make_engine(settings.database_url))
    zone = settings.zone
    with unit_of_work(sessions) as db:
        actor = _actor(db, as_user)
        p = export.plan(db, actor, zone, fmt=fmt, cohort_name=cohort, all_runs=all_runs,
                        identified=identified, purpose=purpose)  # fmt: skip
        released = text_release.released_fields(db, p.cohort_id, p.run_ids, zone)
        policy = export.policy_for(settings, identified, released)
        job = export.create_job(db, actor, p, policy)
        job.status, job.directory = "running", str(out.resolve())
        job_id = job.id
    err = Console(stderr=True)
    with Progress(
        TextColumn("[bold]{task.description}"), BarColumn(),
        TextColumn("{task.completed}/{task.total} runs"), TimeElapsedColumn(),
        console=err, transient=True,
    ) as bar:  # fmt: skip
        task = bar.add_task(f"exporting '{p.cohort_name}'", total=len(p.run_ids))

        def tick(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        try:
            with unit_of_work(sessions) as db:
                result = export.write_export(db, actor, p, policy, out, zone, job_id, tick)
        except Exception as exc:
            with unit_of_work(sessions) as db:
                export.finish(db, job_id, None, f"{type(exc).__name__}: {exc}")
            raise
    with unit_of_work(sessions) as db:
        export.finish(db, job_id, result, None)
    kind = "identified" if identified else "de-identified"
    typer.echo(
        f"export {job_id}: {len(p.run_ids)} runs of '{p.cohort_name}', {kind}, {fmt} → {out}"
    )
    for f in result["files"]:
        typer.echo(f"  {f['file']:<32} {f['rows']:>10} rows  sha256 {f['sha256'][:16]}…")
    typer.echo("  manifest.json")


def _actor(db, username: str | None):  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from continuum.core import accounts
    from continuum.core.people import Staff
    from continuum.core.roles import Actor

    if username is None:
        return Actor(staff_id=None, name="command line", role="researcher", client="cli")
    staff = db.scalar(select(Staff).where(Staff.username == username))
    if staff is None or not staff.active:
        raise ValidationFailed(f"no active user with username '{username}'", "as")
    return accounts.actor_for(staff, "cli")
