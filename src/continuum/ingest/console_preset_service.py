"""Console-export presets in the database, and reading a file with one.

The shipped presets (``console_presets.SHIPPED``) are overlaid by the site's rows: a row
with a shipped name replaces that preset, others are added. Saving and removing need
*manage integration*, claim the row's version and are audited with the definition before
and after. Reading a file with a preset (``read_with_preset``) stores nothing: the page's
preview and the CLI's import both start from it.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from datetime import UTC, tzinfo
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from continuum.core import audit
from continuum.core.concurrency import claim_version
from continuum.core.roles import Actor, Permission
from continuum.db import utcnow
from continuum.errors import Conflict, FieldProblem, NotFound, ValidationFailed
from continuum.ingest.console_csv import ConsoleFile, Progress, Source, read_console_csv
from continuum.ingest.console_presets import SHIPPED, Preset, Preview, check_preset, preview
from continuum.ingest.models import ConsolePreset

DEFAULT = "continuum"


def _from_row(row: ConsolePreset) -> Preset:
    return check_preset(row.definition, origin="site", version=row.version)


def list_presets(session: Session) -> list[Preset]:
    """Every preset an upload may choose: the site's rows over the shipped ones."""
    presets = dict(SHIPPED)
    for row in session.scalars(select(ConsolePreset).order_by(ConsolePreset.name)):
        presets[row.name] = _from_row(row)
    return [presets[DEFAULT], *sorted((p for n, p in presets.items() if n != DEFAULT),
                                      key=lambda p: p.name)]  # fmt: skip


def get_preset(session: Session, name: str | None) -> Preset:
    """The preset by name (default: the project's own layout); unknown names are a
    ValidationFailed listing the known ones."""
    wanted = (name or DEFAULT).strip().lower()
    row = session.scalar(select(ConsolePreset).where(ConsolePreset.name == wanted))
    if row is not None:
        return _from_row(row)
    if wanted in SHIPPED:
        return SHIPPED[wanted]
    known = ", ".join(p.name for p in list_presets(session))
    raise ValidationFailed([FieldProblem("preset", f"no preset '{wanted}' (known: {known})",
                                         wanted)])  # fmt: skip


def save_preset(
    session: Session, actor: Actor, data: dict[str, Any], version: int | None = None
) -> Preset:
    """Add a preset, or replace one (a shipped one too). ``version`` is the version the
    editor opened (0 for a shipped or new preset); a newer save in between is a 409."""
    actor.require(Permission.MANAGE_INTEGRATION)
    preset = check_preset(data)
    row = session.scalar(select(ConsolePreset).where(ConsolePreset.name == preset.name))
    before = row.definition if row is not None else None
    definition = {k: v for k, v in preset.to_dict().items() if k not in ("origin", "version")}
    if row is None:
        if version:
            raise Conflict(f"preset '{preset.name}' was removed after you opened it")
        row = ConsolePreset(name=preset.name, definition=definition, version=1,
                            updated_by=actor.staff_id, updated_at=utcnow())  # fmt: skip
        session.add(row)
        session.flush()
    else:
        if version == 0:
            raise Conflict(
                f"preset '{preset.name}' already exists (version {row.version}): open it "
                "from the list to change it"
            )
        claim_version(session, row, version, actor.staff_id, f"preset '{preset.name}'",
                      extra={"definition": definition})  # fmt: skip
        row.definition = definition
    detail = {"name": preset.name, "before": before, "after": definition,
              "replaces_shipped": preset.name in SHIPPED}  # fmt: skip
    audit.record(session, actor, "save", "ingest_console_preset", row.id, None, detail)
    return check_preset(definition, origin="site", version=row.version)


def remove_preset(session: Session, actor: Actor, name: str, version: int | None = None) -> None:
    """Remove a site's preset (a replaced shipped preset is shipped again)."""
    actor.require(Permission.MANAGE_INTEGRATION)
    row = session.scalar(select(ConsolePreset).where(ConsolePreset.name == name))
    if row is None:
        raise NotFound(f"no site preset '{name}' (shipped presets cannot be removed)")
    if version is not None and version != row.version:
        raise Conflict(
            f"preset '{name}' was changed after you opened it (you opened version {version}, "
            f"it is now version {row.version}): review it and try again"
        )
    detail = {"name": name, "before": row.definition, "shipped_again": name in SHIPPED}
    audit.record(session, actor, "remove", "ingest_console_preset", row.id, None, detail)
    session.delete(row)
    session.flush()


@dataclass
class PresetRead:
    preset: Preset
    console: ConsoleFile
    preview: Preview


def read_with_preset(
    source: Source,
    preset: Preset,
    zone: tzinfo = UTC,
    progress: Progress | None = None,
) -> PresetRead:
    """Read a file with a preset (nothing stored). A text source is read once: the first
    time cell for the preview is taken from the same text."""
    first = None
    if isinstance(source, io.StringIO):
        first = _first_time_cell(source.getvalue(), preset)
    elif isinstance(source, str | os.PathLike):
        try:
            with open(source, encoding="utf-8-sig", newline="") as fh:
                first = _first_time_cell(fh.read(65536), preset)
        except (OSError, UnicodeDecodeError):
            first = None  # the reader names the problem
    console = read_console_csv(source, progress=progress, layout=preset.layout(zone))
    return PresetRead(preset, console, preview(console, preset, first, zone))


def _first_time_cell(text: str, preset: Preset) -> str | None:
    import csv

    reader = csv.reader(io.StringIO(text[:65536], newline=""), delimiter=preset.delimiter)
    try:
        header = [h.lstrip("\ufeff").strip().casefold() for h in next(reader)]
        at = header.index(preset.time_column.strip().casefold())
        for row in reader:
            if len(row) > at and row[at].strip():
                return row[at].strip()
    except (StopIteration, ValueError, csv.Error):
        return None
    return None
