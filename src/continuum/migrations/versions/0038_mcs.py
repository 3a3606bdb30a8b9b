"""mcs: mechanical circulatory support devices beside ECMO (IABP, Impella, VADs)

* ``mcs_device``: append-only versions of a device record (``follows_id`` names the version
  it follows; ``device_id`` the device's first row), linked to its run.
* ``mcs_check``: position and IABP timing checks (append-only; ``corrects_id``).
* ``clinical_event.kind`` also allows ``mcs.inserted`` and ``mcs.removed``.

Revision ID: 0036_mcs
Revises: 0034_transport
Create Date: 2026-12-04 13:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import continuum.db

revision: str = "0036_mcs"
down_revision: str | None = "0034_transport"
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
    "exchange.planned", "exchange.done", "exchange.cancelled",
    "ambulation.session_recorded", "ambulation.session_amended",
    "transport.mission_started", "transport.milestone", "transport.checklist_signed",
    "transport.event", "transport.handover",
)  # fmt: skip
NEW_KINDS = ("mcs.inserted", "mcs.removed")
DEVICE_KINDS = ("iabp", "impella", "temporary_vad", "durable_vad")
SIDES = ("left", "right")
CHECK_KINDS = ("position", "timing")
METHODS = ("echo", "fluoroscopy", "chest_xray", "placement_signal", "waveform_1_2")
RESULTS = (
    "correct", "too_deep", "too_shallow", "malpositioned", "early_inflation",
    "late_inflation", "early_deflation", "late_deflation",
)  # fmt: skip


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
        "mcs_device",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=True),
        sa.Column("follows_id", sa.Integer(), nullable=True),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("model", sa.String(length=60), nullable=False),
        sa.Column("side", sa.String(length=8), nullable=False),
        sa.Column("site", sa.String(length=80), nullable=True),
        sa.Column("inserted_at", t, nullable=False),
        sa.Column("removed_at", t, nullable=True),
        sa.Column("removal_reason", sa.Text(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("recorded_by", sa.Integer(), nullable=True),
        sa.Column("recorded_at", t, nullable=False),
        sa.CheckConstraint(_in("kind", DEVICE_KINDS), name=op.f("ck_mcs_device_kind")),
        sa.CheckConstraint(_in("side", SIDES), name=op.f("ck_mcs_device_side")),
        sa.CheckConstraint(
            "removed_at IS NULL OR removed_at > inserted_at",
            name=op.f("ck_mcs_device_removed_after"),
        ),
        sa.CheckConstraint(
            "follows_id IS NULL OR reason IS NOT NULL", name=op.f("ck_mcs_device_change_reason")
        ),
        sa.ForeignKeyConstraint(
            ["follows_id"], ["mcs_device.id"], name=op.f("fk_mcs_device_follows_id_mcs_device")
        ),
        sa.ForeignKeyConstraint(["run_id"], ["run.id"], name=op.f("fk_mcs_device_run_id_run")),
        sa.ForeignKeyConstraint(
            ["recorded_by"], ["staff.id"], name=op.f("fk_mcs_device_recorded_by_staff")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mcs_device")),
    )
    op.create_index("ix_mcs_device_run", "mcs_device", ["run_id", "device_id"], unique=False)
    op.create_index(op.f("ix_mcs_device_device_id"), "mcs_device", ["device_id"], unique=False)
    op.create_table(
        "mcs_check",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("at", t, nullable=False),
        sa.Column("method", sa.String(length=24), nullable=False),
        sa.Column("result", sa.String(length=24), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("corrects_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("recorded_by", sa.Integer(), nullable=True),
        sa.Column("recorded_at", t, nullable=False),
        sa.CheckConstraint(_in("kind", CHECK_KINDS), name=op.f("ck_mcs_check_kind")),
        sa.CheckConstraint(_in("method", METHODS), name=op.f("ck_mcs_check_method")),
        sa.CheckConstraint(_in("result", RESULTS), name=op.f("ck_mcs_check_result")),
        sa.CheckConstraint(
            "corrects_id IS NULL OR reason IS NOT NULL",
            name=op.f("ck_mcs_check_correction_reason"),
        ),
        sa.ForeignKeyConstraint(
            ["device_id"], ["mcs_device.id"], name=op.f("fk_mcs_check_device_id_mcs_device")
        ),
        sa.ForeignKeyConstraint(["run_id"], ["run.id"], name=op.f("fk_mcs_check_run_id_run")),
        sa.ForeignKeyConstraint(
            ["corrects_id"], ["mcs_check.id"], name=op.f("fk_mcs_check_corrects_id_mcs_check")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by"], ["staff.id"], name=op.f("fk_mcs_check_recorded_by_staff")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mcs_check")),
    )
    op.create_index("ix_mcs_check_device", "mcs_check", ["device_id", "at"], unique=False)
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
    op.drop_index("ix_mcs_check_device", table_name="mcs_check")
    op.drop_table("mcs_check")
    op.drop_index(op.f("ix_mcs_device_device_id"), table_name="mcs_device")
    op.drop_index("ix_mcs_device_run", table_name="mcs_device")
    op.drop_table("mcs_device")
