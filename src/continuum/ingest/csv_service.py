"""Console CSV files into a run (docs/contracts.md §2): read (pure reader), store atomically.

The good cells of a file are stored together with the derived ΔP, the run's surveillance
"due" mark and an audit row, in the caller's transaction — or none of them are; the
detectors then run on the marked run moments after the commit (``alerts.due``). Refused cells,
unknown columns and unreadable times are reported, never stored.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, tzinfo
from typing import Any

import numpy as np
from sqlalchemy import insert
from sqlalchemy.orm import Session

from continuum.core import audit, observation_service, run_service
from continuum.core.roles import Actor, Permission
from continuum.db import utcnow
from continuum.errors import Conflict, FieldProblem, ValidationFailed
from continuum.ingest.console_csv import ConsoleFile, Progress, Source, read_console_csv
from continuum.ingest.console_presets import Preset
from continuum.ingest.copy_rows import copy_all
from continuum.ingest.models import IngestMessage


@dataclass
class CsvImport:
    run_id: int
    file_name: str
    console: ConsoleFile
    stored: int
    derived: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "file": self.file_name,
            "rows": self.console.report.rows_read,
            "stored": self.stored,
            "derived": self.derived,
            "report": self.console.report.to_dict(),
        }


def import_csv(
    session: Session,
    actor: Actor,
    run_id: int,
    source: Source,
    file_name: str,
    progress: Progress | None = None,
    preset: Preset | None = None,
    zone: tzinfo = UTC,
) -> CsvImport:
    """Read and store one console file into ``run_id``; flushes, never commits. A preset
    (console_presets) reads another console's layout; ``zone`` is the programme's, for a
    preset whose times are local."""
    actor.require(Permission.INGEST_DATA)
    run = run_service.get_run(session, actor, run_id)
    if run.status == "ended":
        raise Conflict(f"run {run_id} has ended; console data can no longer be imported")
    layout = preset.layout(zone) if preset is not None else None
    console = read_console_csv(source, progress=progress, layout=layout)
    check_times(console, run.started_at)
    ref = f"csv:{uuid.uuid4().hex[:16]}"  # short: it is indexed; the log maps it to the file
    stored, derived = store_series(session, run_id, console, ref, actor.staff_id)
    codes = set(console.series) | set(console.derived)
    _mark_surveillance_due(session, run_id, codes)
    _log(session, run_id, file_name, ref, stored + derived, console)
    detail = {"file": file_name, "rows": console.report.rows_read, "stored": stored,
              "derived": derived, "refused": console.report.refused_count,
              "unknown_columns": console.report.unknown_columns,
              "preset": preset.name if preset is not None else None}  # fmt: skip
    audit.record(session, actor, "ingest_csv", "run", run_id, run.patient_id, detail)
    return CsvImport(run_id, file_name, console, stored, derived)


def store_series(
    session: Session, run_id: int, console: ConsoleFile, ref: str, staff_id: int | None
) -> tuple[int, int]:
    """The file's values and the derived ΔP in one COPY: (stored, derived)."""
    series = [*console.series.items(), *console.derived.items()]
    total = copy_all(session, run_id, series, "csv", ref, staff_id, console.entered)
    derived = sum(int((~np.isnan(np.asarray(v, dtype=float))).sum()) for _, v in
                  console.derived.values())  # fmt: skip
    return total - derived, derived


def _mark_surveillance_due(session: Session, run_id: int, codes: set[str]) -> None:
    """A console file is a bulk load: its run is marked due (alerts.due) in this
    transaction and evaluated right after by the app's, the CLI's or a worker's evaluator,
    rather than holding the import while the detectors read the whole window back."""
    deferred = session.info.get("defer_surveillance")
    session.info["defer_surveillance"] = True
    try:
        observation_service.after_store(session, run_id, codes)
    finally:
        session.info["defer_surveillance"] = deferred


def check_times(console: ConsoleFile, started_at: Any) -> None:
    """Every value must fall within the run: before its start is refused (whole file)."""
    start = np.datetime64(started_at.replace(tzinfo=None), "ms")
    early = [c for c, (t, _) in console.series.items() if len(t) and t.min() < start]
    if early:
        raise ValidationFailed(
            [
                FieldProblem(
                    "file",
                    f"{', '.join(early)}: values dated before the run started "
                    f"({started_at.isoformat()}); nothing was imported",
                    str(np.datetime_as_string(console.series[early[0]][0].min())),
                )
            ]
        )


def _log(
    session: Session, run_id: int, name: str, ref: str, stored: int, console: ConsoleFile
) -> None:
    report = console.report
    now = utcnow()
    session.execute(
        insert(IngestMessage),
        [
            {
                "channel": "csv",
                "message_id": name[:128],
                "accepted_key": ref,
                "received_at": now,
                "processed_at": now,
                "ack_code": "AA",
                "stored": stored,
                "run_id": run_id,
                "detail": {
                    "errors": [c.message for c in report.refused[:50]],
                    "warnings": [f"unknown column {c}" for c in report.unknown_columns],
                    "refused_count": report.refused_count,
                },
            }
        ],
    )
