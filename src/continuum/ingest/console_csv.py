"""Console CSV ("wide") reader — docs/contracts.md §2. Pure: no database, no web.

First column ``time`` (ISO 8601 with an offset or ``Z``; stored as UTC), then one column per
vocabulary code, optionally with a unit in brackets (``p_access [kPa]``), converted with the
vocabulary. A blank cell is no observation. Unknown columns are reported. A bad cell
(not a number, outside the plausible range) is refused with its row, column, value and
reason while the file's good cells are kept; a column whose unit cannot be converted is
refused whole. Rows with an unreadable time are refused and reported.

Output is one (times, values) pair of numpy arrays per code — ready to bulk-insert.
Row numbers are file line numbers (the header is line 1).

Other layouts (a console's own column names, units, time format and zone, decimal comma,
delimiter) are read through a ``Layout``, built from an import preset
(``ingest/console_presets.py``); without one the file is read exactly as above.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TextIO

import numpy as np

from continuum.errors import ValidationFailed
from continuum.vocabulary import (
    CODES,
    DELTA_P,
    DELTA_P_FROM,
    FRACTION_CODES,
    PERCENT_PER_FRACTION,
    as_entered,
    convert,
    delta_p_series,
    normalise,
    parse_header,
)

Source = str | os.PathLike[str] | TextIO
Progress = Callable[[int, int], None]
ColumnReader = Callable[[str], tuple[str, str | None]]  # header -> (code or "", unit)
TimeReader = Callable[[str], tuple[int, str | None]]  # cell -> (ms since epoch, problem)
MAX_LISTED = 1000  # refused cells listed one by one (all are counted)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)
_BAD = int(np.iinfo(np.int64).min)


@dataclass
class RefusedCell:
    row: int
    column: str
    value: str
    message: str


@dataclass
class RowProblem:
    row: int
    value: str
    message: str


@dataclass
class ColumnProblem:
    column: str
    message: str


@dataclass
class ReadReport:
    rows_read: int = 0
    columns: dict[str, str] = field(default_factory=dict)  # header -> code
    accepted: dict[str, int] = field(default_factory=dict)  # code -> observations kept
    refused: list[RefusedCell] = field(default_factory=list)
    refused_count: int = 0
    unknown_columns: list[str] = field(default_factory=list)
    column_problems: list[ColumnProblem] = field(default_factory=list)
    bad_timestamps: list[RowProblem] = field(default_factory=list)

    @property
    def observations(self) -> int:
        return sum(self.accepted.values())

    @property
    def clean(self) -> bool:
        return not (
            self.refused_count
            or self.unknown_columns
            or self.column_problems
            or self.bad_timestamps
        )

    def refuse(self, cell: RefusedCell) -> None:
        self.refused_count += 1
        if len(self.refused) < MAX_LISTED:
            self.refused.append(cell)

    def to_dict(self) -> dict[str, Any]:
        return {
            "rows_read": self.rows_read,
            "columns": self.columns,
            "accepted": self.accepted,
            "refused_count": self.refused_count,
            "refused": [c.__dict__ for c in self.refused],
            "unknown_columns": self.unknown_columns,
            "column_problems": [c.__dict__ for c in self.column_problems],
            "bad_timestamps": [r.__dict__ for r in self.bad_timestamps],
        }

    def text(self) -> str:
        lines = [f"{self.rows_read} rows, {self.observations} observations accepted"]
        lines += [f"unknown column '{c}' (not a vocabulary code)" for c in self.unknown_columns]
        lines += [f"column '{p.column}': {p.message}" for p in self.column_problems]
        lines += [f"row {p.row}: time '{p.value}': {p.message}" for p in self.bad_timestamps[:20]]
        lines += [f"row {c.row}, {c.column} '{c.value}': {c.message}" for c in self.refused[:20]]
        if self.refused_count > 20:
            lines.append(f"… {self.refused_count} refused cells in all")
        return "\n".join(lines)


@dataclass(frozen=True)
class Layout:
    """How a file that is not in the project's own layout is read (an import preset)."""

    column: ColumnReader  # a header → (vocabulary code, or "" when unknown; unit or None)
    time_column: str = "time"  # found by name (any position, case ignored)
    time: TimeReader | None = None  # None: ISO 8601 with an offset or Z
    delimiter: str = ","
    decimal_comma: bool = False


