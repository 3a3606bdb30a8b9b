"""training: ECMO competencies, live simulation training, training runs kept apart

* ``run.is_training``: a simulation-training run (never in metrics, exports, registry).
* ``competency_record``: append-only staff competency achievements and corrections.
* ``training_session`` / ``training_fault``: a live simulation session streaming into a
  training run, and the faults its instructor injected.

Revision ID: 0037_training
Revises: 0036_mcs
Create Date: 2026-12-04 13:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import continuum.db

revision: str = "0037_training"
down_revision: str | None = "0036_mcs"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COMPETENCIES = (
    "circuit_change", "priming", "emergency_air", "emergency_pump_failure",
    "emergency_decannulation", "cannulation_assist", "transport", "ambulation",
    "simulation_response",
)  # fmt: skip
EVIDENCE_KINDS = ("assessment", "training_session", "course", "other")


def _in(column: str, values: Sequence[str]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def upgrade() -> None:
    t = continuum.db.UTCDateTime(timezone=True)
    # A plain ADD COLUMN (no table rebuild: run's triggers and references stay as they are).
    op.add_column(
        "run", sa.Column("is_training", sa.Boolean(), server_default=sa.false(), nullable=False)
    )
    op.create_table(
        "competency_record",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("competency", sa.String(length=40), nullable=False),
        sa.Column("achieved_on", sa.Date(), nullable=False),
        sa.Column("valid_months", sa.Integer(), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=False),
        sa.Column("assessor_id", sa.Integer(), nullable=True),
        sa.Column("evidence_kind", sa.String(length=24), nullable=False),
        sa.Column("evidence_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("corrects_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("recorded_by", sa.Integer(), nullable=True),
        sa.Column("recorded_at", t, nullable=False),
        sa.CheckConstraint(_in("competency", COMPETENCIES), name=op.f("ck_competency_record_competency")),
        sa.CheckConstraint(_in("evidence_kind", EVIDENCE_KINDS), name=op.f("ck_competency_record_evidence_kind")),
        sa.CheckConstraint("valid_months >= 1 AND valid_months <= 60", name=op.f("ck_competency_record_valid_months")),
        sa.CheckConstraint("expires_on > achieved_on", name=op.f("ck_competency_record_expires_after")),
        sa.CheckConstraint("(corrects_id IS NULL) = (reason IS NULL)", name=op.f("ck_competency_record_correction_reason")),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"], name=op.f("fk_competency_record_staff_id_staff")),
        sa.ForeignKeyConstraint(["assessor_id"], ["staff.id"], name=op.f("fk_competency_record_assessor_id_staff")),
        sa.ForeignKeyConstraint(["recorded_by"], ["staff.id"], name=op.f("fk_competency_record_recorded_by_staff")),
        sa.ForeignKeyConstraint(["corrects_id"], ["competency_record.id"], name=op.f("fk_competency_record_corrects_id_competency_record")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_competency_record")),
    )  # fmt: skip
    op.create_index(
        "ix_competency_record_staff", "competency_record", ["staff_id", "competency"], unique=False
    )
    op.create_table(
        "training_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("scenario", sa.String(length=64), nullable=False),
        sa.Column("mode", sa.String(length=8), nullable=False),
        sa.Column("seed", sa.Integer(), nullable=False),
        sa.Column("acceleration", sa.Float(), nullable=False),
        sa.Column("sim_minutes", sa.Integer(), nullable=False),
        sa.Column("fault_ramp_minutes", sa.Integer(), nullable=False),
        sa.Column("lead_in_minutes", sa.Integer(), nullable=False),
        sa.Column("started_at", t, nullable=False),
        sa.Column("last_minute", sa.Integer(), nullable=False),
        sa.Column("stepped_at", t, nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("ended_at", t, nullable=True),
        sa.Column("instructor_id", sa.Integer(), nullable=True),
        sa.Column("trainee_ids", sa.JSON(), nullable=False),
        sa.Column("debrief_note", sa.Text(), nullable=True),
        sa.Column("created_at", t, nullable=False),
        sa.CheckConstraint(_in("status", ("running", "ended")), name=op.f("ck_training_session_status")),
        sa.CheckConstraint("acceleration >= 1 AND acceleration <= 600", name=op.f("ck_training_session_acceleration")),
        sa.CheckConstraint("sim_minutes >= 1", name=op.f("ck_training_session_sim_minutes")),
        sa.CheckConstraint("(status = 'ended') = (ended_at IS NOT NULL)", name=op.f("ck_training_session_ended")),
        sa.ForeignKeyConstraint(["run_id"], ["run.id"], name=op.f("fk_training_session_run_id_run")),
        sa.ForeignKeyConstraint(["instructor_id"], ["staff.id"], name=op.f("fk_training_session_instructor_id_staff")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_session")),
        sa.UniqueConstraint("run_id", name=op.f("uq_training_session_run_id")),
    )  # fmt: skip
    op.create_index("ix_training_session_status", "training_session", ["status"], unique=False)
    op.create_table(
        "training_fault",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("scenario", sa.String(length=64), nullable=False),
        sa.Column("fault", sa.String(length=40), nullable=False),
        sa.Column("onset_minute", sa.Integer(), nullable=False),
        sa.Column("injected_at", t, nullable=False),
        sa.Column("injected_by", sa.Integer(), nullable=True),
        sa.Column("resolved_minute", sa.Integer(), nullable=True),
        sa.Column("resolved_at", t, nullable=True),
        sa.Column("resolved_by_event", sa.Integer(), nullable=True),
        sa.CheckConstraint("onset_minute >= 0", name=op.f("ck_training_fault_onset")),
        sa.CheckConstraint("resolved_minute IS NULL OR resolved_minute >= onset_minute", name=op.f("ck_training_fault_resolved_after")),
        sa.ForeignKeyConstraint(["session_id"], ["training_session.id"], name=op.f("fk_training_fault_session_id_training_session")),
        sa.ForeignKeyConstraint(["injected_by"], ["staff.id"], name=op.f("fk_training_fault_injected_by_staff")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_fault")),
    )  # fmt: skip
    op.create_index(
        op.f("ix_training_fault_session_id"), "training_fault", ["session_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_training_fault_session_id"), table_name="training_fault")
    op.drop_table("training_fault")
    op.drop_index("ix_training_session_status", table_name="training_session")
    op.drop_table("training_session")
    op.drop_index("ix_competency_record_staff", table_name="competency_record")
    op.drop_table("competency_record")
    op.drop_column("run", "is_training")
