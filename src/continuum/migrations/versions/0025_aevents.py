"""aevents: possible adverse events set aside ("not an adverse event", with the reason)

* ``adverse_event_screen``: one row per source record (alert, circuit check, component,
  weaning trial, transfusion, round) that a reviewer judged not to be an adverse event;
  the possible-events list then leaves it out.

Revision ID: 0022_aevents
Revises: 0021_entered
Create Date: 2026-12-04 05:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import continuum.db

revision: str = "0022_aevents"
down_revision: str | None = "0021_entered"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen at this revision.
SOURCES = ("alert", "circuit_check", "component", "weaning_trial", "transfusion", "round")
DECISIONS = ("dismissed",)


def _in(column: str, values: Sequence[str]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def upgrade() -> None:
    op.create_table(
        "adverse_event_screen",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("source_type", sa.String(length=24), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("decision", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("by", sa.Integer(), nullable=True),
        sa.Column("at", continuum.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            _in("source_type", SOURCES), name=op.f("ck_adverse_event_screen_source_type")
        ),
        sa.CheckConstraint(
            _in("decision", DECISIONS), name=op.f("ck_adverse_event_screen_decision")
        ),
        sa.ForeignKeyConstraint(
            ["by"], ["staff.id"], name=op.f("fk_adverse_event_screen_by_staff")
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["run.id"], name=op.f("fk_adverse_event_screen_run_id_run")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_adverse_event_screen")),
        sa.UniqueConstraint(
            "source_type", "source_id", name=op.f("uq_adverse_event_screen_source_type")
        ),
    )
    op.create_index(
        op.f("ix_adverse_event_screen_run_id"), "adverse_event_screen", ["run_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_adverse_event_screen_run_id"), table_name="adverse_event_screen")
    op.drop_table("adverse_event_screen")
