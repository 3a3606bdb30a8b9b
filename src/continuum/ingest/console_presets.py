"""Console-export import presets (docs/ingest.md "Console export presets"). Pure: no
database, no web.

Consoles and charting systems name their signals in their own words (a Cardiohelp shows
Pven, Pint, Part, ΔP; other sets P1, P2, P3) and write times, decimals and separators
their own way. A preset says how one such export is read: which header is which
vocabulary code and in which unit, which column holds the time, its format and zone, the
delimiter and whether decimals are written with a comma. The reading itself is
``console_csv.read_console_csv`` with the preset's ``Layout``; the conversion is the
vocabulary's (one unit table). The project's own layout (docs/contracts.md §2) is the
preset ``continuum``; shipped presets can be replaced, and others added, by a site
(``console_preset_service``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np

from continuum.errors import FieldProblem, ValidationFailed
from continuum.ingest.console_csv import ColumnReader, ConsoleFile, Layout, TimeReader
from continuum.vocabulary import CODES, convert, parse_header

ISO = "iso"
PROGRAMME_ZONE = "programme"
DELIMITERS = {",": "comma", ";": "semicolon", "\t": "tab", "|": "vertical bar"}
NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
_OFFSET = re.compile(r"^(?:UTC)?([+-])(\d{2}):?(\d{2})$")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_NAIVE_EPOCH = datetime(1970, 1, 1)
_MS = timedelta(milliseconds=1)
_BAD = int(np.iinfo(np.int64).min)


@dataclass(frozen=True)
class PresetColumn:
    header: str  # as the export writes it; matched ignoring case and surrounding spaces
    code: str  # vocabulary code
    unit: str = ""  # the unit the export writes; "" = the vocabulary's own unit


@dataclass(frozen=True)
class Preset:
    name: str
    title: str
    columns: tuple[PresetColumn, ...] = ()
    time_column: str = "time"
    time_format: str = ISO  # "iso" or a strptime pattern such as "%d.%m.%Y %H:%M:%S"
    time_zone: str = ""  # "" = the times carry their offset; "programme"; IANA; "+01:00"
    delimiter: str = ","
    decimal_comma: bool = False
    note: str = ""
    origin: str = "shipped"  # shipped | site
    version: int = 0  # the site row's version (0 for a shipped preset)

    @property
    def own_layout(self) -> bool:
        """The project's own layout, read by the unchanged fast path."""
        return (
            not self.columns
            and self.time_column.casefold() == "time"
            and self.time_format == ISO
            and not self.time_zone
            and self.delimiter == ","
            and not self.decimal_comma
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "columns": [c.__dict__ for c in self.columns],
            "time_column": self.time_column,
            "time_format": self.time_format,
            "time_zone": self.time_zone,
            "delimiter": self.delimiter,
            "decimal_comma": self.decimal_comma,
            "note": self.note,
            "origin": self.origin,
            "version": self.version,
        }

    def columns_text(self) -> str:
        """The columns one a line, as the preset form edits them: ``Pven = p_access [mmHg]``."""
        return "\n".join(
            f"{c.header} = {c.code}" + (f" [{c.unit}]" if c.unit else "") for c in self.columns
        )

    def layout(self, programme_zone: tzinfo = UTC) -> Layout | None:
        """The reader's layout; None for the project's own layout (the fast path)."""
        if self.own_layout:
            return None
        return Layout(
            column=_column_reader(self.columns),
            time_column=self.time_column,
            time=_time_reader(self.time_format, self.time_zone, programme_zone),
            delimiter=self.delimiter,
            decimal_comma=self.decimal_comma,
        )


def _c(header: str, code: str, unit: str = "") -> PresetColumn:
    return PresetColumn(header, code, unit)


