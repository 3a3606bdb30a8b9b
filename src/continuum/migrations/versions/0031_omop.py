"""omop: research exports may also be OMOP CDM 5.4 + ECLS-CDM and CLIF 2.1 ecmo_mcs

* ``research_export.format``: the check constraint admits ``omop`` and ``clif``.

Revision ID: 0031_omop
Revises: 0026_ingestfast
Create Date: 2026-12-04 11:20:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0031_omop"
down_revision: str | None = "0026_ingestfast"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD = "format IN ('csv', 'parquet', 'redcap', 'fhir')"
NEW = "format IN ('csv', 'parquet', 'redcap', 'fhir', 'omop', 'clif')"


def _replace(check: str) -> None:
    with op.batch_alter_table("research_export", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_research_export_format"), type_="check")
        batch_op.create_check_constraint(batch_op.f("ck_research_export_format"), check)


def upgrade() -> None:
    _replace(NEW)


def downgrade() -> None:
    op.execute("DELETE FROM research_export WHERE format IN ('omop', 'clif')")
    _replace(OLD)
