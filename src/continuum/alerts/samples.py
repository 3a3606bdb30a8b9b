"""Incremental surveillance: the dense signals of a run's window, carried between
evaluations in the database (``surveillance_sample``) instead of re-read on every pass.

Every detector reads a dense signal (console, monitor: ``inputs.DENSE_GROUPS``) only as
"the latest value at or before a grid point" (``Grid.locf``, ``RunSeries.latest``) and
through the first and last time of the series (``RunSeries.span``: where the grid starts
and ends). Grid points are multiples of the grid step since 1970, so of all the
observations in a step ``[g, g + step)`` only two matter: the first (it may lie exactly on
``g``) and the last. A sample row keeps those two per run, code and step; the series made
from them gives every detector exactly what the raw rows give it (``compact`` is checked
against whole-run replay in tests/alerts/test_incremental_evaluation.py). Gases and labs
are sparse, and two detectors read them sample by sample: they are read raw as before.

Kept up to date by the evaluation itself, in its transaction, so any evaluator process may
take any run next, and one that dies leaves the state as the last commit left it:

* ``surveillance_progress`` says from when a run's samples are complete (and with which
  grid step). A pass re-reads raw rows only from the earliest time the batches since the
  last pass stored or changed (``SurveillanceDue.changed_from``, given by the after-store
  hook: late or out-of-order values, corrections and withdrawals included) — for a feed
  in time order, the new data — then reads its window from the samples.
* When that time is not known (a bulk load, a path that does not say), the grid step
  changed, or the window reaches before the samples, the run's samples are rebuilt from a
  full read of its window.

Samples are working data, not the record: a pass drops the steps its window has left, and
the daily housekeeping (:func:`housekeeping`) drops every sample of a run that has ended
and is not waiting for an evaluation — nothing evaluates it any more; a late correction of
an ended run rebuilds them from its observations, which are never deleted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import delete, exists, func, select
from sqlalchemy.orm import Session

from continuum.alerts.models import SurveillanceDue, SurveillanceProgress, SurveillanceSample
from continuum.core import audit
from continuum.core.roles import Actor
from continuum.core.run_record import Run
from continuum.db import utcnow

Signal = tuple[np.ndarray, np.ndarray]
COLUMNS = ("run_id", "code", "step_start_ms", "first_ms", "first_value", "last_ms", "last_value")


@dataclass
class Pass:
    """What one pass did: ``rebuilt`` (a full read of the window) or not, and how many raw
    rows it read (benchmarks and tests look at these)."""

    rebuilt: bool = False
    raw_rows: int = 0
    sample_rows: int = 0


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def ms_of(t: datetime) -> int:
    """Milliseconds since 1970 UTC (rounded down)."""
    return (t - EPOCH) // timedelta(milliseconds=1)


def floor_to(t: datetime, step_ms: int) -> datetime:
    """``t`` rounded down to a grid point (a multiple of the step since 1970)."""
    ms = ms_of(t)
    return datetime.fromtimestamp((ms - ms % step_ms) / 1000, UTC)


def compact(t: np.ndarray, v: np.ndarray, step_ms: int) -> dict[str, np.ndarray]:
    """Per grid step of one code's time-ordered (t datetime64[ms], v): the first and the
    last observation (of observations at one time, the last in order, as LOCF takes)."""
    ms = t.astype("int64")
    step = ms - ms % step_ms
    starts = np.flatnonzero(np.r_[True, step[1:] != step[:-1]])
    ends = np.r_[starts[1:], len(ms)] - 1
    first = np.searchsorted(ms, ms[starts], side="right") - 1  # last of equal first times
    return {
        "step_start_ms": step[starts],
        "first_ms": ms[first],
        "first_value": v[first],
        "last_ms": ms[ends],
        "last_value": v[ends],
    }


def expand(rows: dict[str, np.ndarray]) -> Signal:
    """Sample rows (in step order) back to a series: first then last of each step, once
    when they are the same observation."""
    first, last = rows["first_ms"], rows["last_ms"]
    both = first != last
    n = len(last) + int(both.sum())
    t = np.empty(n, dtype="int64")
    v = np.empty(n, dtype=float)
    at_last = np.arange(len(last)) + np.cumsum(both)  # index of each step's last point
    t[at_last], v[at_last] = last, rows["last_value"]
    t[at_last[both] - 1], v[at_last[both] - 1] = first[both], rows["first_value"][both]
    return t.astype("datetime64[ms]"), v


def dense_signals(
    session: Session,
    run_id: int,
    since: datetime,
    step_ms: int,
    changed_from: datetime | None,
    read_raw: Any,
    report: Pass | None = None,
) -> dict[str, Signal]:
    """The dense signals from ``since`` (a grid point) on, as the detectors need them,
    with the run's samples brought up to date first. ``changed_from``: the earliest time
    stored or changed since the last evaluation (None: not known → rebuild).
    ``read_raw(since)``: the raw final dense observations at or after ``since``."""
    report = report if report is not None else Pass()
    since_ms = ms_of(since)
    progress = session.get(SurveillanceProgress, run_id)
    fresh = (
        progress is None
        or changed_from is None
        or progress.step_ms != step_ms
        or progress.covered_from_ms > since_ms
    )
    if fresh:
        _delete(session, run_id, None)
        raw = read_raw(since)
        report.rebuilt = True
        report.raw_rows = sum(len(t) for t, _ in raw.values())
        _write(session, run_id, raw, step_ms)
        if progress is None:
            progress = SurveillanceProgress(run_id=run_id)
            session.add(progress)
        progress.step_ms = step_ms
        progress.covered_from_ms = since_ms
    else:
        assert progress is not None and changed_from is not None
        lo = max(ms_of(floor_to(changed_from, step_ms)), progress.covered_from_ms)
        _delete(session, run_id, lo)
        raw = read_raw(datetime.fromtimestamp(lo / 1000, UTC))
        report.raw_rows = sum(len(t) for t, _ in raw.values())
        _write(session, run_id, raw, step_ms)
        if progress.covered_from_ms < since_ms:  # older steps are no longer read: drop them
            session.execute(
                delete(SurveillanceSample)
                .where(
                    SurveillanceSample.run_id == run_id,
                    SurveillanceSample.step_start_ms < since_ms,
                )
                .execution_options(synchronize_session=False)
            )
            progress.covered_from_ms = since_ms
    progress.updated_at = utcnow()
    session.flush()
    out = _read(session, run_id, since_ms)
    report.sample_rows = sum(len(t) for t, _ in out.values())
    return out


def forget(session: Session, run_id: int) -> None:
    """Drop a run's samples: the next evaluation rebuilds them (e.g. after a whole-run
    evaluation of rows stored without a mark)."""
    _delete(session, run_id, None)
    session.execute(
        delete(SurveillanceProgress)
        .where(SurveillanceProgress.run_id == run_id)
        .execution_options(synchronize_session=False)
    )


def _delete(session: Session, run_id: int, from_ms: int | None) -> None:
    stmt = delete(SurveillanceSample).where(SurveillanceSample.run_id == run_id)
    if from_ms is not None:
        stmt = stmt.where(SurveillanceSample.step_start_ms >= from_ms)
    session.execute(stmt.execution_options(synchronize_session=False))


def _write(session: Session, run_id: int, raw: dict[str, Signal], step_ms: int) -> None:
    rows: list[tuple[Any, ...]] = []
    for code, (t, v) in raw.items():
        if len(t) == 0:
            continue
        c = compact(t, v, step_ms)
        rows += zip(
            [run_id] * len(c["last_ms"]),
            [code] * len(c["last_ms"]),
            c["step_start_ms"].tolist(),
            c["first_ms"].tolist(),
            c["first_value"].tolist(),
            c["last_ms"].tolist(),
            c["last_value"].tolist(),
            strict=True,
        )
    if not rows:
        return
    connection = session.connection()
    raw_conn = connection.connection.driver_connection
    names = ", ".join(COLUMNS)
    if connection.dialect.name == "postgresql":
        with (
            raw_conn.cursor() as cur,
            cur.copy(f"COPY surveillance_sample ({names}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)
        return
    raw_conn.executemany(
        f"INSERT INTO surveillance_sample ({names}) VALUES ({', '.join('?' * len(COLUMNS))})", rows
    )


def _read(session: Session, run_id: int, since_ms: int) -> dict[str, Signal]:
    connection = session.connection()
    pg = connection.dialect.name == "postgresql"
    mark = "%s" if pg else "?"
    sql = (
        "SELECT code, first_ms, first_value, last_ms, last_value FROM surveillance_sample "
        f"WHERE run_id = {mark} AND step_start_ms >= {mark} ORDER BY code, step_start_ms"
    )
    raw_conn = connection.connection.driver_connection
    cur = raw_conn.cursor()
    try:
        cur.execute(sql, (run_id, since_ms))
        got = cur.fetchall()
    finally:
        cur.close()
    if not got:
        return {}
    codes = np.array([r[0] for r in got])
    cols = {
        "first_ms": np.array([r[1] for r in got], dtype="int64"),
        "first_value": np.array([r[2] for r in got], dtype=float),
        "last_ms": np.array([r[3] for r in got], dtype="int64"),
        "last_value": np.array([r[4] for r in got], dtype=float),
    }
    cuts = np.flatnonzero(codes[1:] != codes[:-1]) + 1
    out: dict[str, Signal] = {}
    for a, b in zip(np.r_[0, cuts], np.r_[cuts, len(codes)], strict=True):
        out[str(codes[a])] = expand({k: x[a:b] for k, x in cols.items()})
    return out


HOUSEKEEPER = Actor(staff_id=None, name="daily housekeeping", role="admin", client="housekeeping")


def prune_ended_runs(session: Session, actor: Actor = HOUSEKEEPER) -> tuple[int, int]:
    """Drop the samples (and progress) of every run that has ended and is not marked due:
    (runs, sample rows) dropped; audited with the counts when there were any. A run being
    evaluated right now is skipped (PostgreSQL: its lock, as the evaluators take it)."""
    has_samples = exists().where(SurveillanceProgress.run_id == Run.id)
    due = exists().where(SurveillanceDue.run_id == Run.id)
    stmt = select(Run.id).where(Run.status == "ended", has_samples, ~due).order_by(Run.id)
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(key_share=True, skip_locked=True)
    run_ids = list(session.scalars(stmt))
    if not run_ids:
        return 0, 0
    rows = int(
        session.scalar(
            select(func.count())
            .select_from(SurveillanceSample)
            .where(SurveillanceSample.run_id.in_(run_ids))
        )
        or 0
    )
    for run_id in run_ids:
        forget(session, run_id)
    detail = {"runs": run_ids[:100], "run_count": len(run_ids), "deleted": rows}
    audit.record(session, actor, "prune", "surveillance_sample", None, None, detail)
    return len(run_ids), rows


def housekeeping(session: Session) -> str:
    """The daily job (continuum.housekeeping): the working samples of ended runs dropped."""
    runs, rows = prune_ended_runs(session)
    return f"deleted {rows} surveillance sample rows of {runs} ended runs"


__all__ = [
    "Pass",
    "compact",
    "dense_signals",
    "expand",
    "floor_to",
    "forget",
    "housekeeping",
    "prune_ended_runs",
]