@dataclass
class ConsoleFile:
    series: dict[str, tuple[np.ndarray, np.ndarray]]
    report: ReadReport
    derived: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    # code → (values as entered, aligned with series[code]; NaN where entered in the stored
    # unit) and the unit: only for columns given in another unit (``entered_column``).
    entered: dict[str, tuple[np.ndarray, str]] = field(default_factory=dict)


def read_console_csv(
    source: Source, *, progress: Progress | None = None, layout: Layout | None = None
) -> ConsoleFile:
    """Read a console CSV file (path) or text stream, in the project's layout or the given
    one. Unreadable files (no time column, not text, not CSV) raise ``ValidationFailed``;
    everything else is in the report."""
    header, rows = _read_rows(source, layout.delimiter if layout else ",")
    at = _time_index(header, layout)
    report = ReadReport(rows_read=sum(1 for r in rows if r))
    times, time_ok = _parse_times(rows, report, at, layout.time if layout else None)
    columns = _map_columns(header, rows, report, at, layout.column if layout else None)
    _check_row_lengths(len(header), rows, report)
    comma = bool(layout and layout.decimal_comma)
    series: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    full: dict[str, np.ndarray] = {}
    entered: dict[str, tuple[np.ndarray, str]] = {}
    for n, (idx, code, unit, head) in enumerate(columns, start=1):
        got = _column(rows, idx, code, unit, head, time_ok, report, comma)
        if got is not None:
            values, typed = got
            full[code] = values
            keep = np.isfinite(values)
            report.accepted[code] = int(keep.sum())
            if keep.any():
                series[code] = (times[keep], values[keep])
                if typed is not None:
                    entered[code] = (typed[0][keep], typed[1])
        if progress is not None:
            progress(n, len(columns))
    return ConsoleFile(series, report, _derive_delta_p(times, full), entered)


def _read_rows(source: Source, delimiter: str = ",") -> tuple[list[str], list[list[str]]]:
    try:
        if isinstance(source, str | os.PathLike):
            with open(source, encoding="utf-8-sig", newline="") as fh:
                rows = list(csv.reader(fh, delimiter=delimiter))
        else:
            rows = list(csv.reader(source, delimiter=delimiter))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ValidationFailed(f"cannot read the console file: {exc}", "file") from None
    if not rows:
        raise ValidationFailed("the console file is empty", "file")
    header = [h.lstrip("\ufeff") for h in rows[0]]
    return header, rows[1:]


def _time_index(header: list[str], layout: Layout | None) -> int:
    if layout is None:
        if not header or parse_header(header[0])[0].lower() != "time":
            raise ValidationFailed("the first column of a console file must be 'time'", "file")
        return 0
    wanted = layout.time_column.strip().casefold()
    for i, head in enumerate(header):
        if head.strip().casefold() == wanted:
            return i
    shown = ", ".join(f"'{h}'" for h in header[:12]) or "none"
    other = [d for d in ",;\t|" if d != layout.delimiter and len(header) == 1 and d in header[0]]
    if other:
        raise ValidationFailed(
            f"the file's columns are separated by {other[0]!r}, the preset expects "
            f"{layout.delimiter!r}: choose the preset that matches the file",
            "file",
        )
    raise ValidationFailed(
        f"no time column '{layout.time_column}' in the file (its columns: {shown}); "
        "choose the preset that matches the file",
        "file",
    )


def _parse_times(
    rows: list[list[str]], report: ReadReport, at: int = 0, reader: TimeReader | None = None
) -> tuple[np.ndarray, np.ndarray]:
    raw = [r[at].strip() if len(r) > at else "" for r in rows]
    ms = _fast_times(raw) if reader is None else None
    if ms is None:
        parsed = [(reader or _one_time)(s) for s in raw]
        ms = np.array([p[0] for p in parsed], dtype=np.int64)
        for i, (_, why) in enumerate(parsed):
            if why and rows[i] and any(c.strip() for c in rows[i]):
                report.bad_timestamps.append(RowProblem(i + 2, raw[i], why))
    ok = (ms != _BAD) & np.array([bool(r) for r in rows], dtype=bool)
    return ms.astype("datetime64[ms]"), ok


