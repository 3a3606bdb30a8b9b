"""The ELSO-shaped run record exported: JSON (every field with value, unit, status and
source, the work list and completeness) and the relational bundle (a zip: one CSV per
registry table, ``fields.csv`` with every field's provenance, ``record.json`` and a
manifest naming the code-list versions and the windows in force)."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from typing import Any

import continuum.quality.taxonomy as taxonomy
from continuum.research import elso_codes
from continuum.research.registry_build import REQUIRED_LIST_VERSION, TABLES, RegistryRecord
from continuum.research.registry_service import shown


def field_dict(f: Any) -> dict[str, Any]:
    return {
        "field": f.key,
        "table": f.table,
        "row": f.row or None,
        "name": f.name,
        "label": f.label,
        "kind": f.kind,
        "unit": f.unit or None,
        "required": f.required,
        "value": shown(f.value),
        "status": f.status,
        "source": f.source,
        "source_kind": f.source_kind,
        "source_id": f.source_id,
        "source_time": shown(f.source_time),
        "our_value": f.our_value,
        "note": f.note,
        "where": f.where if not f.filled else None,
        "code_list": f.code_list,
    }


def versions() -> dict[str, str]:
    out = {name: c.version for name, c in elso_codes.CODE_LISTS.items()}
    out["elso_complication"] = taxonomy.ELSO_CODE_SET_VERSION
    out["required_fields"] = REQUIRED_LIST_VERSION
    out["code_lists"] = elso_codes.CODE_LISTS_VERSION
    return out


def as_json(rec: RegistryRecord) -> dict[str, Any]:
    return {
        "run_id": rec.run_id,
        "patient_label": rec.patient_label,
        "status": rec.status,
        "completeness_pct": rec.completeness_pct,
        "filled_without_typing_pct": rec.untyped_pct,
        "required": len(rec.required),
        "work_list": [f.key for f in rec.work_list],
        "complications_without_elso_code": rec.complications_unmapped,
        "windows": {label: value for label, value in rec.windows.describe()},
        "versions": versions(),
        "fields": [field_dict(f) for f in rec.fields],
    }


def table_rows(rec: RegistryRecord, table: str) -> tuple[list[str], list[dict[str, Any]]]:
    """One CSV row per registry row: run id, row id and each field's value."""
    names: list[str] = []
    rows: dict[str, dict[str, Any]] = {}
    for f in rec.table(table):
        if f.name not in names:
            names.append(f.name)
        rows.setdefault(f.row, {"run_id": rec.run_id, "row_id": f.row or rec.run_id})[f.name] = (
            shown(f.value)
        )
    return ["run_id", "row_id", *names], list(rows.values())


def _csv(header: list[str], rows: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def bundle(rec: RegistryRecord) -> bytes:
    """The relational bundle as zip bytes (deterministic file order)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for table in TABLES:
            header, rows = table_rows(rec, table)
            z.writestr(f"{table}.csv", _csv(header, rows))
        long = [field_dict(f) for f in rec.fields]
        z.writestr("fields.csv", _csv(list(long[0]) if long else ["field"], long))
        z.writestr("record.json", json.dumps(as_json(rec), indent=2))
        manifest = {
            "run_id": rec.run_id,
            "tables": list(TABLES),
            "versions": versions(),
            "windows": dict(rec.windows.describe()),
            "completeness_pct": rec.completeness_pct,
            "note": "ELSO-shaped, not ELSO's own format: the required-field list and the code "
            "lists are our reading of public sources (docs/registry.md).",
        }
        z.writestr("manifest.json", json.dumps(manifest, indent=2))
    return buf.getvalue()


def as_text(rec: RegistryRecord) -> str:
    """The record for a terminal: table by table, each field with value, status, source."""
    lines = [
        f"Run {rec.run_id} · {rec.patient_label} · {rec.status} · completeness "
        f"{rec.completeness_pct:g} % ({len(rec.required) - len(rec.work_list)} of "
        f"{len(rec.required)} required) · filled without typing {rec.untyped_pct:g} %"
    ]
    for table, title in TABLES.items():
        fields = rec.table(table)
        lines.append(f"\n{title}" + ("" if fields else ": none recorded"))
        for f in fields:
            value = shown(f.value)
            unit = f" {f.unit}" if f.unit and value is not None else ""
            req = "*" if f.required else " "
            where = f.source or f.note or ""
            lines.append(f" {req} {f.key:<40} {(value or '—') + unit:<28} {f.status:<10} {where}")
    if rec.work_list:
        lines.append("\nWork list (required, still missing):")
        lines += [f"  {f.key}: {f.note or f.where or ''}" for f in rec.work_list]
    return "\n".join(lines)