# Shipped presets. The Cardiohelp labels are those the console shows and charting systems
# copy (docs/ingest.md); the file layouts are typical spreadsheet exports, to be checked
# against a site's own files and edited on /integration/presets.
SHIPPED: dict[str, Preset] = {
    p.name: p
    for p in (
        Preset(
            "continuum",
            "ECMO Continuum layout (time + vocabulary codes)",
            note="docs/contracts.md §2: 'time' first (ISO 8601 with offset), then codes, "
            "units in brackets.",
        ),
        Preset(
            "cardiohelp",
            "Cardiohelp-style export (Pven, Pint, Part, ΔP, Flow, Speed, Sweep, FiO2 %)",
            columns=(
                _c("Pven", "p_access", "mmHg"),
                _c("Pint", "p_preoxy", "mmHg"),
                _c("Part", "p_postoxy", "mmHg"),
                _c("ΔP", "oxy_delta_p", "mmHg"),
                _c("dP", "oxy_delta_p", "mmHg"),
                _c("Flow", "blood_flow", "L/min"),
                _c("Speed", "pump_speed", "rpm"),
                _c("Sweep", "sweep_flow", "L/min"),
                _c("FiO2", "sweep_fio2", "%"),
            ),
            time_column="Time",
            time_format="%d.%m.%Y %H:%M:%S",
            time_zone=PROGRAMME_ZONE,
            delimiter=";",
            decimal_comma=True,
            note="Semicolon-separated, decimal comma, times 'DD.MM.YYYY HH:MM:SS' in the "
            "programme's time zone. ΔP and dP are the same signal: a file carries one.",
        ),
        Preset(
            "p1-p2-p3",
            "Generic console export (P1, P2, P3, Flow, RPM, Sweep, FiO2)",
            columns=(
                _c("P1", "p_preoxy", "mmHg"),
                _c("P2", "p_postoxy", "mmHg"),
                _c("P3", "p_access", "mmHg"),
                _c("P1-P2", "oxy_delta_p", "mmHg"),
                _c("Flow", "blood_flow", "L/min"),
                _c("RPM", "pump_speed", "rpm"),
                _c("Sweep", "sweep_flow", "L/min"),
                _c("FiO2", "sweep_fio2", "%"),
                _c("Temp", "blood_temp", "°C"),
            ),
            time_column="Time",
            note="Comma-separated, decimal point, ISO 8601 times with offset. P1 = "
            "pre-oxygenator, P2 = post-oxygenator (P1 − P2 is the ΔP these sets chart), "
            "P3 = drainage: consoles number their sensors differently, check yours.",
        ),
    )
}


def _column_reader(columns: tuple[PresetColumn, ...]) -> ColumnReader:
    by_header = {c.header.strip().casefold(): c for c in columns}

    def read(head: str) -> tuple[str, str | None]:
        col = by_header.get(head.strip().casefold())
        if col is not None:
            return col.code, col.unit or None
        name, unit = parse_header(head)
        col = by_header.get(name.casefold())
        if col is not None:
            return col.code, unit or col.unit or None
        return (name.lower(), unit) if name.lower() in CODES else ("", None)

    return read


def zone_of(text: str, programme_zone: tzinfo = UTC) -> tzinfo | None:
    """The preset's time zone: None when the times must carry their own offset."""
    t = text.strip()
    if not t:
        return None
    if t == PROGRAMME_ZONE:
        return programme_zone
    if t.upper() in ("UTC", "Z"):
        return UTC
    m = _OFFSET.match(t)
    if m:
        off = timedelta(hours=int(m.group(2)), minutes=int(m.group(3)))
        if off > timedelta(hours=14):
            raise ValueError(f"offset '{text}' is beyond ±14:00")
        return timezone(off if m.group(1) == "+" else -off)
    try:
        return ZoneInfo(t)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone '{text}' (an IANA name such as Europe/Berlin, an offset "
            f"such as +01:00, UTC, or '{PROGRAMME_ZONE}')"
        ) from None


def _time_reader(fmt: str, zone_text: str, programme_zone: tzinfo) -> TimeReader | None:
    zone = zone_of(zone_text, programme_zone)
    if fmt == ISO and zone is None:
        return None  # the reader's own (vectorised) ISO 8601 path
    parse = datetime.fromisoformat if fmt == ISO else _pattern_parser(fmt)
    shown = "ISO 8601" if fmt == ISO else f"'{fmt}'"
    offsets: dict[datetime, tuple[timedelta | None, str | None]] = {}

    def read(text: str) -> tuple[int, str | None]:
        if not text:
            return _BAD, "time is blank"
        try:
            t = parse(text)
        except ValueError:
            return _BAD, f"not a time in the preset's format {shown}"
        if t.tzinfo is not None:
            try:
                return (t - _EPOCH) // _MS, None
            except OverflowError:
                return _BAD, "time is out of range"
        if zone is None:
            return _BAD, "time has no UTC offset and the preset names no time zone"
        minute = t.replace(second=0, microsecond=0)  # clock changes fall on whole minutes
        known = offsets.get(minute)
        if known is None:
            problem = _clock_change(minute, zone)
            known = offsets[minute] = (
                None if problem else minute.replace(tzinfo=zone).utcoffset(),
                problem,
            )
        offset, problem = known
        if problem or offset is None:
            return _BAD, problem or "time is out of range"
        return (t - offset - _NAIVE_EPOCH) // _MS, None

    return read


