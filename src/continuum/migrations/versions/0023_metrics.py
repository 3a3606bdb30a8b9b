"""metrics: clinical audit definitions (criterion, standard, period)

* ``quality_audit``: title, criterion from a closed list, standard (0–100 %), period
  (end after start), note, who defined it and when. Compliance is computed from the
  record, not stored.

Revision ID: 0022_metrics
Revises: 0022_mmreview
Create Date: 2026-12-04 05:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import continuum.db

revision: str = "0022_metrics"
down_revision: str | None = "0022_mmreview"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The closed list as it was at this revision (frozen: a new criterion brings a migration).
CRITERIA = (
    "anticoagulation_in_range",
    "circuit_check_every_shift",
    "perfusion_at_rounds",
    "decannulation_checklist",
    "ml_changes_planned",
)


def sql_in(column: str, values: Sequence[str]) -> str:
    quoted = ", ".join("'" + v.replace("'", "''") + "'" for v in values)
    return f"{column} IN ({quoted})"


def upgrade() -> None:
    op.create_table(
        "quality_audit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("criterion", sa.String(length=48), nullable=False),
        sa.Column("standard_pct", sa.Float(), nullable=False),
        sa.Column("period_start", continuum.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("period_end", continuum.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", continuum.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(sql_in("criterion", CRITERIA), name=op.f("ck_quality_audit_criterion")),
        sa.CheckConstraint(
            "standard_pct >= 0 AND standard_pct <= 100", name=op.f("ck_quality_audit_standard_pct")
        ),
        sa.CheckConstraint("period_end > period_start", name=op.f("ck_quality_audit_period_order")),
        sa.ForeignKeyConstraint(
            ["created_by"], ["staff.id"], name=op.f("fk_quality_audit_created_by_staff")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quality_audit")),
    )
    op.create_index(
        "ix_quality_audit_criterion_period",
        "quality_audit",
        ["criterion", "period_start"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_quality_audit_criterion_period", table_name="quality_audit")
    op.drop_table("quality_audit")
