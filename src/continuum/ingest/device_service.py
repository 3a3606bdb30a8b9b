"""Store device messages (HL7, MQTT, FHIR): map, validate, resolve the run, store once.

``store_messages`` handles a batch inside the caller's transaction and returns one
``Outcome`` per message; the caller commits and only then acknowledges (docs/contracts.md §2b).
A bad value (not a number, out of range, impossible time) refuses the whole message (AE).
What is left out is named as a warning (ERR severity W) while the rest is stored (AA): an
unmapped identifier, a unit that cannot be converted, a value the sender says is no
result (status X) or a bound (SN ``<5``), a withdrawal of nothing. A correction (result
status C) or withdrawal (W, D) amends the feed's earlier value of the same code and time
(``observation_service.amend_from_device``). A message id already committed is AA again,
storing nothing.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from continuum import vocabulary
from continuum.core import audit, observation_service
from continuum.core.people import PatientIdentity
from continuum.core.record import Observation
from continuum.core.roles import Actor, Permission
from continuum.core.run_record import Run
from continuum.db import utcnow
from continuum.errors import ValidationFailed
from continuum.ingest import mapping, pg_writes
from continuum.ingest.device_message import WITHDRAWING, DeviceMessage, DeviceValue
from continuum.ingest.models import CodeMapping, ConsoleAssignment, IngestMessage, UnitAlias

FUTURE_TOLERANCE = timedelta(minutes=5)


@dataclass
class Outcome:
    message_id: str
    ack: str  # AA | AE | AR
    stored: int = 0
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    duplicate: bool = False
    runs: dict[RunInfo, set[str]] = field(default_factory=dict)
    # not stored, nothing logged: a correction or withdrawal whose original is not stored
    # yet, held for later (``store_messages(hold_unmatched=True)``: the broker's workers)
    held: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "message_id": self.message_id,
            "ack": self.ack,
            "stored": self.stored,
            "errors": self.errors,
            "warnings": self.warnings,
            "duplicate": self.duplicate,
        }


class RunInfo(NamedTuple):
    id: int
    patient_id: int
    started_at: datetime


@dataclass
class Context:
    """What a batch needs from the database, read once per batch."""

    table: dict[tuple[str, str], str]
    consoles: dict[str, RunInfo]
    patients: dict[str, RunInfo | None]  # mrn → active run (None: known, no active run)
    committed: set[str]
    now: datetime
    units: dict[str, str] = field(default_factory=dict)  # the site's unit aliases


@dataclass
class ReferenceCache:
    """Mappings, console assignments and patients' active runs, re-read after ``ttl``
    seconds, so a busy listener does not re-read them for every message."""

    ttl: float = 2.0
    _at: float = -1e9
    table: dict[tuple[str, str], str] = field(default_factory=dict)
    consoles: dict[str, RunInfo] = field(default_factory=dict)
    known: dict[str, RunInfo | None] = field(default_factory=dict)
    units: dict[str, str] = field(default_factory=dict)

    def refresh(self, session: Session) -> None:
        if time.monotonic() - self._at > self.ttl:
            self.table = mapping_table(session)
            self.units = unit_aliases(session)
            self.consoles = assigned_consoles(session)
            self.known = {}
            self._at = time.monotonic()

    def patients(self, session: Session, mrns: set[str]) -> dict[str, RunInfo | None]:
        missing = {m for m in mrns if m not in self.known}
        if missing:
            found = active_runs(session, missing)
            self.known.update(found)
        return {m: self.known[m] for m in mrns if m in self.known}


def mapping_table(session: Session) -> dict[tuple[str, str], str]:
    """Defaults overlaid by the site's table (an inactive row switches a default off)."""
    table = dict(mapping.DEFAULT_MAPPINGS)
    for row in session.scalars(select(CodeMapping)):
        key = (row.system, row.identifier)
        if row.active:
            table[key] = row.code
        else:
            table.pop(key, None)
    return table


def unit_aliases(session: Session) -> dict[str, str]:
    """The site's unit aliases in force: spelling (lower-cased) → vocabulary unit."""
    stmt = select(UnitAlias.spelling, UnitAlias.unit).where(UnitAlias.active.is_(True))
    return {spelling: unit for spelling, unit in session.execute(stmt)}


def _info(run: Run) -> RunInfo:
    return RunInfo(run.id, run.patient_id, run.started_at)


