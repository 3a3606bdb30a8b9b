"""What the detectors need from the record: a recent window of a run's observations (read
as numpy arrays in one query), its component changes, its targets and the programme's
threshold overrides.

Window: dense signals (console, monitor) for the last few hours, blood gases for their
maximum age, labs for 48 h; baselines of a component segment whose early hours lie before
the window come from ``surveillance_baseline`` (see ``continuum.surveillance.engine``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from continuum import support_configuration, vocabulary
from continuum.alerts import samples
from continuum.alerts.models import SurveillanceBaseline
from continuum.alerts.samples import floor_to
from continuum.core import observation_service
from continuum.core.run_record import Component, Run
from continuum.core.run_service import current_mode
from continuum.core.targets import current_targets
from continuum.surveillance import ComponentChange, RunTargets, SurveillanceSettings

CHANGE_OF = {
    "membrane_lung": "oxygenator",
    "pump": "pump",
    "console": "circuit",
    "tubing_set": "circuit",
}
DENSE_GROUPS = ("circuit", "monitoring")
GAS_GROUPS = ("circuit_gas", "blood_gas")
DENSE_HOURS = 2.5  # > longest smoothing + persistence span (90 min) with margin
LAB_HOURS = 48.0


@dataclass(frozen=True)
class Window:
    """Where to start reading and which stored baselines stand for the first segment."""

    start: datetime
    baseline_key: datetime | None
    segment: datetime  # start of the component segment in force at the end


def series_mode(run: Run) -> str:
    """The run's mode as the detectors read it: which of them apply follows from its support
    configuration (``continuum.support_configuration``), e.g. VV + IABP keeps recirculation."""
    return support_configuration.of_run(current_mode(run), run.support_type).mode


def component_changes(session: Session, run_id: int) -> list[ComponentChange]:
    rows = session.execute(
        select(Component.started_at, Component.kind).where(
            Component.run_id == run_id, Component.replaces_id.is_not(None)
        )
    )
    return [ComponentChange(_ms(t), CHANGE_OF[k]) for t, k in rows if k in CHANGE_OF]


def change_times(changes: list[ComponentChange]) -> list[datetime]:
    return sorted({_dt(c.time) for c in changes})


def run_targets(session: Session, run_id: int) -> RunTargets:
    t = current_targets(session, run_id)

    def rng(code: str) -> tuple[float, float] | None:
        if code not in t:
            return None
        lo, hi = t[code].low, t[code].high
        return (-np.inf if lo is None else lo, np.inf if hi is None else hi)

    flow = t.get("blood_flow")
    return RunTargets(
        anti_xa=rng("anti_xa"),
        aptt=rng("aptt"),
        act=rng("act"),
        flow_goal=None if flow is None or flow.low is None else flow.low,
    )


def last_time(session: Session, run_id: int, codes: set[str] | None = None) -> datetime | None:
    """The newest final observation of the run (of ``codes``: one index seek per code)."""
    if not codes:
        return observation_service.newest_time(session, run_id)
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return _last_time_pg(session, run_id, codes)
    mark = "?"
    sql = (
        f"SELECT MAX(time) FROM observation WHERE run_id = {mark} AND code = {mark} "
        "AND status = 'final'"
    )
    cur = _driver(session).cursor()
    newest = []
    try:
        for code in sorted(codes):
            cur.execute(sql, (run_id, code))
            t = cur.fetchone()[0]
            if t is not None:
                newest.append(_parse(t))
    finally:
        cur.close()
    return max(newest, default=None)


def _last_time_pg(session: Session, run_id: int, codes: set[str]) -> datetime | None:
    """The same index seek per code, in one round trip."""
    sql = (
        "SELECT MAX(t) FROM unnest(%s::text[]) AS c(code), LATERAL (SELECT MAX(time) AS t "
        "FROM observation o WHERE o.run_id = %s AND o.code = c.code AND o.status = 'final') m"
    )
    with _driver(session).cursor() as cur:
        cur.execute(sql, (sorted(codes), run_id))
        t = cur.fetchone()[0]
    return None if t is None else _parse(t)


def _parse(t: Any) -> datetime:
    if isinstance(t, str):
        t = datetime.fromisoformat(t)
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)


def plan_window(
    run: Run, end: datetime, changes: list[datetime], stored: set[datetime], s: SurveillanceSettings
) -> Window:
    """Read from a little before the latest segment while its baseline is being formed (or
    not yet stored); otherwise only the recent hours, with that segment's stored baselines.
    The start is a grid point (a multiple of the grid step): the window holds whole steps,
    as the samples carried between evaluations do (``alerts.samples``)."""
    w = _plan_window(run, end, changes, stored, s)
    step_ms = max(int(s.grid_step_s * 1000), 1)
    return Window(floor_to(w.start, step_ms), w.baseline_key, w.segment)


def _plan_window(
    run: Run, end: datetime, changes: list[datetime], stored: set[datetime], s: SurveillanceSettings
) -> Window:
    starts = [run.started_at, *(c for c in changes if c <= end)]
    segment = starts[-1]
    margin = timedelta(hours=DENSE_HOURS)
    forming = timedelta(minutes=s.baseline_skip_min, hours=s.baseline_hours) + margin
    if end - segment > forming and segment in stored:
        return Window(max(end - margin, run.started_at), segment, segment)
    previous = starts[-2] if len(starts) > 1 else None
    if previous is not None and previous not in stored:
        return Window(run.started_at, None, segment)
    return Window(max(segment - margin, run.started_at), previous, segment)


def load_signals(
    session: Session,
    run_id: int,
    window: Window,
    end: datetime,
    s: SurveillanceSettings,
    carried: Carried | None = None,
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Every final observation each code needs, as (datetime64[ms], float) arrays.
    ``carried``: read the dense signals from the run's samples, brought up to date from
    ``carried.changed_from`` (``alerts.samples``); None: read them raw."""
    gas_hours = max(s.gas_max_age_h, DENSE_HOURS)
    lab_hours = max(LAB_HOURS, s.lab_max_age_h, s.platelet_window_h, s.thrombosis_lab_max_age_h)
    reads = []
    for groups, hours in ((DENSE_GROUPS, 0.0), (GAS_GROUPS, gas_hours), (None, lab_hours)):
        since = window.start if hours == 0 else min(window.start, end - timedelta(hours=hours))
        reads.append((_codes(groups), since))
    out: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    if carried is not None:
        dense = reads.pop(0)[0]
        out.update(
            samples.dense_signals(
                session,
                run_id,
                window.start,
                max(int(s.grid_step_s * 1000), 1),
                carried.changed_from,
                lambda since: _read_any(session, run_id, [(dense, since)]),
                carried.report,
            )
        )
    out.update(_read_any(session, run_id, reads))
    return out


