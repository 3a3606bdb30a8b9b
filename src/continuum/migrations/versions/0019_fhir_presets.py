"""console-export import presets: a site's own presets (ingest/console_presets.py)

``ingest_console_preset``: one row per preset a site added, or per shipped preset it
replaced (same name); the definition is JSON, saved with a version and who saved it.

Revision ID: 0018_fhir_presets
Revises: 0017
Create Date: 2026-12-03 23:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import continuum.db

revision: str = "0018_fhir_presets"
down_revision = "0018_timeline_board"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ingest_console_preset",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_by", sa.Integer(), nullable=True),
        sa.Column("updated_at", continuum.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["updated_by"], ["staff.id"], name=op.f("fk_ingest_console_preset_updated_by_staff")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ingest_console_preset")),
        sa.UniqueConstraint("name", name="uq_ingest_console_preset_name"),
    )


def downgrade() -> None:
    op.drop_table("ingest_console_preset")