def assigned_consoles(session: Session) -> dict[str, RunInfo]:
    stmt = (
        select(ConsoleAssignment.console_id, Run)
        .join(Run, Run.id == ConsoleAssignment.run_id)
        .where(ConsoleAssignment.unassigned_at.is_(None), Run.status != "ended")
    )
    return {console: _info(run) for console, run in session.execute(stmt)}


def active_runs(session: Session, mrns: set[str]) -> dict[str, RunInfo | None]:
    if not mrns:
        return {}
    found: dict[str, RunInfo | None] = {}
    stmt = (
        select(PatientIdentity.mrn, Run)
        .outerjoin(Run, (Run.patient_id == PatientIdentity.patient_id) & (Run.status != "ended"))
        .where(PatientIdentity.mrn.in_(mrns))
        .order_by(Run.started_at)
    )
    for mrn, run in session.execute(stmt):
        found[mrn] = _info(run) if run is not None else found.get(mrn)
    return found


def committed_ids(session: Session, channel: str, ids: set[str]) -> set[str]:
    if not ids:
        return set()
    stmt = select(IngestMessage.accepted_key).where(
        IngestMessage.channel == channel, IngestMessage.accepted_key.in_(ids)
    )
    return {k for k in session.scalars(stmt) if k}


def load_context(
    session: Session,
    messages: list[DeviceMessage],
    cache: ReferenceCache | None = None,
    check_duplicates: bool = True,
) -> Context:
    cache = cache or ReferenceCache()
    cache.refresh(session)
    channel = messages[0].channel if messages else "hl7"
    ids = {m.message_id for m in messages}
    return Context(
        table=cache.table,
        consoles=cache.consoles,
        patients=cache.patients(session, {m.mrn for m in messages if m.mrn}),
        committed=committed_ids(session, channel, ids) if check_duplicates else set(),
        now=utcnow(),
        units=cache.units,
    )


def store_messages(
    session: Session,
    actor: Actor,
    messages: list[DeviceMessage],
    cache: ReferenceCache | None = None,
    check_duplicates: bool = True,
    hold_unmatched: bool = False,
) -> list[Outcome]:
    """Plan, store and log a batch (one channel); flushes, never commits.

    ``hold_unmatched``: a correction or withdrawal that finds no earlier value of its feed
    raises :class:`AmendmentUnmatched` (naming its messages) instead of being stored as a
    new value or ignored; the caller rolls back and holds those messages until their
    original arrives (several broker workers may take a feed's messages out of order).

    ``check_duplicates=False`` skips the look-up of already committed ids: the unique
    constraint on the log still refuses a duplicate (IntegrityError), and the caller then
    retries each message with the look-up (the listener's fast path). On PostgreSQL the
    batch's writes are one statement; when ``session.info`` holds
    ``observation_service.STATEMENT_PARTS`` the after-store hooks run first and their
    writes join that statement (on an autocommit connection it then commits by itself)."""
    actor.require(Permission.INGEST_DATA)
    ctx = load_context(session, messages, cache, check_duplicates)
    outcomes: list[Outcome] = []
    rows: list[dict[str, Any]] = []
    amendments: list[tuple[DeviceMessage, Outcome, dict[str, Any]]] = []
    for msg in messages:
        outcome, planned = plan_message(msg, ctx)
        if outcome.ack == "AA" and not outcome.duplicate:
            ctx.committed.add(msg.message_id)
            for row in planned:
                if "_action" in row:
                    amendments.append((msg, outcome, row))
                else:
                    rows.append(row)
        outcomes.append(outcome)
    since = _since(rows, amendments)
    parts = session.info.get(observation_service.STATEMENT_PARTS)
    if amendments:  # rare: an ordinary unit of work, the earlier values read and marked
        if parts is not None:
            raise AmendmentsNeedATransaction(
                "corrections and withdrawals cannot be written as one autocommit statement"
            )
        observation_service.bulk_insert(session, rows, observation_service.DEVICE_COLUMNS)
        _amend(session, actor, amendments, hold_unmatched)
    log = [log_row(msg, outcome) for msg, outcome in zip(messages, outcomes, strict=True)]
    per_run = _per_run(outcomes)
    channel = messages[0].channel if messages else ""
    audits = [
        audit.entry(actor, "ingest", "observation", None, run.patient_id, detail)
        for run, (codes, ids) in per_run.items()
        for detail in [_audit_detail(channel, run, codes, ids)]
    ]
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":  # straight to the driver: no ORM flush per message
        _sqlite_insert(session, "ingest_message", pg_writes.LOG_COLUMNS, log)
        if not amendments:
            observation_service.bulk_insert(session, rows, observation_service.DEVICE_COLUMNS)
        audit_rows = [{c: getattr(a, c) for c in pg_writes.AUDIT_COLUMNS} for a in audits]
        _sqlite_insert(session, "audit_log", pg_writes.AUDIT_COLUMNS, audit_rows)
        _after_store(session, per_run, since)
    elif amendments or dialect != "postgresql":
        session.execute(insert(IngestMessage), log)
        if not amendments:
            observation_service.bulk_insert(session, rows, observation_service.DEVICE_COLUMNS)
        session.add_all(audits)
        _after_store(session, per_run, since)
    elif parts is None:
        pg_writes.store(session, log, rows, audits)  # one statement for the batch
        _after_store(session, per_run, since)
    else:
        del parts[:]
        _after_store(session, per_run, since)  # the hooks hand their writes to the statement
        pg_writes.store(session, log, rows, audits, parts)
    return outcomes