# The expressions ``strptime`` itself uses for these directives (CPython's _strptime).
_DIRECTIVES = {
    "d": r"(?P<d>3[0-1]|[1-2]\d|0[1-9]|[1-9]| [1-9])",
    "m": r"(?P<m>1[0-2]|0[1-9]|[1-9])",
    "Y": r"(?P<Y>\d\d\d\d)",
    "H": r"(?P<H>2[0-3]|[0-1]\d|\d)",
    "M": r"(?P<M>[0-5]\d|\d)",
    "S": r"(?P<S>6[0-1]|[0-5]\d|\d)",
    "f": r"(?P<f>[0-9]{1,6})",
    "%": "%",
}


def _pattern_parser(fmt: str) -> Callable[[str], datetime]:
    """``strptime`` for ``fmt``; numeric patterns (%d %m %Y %H %M %S %f) are read with the
    same expressions compiled once, several times faster on a long file (a property test
    holds it to strptime's results)."""
    parts: list[str] = []
    seen: set[str] = set()
    i = 0
    while i < len(fmt):
        ch = fmt[i]
        if ch == "%" and i + 1 < len(fmt):
            key = fmt[i + 1]
            if key not in _DIRECTIVES or key in seen:
                return lambda text: datetime.strptime(text, fmt)
            seen.add(key if key != "%" else "")
            parts.append(_DIRECTIVES[key])
            i += 2
        elif ch.isspace():
            while i < len(fmt) and fmt[i].isspace():
                i += 1
            parts.append(r"\s+")
        else:
            parts.append(re.escape(ch))
            i += 1
    compiled = re.compile("".join(parts), re.IGNORECASE)

    def parse(text: str) -> datetime:
        m = compiled.match(text)
        if m is None or m.end() != len(text):
            raise ValueError(text)
        g = m.groupdict()
        micro = int((g.get("f") or "0").ljust(6, "0"))
        return datetime(int(g.get("Y") or 1900), int(g.get("m") or 1), int(g.get("d") or 1),
                        int(g.get("H") or 0), int(g.get("M") or 0), int(g.get("S") or 0),
                        micro)  # fmt: skip

    return parse


def _clock_change(local: datetime, zone: tzinfo) -> str | None:
    """A local time that a clock change repeats or skips cannot be placed: refused."""
    a = local.replace(tzinfo=zone, fold=0)
    b = local.replace(tzinfo=zone, fold=1)
    if a.utcoffset() == b.utcoffset():
        return None
    return (
        f"local time falls in a clock change in {zone} (repeated or skipped hour): "
        "export with a UTC offset to import it"
    )


# ---- checking a preset (form or API) -------------------------------------------------


def parse_columns(text: str) -> tuple[PresetColumn, ...]:
    """``Header = code [unit]`` one a line (blank lines and ``#`` comments ignored)."""
    out: list[PresetColumn] = []
    for n, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        head, sep, rest = line.rpartition("=")
        if not sep or not head.strip() or not rest.strip():
            raise ValidationFailed(
                [FieldProblem("columns", f"line {n}: write 'Header = code [unit]'", line)]
            )
        code, unit = parse_header(rest)
        out.append(PresetColumn(head.strip(), code.strip(), (unit or "").strip()))
    return tuple(out)


