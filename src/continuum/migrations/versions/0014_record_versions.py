"""record versions: no silent overwrites

Editable clinical records carry a version (``rounds_round``, ``initiation_decision``)
with who saved it last; a save names the version it was made on and a stale one is
refused (409). State transitions (ending a run, signing, acknowledging) need no column:
they are conditional updates on their state.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03 19:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import continuum.db

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("rounds_round", schema=None) as batch_op:
        batch_op.add_column(sa.Column("version", sa.Integer(), server_default="1", nullable=False))
        batch_op.add_column(sa.Column("updated_by", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("updated_at", continuum.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_rounds_round_updated_by_staff"), "staff", ["updated_by"], ["id"]
        )
    with op.batch_alter_table("initiation_decision", schema=None) as batch_op:
        batch_op.add_column(sa.Column("version", sa.Integer(), server_default="1", nullable=False))
        batch_op.add_column(sa.Column("updated_by", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_initiation_decision_updated_by_staff"),
            "staff",
            ["updated_by"],
            ["id"],
        )


def downgrade() -> None:
    with op.batch_alter_table("initiation_decision", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_initiation_decision_updated_by_staff"), type_="foreignkey"
        )
        batch_op.drop_column("updated_by")
        batch_op.drop_column("version")
    with op.batch_alter_table("rounds_round", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_rounds_round_updated_by_staff"), type_="foreignkey")
        batch_op.drop_column("updated_at")
        batch_op.drop_column("updated_by")
        batch_op.drop_column("version")