def _sqlite_insert(
    session: Session, table: str, columns: tuple[str, ...], rows: list[dict[str, Any]]
) -> None:
    if rows:
        raw = session.connection().connection.driver_connection
        sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
        raw.executemany(sql, observation_service.sqlite_tuples(rows, columns))


class AmendmentsNeedATransaction(RuntimeError):
    """A batch with corrections or withdrawals reached the single-statement path."""


class AmendmentUnmatched(RuntimeError):
    """Corrections or withdrawals found no earlier value to amend (``hold_unmatched``):
    the batch must be rolled back; ``message_ids`` are the messages to hold."""

    def __init__(self, message_ids: list[str]) -> None:
        super().__init__(f"{len(message_ids)} message(s) amend values not stored yet")
        self.message_ids = message_ids


def _amend(
    session: Session,
    actor: Actor,
    amendments: list[tuple[DeviceMessage, Outcome, dict[str, Any]]],
    hold_unmatched: bool = False,
) -> None:
    """Apply each correction (C) and withdrawal (W, D) in message order, after the batch's
    plain rows are written (so a value sent earlier in the same batch can be amended)."""
    if hold_unmatched:
        unmatched = [
            msg.message_id
            for msg, _, row in amendments
            if not _has_original(session, row, msg.channel)
        ]
        if unmatched:
            raise AmendmentUnmatched(list(dict.fromkeys(unmatched)))
    for msg, outcome, row in amendments:
        run, where, status = row.pop("_run"), row.pop("_where"), row.pop("_status")
        action = row.pop("_action")
        code, at = row["code"], row["time"]
        said = f"result status {status} in {msg.channel} message {msg.message_id}, {where}"
        if action == "withdraw":
            done = observation_service.amend_from_device(
                session, actor, run, code, at, msg.channel, None, f"withdrawn ({said})"
            )
            if not done:
                outcome.warnings.append(
                    f"{where}: withdrawal (OBX-11 {status}) of {code} at {at.isoformat()}: "
                    "no earlier value from this feed, nothing stored"
                )
            continue
        done = observation_service.amend_from_device(
            session, actor, run, code, at, msg.channel, row, f"corrected ({said})"
        )
        if not done:
            observation_service.bulk_insert(session, [row], observation_service.DEVICE_COLUMNS)
            outcome.warnings.append(
                f"{where}: correction (OBX-11 C) of {code} at {at.isoformat()}: no earlier "
                "value from this feed, stored as a new value"
            )
        outcome.stored += 1


def _has_original(session: Session, row: dict[str, Any], source: str) -> bool:
    """Whether the feed's value that ``row`` corrects or withdraws is stored (and final)."""
    stmt = (
        select(Observation.id)
        .where(
            Observation.run_id == row["_run"].id,
            Observation.code == row["code"],
            Observation.time == row["time"],
            Observation.status == "final",
            Observation.source == source,
        )
        .limit(1)
    )
    return session.scalar(stmt) is not None


