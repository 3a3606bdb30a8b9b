"""registry: the ELSO-shaped run record's review (amendments and ready-for-submission marks)

* ``registry_amendment``: a reviewer's confirmation or correction of one field of a run's
  registry record (append-only).
* ``registry_submission``: a run marked ready for submission.

Revision ID: 0026_registry
Revises: 0026_qloop
Create Date: 2026-12-04 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import continuum.db

revision: str = "0026_registry"
down_revision: str | None = "0026_qloop"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ACTIONS = ("confirm", "correct")  # frozen at this revision


def upgrade() -> None:
    op.create_table(
        "registry_amendment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("field", sa.String(length=120), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("old_value", sa.Text(), nullable=True),
        sa.Column("new_value", sa.Text(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("by", sa.Integer(), nullable=True),
        sa.Column("by_name", sa.String(length=200), nullable=False),
        sa.Column("at", continuum.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "action IN ('confirm', 'correct')", name=op.f("ck_registry_amendment_action")
        ),
        sa.ForeignKeyConstraint(["by"], ["staff.id"], name=op.f("fk_registry_amendment_by_staff")),
        sa.ForeignKeyConstraint(
            ["run_id"], ["run.id"], name=op.f("fk_registry_amendment_run_id_run")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registry_amendment")),
    )
    op.create_index(
        "ix_registry_amendment_run_field", "registry_amendment", ["run_id", "field", "at"]
    )
    op.create_table(
        "registry_submission",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("completeness_pct", sa.Float(), nullable=False),
        sa.Column("by", sa.Integer(), nullable=True),
        sa.Column("by_name", sa.String(length=200), nullable=False),
        sa.Column("at", continuum.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["by"], ["staff.id"], name=op.f("fk_registry_submission_by_staff")),
        sa.ForeignKeyConstraint(
            ["run_id"], ["run.id"], name=op.f("fk_registry_submission_run_id_run")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registry_submission")),
    )
    op.create_index("ix_registry_submission_run", "registry_submission", ["run_id", "at"])


def downgrade() -> None:
    op.drop_index("ix_registry_submission_run", table_name="registry_submission")
    op.drop_table("registry_submission")
    op.drop_index("ix_registry_amendment_run_field", table_name="registry_amendment")
    op.drop_table("registry_amendment")