def check_preset(data: dict[str, Any], origin: str = "site", version: int = 0) -> Preset:
    """A preset from form/API fields, or ValidationFailed naming every bad field."""
    problems: list[FieldProblem] = []

    def text(key: str, default: str = "", limit: int = 200) -> str:
        value = data.get(key, default)
        value = default if value is None else str(value)
        if len(value) > limit:
            problems.append(FieldProblem(key, f"{key} is longer than {limit} characters"))
        return value

    name = text("name", limit=40).strip().lower()
    if not NAME.match(name):
        problems.append(FieldProblem("name", "name: 1–40 lower-case letters, digits, - or _, "
                                     "starting with a letter or digit", name))  # fmt: skip
    title = text("title", limit=120).strip() or name
    delimiter = text("delimiter", ",", 4)
    delimiter = {"tab": "\t", "\\t": "\t"}.get(delimiter, delimiter)
    if delimiter not in DELIMITERS:
        allowed = ", ".join(repr(d) for d in DELIMITERS)
        problems.append(FieldProblem("delimiter", f"delimiter must be one of {allowed}",
                                     delimiter))  # fmt: skip
    comma = data.get("decimal_comma") in (True, "on", "true", "1", 1)
    if comma and delimiter == ",":
        problems.append(FieldProblem("decimal_comma", "a decimal comma needs a delimiter "
                                     "other than the comma (e.g. ';')"))  # fmt: skip
    time_column = text("time_column", "time", 64).strip()
    if not time_column:
        problems.append(FieldProblem("time_column", "name the column that holds the time"))
    time_format = text("time_format", ISO, 64).strip() or ISO
    if time_format != ISO:
        problems += _check_format(time_format)
    time_zone = text("time_zone", "", 64).strip()
    try:
        zone_of(time_zone)
    except ValueError as exc:
        problems.append(FieldProblem("time_zone", str(exc), time_zone))
    if time_format != ISO and not time_zone:
        problems.append(FieldProblem("time_zone", "a time format without an offset needs "
                                     f"a time zone (e.g. '{PROGRAMME_ZONE}')"))  # fmt: skip
    raw_columns = data.get("columns", ())
    try:
        if isinstance(raw_columns, str):
            columns = parse_columns(raw_columns)
        else:
            columns = tuple(
                PresetColumn(str(c["header"]).strip(), str(c["code"]).strip(),
                             str(c.get("unit") or "").strip())
                for c in raw_columns
            )  # fmt: skip
    except ValidationFailed as exc:
        problems += exc.problems
        columns = ()
    except (KeyError, TypeError, AttributeError):
        problems.append(FieldProblem("columns", "columns: a list of {header, code, unit}"))
        columns = ()
    problems += _check_columns(columns, time_column)
    if problems:
        raise ValidationFailed(problems)
    return Preset(name, title, columns, time_column, time_format, time_zone, delimiter,
                  comma, text("note", "", 500).strip(), origin, version)  # fmt: skip


def _check_format(fmt: str) -> list[FieldProblem]:
    if "%" not in fmt:
        return [FieldProblem("time_format", f"time format must be '{ISO}' or a pattern such as "
                             "'%d.%m.%Y %H:%M:%S'", fmt)]  # fmt: skip
    if "%z" in fmt or "%Z" in fmt:
        return []
    sample = datetime(2026, 12, 3, 14, 5, 9)
    try:
        back = datetime.strptime(sample.strftime(fmt), fmt)
    except ValueError as exc:
        return [FieldProblem("time_format", f"time format '{fmt}' cannot be read back: {exc}",
                             fmt)]  # fmt: skip
    if back.replace(second=0) != sample.replace(second=0):
        return [FieldProblem("time_format", f"time format '{fmt}' must hold the date, hour "
                             "and minute", fmt)]  # fmt: skip
    return []


def _check_columns(columns: tuple[PresetColumn, ...], time_column: str) -> list[FieldProblem]:
    problems: list[FieldProblem] = []
    seen: set[str] = set()
    for col in columns:
        key = col.header.casefold()
        if not col.header or len(col.header) > 64:
            problems.append(FieldProblem("columns", "a header is 1–64 characters", col.header))
        elif key in seen:
            problems.append(FieldProblem("columns", f"header '{col.header}' is given twice",
                                         col.header))  # fmt: skip
        elif key == time_column.casefold():
            problems.append(FieldProblem("columns", f"'{col.header}' is the time column",
                                         col.header))  # fmt: skip
        seen.add(key)
        if col.code not in CODES:
            problems.append(FieldProblem("columns", f"'{col.header}': '{col.code}' is not a "
                                         "vocabulary code", col.code))  # fmt: skip
            continue
        try:
            convert(col.code, 0.5, col.unit or None)
        except ValidationFailed as exc:
            problems.append(FieldProblem("columns", f"'{col.header}': {exc.problems[0].message}",
                                         col.unit))  # fmt: skip
    return problems


