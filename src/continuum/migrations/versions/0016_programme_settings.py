"""programme settings: one service, a physician-lead role, weaning ranges as two settings

Every domain's settings already live in ``programme_setting`` (one key/value row per value
a programme changed); the one settings service reads them all, so the values in force are
kept. Two things change in the data:

* the ``physician_lead`` role (governs clinical thresholds with the quality lead) joins
  the staff role CHECK constraint;
* a weaning range criterion stored as a pair ``weaning.<name> = [low, high]`` becomes two
  settings, ``weaning.<name>`` (low) and ``weaning.<name>_high`` (high).

Downgrading refuses while a physician lead exists (their role would be lost) and folds the
weaning pairs back.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03 19:30:00.000000
"""

import json
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import continuum.db

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_ROLES = (
    "perfusionist",
    "physician",
    "nurse",
    "coordinator",
    "qa_lead",
    "researcher",
    "admin",
    "integration",
)
NEW_ROLES = (*OLD_ROLES, "physician_lead")


def _in(values: tuple[str, ...]) -> str:
    return "role IN (" + ", ".join(f"'{v}'" for v in values) + ")"


def _roles(values: tuple[str, ...]) -> None:
    conn = op.get_bind()
    # SQLite rebuilds the table to change a CHECK; triggers naming staff would block the
    # rename, so they are dropped and re-created around it, unchanged.
    triggers: list[tuple[str, str]] = []
    if conn.dialect.name == "sqlite":
        found = conn.execute(
            sa.text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND sql LIKE :s"),
            {"s": "%staff%"},
        )
        triggers = [(str(n), str(q)) for n, q in found]
        for name, _ in triggers:
            conn.execute(sa.text(f'DROP TRIGGER "{name}"'))
    _rebuild(values)
    for _, sql in triggers:
        conn.execute(sa.text(sql))


def _rebuild(values: tuple[str, ...]) -> None:
    with op.batch_alter_table("staff", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_staff_role"), type_="check")
        batch_op.create_check_constraint(op.f("ck_staff_role"), _in(values))


def _settings() -> sa.Table:
    return sa.table(
        "programme_setting",
        sa.column("key", sa.String),
        sa.column("value", sa.JSON),
        sa.column("updated_at", continuum.db.UTCDateTime()),
    )


def _value(raw: object) -> object:
    return json.loads(raw) if isinstance(raw, str) else raw


def upgrade() -> None:
    _roles(NEW_ROLES)
    conn = op.get_bind()
    table = _settings()
    rows = conn.execute(sa.select(table.c.key, table.c.value).where(table.c.key.like("weaning.%")))
    for key, raw in list(rows):
        value = _value(raw)
        if isinstance(value, list) and len(value) == 2:
            low, high = value
            conn.execute(table.update().where(table.c.key == key).values(value=low))
            conn.execute(table.delete().where(table.c.key == f"{key}_high"))
            now = datetime.now(UTC)
            conn.execute(table.insert().values(key=f"{key}_high", value=high, updated_at=now))


def downgrade() -> None:
    conn = op.get_bind()
    leads = conn.execute(sa.text("SELECT count(*) FROM staff WHERE role = 'physician_lead'"))
    if leads.scalar():
        raise RuntimeError("physician leads exist: change their role before downgrading")
    table = _settings()
    rows = conn.execute(
        sa.select(table.c.key, table.c.value).where(table.c.key.like("weaning.%\\_high", "\\"))
    )
    for key, raw in list(rows):
        low_key = key.removesuffix("_high")
        low = conn.execute(sa.select(table.c.value).where(table.c.key == low_key)).scalar()
        pair = [_value(low) if low is not None else None, _value(raw)]
        conn.execute(table.delete().where(table.c.key == key))
        if pair[0] is None:
            continue  # only the high bound was changed; the old store kept pairs only
        conn.execute(table.update().where(table.c.key == low_key).values(value=pair))
    _roles(OLD_ROLES)
