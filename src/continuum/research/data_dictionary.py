"""The data dictionary, generated: every table.column of the ORM metadata (all of
``domains.MODEL_MODULES``) and every observation code of the vocabulary, with its label,
type, unit, allowed values (check constraints, closed lists, the API's enums), nullability,
source table, the API response fields that carry it, and its mapping to ELSO, REDCap,
FHIR R4 (+ LOINC), OMOP CDM 5.4 / ECLS-CDM and CLIF ``ecmo_mcs`` from
``dictionary_entries`` (docs/data-dictionary.md).

No web and no session: the routes pass the response models the app serves.
"""

from __future__ import annotations

import csv
import importlib
import io
import re
import types
import typing
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from pydantic import BaseModel
from sqlalchemy import JSON, Boolean, CheckConstraint, Column, Date, Float, Integer, String, Text
from sqlalchemy import Table as SqlTable

from continuum import vocabulary
from continuum.db import Base, UTCDateTime
from continuum.domains import MODEL_MODULES
from continuum.research.dictionary_entries import (
    API_TABLES,
    CODE_ENTRIES,
    EXCLUDED,
    STANDARD_LABELS,
    STANDARDS,
    TABLES,
    Mapping,
    Table,
)

NOT_MAPPED = "not mapped: "
CODE_COLUMN = "value[{}]"  # observation.value[blood_flow]


@dataclass(frozen=True)
class DictionaryField:
    key: str  # "run.started_at", "observation.value[blood_flow]"
    table: str
    table_label: str
    column: str
    code: str | None  # the observation code, for observation.value[code]
    label: str
    type: str
    unit: str | None
    allowed: str | None
    nullable: bool
    excluded: str | None  # why the table is left out of every export (operational)
    api_fields: tuple[str, ...]
    description: str | None
    loinc: str | None
    mappings: dict[str, str]  # standard -> place, or "not mapped: reason"

    def mapped(self, standard: str) -> bool:
        return not self.mappings[standard].startswith(NOT_MAPPED)

    def text(self) -> str:
        """Everything a search looks through, lower-cased."""
        parts = (self.key, self.label, self.table_label, self.type, self.unit or "",
                 self.allowed or "", self.description or "", self.loinc or "",
                 *self.api_fields, *self.mappings.values())  # fmt: skip
        return " ".join(parts).lower()


def metadata_tables() -> dict[str, SqlTable]:
    """Every table the record has (each domain's model module imported)."""
    for module in MODEL_MODULES:
        importlib.import_module(module)
    return dict(Base.metadata.tables)


# ---- what the model says -------------------------------------------------------------


def column_type(column: Column[Any]) -> str:
    t = column.type
    if isinstance(t, UTCDateTime):
        return "date-time (UTC)"
    if isinstance(t, Boolean):
        return "boolean"
    if isinstance(t, Date):
        return "date"
    if isinstance(t, Integer):
        return "integer"
    if isinstance(t, Float):
        return "number"
    if isinstance(t, JSON):
        return "structured (JSON)"
    if isinstance(t, Text):
        return "text"
    if isinstance(t, String):
        return f"text (≤ {t.length})" if t.length else "text"
    return str(t).lower()


_IN = r"\b{}\s+IN\s*\(([^)]*)\)"
_CMP = r"\b{}\s*(>=|<=|>|<)\s*(-?[\d.]+)"
_SIGNS = {">=": "≥", "<=": "≤", ">": ">", "<": "<"}


def constraint_values(table: SqlTable, column: str) -> str | None:
    """Allowed values from the table's CHECK constraints: a closed list ('a | b') or a
    range ('≥ 6, ≤ 40')."""
    lists: list[str] = []
    bounds: list[str] = []
    for c in table.constraints:
        if not isinstance(c, CheckConstraint):
            continue
        sql = str(c.sqltext)
        for found in re.finditer(_IN.format(re.escape(column)), sql):
            lists.append(" | ".join(v.strip().strip("'") for v in found.group(1).split(",")))
        for sign, number in re.findall(_CMP.format(re.escape(column)), sql):
            bounds.append(f"{_SIGNS[sign]} {number}")
    if lists:
        return lists[0]
    return ", ".join(dict.fromkeys(bounds)) or None