# ---- the preview -----------------------------------------------------------------------


@dataclass
class ColumnPreview:
    header: str
    code: str
    meaning: str
    unit_read: str  # the unit the column is read in
    unit_stored: str
    first: list[tuple[datetime, float]]  # first converted values (UTC)
    stored: int
    refused: int
    problem: str = ""
    # The first values as entered, when the column is in another unit (None: in the stored
    # unit), and that unit: read first, the stored value in brackets.
    first_entered: list[float | None] = field(default_factory=list)
    entered_unit: str | None = None


@dataclass
class Preview:
    preset: Preset
    rows: int
    time_column: str
    first_time: tuple[str, datetime] | None  # a raw time cell and how it was read
    columns: list[ColumnPreview] = field(default_factory=list)
    unreadable: list[tuple[str, str]] = field(default_factory=list)  # (header, why)
    derived: int = 0
    observations: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "preset": self.preset.name,
            "rows": self.rows,
            "time_column": self.time_column,
            "first_time": (
                {"as_written": self.first_time[0], "utc": self.first_time[1].isoformat()}
                if self.first_time else None
            ),
            "columns": [
                {**c.__dict__, "first": [(t.isoformat(), v) for t, v in c.first]}
                for c in self.columns
            ],
            "unreadable": [{"column": h, "why": w} for h, w in self.unreadable],
            "derived": self.derived,
            "observations": self.observations,
        }  # fmt: skip


def preview(
    console: ConsoleFile,
    preset: Preset,
    first_time_cell: str | None = None,
    programme_zone: tzinfo = UTC,
    shown: int = 3,
) -> Preview:
    """How each column of a read file will be stored: column → code, unit, first values
    converted, and the columns that will not be read, with why."""
    report = console.report
    reader = _column_reader(preset.columns) if not preset.own_layout else None
    refused: dict[str, int] = {}
    for cell in report.refused:
        refused[cell.column] = refused.get(cell.column, 0) + 1
    out = Preview(preset, report.rows_read, preset.time_column, None)
    for head, code in report.columns.items():
        unit = (reader(head)[1] if reader else parse_header(head)[1]) or ""
        spec = CODES[code]
        times, values = console.series.get(code, (np.array([]), np.array([])))
        first = [(_utc(t), float(v)) for t, v in zip(times[:shown], values[:shown], strict=True)]
        typed, typed_unit = console.entered.get(code, (np.array([]), None))
        as_entered = [None if np.isnan(x) else float(x) for x in typed[:shown].tolist()]
        out.columns.append(
            ColumnPreview(
                head,
                code,
                spec.meaning,
                unit or spec.unit,
                spec.unit,
                first,
                report.accepted.get(code, 0),
                refused.get(head, 0),
                "",
                as_entered,
                typed_unit,
            )
        )
    for problem in report.column_problems:
        out.unreadable.append((problem.column, problem.message))
    for head in report.unknown_columns:
        out.unreadable.append((head, "not a column of this preset nor a vocabulary code"))
    if first_time_cell:
        out.first_time = _first_time(preset, first_time_cell, programme_zone)
    out.derived = sum(len(v) for _, v in console.derived.values())
    out.observations = report.observations + out.derived
    return out


def _first_time(preset: Preset, cell: str, zone: tzinfo) -> tuple[str, datetime] | None:
    reader = _time_reader(preset.time_format, preset.time_zone, zone)
    if reader is None:
        try:
            t = datetime.fromisoformat(cell)
        except ValueError:
            return None
        return (cell, t.astimezone(UTC)) if t.tzinfo else None
    ms, problem = reader(cell)
    return None if problem else (cell, _EPOCH + ms * _MS)


def _utc(t: np.datetime64) -> datetime:
    ms = int(np.datetime64(t, "ms").astype(np.int64))
    return _EPOCH + timedelta(milliseconds=ms)
