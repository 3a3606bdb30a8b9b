"""qloop: the cause class agreed at M&M review is part of an adverse event's history

* ``adverse_event_amendment.field`` may also be ``cause_class`` (patient's disease,
  management, technical, misadventure), written when a review of the event is signed
  (kind "consensus", naming the review). The report itself has no cause class: it is
  decided at review, never by whoever records the event.

Revision ID: 0026_qloop
Revises: 0026_exports
Create Date: 2026-12-04 10:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0026_qloop"
down_revision: str | None = "0026_exports"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen at this revision.
FIELDS = (
    "code", "event_class", "harm", "preventability", "occurred_at", "time_estimated",
    "component_id", "cannula_id", "detected_by", "description", "immediate_actions",
)  # fmt: skip


def _in(column: str, values: Sequence[str]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _set_fields(fields: Sequence[str]) -> None:
    with op.batch_alter_table("adverse_event_amendment", schema=None, recreate="auto") as batch:
        batch.drop_constraint(batch.f("ck_adverse_event_amendment_field"), type_="check")
        batch.create_check_constraint(
            batch.f("ck_adverse_event_amendment_field"), _in("field", fields)
        )


def upgrade() -> None:
    _set_fields((*FIELDS, "cause_class"))


def downgrade() -> None:
    kept = (
        op.get_bind()
        .exec_driver_sql("SELECT count(*) FROM adverse_event_amendment WHERE field = 'cause_class'")
        .scalar()
    )
    if kept:
        raise RuntimeError(
            f"{kept} adverse-event amendments record a cause class agreed at review: "
            "amendments are never deleted, so this revision cannot be undone"
        )
    _set_fields(FIELDS)
