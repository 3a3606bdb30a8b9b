"""transport: ECMO retrieval and transport missions

* ``transport_mission``: append-only versions of a mission's header (``mission_id`` the
  first row's id, ``follows_id`` the version it follows).
* ``transport_milestone``, ``transport_checklist``, ``transport_event``,
  ``transport_handover``: append-only rows of a mission (a correction names the row it
  corrects, with a reason).
* ``clinical_event.kind`` also allows ``transport.mission_started``, ``transport.milestone``,
  ``transport.checklist_signed``, ``transport.event`` and ``transport.handover``.

Revision ID: 0034_transport
Revises: 0035_ambulation
Create Date: 2026-12-04 13:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import continuum.db

revision: str = "0034_transport"
down_revision: str | None = "0035_ambulation"
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
)  # fmt: skip
NEW_KINDS = (
    "transport.mission_started", "transport.milestone", "transport.checklist_signed",
    "transport.event", "transport.handover",
)  # fmt: skip
MISSION_TYPES = ("primary", "secondary")
VEHICLES = ("road", "rotor", "fixed_wing")
MILESTONES = (
    "call", "activation", "team_departure", "arrival_referring", "cannulation",
    "departure_patient", "arrival_base", "handover",
)  # fmt: skip
EVENT_KINDS = ("desaturation", "flow_drop", "power_loss", "circuit_issue", "other")


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


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}")
    )


def upgrade() -> None:
    t = continuum.db.UTCDateTime(timezone=True)
    op.create_table(
        "transport_mission",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mission_id", sa.Integer(), nullable=True),
        sa.Column("follows_id", sa.Integer(), nullable=True),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("referral_id", sa.Integer(), nullable=True),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("mission_type", sa.String(length=16), nullable=False),
        sa.Column("vehicle", sa.String(length=16), nullable=False),
        sa.Column("referring_hospital", sa.String(length=200), nullable=False),
        sa.Column("expected_min", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("recorded_by", sa.Integer(), nullable=True),
        sa.Column("recorded_at", t, nullable=False),
        sa.CheckConstraint(
            _in("mission_type", MISSION_TYPES), name=op.f("ck_transport_mission_mission_type")
        ),
        sa.CheckConstraint(_in("vehicle", VEHICLES), name=op.f("ck_transport_mission_vehicle")),
        sa.CheckConstraint(
            "expected_min IS NULL OR (expected_min >= 1 AND expected_min <= 1440)",
            name=op.f("ck_transport_mission_expected_min"),
        ),
        _fk("transport_mission", "follows_id", "transport_mission"),
        _fk("transport_mission", "patient_id", "patient"),
        _fk("transport_mission", "referral_id", "referral"),
        _fk("transport_mission", "run_id", "run"),
        _fk("transport_mission", "recorded_by", "staff"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transport_mission")),
    )
    op.create_index(
        "ix_transport_mission_number", "transport_mission", ["mission_id", "id"], unique=False
    )
    op.create_index(
        op.f("ix_transport_mission_patient_id"), "transport_mission", ["patient_id"], unique=False
    )
    op.create_index(
        op.f("ix_transport_mission_run_id"), "transport_mission", ["run_id"], unique=False
    )
    op.create_table(
        "transport_milestone",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mission_id", sa.Integer(), nullable=False),
        sa.Column("milestone", sa.String(length=24), nullable=False),
        sa.Column("at", t, nullable=False),
        sa.Column("corrects_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("recorded_by", sa.Integer(), nullable=True),
        sa.Column("recorded_at", t, nullable=False),
        sa.CheckConstraint(
            _in("milestone", MILESTONES), name=op.f("ck_transport_milestone_milestone")
        ),
        sa.CheckConstraint(
            "corrects_id IS NULL OR reason IS NOT NULL",
            name=op.f("ck_transport_milestone_correction_reason"),
        ),
        _fk("transport_milestone", "mission_id", "transport_mission"),
        _fk("transport_milestone", "corrects_id", "transport_milestone"),
        _fk("transport_milestone", "recorded_by", "staff"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transport_milestone")),
    )
    op.create_index(
        "ix_transport_milestone_mission",
        "transport_milestone",
        ["mission_id", "milestone"],
        unique=False,
    )
    op.create_table(
        "transport_checklist",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mission_id", sa.Integer(), nullable=False),
        sa.Column("inputs", sa.JSON(), nullable=False),
        sa.Column("items", sa.JSON(), nullable=False),
        sa.Column("all_passed", sa.Boolean(), nullable=False),
        sa.Column("signed_by", sa.Integer(), nullable=True),
        sa.Column("signed_at", t, nullable=False),
        _fk("transport_checklist", "mission_id", "transport_mission"),
        _fk("transport_checklist", "signed_by", "staff"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transport_checklist")),
    )
    op.create_index(
        op.f("ix_transport_checklist_mission_id"),
        "transport_checklist",
        ["mission_id"],
        unique=False,
    )
    op.create_table(
        "transport_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mission_id", sa.Integer(), nullable=False),
        sa.Column("at", t, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("recorded_by", sa.Integer(), nullable=True),
        sa.Column("recorded_at", t, nullable=False),
        sa.CheckConstraint(_in("kind", EVENT_KINDS), name=op.f("ck_transport_event_kind")),
        _fk("transport_event", "mission_id", "transport_mission"),
        _fk("transport_event", "recorded_by", "staff"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transport_event")),
    )
    op.create_index(
        op.f("ix_transport_event_mission_id"), "transport_event", ["mission_id"], unique=False
    )
    op.create_table(
        "transport_handover",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mission_id", sa.Integer(), nullable=False),
        sa.Column("at", t, nullable=False),
        sa.Column("to_name", sa.String(length=200), nullable=False),
        sa.Column("to_discipline", sa.String(length=32), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("corrects_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("recorded_by", sa.Integer(), nullable=True),
        sa.Column("recorded_at", t, nullable=False),
        sa.CheckConstraint(
            "corrects_id IS NULL OR reason IS NOT NULL",
            name=op.f("ck_transport_handover_correction_reason"),
        ),
        _fk("transport_handover", "mission_id", "transport_mission"),
        _fk("transport_handover", "corrects_id", "transport_handover"),
        _fk("transport_handover", "recorded_by", "staff"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transport_handover")),
    )
    op.create_index(
        op.f("ix_transport_handover_mission_id"),
        "transport_handover",
        ["mission_id"],
        unique=False,
    )
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
    for name in ("transport_handover", "transport_event", "transport_checklist"):
        op.drop_index(op.f(f"ix_{name}_mission_id"), table_name=name)
        op.drop_table(name)
    op.drop_index("ix_transport_milestone_mission", table_name="transport_milestone")
    op.drop_table("transport_milestone")
    op.drop_index(op.f("ix_transport_mission_run_id"), table_name="transport_mission")
    op.drop_index(op.f("ix_transport_mission_patient_id"), table_name="transport_mission")
    op.drop_index("ix_transport_mission_number", table_name="transport_mission")
    op.drop_table("transport_mission")