def _since(
    rows: list[dict[str, Any]], amendments: list[tuple[DeviceMessage, Outcome, dict[str, Any]]]
) -> dict[int, datetime]:
    """Per run, the earliest time the batch stores, corrects or withdraws."""
    out: dict[int, datetime] = {}
    for run_id, at in [
        *((r["run_id"], r["time"]) for r in rows),
        *((a[2]["_run"].id, a[2]["time"]) for a in amendments),
    ]:
        if run_id not in out or at < out[run_id]:
            out[run_id] = at
    return out


def _after_store(
    session: Session,
    per_run: dict[RunInfo, tuple[set[str], list[str]]],
    since: dict[int, datetime],
) -> None:
    for run, (codes, _) in sorted(per_run.items(), key=lambda item: item[0].id):
        # run order: no deadlock
        observation_service.after_store(session, run.id, codes, since.get(run.id))


def _audit_detail(channel: str, run: RunInfo, codes: set[str], ids: list[str]) -> dict[str, Any]:
    return {
        "channel": channel,
        "run_id": run.id,
        "messages": ids[:50],
        "message_count": len(ids),
        "codes": sorted(codes),
    }


def _per_run(outcomes: list[Outcome]) -> dict[RunInfo, tuple[set[str], list[str]]]:
    """Each run the batch stored into: its codes and the message ids."""
    per_run: dict[RunInfo, tuple[set[str], list[str]]] = {}
    for outcome in outcomes:
        for run, codes in outcome.runs.items():
            got = per_run.setdefault(run, (set(), []))
            got[0].update(codes)
            got[1].append(outcome.message_id)
    return per_run


def log_row(msg: DeviceMessage, outcome: Outcome) -> dict[str, Any]:
    accepted = outcome.ack == "AA" and not outcome.duplicate
    return {
        "channel": msg.channel,
        "message_id": msg.message_id[:128],
        "accepted_key": msg.message_id[:128] if accepted else None,
        "received_at": msg.received_at,
        "processed_at": utcnow(),
        "ack_code": outcome.ack,
        "stored": outcome.stored,
        "run_id": next((r.id for r in outcome.runs), None),
        "peer": (msg.peer or "")[:64] or None,
        "detail": {
            "errors": outcome.errors[:50],
            "warnings": outcome.warnings[:50],
            "duplicate": outcome.duplicate,
        },
    }


def plan_message(msg: DeviceMessage, ctx: Context) -> tuple[Outcome, list[dict[str, Any]]]:
    """The rows a message would store, or why it is refused. Touches no database."""
    outcome = Outcome(msg.message_id, "AA", warnings=list(msg.left_out))
    if msg.refusal:
        return Outcome(msg.message_id, msg.refusal, errors=list(msg.problems)), []
    if msg.message_id in ctx.committed:
        outcome.duplicate = True
        outcome.warnings.append("already received and stored: nothing stored again")
        return outcome, []
    rows: list[dict[str, Any]] = []
    amendments: list[dict[str, Any]] = []
    outcome.errors += msg.problems
    for value in msg.values:
        row = _plan_value(msg, value, ctx, outcome)
        if row is not None:
            (amendments if "_action" in row else rows).append(row)
    rows += _derived(rows)
    if outcome.errors or not (rows or amendments):
        outcome.ack = "AE"
        if not outcome.errors:
            outcome.errors.append("nothing in the message could be stored")
        outcome.runs = {}
        return outcome, []
    outcome.stored = len(rows)
    for row in rows:
        outcome.runs.setdefault(row.pop("_run"), set()).add(row["code"])
    for row in amendments:  # they keep their run: the amendment's event and audit name it
        outcome.runs.setdefault(row["_run"], set()).add(row["code"])
    return outcome, rows + amendments


