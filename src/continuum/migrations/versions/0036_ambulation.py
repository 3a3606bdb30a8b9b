"""ambulation: ECMO ambulation and physiotherapy sessions

* ``ambulation_session``: append-only versions of a session (``follows_id`` names the
  version it corrects, ``session_no`` the session's first row): times, ICU Mobility Scale
  level reached (0–10), the pre-session safety check, events, stopped early with a reason.
* ``clinical_event.kind`` also allows ``ambulation.session_recorded`` and
  ``ambulation.session_amended``.

Revision ID: 0035_ambulation
Revises: 0035_textrelease
Create Date: 2026-12-04 13:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import continuum.db

revision: str = "0035_ambulation"
down_revision: str | None = "0035_textrelease"
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
)  # fmt: skip
NEW_KINDS = ("ambulation.session_recorded", "ambulation.session_amended")


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
        "ambulation_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_no", sa.Integer(), nullable=True),
        sa.Column("follows_id", sa.Integer(), nullable=True),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("started_at", t, nullable=False),
        sa.Column("ended_at", t, nullable=False),
        sa.Column("ims_level", sa.Integer(), nullable=False),
        sa.Column("safety", sa.JSON(), nullable=False),
        sa.Column("safety_reason", sa.Text(), nullable=True),
        sa.Column("events", sa.JSON(), nullable=False),
        sa.Column("stopped_early", sa.Boolean(), nullable=False),
        sa.Column("stop_reason", sa.Text(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("amend_reason", sa.Text(), nullable=True),
        sa.Column("recorded_by", sa.Integer(), nullable=True),
        sa.Column("recorded_at", t, nullable=False),
        sa.CheckConstraint(
            "ims_level >= 0 AND ims_level <= 10", name=op.f("ck_ambulation_session_ims_level")
        ),
        sa.CheckConstraint("ended_at > started_at", name=op.f("ck_ambulation_session_times")),
        sa.CheckConstraint(
            "NOT stopped_early OR stop_reason IS NOT NULL",
            name=op.f("ck_ambulation_session_stop_reason"),
        ),
        sa.CheckConstraint(
            "follows_id IS NULL OR amend_reason IS NOT NULL",
            name=op.f("ck_ambulation_session_amend_reason"),
        ),
        sa.ForeignKeyConstraint(
            ["follows_id"],
            ["ambulation_session.id"],
            name=op.f("fk_ambulation_session_follows_id_ambulation_session"),
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["run.id"], name=op.f("fk_ambulation_session_run_id_run")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by"], ["staff.id"], name=op.f("fk_ambulation_session_recorded_by_staff")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ambulation_session")),
    )
    op.create_index(
        "ix_ambulation_session_run", "ambulation_session", ["run_id", "session_no"], unique=False
    )
    op.create_index(
        op.f("ix_ambulation_session_session_no"), "ambulation_session", ["session_no"],
        unique=False,
    )  # fmt: skip
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
    op.drop_index(op.f("ix_ambulation_session_session_no"), table_name="ambulation_session")
    op.drop_index("ix_ambulation_session_run", table_name="ambulation_session")
    op.drop_table("ambulation_session")
