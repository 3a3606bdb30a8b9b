"""The fast way to put validated console arrays into PostgreSQL: COPY text built from the
numpy arrays in one pass (no per-row dicts). Other databases use the core bulk insert.
Runs inside the caller's transaction, like ``observation_service.bulk_insert``."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from continuum import vocabulary
from continuum.core import observation_service
from continuum.db import utcnow

_UNSAFE = re.compile(r"[\t\n\r\\]")
CHUNK = 200_000


def _safe(text: str) -> str:
    return _UNSAFE.sub("_", text)


def copy_series(
    session: Session,
    run_id: int,
    code: str,
    times: np.ndarray,
    values: np.ndarray,
    source: str,
    ingest_ref: str | None,
    entered_by: int | None = None,
) -> int:
    """Store one code's arrays (datetime64 UTC, float in the vocabulary unit; NaN skipped)."""
    keep = ~np.isnan(values)
    times, values = times[keep], values[keep]
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        rows = observation_service.series_rows(
            run_id, code, times, values, source, ingest_ref, entered_by
        )
        observation_service.bulk_insert(session, rows)
        return len(rows)
    columns = ", ".join(observation_service.BULK_COLUMNS)
    raw: Any = connection.connection.driver_connection
    with raw.cursor() as cur, cur.copy(f"COPY observation ({columns}) FROM STDIN") as copy:
        for i in range(0, len(values), CHUNK):
            part = slice(i, i + CHUNK)
            copy.write(
                _lines(run_id, code, times[part], values[part], source, ingest_ref, entered_by)
            )
    return len(values)


def _lines(
    run_id: int,
    code: str,
    times: np.ndarray,
    values: np.ndarray,
    source: str,
    ingest_ref: str | None,
    entered_by: int | None,
) -> str:
    stamps = np.datetime_as_string(times.astype("datetime64[us]"), unit="us")
    unit = vocabulary.get(code).unit
    ref = _safe(ingest_ref) if ingest_ref else "\\N"
    staff = str(entered_by) if entered_by is not None else "\\N"
    head = f"{run_id}\t{_safe(code)}\t"
    tail = f"\t{_safe(unit)}\t{_safe(source)}\tfinal\t{staff}\t{utcnow().isoformat()}\t{ref}\n"
    return "".join(
        [head + t + "+00\t" + repr(v) + tail for t, v in zip(stamps, values.tolist(), strict=True)]
    )