_SUFFIX_UNITS = (
    ("_l_min", "L/min"), ("_cm", "cm"), ("_kg", "kg"), ("_ml", "mL"), ("_minutes", "min"),
    ("_pct", "%"), ("_in", "inch"),
)  # fmt: skip


def column_unit(column: str, entry: Mapping) -> str | None:
    if entry.unit:
        return entry.unit
    return next((u for suffix, u in _SUFFIX_UNITS if column.endswith(suffix)), None)


def label_of(column: str) -> str:
    words = re.sub(r"_(id|at|cm|kg|ml|l_min|pct|in|minutes)$", "", column).replace("_", " ")
    return words[:1].upper() + words[1:]


# ---- what the API says ---------------------------------------------------------------


@dataclass(frozen=True)
class ApiField:
    name: str  # "CannulaOut.french"
    description: str | None
    allowed: tuple[str, ...]


def models_in(annotation: object) -> list[type[BaseModel]]:
    """The pydantic models an annotation names (list[X], X | None, dict[str, X] …)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    out: list[type[BaseModel]] = []
    for arg in typing.get_args(annotation):
        out += models_in(arg)
    return out


def literal_values(annotation: object) -> tuple[str, ...]:
    if typing.get_origin(annotation) is typing.Literal:
        return tuple(str(a) for a in typing.get_args(annotation))
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return tuple(v for a in typing.get_args(annotation) for v in literal_values(a))
    return ()


def _snake(name: str) -> str:
    base = re.sub(r"(Out|Brief)$", "", name)
    return re.sub(r"(?<!^)(?=[A-Z])", "_", base).lower()


def _table_of(model: type[BaseModel], packages: dict[str, str]) -> str | None:
    if model.__name__ in API_TABLES:
        return API_TABLES[model.__name__]
    snake = _snake(model.__name__)
    package = model.__module__.split(".")[1] if "." in model.__module__ else ""
    found = [
        t
        for t, pkg in packages.items()
        if (t == snake or t.endswith("_" + snake)) and (pkg == package or t == snake)
    ]
    return found[0] if len(found) == 1 else None


def api_fields_by_column(
    response_models: Iterable[type[BaseModel]], packages: dict[str, str]
) -> dict[str, list[ApiField]]:
    """table.column -> the response fields that carry it (the model's name says its table,
    or ``API_TABLES`` does; nested models are followed)."""
    seen: set[type[BaseModel]] = set()
    todo = [m for model in response_models for m in models_in(model)]
    out: dict[str, list[ApiField]] = {}
    while todo:
        model = todo.pop()
        if model in seen:
            continue
        seen.add(model)
        table = _table_of(model, packages)
        for name, info in model.model_fields.items():
            todo += models_in(info.annotation)
            if table is not None:
                api = ApiField(
                    f"{model.__name__}.{name}", info.description, literal_values(info.annotation)
                )
                out.setdefault(f"{table}.{name}", []).append(api)
    return out


# ---- the dictionary ------------------------------------------------------------------


def redcap_field(t: Table, column: str, type_: str, allowed: str | None) -> str:
    name = column if column.startswith(t.form) else f"{t.form}_{column}"
    if allowed and " | " in allowed:
        kind = "dropdown"
    elif type_ == "boolean":
        kind = "yesno"
    elif type_.startswith("date-time"):
        kind = "text, datetime_seconds_ymd"
    elif type_ == "date":
        kind = "text, date_ymd"
    elif type_ == "integer":
        kind = "text, integer"
    elif type_ == "number":
        kind = "text, number"
    elif type_ in ("text", "structured (JSON)"):
        kind = "notes"
    else:
        kind = "text"
    repeat = "; repeating instrument" if t.repeating else ""
    return f"{t.form}.{name[:100]} ({kind}{repeat})"


def _mappings(entry: Mapping, t: Table, redcap: str) -> dict[str, str]:
    reason = entry.why or t.why or "no place in this standard"
    out = {}
    for standard in STANDARDS:
        if standard == "redcap":
            out[standard] = NOT_MAPPED + entry.no_redcap if entry.no_redcap else redcap
        else:
            value = getattr(entry, standard)
            out[standard] = value if value else NOT_MAPPED + reason
    return out


def _field(table: SqlTable, column: Column[Any], t: Table, api: list[ApiField]) -> DictionaryField:
    entry = t.columns[column.name]
    type_ = column_type(column)
    api_allowed = next((a.allowed for a in api if a.allowed), ())
    allowed = (
        constraint_values(table, column.name)
        or (" | ".join(entry.allowed) if entry.allowed else None)
        or (" | ".join(api_allowed) if api_allowed else None)
    )
    description = next((a.description for a in api if a.description), None)
    return DictionaryField(
        key=f"{table.name}.{column.name}",
        table=table.name,
        table_label=t.label,
        column=column.name,
        code=None,
        label=entry.label or label_of(column.name),
        type=type_,
        unit=column_unit(column.name, entry),
        allowed=allowed,
        nullable=bool(column.nullable),
        excluded=None,
        api_fields=tuple(a.name for a in api),
        description=description,
        loinc=None,
        mappings=_mappings(entry, t, redcap_field(t, column.name, type_, allowed)),
    )


def _code_field(code: vocabulary.Code, api: list[ApiField]) -> DictionaryField:
    entry = CODE_ENTRIES[code.code]
    t = TABLES["observation"]
    loinc = code.loinc
    mappings = _mappings(entry, t, f"observation.{code.code} (text, number; repeating instrument)")
    if loinc and not mappings["fhir"].startswith(NOT_MAPPED):
        mappings["fhir"] = f"{mappings['fhir']}; Observation.code LOINC {loinc}"
    return DictionaryField(
        key=f"observation.{CODE_COLUMN.format(code.code)}",
        table="observation",
        table_label=t.label,
        column=CODE_COLUMN.format(code.code),
        code=code.code,
        label=vocabulary.label(code.code),
        type="number",
        unit=code.unit,
        allowed=code.range_text,
        nullable=False,
        excluded=None,
        api_fields=tuple(a.name for a in api),
        description=f"vocabulary code {code.code}, group {code.group}",
        loinc=loinc,
        mappings=mappings,
    )


def _excluded_field(table: SqlTable, column: Column[Any], reason: str) -> DictionaryField:
    return DictionaryField(
        key=f"{table.name}.{column.name}",
        table=table.name,
        table_label=f"{table.name} (operational)",
        column=column.name,
        code=None,
        label=label_of(column.name),
        type=column_type(column),
        unit=None,
        allowed=constraint_values(table, column.name),
        nullable=bool(column.nullable),
        excluded=reason,
        api_fields=(),
        description=None,
        loinc=None,
        mappings={s: NOT_MAPPED + "excluded: " + reason for s in STANDARDS},
    )


def _packages() -> dict[str, str]:
    """table -> the package its ORM class lives in (core, rounds, quality …)."""
    return {
        m.local_table.name: m.class_.__module__.split(".")[1]
        for m in Base.registry.mappers
        if isinstance(m.local_table, SqlTable)
    }


def build(response_models: Sequence[type[BaseModel]] = ()) -> list[DictionaryField]:
    """The whole dictionary, in table order then column order (observation codes after
    observation.value). Raises KeyError for a column without an entry: run
    ``missing_entries`` first where that matters (the test does)."""
    return list(_build(tuple(response_models)))


@lru_cache(maxsize=4)
def _build(response_models: tuple[type[BaseModel], ...]) -> tuple[DictionaryField, ...]:
    tables = metadata_tables()
    api = api_fields_by_column(response_models, _packages())
    out: list[DictionaryField] = []
    for name in sorted(tables):
        table = tables[name]
        if name in EXCLUDED:
            out += [_excluded_field(table, c, EXCLUDED[name]) for c in table.columns]
            continue
        t = TABLES[name]
        for column in table.columns:
            out.append(_field(table, column, t, api.get(f"{name}.{column.name}", [])))
            if name == "observation" and column.name == "value":
                value_api = api.get("observation.value", [])
                out += [_code_field(code, value_api) for code in vocabulary.CODES.values()]
    return tuple(out)


def missing_entries() -> list[str]:
    """Each table.column (and observation code) of the record that has no entry, and each
    table that is neither described nor excluded."""
    missing: list[str] = []
    for name, table in sorted(metadata_tables().items()):
        if name in EXCLUDED:
            continue
        if name not in TABLES:
            missing += [f"{name}.{c.name}" for c in table.columns]
            continue
        missing += [f"{name}.{c.name}" for c in table.columns if c.name not in TABLES[name].columns]
    missing += [
        f"observation.{CODE_COLUMN.format(c)}" for c in vocabulary.CODES if c not in CODE_ENTRIES
    ]
    return missing


def stale_entries() -> list[str]:
    """Each entry whose table, column or observation code no longer exists."""
    tables = metadata_tables()
    stale = [f"{name} (excluded table)" for name in EXCLUDED if name not in tables]
    for name, t in TABLES.items():
        columns = set(tables[name].columns.keys()) if name in tables else set()
        stale += [f"{name}.{c}" for c in t.columns if c not in columns]
    stale += [
        f"observation.{CODE_COLUMN.format(c)}" for c in CODE_ENTRIES if c not in vocabulary.CODES
    ]
    both = sorted(set(TABLES) & set(EXCLUDED))
    stale += [f"{name} (both described and excluded)" for name in both]
    return stale


# ---- reading it ----------------------------------------------------------------------


def table_names() -> list[str]:
    return sorted(metadata_tables())


def select(
    fields: Sequence[DictionaryField],
    table: str | None = None,
    standard: str | None = None,
    q: str | None = None,
    include_excluded: bool = True,
    mapped: bool = True,
) -> list[DictionaryField]:
    """The fields of one table, mapped in one standard (or, ``mapped=False``, the gaps: the
    described fields it has no place for), and/or matching every word of q."""
    words = (q or "").lower().split()
    if standard is not None and not mapped:
        include_excluded = False  # an operational table is no gap
    return [
        f
        for f in fields
        if (table is None or f.table == table)
        and (standard is None or f.mapped(standard) == mapped)
        and (include_excluded or f.excluded is None)
        and all(w in f.text() for w in words)
    ]


CSV_COLUMNS: tuple[str, ...] = (
    "key", "table", "column", "code", "label", "type", "unit", "allowed", "nullable",
    "table_label", "excluded", "api_fields", "description", "loinc", *STANDARDS,
)  # fmt: skip


def as_row(f: DictionaryField) -> dict[str, str]:
    return {
        "key": f.key,
        "table": f.table,
        "column": f.column,
        "code": f.code or "",
        "label": f.label,
        "type": f.type,
        "unit": f.unit or "",
        "allowed": f.allowed or "",
        "nullable": "yes" if f.nullable else "no",
        "table_label": f.table_label,
        "excluded": f.excluded or "",
        "api_fields": " ".join(f.api_fields),
        "description": f.description or "",
        "loinc": f.loinc or "",
        **f.mappings,
    }


def to_csv(fields: Sequence[DictionaryField]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for f in fields:
        writer.writerow(as_row(f))
    return buffer.getvalue()


def standard_label(standard: str) -> str:
    return STANDARD_LABELS[standard]
