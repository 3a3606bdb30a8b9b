"""Observations: validated and converted on the way in, amended (never overwritten),
read back as "latest per code" and "time range per code"."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, insert, select, text, union_all
from sqlalchemy.orm import Session, undefer

from continuum import vocabulary
from continuum.core import audit
from continuum.core import clinical_backfill as texts
from continuum.core.clinical_event import record_event, words
from continuum.core.record import Observation, ObservationAmendment, ObservationCount
from continuum.core.roles import Actor, Permission
from continuum.core.run_record import Run
from continuum.core.schemas import AmendmentIn, ObservationIn
from continuum.db import driver_errors, utcnow
from continuum.errors import Conflict, FieldProblem, NotFound, ValidationFailed


@dataclass(frozen=True)
class CleanValue:
    code: str
    time: datetime
    value: float
    unit: str
    source: str
    entered_value: float | None = None  # as entered, when not in ``unit`` (else None)
    entered_unit: str | None = None


# Called inside the same unit of work after observations for a run are stored:
# hook(session, run_id, codes) — e.g. surveillance evaluates the run's detectors, so a
# batch, its derived values, its alerts and its audit row commit (or roll back) together.
AfterStoreHook = Callable[[Session, int, set[str]], None]
AFTER_STORE_HOOKS: list[AfterStoreHook] = []

# A batch written as ONE statement (streaming ingest on PostgreSQL, ``ingest.pg_writes``)
# sets ``session.info[STATEMENT_PARTS]`` to a list and calls the hooks before it writes. A
# hook then does not execute its write: it appends ``(sql, params)`` — one data-modifying
# statement in psycopg's ``%(name)s`` style with every parameter name written ``{p}name``
# — and the writer runs it inside the batch's statement (as a WITH query), so it commits or
# fails with the batch. Reads are fine; a write executed directly would not be atomic.
STATEMENT_PARTS = "statement_parts"
StatementPart = tuple[str, dict[str, Any]]


def contribute(session: Session, sql: str, params: dict[str, Any]) -> bool:
    """Hand a write to the batch's single statement when there is one (True), else False
    and the caller executes it itself."""
    parts: list[StatementPart] | None = session.info.get(STATEMENT_PARTS)
    if parts is None:
        return False
    parts.append((sql, params))
    return True


# While the hooks run: the earliest observation time the batch stored or changed (None:
# not known). Surveillance carries its state between evaluations from there on.
STORED_SINCE = "stored_since"


def after_store(
    session: Session, run_id: int, codes: set[str], since: datetime | None = None
) -> None:
    """Call every after-store hook; ``since``: the earliest time the batch stored or changed
    (read by hooks through :func:`stored_since`; None: not known)."""
    session.info[STORED_SINCE] = since
    try:
        for hook in AFTER_STORE_HOOKS:
            hook(session, run_id, codes)
    finally:
        session.info.pop(STORED_SINCE, None)


def stored_since(session: Session) -> datetime | None:
    """In an after-store hook: the earliest time the batch stored or changed (or None)."""
    since: datetime | None = session.info.get(STORED_SINCE)
    return since


def clean(items: Sequence[ObservationIn], run: Run) -> list[CleanValue]:
    """Convert and range-check every item; raise one error naming every bad field."""
    problems: list[FieldProblem] = []
    out: list[CleanValue] = []
    for i, item in enumerate(items):
        try:
            value = vocabulary.normalise(item.code, item.value, item.unit)
        except ValidationFailed as exc:
            problems += [
                FieldProblem(f"observations[{i}].{p.field}", p.message, p.value)
                for p in exc.problems
            ]
            continue
        if item.time < run.started_at:
            problems.append(
                FieldProblem(
                    f"observations[{i}].time",
                    f"{item.time.isoformat()} is before the run started "
                    f"({run.started_at.isoformat()})",
                    item.time.isoformat(),
                )
            )
            continue
        entered = vocabulary.as_entered(item.code, item.value, item.unit)
        out.append(
            CleanValue(
                item.code,
                item.time,
                value,
                vocabulary.get(item.code).unit,
                item.source,
                *(entered or (None, None)),
            )
        )
    if problems:
        raise ValidationFailed(problems)
    return out + derived_delta_p(out)


def derived_delta_p(values: Iterable[CleanValue]) -> list[CleanValue]:
    """ΔP = p_preoxy − p_postoxy where both were measured at the same time and ΔP was not."""
    codes = (*vocabulary.DELTA_P_FROM, vocabulary.DELTA_P)
    by_time: dict[tuple[datetime, str], dict[str, float]] = {}
    for v in values:
        if v.code in codes:
            by_time.setdefault((v.time, v.source), {})[v.code] = v.value
    unit = vocabulary.CODES[vocabulary.DELTA_P].unit
    derived = []
    for (time, source), got in by_time.items():
        dp = vocabulary.delta_p_of(got)
        if dp is not None:
            derived.append(CleanValue(vocabulary.DELTA_P, time, dp, unit, source))
    return derived


def record_observations(
    session: Session,
    actor: Actor,
    run: Run,
    items: Sequence[ObservationIn],
    ingest_ref: str | None = None,
) -> int:
    """Store a batch atomically (all or nothing); returns the number of rows stored."""
    actor.require(Permission.ENTER_OBSERVATION)
    if run.status == "ended":
        raise Conflict(f"run {run.id} has ended; observations can only be amended")
    values = clean(items, run)
    rows = [
        {
            "run_id": run.id,
            "code": v.code,
            "time": v.time,
            "value": v.value,
            "unit": v.unit,
            "source": v.source,
            "status": "final",
            "entered_by": actor.staff_id,
            "recorded_at": utcnow(),
            "ingest_ref": ingest_ref,
            "entered_value": v.entered_value,
            "entered_unit": v.entered_unit,
        }
        for v in values
    ]
    bulk_insert(session, rows)
    since = min((v.time for v in values), default=None)
    after_store(session, run.id, {v.code for v in values}, since)
    _hand_entered(session, actor, run, [v for v in values if v.source == "manual"])
    audit.record(
        session,
        actor,
        "create",
        "observation",
        None,
        run.patient_id,
        {"run_id": run.id, "count": len(rows), "codes": sorted({v.code for v in values})},
    )
    return len(rows)


BULK_COLUMNS = (
    "run_id",
    "code",
    "time",
    "value",
    "unit",
    "source",
    "status",
    "entered_by",
    "recorded_at",
    "ingest_ref",
    "entered_value",
    "entered_unit",
)
# Device feeds also keep the result status they sent (HL7 OBX-11): their bulk writes name it.
DEVICE_COLUMNS = (*BULK_COLUMNS, "result_status")


def bulk_insert(
    session: Session, rows: list[dict[str, Any]], columns: Sequence[str] = BULK_COLUMNS
) -> None:
    """Insert many observations inside the session's transaction (``columns``: the
    columns written, BULK_COLUMNS or DEVICE_COLUMNS).

    PostgreSQL gets COPY (the fastest path psycopg offers); SQLite gets executemany.
    Either way the rows commit or roll back with the rest of the unit of work.
    """
    if not rows:
        return
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        raw = connection.connection.driver_connection
        names = ", ".join(columns)
        sql = f"COPY observation ({names}) FROM STDIN"
        with driver_errors(sql), raw.cursor() as cur, cur.copy(sql) as copy:
            for row in rows:
                copy.write_row([row.get(c) for c in columns])
        return
    if connection.dialect.name == "sqlite":
        raw = connection.connection.driver_connection
        names = ", ".join(columns)
        marks = ", ".join("?" * len(columns))
        raw.executemany(
            f"INSERT INTO observation ({names}) VALUES ({marks})", sqlite_tuples(rows, columns)
        )
        return
    session.execute(insert(Observation), rows)


def sqlite_tuples(rows: list[dict[str, Any]], columns: Sequence[str]) -> list[tuple[Any, ...]]:
    """Rows as the SQLite driver takes them: times as SQLAlchemy stores them (each
    distinct time formatted once: a message's rows share theirs), dicts and lists as JSON."""
    texts: dict[Any, Any] = {}

    def cell(value: Any) -> Any:
        if value is None or isinstance(value, str | int | float):
            return value
        text = texts.get(value) if isinstance(value, datetime) else None
        if text is None:
            text = _sqlite_value(value)
            if isinstance(value, datetime):
                texts[value] = text
        return text

    return [tuple(cell(row.get(c)) for c in columns) for row in rows]


def _sqlite_value(value: Any) -> Any:
    """The text SQLAlchemy's SQLite DateTime stores: naive UTC with microseconds; JSON
    columns' values as JSON text."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, dict | list):
        return json.dumps(value)
    return value


def amend(session: Session, actor: Actor, observation_id: int, data: AmendmentIn) -> Observation:
    """Correct a value: the original stays (marked superseded), with who changed it and why."""
    actor.require(Permission.AMEND_OBSERVATION)
    original = get_observation(session, observation_id)
    if original.status != "final":
        raise Conflict(f"observation {observation_id} was already amended; amend the newest value")
    value = vocabulary.normalise(original.code, data.value, data.unit)
    entered = vocabulary.as_entered(original.code, data.value, data.unit) or (None, None)
    replacement = Observation(
        run_id=original.run_id,
        code=original.code,
        time=original.time,
        value=value,
        unit=original.unit,
        source="manual",
        status="final",
        entered_by=actor.staff_id,
        amends_id=original.id,
        entered_value=entered[0],
        entered_unit=entered[1],
    )
    session.add(replacement)
    original.status = "superseded"
    session.flush()
    session.add(
        ObservationAmendment(
            original_id=original.id,
            replacement_id=replacement.id,
            reason=data.reason,
            amended_by=actor.staff_id,
        )
    )
    run = session.get_one(Run, original.run_id)
    record_event(
        session,
        actor,
        "observation.amended",
        None,
        texts.amended_text(original.code, original.value, value, original.unit, data.reason),
        ("observation", original.id),
        run,
        details={"from": original.value, "to": value, "replacement_id": replacement.id},
    )
    audit.record(
        session,
        actor,
        "amend",
        "observation",
        original.id,
        run.patient_id,
        {
            "from": original.value,
            "to": value,
            "reason": data.reason,
            "replacement_id": replacement.id,
        },
    )
    follow_delta_p(session, actor, run, original, value)
    _amended(session, run.id, original.code, original.time)
    return replacement


def _amended(session: Session, run_id: int, code: str, at: datetime) -> None:
    """An amended value (and the ΔP that follows a pressure) is judged again from its time:
    the after-store hooks hear of it as of a batch stored at ``at``."""
    codes = {code} | ({vocabulary.DELTA_P} if code in vocabulary.DELTA_P_FROM else set())
    session.flush()
    after_store(session, run_id, codes, at)


def amend_from_device(
    session: Session,
    actor: Actor,
    run: Any,
    code: str,
    at: datetime,
    source: str,
    replacement: dict[str, Any] | None,
    reason: str,
) -> list[Observation]:
    """A device feed corrects (``replacement``: the new row's columns) or withdraws (None)
    its own earlier value of ``code`` at ``at`` in ``run`` (anything with ``id`` and
    ``patient_id``). Never an overwrite: the earlier rows stay, marked ``superseded`` (a
    correction, the new row ``amends_id`` them) or ``entered_in_error`` (a withdrawal, read
    by nothing that judges the patient), each with an amendment row saying why; audited,
    with one clinical event. Only values the same feed (``source``) stored are touched, never
    a value a person entered. Returns the earlier rows (none: nothing written)."""
    originals = list(
        session.scalars(
            select(Observation)
            .where(
                Observation.run_id == run.id,
                Observation.code == code,
                Observation.time == at,
                Observation.status == "final",
                Observation.source == source,
            )
            .order_by(Observation.id)
        )
    )
    if not originals:
        return []
    new = None
    if replacement is not None:
        new = Observation(**{**replacement, "amends_id": originals[-1].id})
        session.add(new)
    for o in originals:
        o.status = "superseded" if new is not None else "entered_in_error"
    session.flush()
    for o in originals:
        session.add(
            ObservationAmendment(
                original_id=o.id,
                replacement_id=new.id if new is not None else None,
                reason=reason,
                amended_by=actor.staff_id,
            )
        )
    unit = vocabulary.CODES[code].unit
    old = originals[-1].value
    if new is not None:
        text = texts.amended_text(code, old, new.value, unit, reason)
        detail = {"from": old, "to": new.value, "replacement_id": new.id, "reason": reason}
    else:
        text = f"{words(code).capitalize()} {old:g} {unit} withdrawn: {reason}"
        detail = {"from": old, "to": None, "replacement_id": None, "reason": reason}
    ids = [o.id for o in originals]
    record_event(
        session,
        actor,
        "observation.amended",
        at,
        text,
        ("observation", ids[-1]),
        run,
        details={**detail, "originals": ids},
    )
    audit.record(session, actor, "amend", "observation", ids[-1], run.patient_id,
                 {**detail, "originals": ids, "code": code})  # fmt: skip
    follow_delta_p(session, actor, run, originals[-1], new.value if new is not None else None)
    return originals


def follow_delta_p(
    session: Session, actor: Actor, run: Any, original: Observation, new_value: float | None
) -> list[Observation]:
    """A ΔP derived from a pressure follows that pressure's correction or withdrawal.

    When ``original`` (a p_preoxy or p_postoxy value, now superseded or withdrawn) had a
    partner pressure at the same time from the same source, and a final ΔP there equals the
    difference of the two as they were, that ΔP was derived from them (a ΔP the device
    measured itself is left alone: it need not equal the difference). It is re-derived from
    the corrected pressure, or withdrawn with it (or when the new difference is implausible),
    through ``amend_from_device``: the earlier ΔP stays, marked, with its reason, audited and
    on the timeline. Returns the ΔP rows that were amended (none: nothing to follow)."""
    code = original.code
    if code not in vocabulary.DELTA_P_FROM:
        return []
    pre_code, post_code = vocabulary.DELTA_P_FROM
    other_code = post_code if code == pre_code else pre_code

    def final(of: str) -> list[Observation]:
        return list(
            session.scalars(
                select(Observation)
                .where(
                    Observation.run_id == original.run_id,
                    Observation.code == of,
                    Observation.time == original.time,
                    Observation.status == "final",
                    Observation.source == original.source,
                )
                .order_by(Observation.id)
            )
        )

    partners, dps = final(other_code), final(vocabulary.DELTA_P)
    if not partners or not dps:
        return []
    other = partners[-1].value
    pre, post = (original.value, other) if code == pre_code else (other, original.value)
    derived = dps[-1]
    if abs(derived.value - (pre - post)) > 1e-6:
        return []  # measured by the device, not derived from these pressures
    new_dp = None
    if new_value is not None:
        new_pre, new_post = (new_value, other) if code == pre_code else (other, new_value)
        new_dp = vocabulary.delta_p(new_pre, new_post)
    words_code = words(code)
    if new_dp is None:
        reason = (
            f"derived from {words_code}, which was withdrawn"
            if new_value is None
            else f"derived from {words_code}, corrected to {new_value:g}: "
            "the new difference is implausible"
        )
        return amend_from_device(
            session, actor, run, vocabulary.DELTA_P, original.time, original.source, None, reason
        )
    replacement = {
        column.key: getattr(derived, column.key)
        for column in Observation.__table__.columns
        if column.key not in ("id", "amends_id")
    }
    replacement.update(
        value=new_dp, status="final", recorded_at=utcnow(), entered_by=actor.staff_id
    )
    reason = f"re-derived from {words_code} corrected to {new_value:g}"
    return amend_from_device(
        session,
        actor,
        run,
        vocabulary.DELTA_P,
        original.time,
        original.source,
        replacement,
        reason,
    )


def _hand_entered(session: Session, actor: Actor, run: Run, values: list[CleanValue]) -> None:
    """One clinical event per batch of values entered by hand (devices and feeds write none)."""
    if not values:
        return
    first = session.scalar(
        select(Observation.id)
        .where(Observation.run_id == run.id, Observation.source == "manual")
        .order_by(Observation.id.desc())
        .limit(1)
    )
    text = texts.entered_text(
        [(v.code, v.value, v.unit) for v in values],
        [(v.entered_value, v.entered_unit) if v.entered_unit and v.entered_value is not None
         else None for v in values],
    )  # fmt: skip
    at = max(v.time for v in values)
    details = {"count": len(values)}
    record_event(
        session,
        actor,
        "observation.entered",
        at,
        text,
        ("observation", first or 0),
        run,
        details=details,
    )


def get_observation(session: Session, observation_id: int) -> Observation:
    obs = session.get(Observation, observation_id)
    if obs is None:
        raise NotFound(f"observation {observation_id} not found")
    return obs


def code_counts(session: Session, run_id: int) -> dict[str, int]:
    """Final values per code of the run, as the triggers of migration 0042 keep them in the
    statement that writes values (``ObservationCount``): not a count of the run's rows."""
    stmt = select(ObservationCount.code, ObservationCount.n).where(
        ObservationCount.run_id == run_id, ObservationCount.n > 0
    )
    return {code: n for code, n in session.execute(stmt)}


def latest(session: Session, run_id: int, code: str) -> Observation | None:
    """The newest final value of ``code``; for a measure with several sources
    (``vocabulary.PREFERRED_SOURCES``: MAP from an arterial line, else from a cuff) the
    newest value of the first source the run has (its ``code`` says which)."""
    for source in vocabulary.PREFERRED_SOURCES.get(code, (code,)):
        found = _latest(session, run_id, source)
        if found is not None:
            return found
    return None


def _latest(session: Session, run_id: int, code: str) -> Observation | None:
    stmt = (
        select(Observation)
        .where(
            Observation.run_id == run_id, Observation.code == code, Observation.status == "final"
        )
        .order_by(Observation.time.desc(), Observation.id.desc())
        .limit(1)
    )
    return session.scalar(stmt)


_PG_NEWEST_ROWS = text(
    "SELECT o.* FROM unnest(CAST(:codes AS text[])) AS c(code), LATERAL ("
    "SELECT * FROM observation n WHERE n.run_id = :run AND n.code = c.code "
    "AND n.status = 'final' ORDER BY n.time DESC, n.id DESC LIMIT 1) o"
)


def latest_per_code(session: Session, run_id: int) -> dict[str, tuple[int, Observation]]:
    """{code: (count, latest observation)} in vocabulary order."""
    counts = code_counts(session, run_id)
    codes = [c for c in vocabulary.CODES if c in counts]
    if not codes:
        return {}
    if session.get_bind().dialect.name == "postgresql":
        # One statement of fixed text: each code's newest row by the (run, code, time)
        # index, as _latest reads it. Building the UNION ALL below (a SELECT per code, ~30
        # a run) cost the run page ~10 ms of CPU on every view (benchmarks/bench_page_cost).
        found = session.scalars(
            select(Observation)
            .options(undefer(Observation.result_status))
            .from_statement(_PG_NEWEST_ROWS)
            .params(run=run_id, codes=codes)
        )
        rows = {o.code: o for o in found}
        return {code: (counts[code], rows[code]) for code in codes if code in rows}
    # One round trip: each code's newest row by the (run, code, time) index, as _latest
    # reads it, the ids gathered with UNION ALL (a query per code cost ~1.5 ms each on the
    # run page, ~30 codes a run; benchmarks/load).
    newest = [
        select(Observation.id)
        .where(
            Observation.run_id == run_id, Observation.code == code, Observation.status == "final"
        )
        .order_by(Observation.time.desc(), Observation.id.desc())
        .limit(1)
        .subquery()
        .select()
        for code in codes
    ]
    ids = union_all(*newest).subquery() if len(newest) > 1 else newest[0].subquery()
    # result_status (deferred) is shown beside each latest value: loaded here, in the same
    # statement, not one SELECT per code when the page reads it.
    found = session.scalars(
        select(Observation)
        .options(undefer(Observation.result_status))
        .where(Observation.id.in_(select(ids.c.id)))
    )
    rows = {o.code: o for o in found}
    return {code: (counts[code], rows[code]) for code in codes if code in rows}


def newest_time(session: Session, run_id: int) -> datetime | None:
    """The time of the run's newest final observation. On PostgreSQL an index seek per
    vocabulary code (every stored code is one: each write resolves it there), where MAX over
    the run's rows reads all of them: 10 ms at 50,000 rows, growing with the run
    (benchmarks/load)."""
    if session.get_bind().dialect.name != "postgresql":
        newest: datetime | None = session.scalar(
            select(func.max(Observation.time)).where(
                Observation.run_id == run_id, Observation.status == "final"
            )
        )
        return newest
    found = session.scalar(
        text(
            "SELECT MAX(m.t) FROM unnest(CAST(:codes AS text[])) AS c(code), LATERAL "
            "(SELECT MAX(o.time) AS t FROM observation o WHERE o.run_id = :run "
            "AND o.code = c.code AND o.status = 'final') m"
        ),
        {"codes": sorted(vocabulary.CODES), "run": run_id},
    )
    if found is None:
        return None
    return found.replace(tzinfo=UTC) if found.tzinfo is None else found.astimezone(UTC)


def series(
    session: Session,
    run_id: int,
    code: str,
    start: datetime | None = None,
    end: datetime | None = None,
) -> list[tuple[datetime, float]]:
    stmt = select(Observation.time, Observation.value).where(
        Observation.run_id == run_id, Observation.code == code, Observation.status == "final"
    )
    if start is not None:
        stmt = stmt.where(Observation.time >= start)
    if end is not None:
        stmt = stmt.where(Observation.time <= end)
    return [(t, v) for t, v in session.execute(stmt.order_by(Observation.time))]


def recent_manual(session: Session, run_id: int, limit: int = 30) -> list[Observation]:
    """Hand-entered and amended values, newest first, superseded ones included."""
    stmt = (
        select(Observation)
        .where(
            Observation.run_id == run_id,
            (Observation.source == "manual")
            | (Observation.status != "final")
            | Observation.amends_id.is_not(None),
        )
        .order_by(Observation.recorded_at.desc(), Observation.id.desc())
        .limit(limit)
    )
    return list(session.scalars(stmt))


def amendments_for(session: Session, ids: list[int]) -> dict[int, ObservationAmendment]:
    if not ids:
        return {}
    stmt = select(ObservationAmendment).where(ObservationAmendment.original_id.in_(ids))
    return {a.original_id: a for a in session.scalars(stmt)}


def series_rows(
    run_id: int,
    code: str,
    times: Any,
    values: Any,
    source: str,
    ingest_ref: str | None = None,
    entered_by: int | None = None,
    entered: tuple[Any, str] | None = None,
) -> list[dict[str, Any]]:
    """Rows for bulk insert from one code's already-validated arrays (NaN = no value).

    ``times`` is a numpy datetime64 array in UTC (or aware datetimes); values in the
    vocabulary unit of ``code``; ``entered``: the values as entered (aligned with
    ``values``, NaN where entered in the stored unit) and the unit they were entered in.
    """
    import numpy as np

    vals = np.asarray(values, dtype=float)
    keep = ~np.isnan(vals)
    typed: list[float | None] = [None] * int(keep.sum())
    if entered is not None:
        typed = [None if math.isnan(x) else x
                 for x in np.asarray(entered[0], dtype=float)[keep].tolist()]  # fmt: skip
    stamps = np.asarray(times)[keep]
    if stamps.dtype.kind == "M":
        stamps = stamps.astype("datetime64[us]").astype(object)
        stamps = [t.replace(tzinfo=UTC) for t in stamps]
    unit = vocabulary.get(code).unit
    now = utcnow()
    return [
        {
            "run_id": run_id,
            "code": code,
            "time": t,
            "value": float(v),
            "unit": unit,
            "source": source,
            "status": "final",
            "entered_by": entered_by,
            "recorded_at": now,
            "ingest_ref": ingest_ref,
            "entered_value": e,
            "entered_unit": None if e is None or entered is None else entered[1],
        }
        for t, v, e in zip(stamps, vals[keep].tolist(), typed, strict=True)
    ]
