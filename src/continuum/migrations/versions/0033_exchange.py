"""exchange: planned exchanges of a membrane lung, pump or whole circuit

* ``exchange_plan``: append-only versions of a planned exchange (``follows_id`` names the
  version it follows; ``plan_id`` the plan's first row), linked to the alert it came from
  and to the component change it produced.
* ``clinical_event.kind`` also allows ``exchange.planned``, ``exchange.done`` and
  ``exchange.cancelled``.

Revision ID: 0031_exchange
Revises: 0031_studies
Create Date: 2026-12-04 11:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import continuum.db

revision: str = "0031_exchange"
down_revision: str | None = "0031_studies"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen at this revision.
KINDS_BEFORE = (
    "referral.received", "referral.status_changed", "decision.recorded", "decision.signed",
    "decision.amended", "decision.reassessed", "run.started", "run.ended", "mode.changed",
    "cannula.inserted", "component.added", "component.replaced", "observation.entered",
    "observation.amended", "alert.raised", "alert.escalated", "alert.acknowledged",
    "alert.cleared", "alert.resolved", "circuit_check.signed", "transfusion.recorded",
    "round.signed", "round.amended", "action.raised", "action.completed",
    "weaning.trial_started", "weaning.step", "weaning.assessed", "weaning.trial_ended",
    "decannulation.recorded", "decannulation.signed", "follow_up.completed",
    "adverse_event.recorded", "adverse_event.amended", "review.signed",
    "discharge.recorded", "ecpr.times_recorded",
)  # fmt: skip
NEW_KINDS = ("exchange.planned", "exchange.done", "exchange.cancelled")
TARGETS = ("membrane_lung", "pump", "circuit")
STATUSES = ("planned", "done", "cancelled")


def _in(column: str, values: Sequence[str]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _set_kinds(conn: sa.Connection, kinds: Sequence[str]) -> None:
    """Replace the CHECK on clinical_event.kind. SQLite rebuilds the table (batch), which
    drops its append-only triggers: they are made again."""
    with op.batch_alter_table("clinical_event", schema=None, recreate="auto") as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_clinical_event_kind"), type_="check")
        batch_op.create_check_constraint(batch_op.f("ck_clinical_event_kind"), _in("kind", kinds))
    if conn.dialect.name == "sqlite":
        for verb in ("UPDATE", "DELETE"):
            op.execute(f"DROP TRIGGER IF EXISTS clinical_event_no_{verb.lower()}")
            op.execute(
                f"CREATE TRIGGER clinical_event_no_{verb.lower()} BEFORE {verb} "
                "ON clinical_event BEGIN SELECT RAISE(ABORT, 'clinical_event is append-only'); END"
            )


def upgrade() -> None:
    t = continuum.db.UTCDateTime(timezone=True)
    op.create_table(
        "exchange_plan",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=True),
        sa.Column("follows_id", sa.Integer(), nullable=True),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("target", sa.String(length=24), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("planned_at", t, nullable=False),
        sa.Column("perfusionist_id", sa.Integer(), nullable=True),
        sa.Column("physician_id", sa.Integer(), nullable=True),
        sa.Column("equipment_ready", sa.Boolean(), nullable=False),
        sa.Column("prime_ready", sa.Boolean(), nullable=False),
        sa.Column("blood_products", sa.Text(), nullable=True),
        sa.Column("anticoagulation_plan", sa.Text(), nullable=True),
        sa.Column("checklist", sa.JSON(), nullable=False),
        sa.Column("clamp_s", sa.Integer(), nullable=True),
        sa.Column("values_before", sa.JSON(), nullable=True),
        sa.Column("values_after", sa.JSON(), nullable=True),
        sa.Column("alert_id", sa.Integer(), nullable=True),
        sa.Column("forecast", sa.JSON(), nullable=True),
        sa.Column("replaced_id", sa.Integer(), nullable=True),
        sa.Column("component_id", sa.Integer(), nullable=True),
        sa.Column("done_at", t, nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("recorded_by", sa.Integer(), nullable=True),
        sa.Column("recorded_at", t, nullable=False),
        sa.CheckConstraint(_in("target", TARGETS), name=op.f("ck_exchange_plan_target")),
        sa.CheckConstraint(_in("status", STATUSES), name=op.f("ck_exchange_plan_status")),
        sa.CheckConstraint(
            "status != 'cancelled' OR reason IS NOT NULL",
            name=op.f("ck_exchange_plan_cancel_reason"),
        ),
        sa.CheckConstraint(
            "clamp_s IS NULL OR (clamp_s >= 0 AND clamp_s <= 3600)",
            name=op.f("ck_exchange_plan_clamp_s"),
        ),
        sa.ForeignKeyConstraint(
            ["follows_id"],
            ["exchange_plan.id"],
            name=op.f("fk_exchange_plan_follows_id_exchange_plan"),
        ),
        sa.ForeignKeyConstraint(["run_id"], ["run.id"], name=op.f("fk_exchange_plan_run_id_run")),
        sa.ForeignKeyConstraint(
            ["perfusionist_id"], ["staff.id"], name=op.f("fk_exchange_plan_perfusionist_id_staff")
        ),
        sa.ForeignKeyConstraint(
            ["physician_id"], ["staff.id"], name=op.f("fk_exchange_plan_physician_id_staff")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by"], ["staff.id"], name=op.f("fk_exchange_plan_recorded_by_staff")
        ),
        sa.ForeignKeyConstraint(
            ["alert_id"], ["alert.id"], name=op.f("fk_exchange_plan_alert_id_alert")
        ),
        sa.ForeignKeyConstraint(
            ["replaced_id"], ["component.id"], name=op.f("fk_exchange_plan_replaced_id_component")
        ),
        sa.ForeignKeyConstraint(
            ["component_id"],
            ["component.id"],
            name=op.f("fk_exchange_plan_component_id_component"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exchange_plan")),
    )
    op.create_index("ix_exchange_plan_run", "exchange_plan", ["run_id", "plan_id"], unique=False)
    op.create_index(op.f("ix_exchange_plan_plan_id"), "exchange_plan", ["plan_id"], unique=False)
    _set_kinds(op.get_bind(), (*KINDS_BEFORE, *NEW_KINDS))


def downgrade() -> None:
    conn = op.get_bind()
    kinds = ", ".join(repr(k) for k in NEW_KINDS)
    sql = f"DELETE FROM clinical_event WHERE kind IN ({kinds})"
    if conn.dialect.name == "sqlite":
        for verb in ("update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS clinical_event_no_{verb}")
        op.execute(sql)
    else:
        op.execute("ALTER TABLE clinical_event DISABLE TRIGGER clinical_event_append_only")
        op.execute(sql)
        op.execute("ALTER TABLE clinical_event ENABLE TRIGGER clinical_event_append_only")
    _set_kinds(conn, KINDS_BEFORE)
    op.drop_index(op.f("ix_exchange_plan_plan_id"), table_name="exchange_plan")
    op.drop_index("ix_exchange_plan_run", table_name="exchange_plan")
    op.drop_table("exchange_plan")
