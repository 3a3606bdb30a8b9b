"""Observations keep the value and unit as entered when that unit was not the stored one

* ``observation.entered_value``, ``observation.entered_unit``: nullable, no default (no
  table rewrite on PostgreSQL); existing rows have none (they were entered, or their
  entered unit was not kept, before this revision).

Revision ID: 0021_entered
Revises: 0022_metrics
Create Date: 2026-12-04 04:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021_entered"
down_revision: str | None = "0022_metrics"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("observation", sa.Column("entered_value", sa.Float(), nullable=True))
    op.add_column("observation", sa.Column("entered_unit", sa.String(length=16), nullable=True))


def downgrade() -> None:
    op.drop_column("observation", "entered_unit")
    op.drop_column("observation", "entered_value")
