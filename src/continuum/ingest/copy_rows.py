"""The fast way to put validated console arrays into PostgreSQL: one binary ``COPY`` for a
whole file, its tuples laid out by numpy (no Python object per row), streamed in chunks so
the server stores one part while the next is built. Other databases use the core bulk
insert. Runs inside the caller's transaction, like ``observation_service.bulk_insert``.

PostgreSQL's binary COPY format: a header, then per tuple a 16-bit field count and per
field a 32-bit length (-1 for NULL) and the value in network byte order; ``timestamptz`` is
microseconds since 2000-01-01 UTC, ``float8`` IEEE 754, text as UTF-8 bytes.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
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


def copy_all(
    session: Session,
    run_id: int,
    series: Series,
    source: str,
    ingest_ref: str | None,
    entered_by: int | None = None,
) -> int:
    """Store every code's arrays in one statement; returns the number of rows stored."""
    kept = [(code, _without_nan(t, v)) for code, (t, v) in series]
    total = sum(len(v) for _, (_, v) in kept)
    if not total:
        return 0
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        for code, (times, values) in kept:
            rows = observation_service.series_rows(
                run_id, code, times, values, source, ingest_ref, entered_by
            )
            observation_service.bulk_insert(session, rows)
        return total
    columns = ", ".join(observation_service.BULK_COLUMNS)
    raw: Any = connection.connection.driver_connection
    sql = f"COPY observation ({columns}) FROM STDIN (FORMAT BINARY)"
    with driver_errors(sql), raw.cursor() as cur, cur.copy(sql) as copy:
        copy.write(HEADER)
        for block in binary_tuples(run_id, kept, source, ingest_ref, entered_by):
            copy.write(block)
        copy.write(TRAILER)
    return total


def _without_nan(times: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    values = np.asarray(values, dtype=float)
    keep = ~np.isnan(values)
    return np.asarray(times)[keep], values[keep]


def binary_tuples(
    run_id: int,
    series: Series,
    source: str,
    ingest_ref: str | None,
    entered_by: int | None,
    chunk: int = CHUNK,
) -> Iterator[bytes]:
    """The tuples (no header or trailer) for ``observation_service.BULK_COLUMNS``."""
    recorded = _micros(np.datetime64(utcnow().replace(tzinfo=None), "us"))
    for code, (times, values) in series:
        unit = vocabulary.get(code).unit
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
            yield _pack(fields, len(values[part]))


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
