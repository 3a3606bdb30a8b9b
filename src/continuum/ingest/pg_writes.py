"""PostgreSQL: a device batch's rows written in one round trip.

The message log rows, the observations (one ``INSERT … SELECT FROM json_populate_recordset``
with the rows as one JSON text: the standard library encodes it far faster than psycopg
adapts ten Python lists, and it is one statement, so the observation reference trigger runs
once) and the audit rows go out in psycopg's pipeline mode and are answered together; the
caller's transaction then commits.
A lock-step sender waits for every round trip, so this is what an ACK costs.
Errors come back as SQLAlchemy's exceptions (IntegrityError for a resent control id that
another process committed meanwhile, OperationalError when the server is gone), as the
ORM path would raise them.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import psycopg
from psycopg.types.json import Json
from sqlalchemy.orm import Session

from continuum.core.observation_service import BULK_COLUMNS
from continuum.core.record import AuditEntry
from continuum.db import driver_errors

LOG_COLUMNS = (
    "channel", "message_id", "accepted_key", "received_at", "processed_at", "ack_code",
    "stored", "run_id", "peer", "detail",
)  # fmt: skip
AUDIT_COLUMNS = (
    "at", "actor_id", "actor", "action", "entity", "entity_id", "patient_id", "detail", "client",
)  # fmt: skip

INSERT_LOG = (
    f"INSERT INTO ingest_message ({', '.join(LOG_COLUMNS)}) "
    f"VALUES ({', '.join(['%s'] * len(LOG_COLUMNS))})"
)
INSERT_AUDIT = (
    f"INSERT INTO audit_log ({', '.join(AUDIT_COLUMNS)}) "
    f"VALUES ({', '.join(['%s'] * len(AUDIT_COLUMNS))})"
)
INSERT_OBSERVATIONS = (
    f"INSERT INTO observation ({', '.join(BULK_COLUMNS)}) SELECT {', '.join(BULK_COLUMNS)} "
    "FROM json_populate_recordset(NULL::observation, %s::json)"
)


def store(
    session: Session,
    log: list[dict[str, Any]],
    rows: list[dict[str, Any]],
    audits: list[AuditEntry],
) -> None:
    """Write the batch inside the session's transaction (flushes nothing of the ORM's)."""
    raw: psycopg.Connection[Any] = session.connection().connection.driver_connection  # type: ignore[assignment]
    what = "device batch: ingest_message, observation, audit_log"
    with driver_errors(what), raw.pipeline(), raw.cursor() as cur:
        if log:
            cur.executemany(INSERT_LOG, [_log_params(r) for r in log])
        if rows:
            cur.execute(INSERT_OBSERVATIONS, (_observations_json(rows),))
        if audits:
            cur.executemany(INSERT_AUDIT, [_audit_params(a) for a in audits])


def _observations_json(rows: list[dict[str, Any]]) -> str:
    return json.dumps(
        [{c: _json_value(r[c]) for c in BULK_COLUMNS} for r in rows], separators=(",", ":")
    )


def _json_value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def _log_params(row: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(Json(row[c]) if c == "detail" else row.get(c) for c in LOG_COLUMNS)


def _audit_params(entry: AuditEntry) -> tuple[Any, ...]:
    return tuple(
        Json(getattr(entry, c)) if c == "detail" else getattr(entry, c) for c in AUDIT_COLUMNS
    )
