"""24 h trends for the rounds board, downsampled inside the database.

PostgreSQL: 10-minute means (the bins of ``date_bin(interval '10 minutes', time,
'2000-01-01 UTC')``), read from ``observation_bin`` (migration 0044: count and sum per run,
code and bin, kept by triggers) for the bins wholly inside the window, and from the values
themselves for the bin the window starts in (its values from the start on) and those
after the window's end in the bin it ends in (taken away): about 144 rows per run and code
and at most one bin of values, however dense the feed. SQLite: the values at each 20-minute
mark, read off the (run, code, status, time) index — its GROUP BY would sort every point.
Series too sparse for marks (hand-entered values, labs) are read in full.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Float, String, func, literal, select, union_all
from sqlalchemy.orm import Session

from continuum.core.record import Observation, ObservationBin
from continuum.db import UTCDateTime

SPARSE = 12  # fewer 20-minute marks than this in 24 h (SQLite): read the series in full
BIN = timedelta(minutes=10)  # observation_bin's bins (migration 0044)
BIN_ORIGIN = datetime(2000, 1, 1, tzinfo=UTC)


def bin_start(t: datetime) -> datetime:
    """The start of the 10-minute bin holding ``t`` (PostgreSQL's date_bin, origin 2000)."""
    return BIN_ORIGIN + (t - BIN_ORIGIN) // BIN * BIN


def _is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _sqlite_epoch() -> Any:
    """Seconds since 1970 from SQLite's stored UTC text, computed in C inside SQLite."""
    return (func.julianday(Observation.time, type_=Float) - 2440587.5) * 86400.0


def _final(run_ids: Sequence[int], codes: Sequence[str]) -> tuple[Any, ...]:
    return (
        Observation.run_id.in_(run_ids),
        Observation.code.in_(codes),
        Observation.status == "final",
    )


def _bins_statement(
    run_ids: Sequence[int], codes: Sequence[str], start: datetime, end: datetime
) -> Any:
    """PostgreSQL: (run, code, bin start, count, sum) rows whose sums per run, code and bin
    are the final values in [start, end]: stored bins from the first one wholly after
    ``start`` to the one holding ``end``; the values of the bin holding ``start`` from
    ``start`` on; minus the values after ``end`` in the bin holding ``end``."""
    first = bin_start(start)
    whole = first if first == start else first + BIN  # the first bin with no value < start
    last = bin_start(end)
    parts = [
        select(
            ObservationBin.run_id,
            ObservationBin.code,
            ObservationBin.bin_start,
            ObservationBin.n,
            ObservationBin.total,
        ).where(
            ObservationBin.run_id.in_(run_ids),
            ObservationBin.code.in_(codes),
            ObservationBin.bin_start >= whole,
            ObservationBin.bin_start <= end,
            ObservationBin.n > 0,
        )
    ]
    if start < whole:
        parts.append(
            select(
                Observation.run_id,
                Observation.code,
                literal(first, UTCDateTime),
                func.count(),
                func.sum(Observation.value),
            )
            .where(
                *_final(run_ids, codes),
                Observation.time >= start,
                Observation.time < whole,
                Observation.time <= end,
            )
            .group_by(Observation.run_id, Observation.code)
        )
    if last >= whole:
        parts.append(
            select(
                Observation.run_id,
                Observation.code,
                literal(last, UTCDateTime),
                -func.count(),
                -func.sum(Observation.value),
            )
            .where(
                *_final(run_ids, codes),
                Observation.time > end,
                Observation.time < last + BIN,
            )
            .group_by(Observation.run_id, Observation.code)
        )
    return union_all(*parts) if len(parts) > 1 else parts[0]


def _bin_means(
    session: Session, run_ids: Sequence[int], codes: Sequence[str], start: datetime, end: datetime
) -> list[tuple[int, str, float, float]]:
    """PostgreSQL: (run, code, bin start epoch, mean) of the final values in [start, end] per
    10-minute bin — what averaging the values grouped by date_bin gives, to the last bits of
    a running float sum."""
    sums: dict[tuple[int, str, datetime], list[float]] = defaultdict(lambda: [0, 0.0])
    for run_id, code, at, n, total in session.execute(_bins_statement(run_ids, codes, start, end)):
        acc = sums[(run_id, code, at)]
        acc[0] += n
        acc[1] += total
    return [(r, c, at.timestamp(), total / n) for (r, c, at), (n, total) in sums.items() if n > 0]


def _trend_statement(
    session: Session, run_ids: Sequence[int], codes: Sequence[str], start: datetime, end: datetime
) -> Any:
    """SQLite: the values at each 20-minute mark (minutes 00, 20, 40) — its GROUP BY would
    sort every point; for 1-minute data that is one point per 20 minutes, read straight off
    the index."""
    mark = func.substr(Observation.time, 15, 2, type_=String).in_(("00", "20", "40"))
    epoch = _sqlite_epoch()
    return select(Observation.run_id, Observation.code, epoch, Observation.value).where(
        *_final(run_ids, codes), Observation.time >= start, Observation.time <= end, mark
    )


def _sparse_series(
    session: Session,
    found: Counter[tuple[int, str]],
    run_ids: Sequence[int],
    codes: Sequence[str],
    start: datetime,
    end: datetime,
) -> list[Any]:
    """SQLite: series with few 20-minute marks (hand-entered, labs) are read in full."""
    rows: list[Any] = []
    for code in codes:
        thin = [r for r in run_ids if found[(r, code)] < SPARSE]
        if not thin:
            continue
        stmt = select(
            Observation.run_id,
            Observation.code,
            _sqlite_epoch(),
            Observation.value,
        ).where(
            Observation.run_id.in_(thin),
            Observation.code == code,
            Observation.status == "final",
            Observation.time >= start,
            Observation.time <= end,
        )
        rows += list(session.execute(stmt))
    return rows


def trends(
    session: Session, run_ids: Sequence[int], codes: Sequence[str], start: datetime, end: datetime
) -> dict[tuple[int, str], list[tuple[float, float]]]:
    """24 h trend points per run and code, downsampled in the database: {(run, code): [(t, v)]}."""
    if not run_ids:
        return {}
    out: dict[tuple[int, str], list[tuple[float, float]]] = defaultdict(list)
    rows: list[Any]
    if _is_postgres(session):
        rows = _bin_means(session, run_ids, codes, start, end)
    else:
        rows = list(session.execute(_trend_statement(session, run_ids, codes, start, end)))
        found = Counter((r, c) for r, c, _, _ in rows)
        extra = _sparse_series(session, found, run_ids, codes, start, end)
        thin = {(r, c) for r, c, _, _ in extra}
        rows = [row for row in rows if (row[0], row[1]) not in thin] + extra
    for run_id, code, epoch, value in rows:
        out[(run_id, code)].append((epoch, value))
    for points in out.values():
        points.sort()
    return out
