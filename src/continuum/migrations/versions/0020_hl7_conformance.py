"""HL7 conformance: result status kept on device observations, site unit aliases

* ``observation.result_status``: the device feed's result status as received (HL7 OBX-11),
  nullable; existing rows have none.
* ``ingest_unit_alias``: a site's own unit spellings, read as vocabulary units.

Revision ID: 0018_hl7_conformance
Revises: 0017
Create Date: 2026-12-03 23:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import continuum.db

revision: str = "0018_hl7_conformance"
down_revision: str | None = "0018_fhir_presets"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A nullable column without a default: no table rewrite on PostgreSQL. SQLite's ADD
    # COLUMN leaves the table (and its triggers) in place.
    op.add_column("observation", sa.Column("result_status", sa.String(length=1), nullable=True))
    op.create_table(
        "ingest_unit_alias",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("spelling", sa.String(length=64), nullable=False),
        sa.Column("unit", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("updated_by", sa.Integer(), nullable=True),
        sa.Column("updated_at", continuum.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["updated_by"], ["staff.id"], name=op.f("fk_ingest_unit_alias_updated_by_staff")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ingest_unit_alias")),
        sa.UniqueConstraint("spelling", name="uq_ingest_unit_alias"),
    )


def downgrade() -> None:
    op.drop_table("ingest_unit_alias")
    op.drop_column("observation", "result_status")
