"""textrelease: a reviewer releases a cohort's free-text field into de-identified exports

* ``research_text_release``: appended decisions (released or withdrawn) per saved cohort and
  free-text run field, with the fingerprint of the values the reviewer read.

Revision ID: 0035_textrelease
Revises: 0034_exportbeat
Create Date: 2026-12-04 13:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import continuum.db

revision: str = "0035_textrelease"
down_revision: str | None = "0034_exportbeat"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "research_text_release",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cohort_id", sa.Integer(), nullable=False),
        sa.Column("field", sa.String(length=32), nullable=False),
        sa.Column("released", sa.Boolean(), nullable=False),
        sa.Column("values_sha256", sa.String(length=64), nullable=False),
        sa.Column("value_count", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("by", sa.Integer(), nullable=True),
        sa.Column("by_name", sa.String(length=200), nullable=False),
        sa.Column("at", continuum.db.UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "field IN ('indication', 'diagnosis', 'stop_reason', 'location')",
            name=op.f("ck_research_text_release_field"),
        ),
        sa.ForeignKeyConstraint(
            ["by"], ["staff.id"], name=op.f("fk_research_text_release_by_staff")
        ),
        sa.ForeignKeyConstraint(
            ["cohort_id"], ["research_cohort.id"],
            name=op.f("fk_research_text_release_cohort_id_research_cohort"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_research_text_release")),
    )  # fmt: skip
    op.create_index(
        "ix_research_text_release_cohort",
        "research_text_release",
        ["cohort_id", "field", "id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_research_text_release_cohort", table_name="research_text_release")
    op.drop_table("research_text_release")
