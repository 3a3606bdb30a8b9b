"""outcome: the hospital outcome of an ended run and the ECPR times (CPR start, full flow)

* ``hospital_outcome``: append-only rows (status, time, destination, note); a correction
  names the row it corrects and gives its reason; the latest row is in force.
* ``ecpr_times``: append-only rows (arrest / CPR start, full ECMO flow reached), corrected
  the same way.
* ``clinical_event.kind`` also allows ``discharge.recorded`` and ``ecpr.times_recorded``.

Revision ID: 0026_outcome
Revises: 0022_aevents
Create Date: 2026-12-04 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import continuum.db

revision: str = "0026_outcome"
down_revision: str | None = "0022_aevents"
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
)  # fmt: skip
NEW_KINDS = ("discharge.recorded", "ecpr.times_recorded")
STATUSES = ("discharged_alive", "died_in_hospital", "transferred_alive", "in_hospital")
DESTINATIONS = ("home", "another_hospital", "rehabilitation", "hospice", "other")


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
    op.create_table(
        "hospital_outcome",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("at", continuum.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("destination", sa.String(length=24), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("corrects_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("recorded_by", sa.Integer(), nullable=True),
        sa.Column("recorded_at", continuum.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(_in("status", STATUSES), name=op.f("ck_hospital_outcome_status")),
        sa.CheckConstraint(
            f"destination IS NULL OR {_in('destination', DESTINATIONS)}",
            name=op.f("ck_hospital_outcome_destination"),
        ),
        sa.CheckConstraint(
            "corrects_id IS NULL OR reason IS NOT NULL",
            name=op.f("ck_hospital_outcome_correction_reason"),
        ),
        sa.ForeignKeyConstraint(
            ["corrects_id"],
            ["hospital_outcome.id"],
            name=op.f("fk_hospital_outcome_corrects_id_hospital_outcome"),
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patient.id"], name=op.f("fk_hospital_outcome_patient_id_patient")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by"], ["staff.id"], name=op.f("fk_hospital_outcome_recorded_by_staff")
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["run.id"], name=op.f("fk_hospital_outcome_run_id_run")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hospital_outcome")),
    )
    op.create_index("ix_hospital_outcome_run", "hospital_outcome", ["run_id", "id"], unique=False)
    op.create_table(
        "ecpr_times",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("cpr_started_at", continuum.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("full_flow_at", continuum.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("corrects_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("recorded_by", sa.Integer(), nullable=True),
        sa.Column("recorded_at", continuum.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("full_flow_at > cpr_started_at", name=op.f("ck_ecpr_times_order")),
        sa.CheckConstraint(
            "corrects_id IS NULL OR reason IS NOT NULL",
            name=op.f("ck_ecpr_times_correction_reason"),
        ),
        sa.ForeignKeyConstraint(
            ["corrects_id"], ["ecpr_times.id"], name=op.f("fk_ecpr_times_corrects_id_ecpr_times")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by"], ["staff.id"], name=op.f("fk_ecpr_times_recorded_by_staff")
        ),
        sa.ForeignKeyConstraint(["run_id"], ["run.id"], name=op.f("fk_ecpr_times_run_id_run")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ecpr_times")),
    )
    op.create_index("ix_ecpr_times_run", "ecpr_times", ["run_id", "id"], unique=False)
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
    op.drop_index("ix_ecpr_times_run", table_name="ecpr_times")
    op.drop_table("ecpr_times")
    op.drop_index("ix_hospital_outcome_run", table_name="hospital_outcome")
    op.drop_table("hospital_outcome")
