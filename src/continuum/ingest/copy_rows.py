"""The fast way to put validated console arrays into PostgreSQL: one binary ``COPY`` for a
whole file, its tuples laid out by numpy (no Python object per row), streamed in chunks so
the server stores one part while the next is built. Other databases use the core bulk
insert. Runs inside the caller's transaction, like ``observation_service.bulk_insert``.

PostgreSQL's binary COPY format: a header, then per tuple a 16-bit field count and per
field a 32-bit length (-1 for NULL) and the value in network byte order; ``timestamptz`` is
microseconds since 2000-01-01 UTC, ``float8`` IEEE 754, text as UTF-8 bytes.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from continuum import vocabulary
from continuum.core import observation_service
from continuum.db import driver_errors, utcnow

HEADER = b"PGCOPY\n\xff\r\n\x00" + b"\x00\x00\x00\x00" + b"\x00\x00\x00\x00"
TRAILER = b"\xff\xff"
PG_EPOCH = np.datetime64("2000-01-01T00:00:00", "us")
CHUNK = 100_000  # rows per write: the server stores one chunk while numpy builds the next

# (code, (datetime64 UTC times, float values in the vocabulary unit; NaN = no value))
Series = Iterable[tuple[str, tuple[np.ndarray, np.ndarray]]]
# code → (the values as entered, aligned with the code's series values, NaN where a value
# was entered in the stored unit; the unit they were entered in): columns in another unit.
Entered = Mapping[str, tuple[np.ndarray, str]]


def copy_all(
    session: Session,
    run_id: int,
    series: Series,
    source: str,
    ingest_ref: str | None,
    entered_by: int | None = None,
    entered: Entered | None = None,
) -> int:
    """Store every code's arrays in one statement; returns the number of rows stored.
    ``entered``: the values of columns given in another unit, as entered."""
    left = dict(entered or {})  # a code's first series only (ΔP derived comes after)
    kept: list[tuple[str, tuple[np.ndarray, np.ndarray]]] = []
    typed: list[tuple[np.ndarray, str] | None] = []
    for code, (t, v) in series:
        keep = ~np.isnan(np.asarray(v, dtype=float))
        kept.append((code, (np.asarray(t)[keep], np.asarray(v, dtype=float)[keep])))
        given = left.pop(code, None)
        typed.append(None if given is None else (np.asarray(given[0], dtype=float)[keep],
                                                 given[1]))  # fmt: skip
    total = sum(len(v) for _, (_, v) in kept)
    if not total:
        return 0
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        for (code, (times, values)), as_entered in zip(kept, typed, strict=True):
            rows = observation_service.series_rows(
                run_id, code, times, values, source, ingest_ref, entered_by, as_entered
            )
            observation_service.bulk_insert(session, rows)
        return total
    columns = ", ".join(observation_service.BULK_COLUMNS)
    raw: Any = connection.connection.driver_connection
    sql = f"COPY observation ({columns}) FROM STDIN (FORMAT BINARY)"
    with driver_errors(sql), raw.cursor() as cur, cur.copy(sql) as copy:
        copy.write(HEADER)
        for block in binary_tuples(run_id, kept, source, ingest_ref, entered_by, typed):
            copy.write(block)
        copy.write(TRAILER)
    return total


def binary_tuples(
    run_id: int,
    series: Series,
    source: str,
    ingest_ref: str | None,
    entered_by: int | None,
    entered: Sequence[tuple[np.ndarray, str] | None] | None = None,
    chunk: int = CHUNK,
) -> Iterator[bytes]:
    """The tuples (no header or trailer) for ``observation_service.BULK_COLUMNS``;
    ``entered``: per series (same order), its values as entered and their unit, or None."""
    recorded = _micros(np.datetime64(utcnow().replace(tzinfo=None), "us"))
    for n, (code, (times, values)) in enumerate(series):
        unit = vocabulary.get(code).unit
        typed = entered[n] if entered else None
        for i in range(0, len(values), chunk):
            part = slice(i, i + chunk)
            fields: list[tuple[str, str, Any]] = [
                ("run_id", ">i4", run_id),
                ("code", "S", code.encode()),
                ("time", ">i8", _micros(times[part])),
                ("value", ">f8", values[part]),
                ("unit", "S", unit.encode()),
                ("source", "S", source.encode()),
                ("status", "S", b"final"),
                ("entered_by", ">i4", entered_by),
                ("recorded_at", ">i8", recorded),
                ("ingest_ref", "S", ingest_ref.encode() if ingest_ref else None),
            ]
            if typed is None:
                yield _pack([*fields, *_NOT_ENTERED], len(values[part]))
                continue
            # A column in another unit: its tuples carry the value and unit as entered; a
            # value entered in the stored unit (NaN here) carries none — two packs, since
            # a NULL field has no bytes and every tuple of a pack has one layout.
            as_entered = typed[0][part]
            mask = ~np.isnan(as_entered)
            for keep, extra in (
                (mask, [("entered_value", ">f8", as_entered), ("entered_unit", "S",
                                                                typed[1].encode())]),
                (~mask, _NOT_ENTERED),
            ):  # fmt: skip
                if keep.any():
                    chosen = [(n, k, v[keep] if isinstance(v, np.ndarray) else v)
                              for n, k, v in [*fields, *extra]]  # fmt: skip
                    yield _pack(chosen, int(keep.sum()))


_NOT_ENTERED: list[tuple[str, str, Any]] = [("entered_value", ">f8", None),
                                            ("entered_unit", "S", None)]  # fmt: skip


def _micros(times: Any) -> Any:
    """datetime64 (UTC) → microseconds since PostgreSQL's epoch."""
    return (np.asarray(times).astype("datetime64[us]") - PG_EPOCH).astype(np.int64)


def _pack(fields: list[tuple[str, str, Any]], n: int) -> bytes:
    """One structured array per chunk: every field of every tuple written by numpy."""
    layout: list[tuple[str, Any]] = [("count", ">i2")]
    for name, kind, value in fields:
        layout.append((name + "_len", ">i4"))
        if value is not None:
            layout.append((name, f"S{len(value)}" if kind == "S" else kind))
    tuples = np.empty(n, dtype=layout)
    tuples["count"] = len(fields)
    for name, kind, value in fields:
        if value is None:
            tuples[name + "_len"] = -1
        else:
            tuples[name + "_len"] = len(value) if kind == "S" else np.dtype(kind).itemsize
            tuples[name] = value
    return tuples.tobytes()
