"""PostgreSQL: a device batch's rows written in one round trip.

The message log rows, the observations and the audit rows go out as ONE statement (three
``INSERT … SELECT FROM json_populate_recordset`` as data-modifying WITH queries), each
table's rows as one JSON text: the standard library encodes it far faster than psycopg
adapts Python values one by one, and the observation reference trigger runs once for the
batch. Writes that after-store hooks contribute (e.g. the surveillance due mark) join the
same statement. The caller's transaction then commits — or, on the MLLP listener's
autocommit connection, the statement is the transaction: one round trip per batch.
A lock-step sender waits for every round trip, so this is what an ACK costs.
Errors come back as SQLAlchemy's exceptions (IntegrityError for a resent control id that
another process committed meanwhile, OperationalError when the server is gone), as the
ORM path would raise them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import psycopg
from sqlalchemy.orm import Session

from continuum.core.observation_service import DEVICE_COLUMNS, StatementPart
from continuum.core.record import AuditEntry
from continuum.db import driver_errors

LOG_COLUMNS = (
    "channel", "message_id", "accepted_key", "received_at", "processed_at", "ack_code",
    "stored", "run_id", "peer", "detail",
)  # fmt: skip
AUDIT_COLUMNS = (
    "at", "actor_id", "actor", "action", "entity", "entity_id", "patient_id", "detail", "client",
)  # fmt: skip


def _insert(table: str, columns: tuple[str, ...], param: str) -> str:
    names = ", ".join(columns)
    return (
        f"INSERT INTO {table} ({names}) SELECT {names} "
        f"FROM json_populate_recordset(NULL::{table}, %({param})s::json)"
    )


def statement(observations: bool, audits: bool, parts: tuple[str, ...] = ()) -> str:
    """One statement for the batch: the inserts as data-modifying WITH queries (each runs
    exactly once; the observation reference trigger once for all rows), then the parts
    that after-store hooks contributed (``observation_service.contribute``)."""
    queries = [("log", _insert("ingest_message", LOG_COLUMNS, "log"))]
    if observations:
        queries.append(("obs", _insert("observation", DEVICE_COLUMNS, "obs")))
    if audits:
        queries.append(("audit", _insert("audit_log", AUDIT_COLUMNS, "audit")))
    queries += [(f"part{i}", sql.format(p=f"part{i}_")) for i, sql in enumerate(parts)]
    return "WITH " + ", ".join(f"{name} AS ({sql})" for name, sql in queries) + " SELECT 1"


_STATEMENTS: dict[tuple[bool, bool, tuple[str, ...]], str] = {}


def store(
    session: Session,
    log: list[dict[str, Any]],
    rows: list[dict[str, Any]],
    audits: list[AuditEntry],
    parts: Sequence[StatementPart] = (),
) -> None:
    """Write the batch on the session's connection (flushes nothing of the ORM's): inside
    its transaction, or, on a connection in autocommit mode, as a transaction of its own —
    one round trip and one WAL flush, the least a durable batch can cost."""
    if not (log or rows or audits or parts):
        return
    raw: psycopg.Connection[Any] = session.connection().connection.driver_connection  # type: ignore[assignment]
    key = (bool(rows), bool(audits), tuple(sql for sql, _ in parts))
    sql = _STATEMENTS.get(key)
    if sql is None:
        sql = _STATEMENTS[key] = statement(*key)
    params = {
        "log": _json(log, LOG_COLUMNS),
        "obs": _json(rows, DEVICE_COLUMNS),
        "audit": _json([{c: getattr(a, c) for c in AUDIT_COLUMNS} for a in audits], AUDIT_COLUMNS),
    }
    for i, (_, values) in enumerate(parts):
        params.update({f"part{i}_{name}": value for name, value in values.items()})
    with driver_errors(sql), raw.cursor() as cur:
        cur.execute(sql, params)


def _json(rows: list[dict[str, Any]], columns: tuple[str, ...]) -> str:
    """Rows as a JSON array of objects (times in ISO 8601 with their offset)."""
    stamps: dict[datetime, str] = {}  # a message's rows share their times: format each once

    def value(v: Any) -> Any:
        if isinstance(v, datetime):
            text = stamps.get(v)
            if text is None:
                text = stamps[v] = v.isoformat()
            return text
        return v

    # A key left out reads as null (json_populate_recordset): rows say nothing of the
    # columns they have no value for (most device values carry no entered unit).
    return json.dumps(
        [{c: value(v) for c in columns if (v := r.get(c)) is not None} for r in rows],
        separators=(",", ":"),
    )