def _plan_value(
    msg: DeviceMessage, value: DeviceValue, ctx: Context, outcome: Outcome
) -> dict[str, Any] | None:
    """The row a value would store (an amendment carries ``_action``), or None with the
    reason added to the outcome."""
    code = mapping.lookup(ctx.table, value.system, *value.identifiers)
    if code is None and value.alternate is not None:
        code = mapping.lookup(ctx.table, value.alternate[0], *value.alternate[1])
    if code is None:
        shown = " / ".join(i for i in value.identifiers if i)
        also = ""
        if value.alternate is not None:
            alt = " / ".join(i for i in value.alternate[1] if i)
            also = f", alternate {alt} ({value.alternate[0]})"
        outcome.warnings.append(
            f"{value.where}: {shown} ({value.system}){also} has no mapping: not stored"
        )
        return None
    if value.skip:
        outcome.warnings.append(value.skip)
        return None
    if value.problem:
        outcome.errors.append(value.problem)
        return None
    run = _run_for(msg, value, ctx, outcome)
    if run is None:
        return None
    if not _time_ok(value, run, ctx, outcome):
        return None
    at: datetime = value.time  # type: ignore[assignment]  # _time_ok: not None
    if value.status in WITHDRAWING:
        return {"_run": run, "_action": "withdraw", "_where": value.where,
                "_status": value.status, "code": code, "time": at}  # fmt: skip
    unit = value.unit
    if ctx.units and unit:
        unit = ctx.units.get(unit.strip().lower(), unit)
    try:
        number = vocabulary.normalise(code, value.value, unit or None)
    except vocabulary.UnitNotConvertible as exc:
        outcome.warnings.append(f"{value.where}: {exc.problems[0].message}: not stored")
        return None
    except ValidationFailed as exc:
        outcome.errors.append(f"{value.where}: {exc.problems[0].message}")
        return None
    row = _row(msg, run, code, at, number, value.status or None)
    entered = vocabulary.as_entered(code, value.value, unit or None)
    if entered is not None:  # only then: a row without the keys stores null (pg_writes)
        row["entered_value"], row["entered_unit"] = entered
    if value.status == "C":
        row.update(_action="correct", _where=value.where, _status="C")
    return row


def _run_for(
    msg: DeviceMessage, value: DeviceValue, ctx: Context, outcome: Outcome
) -> RunInfo | None:
    for console in value.consoles:
        if console in ctx.consoles:
            return ctx.consoles[console]
    if not msg.mrn:
        _once(outcome, "no patient identifier (PID-3 / mrn) and no console assigned to a run")
        return None
    if msg.mrn not in ctx.patients:
        _once(outcome, "no patient with the MRN given in PID-3 / mrn")
        return None
    run = ctx.patients[msg.mrn]
    if run is None:
        _once(outcome, "the patient has no active ECMO run")
    return run


def _once(outcome: Outcome, reason: str) -> None:
    if reason not in outcome.errors:
        outcome.errors.append(reason)


def _time_ok(value: DeviceValue, run: RunInfo, ctx: Context, outcome: Outcome) -> bool:
    t = value.time
    if t is None:
        outcome.errors.append(f"{value.where}: no observation time")
    elif t > ctx.now + FUTURE_TOLERANCE:
        outcome.errors.append(f"{value.where}: time {t.isoformat()} is in the future")
    elif t < run.started_at:
        outcome.errors.append(
            f"{value.where}: time {t.isoformat()} is before the run started "
            f"({run.started_at.isoformat()})"
        )
    else:
        return True
    return False


def _row(
    msg: DeviceMessage,
    run: RunInfo,
    code: str,
    at: datetime,
    value: float,
    result_status: str | None = None,
) -> dict[str, Any]:
    return {
        "_run": run,
        "run_id": run.id,
        "code": code,
        "time": at,
        "value": value,
        "unit": vocabulary.CODES[code].unit,
        "source": msg.channel,
        "status": "final",
        "entered_by": None,
        "recorded_at": msg.received_at,
        "ingest_ref": f"{msg.channel}:{msg.message_id}"[:128],
        "result_status": result_status,
    }


def _derived(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """ΔP where p_preoxy and p_postoxy share a run and time and ΔP was not sent."""
    by_key: dict[tuple[int, datetime], dict[str, dict[str, Any]]] = defaultdict(dict)
    for row in rows:
        by_key[(row["run_id"], row["time"])][row["code"]] = row
    out = []
    pre_code, post_code = vocabulary.DELTA_P_FROM
    unit = vocabulary.CODES[vocabulary.DELTA_P].unit
    for got in by_key.values():
        pre, post = got.get(pre_code), got.get(post_code)
        if pre and post and vocabulary.DELTA_P not in got:
            dp = vocabulary.delta_p(pre["value"], post["value"])
            if dp is not None:
                out.append({**pre, "code": vocabulary.DELTA_P, "value": dp, "unit": unit,
                            "entered_value": None, "entered_unit": None})  # fmt: skip
    return out
