"""surveillance_due: runs whose stored observations await a deferred evaluation

Streaming ingest (HL7/MLLP, MQTT) marks a run due in the batch's transaction instead of
running the detectors there; ``continuum.alerts.due`` evaluates the marked runs and
removes each mark in the transaction that stores the alerts it produced.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-24 08:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import continuum.db

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "surveillance_due",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("codes", sa.Text(), nullable=True),
        sa.Column("marked_at", continuum.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("next_try_at", continuum.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["run_id"], ["run.id"], name=op.f("fk_surveillance_due_run_id_run")
        ),
        sa.PrimaryKeyConstraint("run_id", name=op.f("pk_surveillance_due")),
    )
    with op.batch_alter_table("surveillance_due", schema=None) as batch_op:
        batch_op.create_index("ix_surveillance_due_next_try", ["next_try_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("surveillance_due", schema=None) as batch_op:
        batch_op.drop_index("ix_surveillance_due_next_try")
    op.drop_table("surveillance_due")