def _fast_times(raw: list[str]) -> np.ndarray | None:
    """Vectorised path for the usual file: every time ends in ``Z`` or the same ±HH:MM."""
    if not raw:
        return np.array([], dtype=np.int64)
    suffix = "Z" if raw[0].endswith("Z") else raw[0][-6:]
    if suffix != "Z" and not (len(suffix) == 6 and suffix[0] in "+-" and suffix[3] == ":"):
        return None
    if not all(s.endswith(suffix) and len(s) > 10 for s in raw):
        return None
    try:
        local = np.array([s[: -len(suffix)] for s in raw], dtype="datetime64[ms]")
    except ValueError:
        return None
    if np.isnat(local).any():
        return None
    off = 0 if suffix == "Z" else (int(suffix[1:3]) * 60 + int(suffix[4:6])) * 60_000
    return local.astype(np.int64) - (off if suffix[0] != "-" else -off)


def _one_time(text: str) -> tuple[int, str | None]:
    try:
        t = datetime.fromisoformat(text)
    except ValueError:
        return _BAD, "not an ISO 8601 time" if text else "time is blank"
    if t.utcoffset() is None:
        return _BAD, "time has no UTC offset or Z"
    try:
        return (t - _EPOCH) // _MS, None
    except OverflowError:
        return _BAD, "time is out of range"


def _map_columns(
    header: list[str],
    rows: list[list[str]],
    report: ReadReport,
    at: int = 0,
    reader: ColumnReader | None = None,
) -> list[tuple[int, str, str | None, str]]:
    out: list[tuple[int, str, str | None, str]] = []
    seen: set[str] = set()
    for idx, head in enumerate(header):
        if idx == at:
            continue
        code, unit = reader(head) if reader else parse_header(head)
        code = code.lower()
        if code not in CODES:
            if code or _has_cells(rows, idx):
                report.unknown_columns.append(head)
        elif code in seen:
            report.column_problems.append(ColumnProblem(head, f"second column for {code}: refused"))
        else:
            seen.add(code)
            report.columns[head] = code
            out.append((idx, code, unit, head))
    return out


def _check_row_lengths(width: int, rows: list[list[str]], report: ReadReport) -> None:
    long_rows = [i + 2 for i, r in enumerate(rows) if len(r) > width and any(r[width:])]
    if long_rows:
        report.column_problems.append(
            ColumnProblem(
                "(no header)",
                f"{len(long_rows)} rows (first: row {long_rows[0]}) have more cells "
                "than the header; the extra cells were not read",
            )
        )


def _has_cells(rows: list[list[str]], idx: int) -> bool:
    return any(len(r) > idx and r[idx].strip() for r in rows)


def _cells(rows: list[list[str]], idx: int) -> list[str]:
    try:
        return [r[idx] for r in rows]
    except IndexError:
        return [r[idx] if len(r) > idx else "" for r in rows]


def _column(
    rows: list[list[str]],
    idx: int,
    code: str,
    unit: str | None,
    head: str,
    time_ok: np.ndarray,
    report: ReadReport,
    decimal_comma: bool = False,
) -> tuple[np.ndarray, tuple[np.ndarray, str] | None] | None:
    """The column's values in the stored unit, and as entered when in another unit."""
    shown = _cells(rows, idx)
    cells = [c.replace(",", ".") for c in shown] if decimal_comma else shown
    values, bad = _to_float(cells)
    values[~time_ok] = np.nan
    bad &= time_ok
    raw = values
    try:
        values = convert_column(code, values, unit)
    except ValidationFailed as exc:
        report.column_problems.append(ColumnProblem(head, exc.message))
        return None
    spec = CODES[code]
    with np.errstate(invalid="ignore"):
        out_of_range = ~((values >= spec.low) & (values <= spec.high)) & ~np.isnan(values)
    for i in np.flatnonzero(bad | out_of_range):
        why = refusal_message(code, cells[i], unit)
        report.refuse(RefusedCell(int(i) + 2, head, shown[i], why))
    values[out_of_range] = np.nan
    return values, entered_column(code, raw, unit)


