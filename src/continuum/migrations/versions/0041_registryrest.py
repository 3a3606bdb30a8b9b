"""registryrest: corrections of a publication's author list as amendments

* ``research_publication_author.list_version``: the author list's version a row belongs to
  (1 for every existing row: the list as the publication was added).
* ``research_author_list``: one row per correction (version 2, 3 …): who, when and why.

Revision ID: 0041_registryrest
Revises: 0037_training
Create Date: 2026-12-04 16:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import continuum.db

revision: str = "0041_registryrest"
down_revision: str | None = "0037_training"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "research_publication_author",
        sa.Column("list_version", sa.Integer(), server_default="1", nullable=False),
    )
    op.create_table(
        "research_author_list",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("publication_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("recorded_by", sa.Integer(), nullable=True),
        sa.Column("recorded_at", continuum.db.UTCDateTime(), nullable=False),
        sa.CheckConstraint("version >= 2", name=op.f("ck_research_author_list_version")),
        sa.ForeignKeyConstraint(
            ["publication_id"], ["research_publication.id"],
            name=op.f("fk_research_author_list_publication_id_research_publication"),
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by"], ["staff.id"],
            name=op.f("fk_research_author_list_recorded_by_staff"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_research_author_list")),
        sa.UniqueConstraint(
            "publication_id", "version", name=op.f("uq_research_author_list_publication_id")
        ),
    )  # fmt: skip


def downgrade() -> None:
    op.drop_table("research_author_list")
    with op.batch_alter_table("research_publication_author") as batch:
        batch.drop_column("list_version")
