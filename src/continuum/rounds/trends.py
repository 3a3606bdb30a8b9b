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

from sqlalchemy import Float, String, cast, func, literal, select, union_all
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


def _values(
    run_ids: Sequence[int], codes: Sequence[str], at: datetime, sign: int, *window: Any
) -> Any:
    """Count and sum (times ``sign``) of the final values in ``window``, as bin ``at``."""
    return (
        select(
            Observation.run_id,
            Observation.code,
            literal(at, UTCDateTime),
            sign * func.count(),
            sign * func.sum(Observation.value),
        )
        .where(*_final(run_ids, codes), *window)
        .group_by(Observation.run_id, Observation.code)
    )


def _bins_statement(
    run_ids: Sequence[int], codes: Sequence[str], start: datetime, end: datetime
) -> Any:
    """PostgreSQL: (run, code, bin start, count, sum) rows whose sums per run, code and bin
    are those of the final values in [start, end]: the stored bins from the one holding
    ``start`` (or the next) to the one holding ``end``, with the values of the edge bins
    that are outside the window taken away, or those inside it added — whichever side of
    ``start`` in its bin is shorter, so at most 5 minutes of values at the start, and
    after ``end`` usually none."""
    first, last = bin_start(start), bin_start(end)
    time = Observation.time
    edges = []
    if start == first:
        stored = first
    elif start - first < BIN / 2 and last > first:  # take away the values before start
        stored = first
        edges.append(_values(run_ids, codes, first, -1, time >= first, time < start))
    else:  # add the values from start to the end of its bin
        stored = first + BIN
        edges.append(_values(run_ids, codes, first, 1, time >= start, time < stored, time <= end))
    if last >= stored:  # take away the values after end in its bin
        edges.append(_values(run_ids, codes, last, -1, time > end, time < last + BIN))
    bins = select(
        ObservationBin.run_id,
        ObservationBin.code,
        ObservationBin.bin_start,
        ObservationBin.n,
        ObservationBin.total,
    ).where(
        ObservationBin.run_id.in_(run_ids),
        ObservationBin.code.in_(codes),
        ObservationBin.bin_start >= stored,
        ObservationBin.bin_start <= end,
        ObservationBin.n > 0,
    )
    return union_all(bins, *edges) if edges else bins


def _bin_means(run_ids: Sequence[int], codes: Sequence[str], start: datetime, end: datetime) -> Any:
    """PostgreSQL: (run, code, bin start epoch, mean) of the final values in [start, end] per
    10-minute bin — what averaging the values grouped by date_bin gives, to the last bits of
    a running float sum (the few edge rows are summed with their bins here)."""
    parts = _bins_statement(run_ids, codes, start, end).subquery()
    n = func.sum(parts.c.n)
    epoch = func.date_part("epoch", parts.c.bin_start, type_=Float)
    mean = func.sum(parts.c.total, type_=Float) / cast(n, Float)
    return (
        select(parts.c.run_id, parts.c.code, epoch, mean)
        .group_by(parts.c.run_id, parts.c.code, parts.c.bin_start)
        .having(n > 0)
    )


def _trend_statement(
    run_ids: Sequence[int], codes: Sequence[str], start: datetime, end: datetime
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
        rows = list(session.execute(_bin_means(run_ids, codes, start, end)))
    else:
        rows = list(session.execute(_trend_statement(run_ids, codes, start, end)))
        found = Counter((r, c) for r, c, _, _ in rows)
        extra = _sparse_series(session, found, run_ids, codes, start, end)
        thin = {(r, c) for r, c, _, _ in extra}
        rows = [row for row in rows if (row[0], row[1]) not in thin] + extra
    for run_id, code, epoch, value in rows:
        out[(run_id, code)].append((epoch, value))
    for points in out.values():
        points.sort()
    return out
