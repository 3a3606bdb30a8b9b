"""temporary identifiers: an outside patient's temporary MRN, kept after the real MRN

``patient_identity.temporary_mrn``: the identifier issued to a referred patient without a
local MRN; ``mrn`` equals it until the hospital MRN replaces it (an audited amendment).

Revision ID: 0018_safe_docs
Revises: 0017
Create Date: 2026-12-03 23:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018_safe_docs"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("patient_identity") as batch:
        batch.add_column(sa.Column("temporary_mrn", sa.String(length=64), nullable=True))
        batch.create_unique_constraint(op.f("uq_patient_identity_temporary_mrn"), ["temporary_mrn"])


def downgrade() -> None:
    with op.batch_alter_table("patient_identity") as batch:
        batch.drop_constraint(op.f("uq_patient_identity_temporary_mrn"), type_="unique")
        batch.drop_column("temporary_mrn")
