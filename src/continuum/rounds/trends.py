"""24 h trends for the rounds board, downsampled inside the database.

PostgreSQL: 10-minute means (date_bin, hash aggregate). SQLite: the values at each
20-minute mark, read off the (run, code, status, time) index — its GROUP BY would sort
every point. Series too sparse for marks (hand-entered values, labs) are read in full.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Float, String, func, select, text
from sqlalchemy.orm import Session

from continuum.core.record import Observation

SPARSE = 12  # fewer 20-minute marks than this in 24 h (SQLite): read the series in full


def _is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _sqlite_epoch() -> Any:
    """Seconds since 1970 from SQLite's stored UTC text, computed in C inside SQLite."""
    return (func.julianday(Observation.time, type_=Float) - 2440587.5) * 86400.0


def _trend_statement(
    session: Session, run_ids: Sequence[int], codes: Sequence[str], start: datetime, end: datetime
) -> Any:
    """PostgreSQL: 10-minute means (date_bin, hash aggregate). SQLite: the values at each
    20-minute mark (minutes 00, 20, 40) — its GROUP BY would sort every point; for
    1-minute data that is one point per 20 minutes, read straight off the index."""
    where = (
        Observation.run_id.in_(run_ids),
        Observation.code.in_(codes),
        Observation.status == "final",
        Observation.time >= start,
        Observation.time <= end,
    )
    if _is_postgres(session):
        origin = datetime(2000, 1, 1, tzinfo=UTC)
        bin_ = func.date_bin(text("interval '10 minutes'"), Observation.time, origin)
        bucket = func.date_part("epoch", bin_, type_=Float).label("bucket")
        mean = func.avg(Observation.value, type_=Float)
        stmt = select(Observation.run_id, Observation.code, bucket, mean).where(*where)
        return stmt.group_by(Observation.run_id, Observation.code, bucket)
    mark = func.substr(Observation.time, 15, 2, type_=String).in_(("00", "20", "40"))
    epoch = _sqlite_epoch()
    return select(Observation.run_id, Observation.code, epoch, Observation.value).where(
        *where, mark
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
    stmt = _trend_statement(session, run_ids, codes, start, end)
    rows: list[Any] = list(session.execute(stmt))
    if not _is_postgres(session):
        found = Counter((r, c) for r, c, _, _ in rows)
        extra = _sparse_series(session, found, run_ids, codes, start, end)
        thin = {(r, c) for r, c, _, _ in extra}
        rows = [row for row in rows if (row[0], row[1]) not in thin] + extra
    for run_id, code, epoch, value in rows:
        out[(run_id, code)].append((epoch, value))
    for points in out.values():
        points.sort()
    return out
