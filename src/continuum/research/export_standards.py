"""The OMOP CDM 5.4 + ECLS-CDM and CLIF 2.1 exports as the export module calls them: the
run stream of ``export.stream_runs`` (de-identified by ``research.deidentify`` exactly as
the other formats) written by ``export_omop`` / ``export_clif``, described for the manifest
(fields, rows, bytes, SHA-256, the standard's version and what was not mapped)."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from continuum.research.deidentify import Policy
from continuum.research.export import Plan, Progress, stream_runs
from continuum.research.export_tables import Column, sha256_of


def write(
    db: Session, p: Plan, policy: Policy, out_dir: Path, zone: ZoneInfo, progress: Progress | None
) -> list[dict[str, Any]]:
    from continuum.research import export_clif, export_omop

    runs = stream_runs(db, p, policy, zone, progress)
    fields: dict[str, list[Column]]
    if p.fmt == "omop":
        written, not_exported = export_omop.write(db, runs, out_dir, policy.identified)
        fields = {f"{name}.csv": cols for name, cols in export_omop.ALL_TABLES.items()}
        standard = {"name": export_omop.VERSION, "not_exported": not_exported}
    else:
        written = export_clif.write(db, runs, out_dir)
        fields = {n: export_clif.COLUMNS for n in ("ecmo_mcs.csv", "ecmo_mcs.parquet")}
        standard = {"name": export_clif.VERSION, "not_exported": {}}
    files: list[dict[str, Any]] = [
        {
            "file": name,
            "table": name.rsplit(".", 1)[0],
            "layout": layout,
            "rows": rows,
            "bytes": (out_dir / name).stat().st_size,
            "sha256": sha256_of(out_dir / name),
            "fields": [c.as_dict() for c in fields[name]],
        }
        for name, layout, rows in written
    ]
    files.append({"standard": standard})
    return files