def entered_column(code: str, raw: np.ndarray, unit: str | None) -> tuple[np.ndarray, str] | None:
    """A column's values as entered and their unit when that is not the stored unit
    (``vocabulary.as_entered`` for a whole column): None for a column in the stored unit.
    An FiO2 column without a unit holds percent only where a value is 21–100 (NaN else)."""
    given = (unit or "").strip()
    if code in FRACTION_CODES and given in ("", "1"):
        with np.errstate(invalid="ignore"):
            pct = (raw > 1.0) & (raw <= PERCENT_PER_FRACTION)
        return (np.where(pct, raw, np.nan), "%") if pct.any() else None
    typed = as_entered(code, 0.5, given)
    return (raw, typed[1]) if typed is not None else None


def _to_float(cells: Iterable[str]) -> tuple[np.ndarray, np.ndarray]:
    """Floats (NaN for blank) and a mask of non-blank cells that are not numbers."""
    cells = list(cells)
    try:
        values = np.array([float(c) if c else np.nan for c in cells], dtype=np.float64)
        bad = np.zeros(len(cells), dtype=bool)
        nonfinite = ~np.isfinite(values)
        if nonfinite.any():
            bad[nonfinite] = [bool(cells[i].strip()) for i in np.flatnonzero(nonfinite)]
        return values, bad
    except ValueError:
        return _to_float_slow(cells)


def _to_float_slow(cells: list[str]) -> tuple[np.ndarray, np.ndarray]:
    values = np.full(len(cells), np.nan)
    bad = np.zeros(len(cells), dtype=bool)
    for i, c in enumerate(cells):
        c = c.strip()
        if not c:
            continue
        try:
            values[i] = float(c.replace(",", "."))
        except ValueError:
            bad[i] = True
        if not np.isfinite(values[i]):
            bad[i] = True
    return values, bad


def _derive_delta_p(
    times: np.ndarray, full: dict[str, np.ndarray]
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """oxy_delta_p = p_preoxy − p_postoxy (vocabulary.delta_p_series) on rows holding both
    and no measured ΔP; one vectorised pass per file."""
    pre, post = DELTA_P_FROM
    if pre not in full or post not in full:
        return {}
    dp = delta_p_series(full[pre], full[post])
    keep = np.isfinite(dp)
    measured = full.get(DELTA_P)
    if measured is not None:
        keep &= ~np.isfinite(measured)
    return {DELTA_P: (times[keep], dp[keep])} if keep.any() else {}


def read_console_text(
    text: str, *, progress: Progress | None = None, layout: Layout | None = None
) -> ConsoleFile:
    """Convenience: read from a string holding the whole file."""
    return read_console_csv(io.StringIO(text, newline=""), progress=progress, layout=layout)


def convert_column(code: str, values: np.ndarray, unit: str | None) -> np.ndarray:
    """Vectorised ``vocabulary.convert`` for one column (raises ValidationFailed for a unit
    that cannot be converted). FiO2 given as 21–100 with no unit is read as percent."""
    given = (unit or "").strip()
    convert(code, 0.5, given)  # refuses an unconvertible unit with the vocabulary's message
    if code in FRACTION_CODES and given in ("", "1"):
        with np.errstate(invalid="ignore"):
            pct = (values > 1.0) & (values <= PERCENT_PER_FRACTION)
            return np.where(pct, values / PERCENT_PER_FRACTION, values)
    return np.asarray(convert(code, values, given), dtype=np.float64)  # type: ignore[arg-type]


def refusal_message(code: str, cell: str, unit: str | None) -> str:
    """The vocabulary's own message for a refused cell."""
    try:
        normalise(code, cell, unit)
    except ValidationFailed as exc:
        return exc.problems[0].message
    return f"{code} value '{cell}' refused"
