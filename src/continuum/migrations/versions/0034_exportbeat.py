"""exportbeat: a background export's heartbeat

* ``research_export.heartbeat_at``: when the process writing the export last reported
  progress; an export queued or running with no heartbeat for a while was interrupted (its
  process stopped) and is marked failed, saying so, instead of "running" for ever.

Revision ID: 0034_exportbeat
Revises: 0031_exchange
Create Date: 2026-12-04 13:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import continuum.db

revision: str = "0034_exportbeat"
down_revision: str | None = "0031_exchange"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("research_export", schema=None) as batch_op:
        batch_op.add_column(sa.Column("heartbeat_at", continuum.db.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("research_export", schema=None) as batch_op:
        batch_op.drop_column("heartbeat_at")
