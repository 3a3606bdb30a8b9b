"""timeline finished: the old timeline_event table retired, new clinical event kinds,
hand-entered transfusions

1. ``timeline_event`` (the run-level timeline of 0001, superseded by ``clinical_event`` in
   0017) is dropped only after every one of its rows is known to be on the clinical
   timeline: a row whose source record already has the matching clinical event is left;
   one without is copied over (its kind mapped, its summary, time and author kept). A row
   of a kind with no clinical equivalent stops the upgrade, naming it.
2. ``clinical_event`` accepts ``referral.status_changed``, ``decision.reassessed`` and
   ``follow_up.completed``; those events are back-filled from the stored records.
3. ``rounds_transfusion``: a transfusion entered on its own (product, units / mL, time,
   reason).

Downgrade restores ``timeline_event`` from the clinical events it used to hold, and drops
the events of the new kinds and the transfusions table (their records stay).

Revision ID: 0018_timeline_board
Revises: 0017
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import continuum.db

revision: str = "0018_timeline_board"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_KINDS = (
    "referral", "cannulation", "run_start", "mode_change", "component_change",
    "cannula_change", "procedure", "transport", "weaning_trial", "decannulation", "death",
    "discharge", "note",
)  # fmt: skip
KINDS_0017 = (
    "referral.received", "decision.recorded", "decision.signed", "decision.amended",
    "run.started", "run.ended", "mode.changed", "cannula.inserted", "component.added",
    "component.replaced", "observation.entered", "observation.amended", "alert.raised",
    "alert.escalated", "alert.acknowledged", "alert.cleared", "alert.resolved",
    "circuit_check.signed", "transfusion.recorded", "round.signed", "round.amended",
    "action.raised", "action.completed", "weaning.trial_started", "weaning.step",
    "weaning.assessed", "weaning.trial_ended", "decannulation.recorded", "decannulation.signed",
)  # fmt: skip
NEW_KINDS = ("referral.status_changed", "decision.reassessed", "follow_up.completed")
# Old kind → the clinical event kinds that hold the same fact (first: the one copied to).
OLD_TO_NEW: dict[str, tuple[str, ...]] = {
    "referral": ("referral.received",),
    "cannulation": ("run.started",),
    "run_start": ("run.started",),
    "mode_change": ("mode.changed",),
    "component_change": ("component.added", "component.replaced"),
    "cannula_change": ("cannula.inserted",),
    "weaning_trial": ("weaning.trial_started", "weaning.trial_ended"),
    "decannulation": ("run.ended",),
    "death": ("run.ended",),
}

T = continuum.db.UTCDateTime(timezone=True)
OLD = sa.table(
    "timeline_event",
    *(sa.column(c) for c in ("id", "patient_id", "run_id", "kind", "summary", "record_type",
                             "record_id", "recorded_by")),
    sa.column("occurred_at", T), sa.column("recorded_at", T), sa.column("details", sa.JSON()),
)  # fmt: skip
EVENT = sa.table(
    "clinical_event",
    *(sa.column(c) for c in ("id", "patient_id", "run_id", "kind", "staff_id", "by_name",
                             "discipline", "record_type", "record_id", "summary")),
    sa.column("clinical_time", T), sa.column("recorded_at", T), sa.column("details", sa.JSON()),
)  # fmt: skip
STAFF = sa.table("staff", sa.column("id"), sa.column("name"), sa.column("discipline"))


def _in(column: str, kinds: Sequence[str]) -> str:
    return f"{column} IN ({', '.join(repr(k) for k in kinds)})"


def upgrade() -> None:
    conn = op.get_bind()
    _carry_over_old_timeline(conn)
    with op.batch_alter_table("timeline_event", schema=None) as batch_op:
        batch_op.drop_index("ix_timeline_run_time")
        batch_op.drop_index(batch_op.f("ix_timeline_event_patient_id"))
    op.drop_table("timeline_event")

    _set_kinds(conn, (*KINDS_0017, *NEW_KINDS))

    op.create_table(
        "rounds_transfusion",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("product", sa.String(length=24), nullable=False),
        sa.Column("units", sa.Float(), nullable=True),
        sa.Column("volume_ml", sa.Float(), nullable=True),
        sa.Column("given_at", T, nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("recorded_by", sa.Integer(), nullable=True),
        sa.Column("recorded_at", T, nullable=False),
        sa.CheckConstraint(
            "product IN ('red_cells', 'platelets', 'plasma', 'cryoprecipitate')",
            name=op.f("ck_rounds_transfusion_product"),
        ),
        sa.CheckConstraint(
            "units IS NOT NULL OR volume_ml IS NOT NULL", name=op.f("ck_rounds_transfusion_amount")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by"], ["staff.id"], name=op.f("fk_rounds_transfusion_recorded_by_staff")
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["run.id"], name=op.f("fk_rounds_transfusion_run_id_run")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rounds_transfusion")),
    )
    with op.batch_alter_table("rounds_transfusion", schema=None) as batch_op:
        batch_op.create_index(
            "ix_rounds_transfusion_run_time", ["run_id", "given_at"], unique=False
        )

    from continuum.core.clinical_backfill import backfill

    backfill(conn, only=frozenset(NEW_KINDS))


def _carry_over_old_timeline(conn: sa.Connection) -> None:
    """Every old row onto the clinical timeline before its table goes (see the docstring)."""
    have = {
        (r.kind, r.record_type, r.record_id)
        for r in conn.execute(sa.select(EVENT.c.kind, EVENT.c.record_type, EVENT.c.record_id))
    }
    staff = {r.id: r for r in conn.execute(sa.select(STAFF))}
    copies, lost = [], []
    for row in conn.execute(sa.select(OLD).order_by(OLD.c.id)):
        targets = OLD_TO_NEW.get(row.kind)
        if targets is None:
            lost.append(f"{row.id} ({row.kind}: {row.summary})")
            continue
        if row.record_type and any((k, row.record_type, row.record_id) in have for k in targets):
            continue
        kind = targets[0]
        if row.kind == "weaning_trial" and (row.details or {}).get("outcome"):
            kind = "weaning.trial_ended"
        person = staff.get(row.recorded_by)
        copies.append(
            {
                "patient_id": row.patient_id,
                "run_id": row.run_id,
                "kind": kind,
                "clinical_time": row.occurred_at,
                "recorded_at": row.recorded_at,
                "staff_id": person.id if person else None,
                "by_name": person.name if person else None,
                "discipline": person.discipline if person else None,
                "record_type": row.record_type or "timeline_event",
                "record_id": row.record_id if row.record_id is not None else row.id,
                "summary": row.summary,
                "details": {**(row.details or {}), "timeline_event_id": row.id},
            }
        )
    if lost:
        raise RuntimeError(
            "timeline_event rows of kinds with no clinical event kind: "
            + "; ".join(lost[:20])
            + ". Nothing was changed; copy them into clinical_event by hand, then upgrade."
        )
    if copies:
        conn.execute(sa.insert(EVENT), copies)


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


def _without_append_only_guard(conn: sa.Connection, sql: str) -> None:
    """Run one statement on clinical_event with its append-only triggers lifted (downgrade
    only: events of kinds the older schema does not know are removed)."""
    if conn.dialect.name == "sqlite":
        for verb in ("update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS clinical_event_no_{verb}")
        op.execute(sql)
        return
    op.execute("ALTER TABLE clinical_event DISABLE TRIGGER clinical_event_append_only")
    op.execute(sql)
    op.execute("ALTER TABLE clinical_event ENABLE TRIGGER clinical_event_append_only")


def downgrade() -> None:
    conn = op.get_bind()
    with op.batch_alter_table("rounds_transfusion", schema=None) as batch_op:
        batch_op.drop_index("ix_rounds_transfusion_run_time")
    op.drop_table("rounds_transfusion")
    _without_append_only_guard(
        conn,
        "DELETE FROM clinical_event WHERE "
        + _in("kind", NEW_KINDS)
        + " OR record_type = 'transfusion'",
    )
    _set_kinds(conn, KINDS_0017)  # on SQLite this also restores the triggers

    op.create_table(
        "timeline_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("occurred_at", T, nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=True),
        sa.Column("record_type", sa.String(length=32), nullable=True),
        sa.Column("record_id", sa.Integer(), nullable=True),
        sa.Column("recorded_by", sa.Integer(), nullable=True),
        sa.Column("recorded_at", T, nullable=False),
        sa.CheckConstraint(_in("kind", OLD_KINDS), name=op.f("ck_timeline_event_kind")),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patient.id"], name=op.f("fk_timeline_event_patient_id_patient")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by"], ["staff.id"], name=op.f("fk_timeline_event_recorded_by_staff")
        ),
        sa.ForeignKeyConstraint(["run_id"], ["run.id"], name=op.f("fk_timeline_event_run_id_run")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_timeline_event")),
    )
    with op.batch_alter_table("timeline_event", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_timeline_event_patient_id"), ["patient_id"], unique=False
        )
        batch_op.create_index("ix_timeline_run_time", ["run_id", "occurred_at"], unique=False)
    _restore_old_timeline(conn)


def _restore_old_timeline(conn: sa.Connection) -> None:
    """The old table's rows again, from the clinical events that held the same facts."""
    back = {
        "referral.received": "referral", "run.started": "run_start",
        "mode.changed": "mode_change", "component.added": "component_change",
        "component.replaced": "component_change", "cannula.inserted": "cannula_change",
        "weaning.trial_started": "weaning_trial", "weaning.trial_ended": "weaning_trial",
    }  # fmt: skip
    rows = []
    stmt = sa.select(EVENT).where(EVENT.c.kind.in_([*back, "run.ended"])).order_by(EVENT.c.id)
    for e in conn.execute(stmt):
        kind = back.get(e.kind)
        if e.kind == "run.ended":
            died = (e.details or {}).get("outcome") == "died_on_ecmo"
            kind = "death" if died else "decannulation"
        rows.append(
            {
                "patient_id": e.patient_id,
                "run_id": e.run_id,
                "kind": kind,
                "occurred_at": e.clinical_time,
                "summary": e.summary,
                "details": e.details,
                "record_type": e.record_type[:32],
                "record_id": e.record_id,
                "recorded_by": e.staff_id,
                "recorded_at": e.recorded_at,
            }
        )
    old = sa.table(
        "timeline_event",
        *(sa.column(c) for c in ("patient_id", "run_id", "kind", "summary", "record_type",
                                 "record_id", "recorded_by")),
        sa.column("occurred_at", T), sa.column("recorded_at", T),
        sa.column("details", sa.JSON()),
    )  # fmt: skip
    if rows:
        conn.execute(sa.insert(old), rows)