@dataclass
class Carried:
    """Evaluate from the samples carried between passes: ``changed_from`` is the earliest
    time stored or changed since the last evaluation (None: not known, rebuild them)."""

    changed_from: datetime | None
    report: samples.Pass


def _read_any(
    session: Session, run_id: int, reads: list[tuple[list[str], datetime]]
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    if not reads:
        return {}
    if session.get_bind().dialect.name == "postgresql":
        return _read_packed(session, run_id, reads)
    out: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for codes, since in reads:
        out.update(_read(session, run_id, codes, since))
    return out


def _codes(groups: tuple[str, ...] | None) -> list[str]:
    known = DENSE_GROUPS + GAS_GROUPS
    return [
        c
        for c, spec in vocabulary.CODES.items()
        if (spec.group in groups if groups else spec.group not in known)
    ]


def _read(
    session: Session, run_id: int, codes: list[str], since: datetime
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """One query per code group on the driver's cursor (no ORM rows); numpy parses times."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return _read_packed(session, run_id, [(codes, since)])
    pg = dialect == "postgresql"
    when = "CAST(EXTRACT(EPOCH FROM time) AS DOUBLE PRECISION)" if pg else "time"
    mark = "%s" if pg else "?"
    sql = (
        f"SELECT code, {when}, value FROM observation WHERE run_id = {mark} "
        f"AND status = 'final' AND time >= {mark} AND code IN ({', '.join([mark] * len(codes))}) "
        "ORDER BY code, time"
    )
    cur = _driver(session).cursor()
    try:
        cur.execute(sql, (run_id, _bind(since, dialect), *codes))
        rows = cur.fetchall()
    finally:
        cur.close()
    if not rows:
        return {}
    code_col, time_col, value_col = zip(*rows, strict=True)
    return _split(
        np.asarray(code_col), _times(time_col, dialect), np.asarray(value_col, dtype=float)
    )


_PG_TIMES = np.dtype([("length", ">i4"), ("us", ">i8")])  # binary array elements
_PG_VALUES = np.dtype([("length", ">i4"), ("value", ">f8")])
_PG_ARRAY_HEADER = 20  # one-dimensional: ndim, has-nulls, element type, size, lower bound
_PG_EPOCH_MS = 946_684_800_000  # 2000-01-01 (PostgreSQL's epoch) in Unix milliseconds


def _read_packed(
    session: Session, run_id: int, reads: list[tuple[list[str], datetime]]
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """PostgreSQL: the same rows (each group of codes from its own start) in one round
    trip, as two binary arrays per code (timestamptz as µs since 2000, float8) that numpy
    decodes in one go — no Python object per row, which is what a long window costs.
    Put in time order here (a stable sort) rather than by the server."""
    # One index seek per code (an aggregate in a LATERAL subquery is not flattened): a
    # plain "code = ANY(…)" may be planned as a walk over all of the run's index entries
    # (e.g. before the table's first ANALYZE), which costs as much as the run is long.
    part = (
        "SELECT c.code, o.t, o.v FROM unnest(%s::text[]) AS c(code) CROSS JOIN LATERAL "
        "(SELECT array_send(array_agg(time)) AS t, array_send(array_agg(value)) AS v "
        "FROM observation WHERE run_id = %s AND code = c.code AND status = 'final' "
        "AND time >= %s HAVING count(*) > 0) o"
    )
    sql = " UNION ALL ".join(f"({part})" for _ in reads)
    params = [p for codes, since in reads for p in (codes, run_id, since)]
    out: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    with _driver(session).cursor(binary=True) as cur:
        cur.execute(sql, params)
        for code, times, values in cur.fetchall():
            us = np.frombuffer(times, _PG_TIMES, offset=_PG_ARRAY_HEADER)["us"]
            value = np.frombuffer(values, _PG_VALUES, offset=_PG_ARRAY_HEADER)["value"]
            order = np.argsort(us, kind="stable")
            ms = np.round(us[order] / 1000.0).astype("int64") + _PG_EPOCH_MS
            out[code] = (ms.astype("datetime64[ms]"), value[order].astype(float))
    return out


def _driver(session: Session) -> Any:
    """The DBAPI connection of the session's transaction (reads see its own writes)."""
    return session.connection().connection.driver_connection


def _bind(t: datetime, dialect: str) -> Any:
    """SQLite stores naive UTC text with microseconds (as UTCDateTime writes it)."""
    return t.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f") if dialect == "sqlite" else t


def _times(col: tuple[Any, ...], dialect: str) -> np.ndarray:
    if dialect == "postgresql":
        ms = np.round(np.asarray(col, dtype=float) * 1000).astype("int64")
        return ms.astype("datetime64[ms]")
    return np.array([str(x).replace(" ", "T") for x in col], dtype="datetime64[ms]")


def _split(
    codes: np.ndarray, times: np.ndarray, values: np.ndarray
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    cuts = np.flatnonzero(codes[1:] != codes[:-1]) + 1
    bounds = zip(np.r_[0, cuts], np.r_[cuts, len(codes)], strict=True)
    return {str(codes[a]): (times[a:b], values[a:b]) for a, b in bounds}


def stored_baselines(session: Session, run_id: int) -> dict[datetime, dict[str, float]]:
    out: dict[datetime, dict[str, float]] = {}
    for row in session.scalars(
        select(SurveillanceBaseline).where(SurveillanceBaseline.run_id == run_id)
    ):
        out.setdefault(row.segment_start, {})[row.key] = row.value
    return out


def store_baselines(
    session: Session, run_id: int, segment: datetime, values: dict[str, float]
) -> None:
    for key, value in values.items():
        session.add(
            SurveillanceBaseline(run_id=run_id, segment_start=segment, key=key, value=value)
        )


def _ms(t: datetime) -> np.datetime64:
    from continuum.surveillance.series import to_ms

    return to_ms(t)[0]


def _dt(t: np.datetime64) -> datetime:
    stamp: datetime = t.astype("datetime64[us]").item()
    return stamp.replace(tzinfo=UTC)
