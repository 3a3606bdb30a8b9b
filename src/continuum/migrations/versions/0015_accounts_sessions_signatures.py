"""accounts: server-side sessions, account lifecycle, atomic login throttling; who
entered a participation.

``staff.session_epoch`` moves when all of a person's sessions must end (password change or
reset, deactivation, role change, "end all sessions"); ``staff_session`` holds one row per
browser session so logout ends it on the server; ``staff.must_change_password`` is set by
an administrator's reset; ``login_throttle`` holds the per-account and per-source failure
counters; ``participation.entered_by`` names who entered a participation row.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03 19:07:52.635574
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import continuum.db

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "login_throttle",
        sa.Column("key", sa.String(length=80), nullable=False),
        sa.Column("window_start", continuum.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_login_throttle")),
    )
    op.create_table(
        "staff_session",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("created_at", continuum.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", continuum.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("client", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff.id"], name=op.f("fk_staff_session_staff_id_staff")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_session")),
    )
    with op.batch_alter_table("staff_session", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_staff_session_staff_id"), ["staff_id"], unique=False)

    with op.batch_alter_table("participation", schema=None) as batch_op:
        batch_op.add_column(sa.Column("entered_by", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_participation_entered_by_staff"), "staff", ["entered_by"], ["id"]
        )

    # Plain ADD COLUMN (no table rebuild: SQLite triggers refer to staff).
    op.add_column(
        "staff", sa.Column("session_epoch", sa.Integer(), server_default="0", nullable=False)
    )
    op.add_column(
        "staff",
        sa.Column("must_change_password", sa.Boolean(), server_default=sa.false(), nullable=False),
    )


def downgrade() -> None:
    op.drop_column("staff", "must_change_password")
    op.drop_column("staff", "session_epoch")

    with op.batch_alter_table("participation", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_participation_entered_by_staff"), type_="foreignkey"
        )
        batch_op.drop_column("entered_by")

    with op.batch_alter_table("staff_session", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_staff_session_staff_id"))

    op.drop_table("staff_session")
    op.drop_table("login_throttle")
