"""ingestfast: incremental surveillance (state carried between evaluator passes)

* ``surveillance_due.changed_from``: the earliest observation time the batches marked
  since the last evaluation stored or changed (NULL: not known, re-read the run's window).
* ``surveillance_sample``: per run, dense code and grid step, the first and the last
  observation of that step (all that the detectors read of a dense signal), kept up to
  date by the evaluator from the new observations only.
* ``surveillance_progress``: per run, the grid step the samples were made with and the
  time from which they are complete.

Revision ID: 0026_ingestfast
Revises: 0026_registry
Create Date: 2026-12-04 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import continuum.db

revision: str = "0026_ingestfast"
down_revision: str | None = "0026_registry"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("surveillance_due", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("changed_from", continuum.db.UTCDateTime(timezone=True), nullable=True)
        )
    op.create_table(
        "surveillance_sample",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("step_start_ms", sa.BigInteger(), nullable=False),
        sa.Column("first_ms", sa.BigInteger(), nullable=False),
        sa.Column("first_value", sa.Float(), nullable=False),
        sa.Column("last_ms", sa.BigInteger(), nullable=False),
        sa.Column("last_value", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["run.id"], name=op.f("fk_surveillance_sample_run_id_run")
        ),
        sa.PrimaryKeyConstraint(
            "run_id", "code", "step_start_ms", name=op.f("pk_surveillance_sample")
        ),
    )
    op.create_table(
        "surveillance_progress",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("step_ms", sa.Integer(), nullable=False),
        sa.Column("covered_from_ms", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", continuum.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["run.id"], name=op.f("fk_surveillance_progress_run_id_run")
        ),
        sa.PrimaryKeyConstraint("run_id", name=op.f("pk_surveillance_progress")),
    )


def downgrade() -> None:
    op.drop_table("surveillance_progress")
    op.drop_table("surveillance_sample")
    with op.batch_alter_table("surveillance_due", schema=None) as batch_op:
        batch_op.drop_column("changed_from")
