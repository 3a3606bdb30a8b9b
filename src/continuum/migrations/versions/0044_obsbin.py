"""obsbin: 10-minute sums of final values per run and code, kept by triggers for the board

``observation_bin``: per run, code and 10-minute bin (``bin_start``: PostgreSQL's
``date_bin(interval '10 minutes', time, '2000-01-01 UTC')``, the bins the rounds board's
trends have always used) the number ``n`` and the sum ``total`` of its final values, kept in
the statement that writes observations, as ``observation_count`` is (migration 0042): an
insert adds, a status changed from or to final (an amendment, a feed's withdrawal) takes
away or adds, a delete takes away; a final value whose time or value an UPDATE changes
moves. The board's 24 h means then read about 144 rows per run and code instead of every
value (a device feed stores 20 a second per signal; ``rounds/trends.py``).

PostgreSQL: one statement-level trigger per event over its transition tables, the upsert
in key order (run, code, bin: concurrent writers of one run wait for each other's row
instead of deadlocking). They fire after the count's (PostgreSQL fires a table's triggers
in the order of their names: ``observation_count_*`` before
``observation_ten_minute_bin_*``), so a statement takes its count rows (run, code) before
any bin row: only the transaction holding a run and code's count row can hold its bins,
and a bin adds no wait the count row did not. Taken the other way, a console file
imported in several statements beside the same run's live feed deadlocked (the feed held
the current bin while waiting for the count row the file held; the file's next statement
wanted that bin). An UPDATE counts only the rows whose run, code, time, value or finality
it changed: other updates take no bin row and leave the sums as they were. SQLite: row triggers; it stores times as UTC text
(``YYYY-MM-DD HH:MM:SS.ffffff``), whose bin is its first 15 characters and ``0:00``
(10-minute bins from 2000-01-01 00:00 are the clock's tens of minutes). The SQLite board
reads its 20-minute marks as before; the table is kept there so both databases hold the
same thing. A bin whose values were all taken away stays with ``n`` 0.

Filled here from the rows already stored.

Revision ID: 0044_obsbin
Revises: 0043_obsorder
Create Date: 2026-12-04 21:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import continuum.db

revision: str = "0044_obsbin"
down_revision: str | None = "0043_obsorder"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PG_BIN = "date_bin(interval '10 minutes', {t}, timestamptz '2000-01-01 00:00:00+00')"
SQLITE_BIN = "substr({t}, 1, 10) || ' ' || substr({t}, 12, 4) || '0:00.000000'"

_UPSERT = (
    "INSERT INTO observation_bin AS b (run_id, code, bin_start, n, total)\n"
    "      {select}\n"
    "      ON CONFLICT (run_id, code, bin_start)\n"
    "      DO UPDATE SET n = b.n + EXCLUDED.n, total = b.total + EXCLUDED.total;"
)
_BIN_NEW = PG_BIN.format(t="time")
# A row of an UPDATE counts again only if it changed what it contributes: joined by id.
_SAME = (
    "o.id = w.id AND o.status = 'final' AND w.status = 'final' AND o.run_id = w.run_id "
    "AND o.code = w.code AND o.time = w.time AND o.value = w.value"
)
_ON_INSERT = _UPSERT.format(
    select=f"SELECT run_id, code, {_BIN_NEW}, count(*), sum(value) FROM new_rows "
    "WHERE status = 'final' GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"
)
_ON_UPDATE = _UPSERT.format(
    select=f"SELECT run_id, code, {_BIN_NEW}, sum(d), sum(v) FROM ("
    "SELECT w.run_id, w.code, w.time, 1 AS d, w.value AS v FROM new_rows w "
    f"WHERE w.status = 'final' AND NOT EXISTS (SELECT FROM old_rows o WHERE {_SAME}) "
    "UNION ALL SELECT o.run_id, o.code, o.time, -1, -o.value FROM old_rows o "
    f"WHERE o.status = 'final' AND NOT EXISTS (SELECT FROM new_rows w WHERE {_SAME})) x "
    "GROUP BY 1, 2, 3 HAVING sum(d) <> 0 OR sum(v) <> 0 ORDER BY 1, 2, 3"
)
_ON_DELETE = _UPSERT.format(
    select=f"SELECT run_id, code, {_BIN_NEW}, -count(*), -sum(value) FROM old_rows "
    "WHERE status = 'final' GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"
)
PG_FUNCTION = f"""
CREATE FUNCTION observation_bin_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    {_ON_INSERT}
  ELSIF TG_OP = 'UPDATE' THEN
    {_ON_UPDATE}
  ELSE
    {_ON_DELETE}
  END IF;
  RETURN NULL;
END $$
"""
PG_TRIGGERS = (
    ("insert", "INSERT", "NEW TABLE AS new_rows"),
    ("update", "UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
    ("delete", "DELETE", "OLD TABLE AS old_rows"),
)


def _sqlite_add(row: str, sign: str) -> str:
    return (
        "INSERT INTO observation_bin (run_id, code, bin_start, n, total) "
        f"SELECT {row}.run_id, {row}.code, {SQLITE_BIN.format(t=f'{row}.time')}, {sign}1, "
        f"{sign}{row}.value WHERE {row}.status = 'final' "
        "ON CONFLICT (run_id, code, bin_start) "
        "DO UPDATE SET n = n + excluded.n, total = total + excluded.total;"
    )


_SQLITE_CHANGED = (
    "OLD.status IS NOT NEW.status OR OLD.run_id IS NOT NEW.run_id OR OLD.code IS NOT NEW.code "
    "OR OLD.time IS NOT NEW.time OR OLD.value IS NOT NEW.value"
)
SQLITE_TRIGGERS = {
    "observation_ten_minute_bin_insert": f"AFTER INSERT ON observation BEGIN {_sqlite_add('NEW', '+')} END",
    "observation_ten_minute_bin_update": (
        f"AFTER UPDATE ON observation WHEN {_SQLITE_CHANGED} "
        f"BEGIN {_sqlite_add('OLD', '-')} {_sqlite_add('NEW', '+')} END"
    ),
    "observation_ten_minute_bin_delete": f"AFTER DELETE ON observation BEGIN {_sqlite_add('OLD', '-')} END",
}


def upgrade() -> None:
    op.create_table(
        "observation_bin",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("bin_start", continuum.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("total", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("run_id", "code", "bin_start", name=op.f("pk_observation_bin")),
    )
    postgres = op.get_bind().dialect.name == "postgresql"
    bin_ = (PG_BIN if postgres else SQLITE_BIN).format(t="time")
    op.execute(
        "INSERT INTO observation_bin (run_id, code, bin_start, n, total) "
        f"SELECT run_id, code, {bin_}, count(*), sum(value) FROM observation "
        "WHERE status = 'final' GROUP BY 1, 2, 3"
    )
    if postgres:
        op.execute(PG_FUNCTION)
        for name, event, tables in PG_TRIGGERS:
            op.execute(
                f"CREATE TRIGGER observation_ten_minute_bin_{name} AFTER {event} ON observation "
                f"REFERENCING {tables} FOR EACH STATEMENT "
                "EXECUTE FUNCTION observation_bin_change()"
            )
    else:
        for name, body in SQLITE_TRIGGERS.items():
            op.execute(f"CREATE TRIGGER {name} {body}")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name, _event, _tables in PG_TRIGGERS:
            op.execute(f"DROP TRIGGER observation_ten_minute_bin_{name} ON observation")
        op.execute("DROP FUNCTION observation_bin_change()")
    else:
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER {name}")
    op.drop_table("observation_bin")
