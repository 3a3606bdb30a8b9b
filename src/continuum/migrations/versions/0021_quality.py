"""quality: the adverse-event register and its amendments; clinical event kinds for
adverse events and M&M reviews

* ``adverse_event``: the report as first entered (never changed), with its run, patient,
  code and category from our taxonomy, event class, harm, optional preventability, time
  (and whether it is estimated), the circuit part involved, how it was detected and the
  record it was raised from.
* ``adverse_event_amendment``: corrections and review consensus, one field each.
* ``clinical_event.kind`` also allows ``adverse_event.recorded``, ``adverse_event.amended``
  and ``review.signed``.

Revision ID: 0021_quality
Revises: 0018_hl7_conformance
Create Date: 2026-12-04 04:50:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import continuum.db

revision: str = "0021_quality"
down_revision: str | None = "0018_hl7_conformance"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KINDS_0018 = (
    "referral.received", "referral.status_changed", "decision.recorded", "decision.signed",
    "decision.amended", "decision.reassessed", "run.started", "run.ended", "mode.changed",
    "cannula.inserted", "component.added", "component.replaced", "observation.entered",
    "observation.amended", "alert.raised", "alert.escalated", "alert.acknowledged",
    "alert.cleared", "alert.resolved", "circuit_check.signed", "transfusion.recorded",
    "round.signed", "round.amended", "action.raised", "action.completed",
    "weaning.trial_started", "weaning.step", "weaning.assessed", "weaning.trial_ended",
    "decannulation.recorded", "decannulation.signed", "follow_up.completed",
)  # fmt: skip
# The closed lists as they were at this revision (frozen: a later taxonomy change
# comes with its own migration).
CODE_NAMES = (
    "mech_ml_failure",
    "mech_ml_clot",
    "mech_ml_rising_gradient",
    "mech_pump_failure",
    "mech_pump_clot",
    "mech_console_failure",
    "mech_heater_failure",
    "mech_raceway_rupture",
    "mech_tubing_rupture",
    "mech_circuit_clot",
    "mech_connector_crack",
    "mech_haemofilter_clot",
    "mech_air",
    "mech_access_obstruction",
    "mech_cannula_problem",
    "mech_cannula_misplacement",
    "mech_cannula_dislodgement",
    "mech_recirculation",
    "mech_circuit_change",
    "haem_gi",
    "haem_surgical_site",
    "haem_peripheral_cannula_site",
    "haem_mediastinal_cannula_site",
    "haem_major_other",
    "neuro_brain_death",
    "neuro_seizure_clinical",
    "neuro_seizure_eeg",
    "neuro_infarction",
    "neuro_ivh",
    "neuro_parenchymal_haemorrhage",
    "neuro_diffuse_ischaemia",
    "neuro_neurosurgery",
    "renal_creatinine_1_5_to_3",
    "renal_creatinine_over_3",
    "renal_rrt",
    "cv_cpr",
    "cv_arrhythmia",
    "cv_tamponade_blood",
    "cv_tamponade_other",
    "cv_lv_distension",
    "pulm_pneumothorax",
    "pulm_haemorrhage",
    "inf_wbc_low",
    "inf_cannula_site",
    "inf_bloodstream",
    "inf_vap",
    "metab_hyperbilirubinaemia",
    "metab_haemolysis_moderate",
    "metab_haemolysis_severe",
    "limb_ischaemia",
    "limb_compartment",
    "limb_fasciotomy",
    "limb_amputation",
    "other",
)
CATEGORIES = (
    "mechanical",
    "haemorrhagic",
    "neurological",
    "renal",
    "cardiovascular",
    "pulmonary",
    "infectious",
    "metabolic",
    "limb",
    "other",
)
EVENT_CLASSES = (
    "incident",
    "near_miss",
    "unsafe_condition",
)
HARMS = (
    "none",
    "mild",
    "moderate",
    "severe",
    "death",
    "insufficient_detail",
)
PREVENTABILITIES = (
    "not_preventable",
    "possibly",
    "probably",
    "definitely",
)
DETECTIONS = (
    "alert",
    "circuit_check",
    "round",
    "bedside",
    "weaning",
    "retrospective",
)
SOURCES = (
    "alert",
    "circuit_check",
    "component",
    "weaning_trial",
    "transfusion",
    "round",
)
AMENDABLE_FIELDS = (
    "code",
    "event_class",
    "harm",
    "preventability",
    "occurred_at",
    "time_estimated",
    "component_id",
    "cannula_id",
    "detected_by",
    "description",
    "immediate_actions",
)
AMENDMENT_KINDS = (
    "correction",
    "consensus",
)
NEW_KINDS = ("adverse_event.recorded", "adverse_event.amended", "review.signed")


def _in(column: str, kinds: Sequence[str]) -> str:
    return f"{column} IN ({', '.join(repr(k) for k in kinds)})"


def sql_in(column: str, values: Sequence[str]) -> str:
    return _in(column, values)


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
        "adverse_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=48), nullable=False),
        sa.Column("category", sa.String(length=24), nullable=False),
        sa.Column("event_class", sa.String(length=24), nullable=False),
        sa.Column("harm", sa.String(length=24), nullable=False),
        sa.Column("preventability", sa.String(length=24), nullable=True),
        sa.Column("occurred_at", continuum.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("time_estimated", sa.Boolean(), nullable=False),
        sa.Column("component_id", sa.Integer(), nullable=True),
        sa.Column("cannula_id", sa.Integer(), nullable=True),
        sa.Column("detected_by", sa.String(length=24), nullable=False),
        sa.Column("source_type", sa.String(length=24), nullable=True),
        sa.Column("source_id", sa.Integer(), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("immediate_actions", sa.Text(), nullable=True),
        sa.Column("recorded_by", sa.Integer(), nullable=True),
        sa.Column("recorded_at", continuum.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(sql_in("code", CODE_NAMES), name=op.f("ck_adverse_event_code")),
        sa.CheckConstraint(sql_in("category", CATEGORIES), name=op.f("ck_adverse_event_category")),
        sa.CheckConstraint(
            sql_in("event_class", EVENT_CLASSES), name=op.f("ck_adverse_event_event_class")
        ),
        sa.CheckConstraint(sql_in("harm", HARMS), name=op.f("ck_adverse_event_harm")),
        sa.CheckConstraint(
            f"preventability IS NULL OR {sql_in('preventability', PREVENTABILITIES)}",
            name=op.f("ck_adverse_event_preventability"),
        ),
        sa.CheckConstraint(
            sql_in("detected_by", DETECTIONS), name=op.f("ck_adverse_event_detected_by")
        ),
        sa.CheckConstraint(
            f"source_type IS NULL OR {sql_in('source_type', SOURCES)}",
            name=op.f("ck_adverse_event_source_type"),
        ),
        sa.CheckConstraint(
            "(source_type IS NULL) = (source_id IS NULL)",
            name=op.f("ck_adverse_event_source_pair"),
        ),
        sa.CheckConstraint("version >= 1", name=op.f("ck_adverse_event_version")),
        sa.ForeignKeyConstraint(
            ["cannula_id"], ["cannula.id"], name=op.f("fk_adverse_event_cannula_id_cannula")
        ),
        sa.ForeignKeyConstraint(
            ["component_id"],
            ["component.id"],
            name=op.f("fk_adverse_event_component_id_component"),
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patient.id"], name=op.f("fk_adverse_event_patient_id_patient")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by"], ["staff.id"], name=op.f("fk_adverse_event_recorded_by_staff")
        ),
        sa.ForeignKeyConstraint(["run_id"], ["run.id"], name=op.f("fk_adverse_event_run_id_run")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_adverse_event")),
    )
    op.create_index(
        "ix_adverse_event_run_time", "adverse_event", ["run_id", "occurred_at"], unique=False
    )
    op.create_index(
        "ix_adverse_event_source", "adverse_event", ["source_type", "source_id"], unique=False
    )
    op.create_index(
        op.f("ix_adverse_event_patient_id"), "adverse_event", ["patient_id"], unique=False
    )
    op.create_table(
        "adverse_event_amendment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("field", sa.String(length=32), nullable=False),
        sa.Column("value", sa.Text(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("review_id", sa.Integer(), nullable=True),
        sa.Column("by", sa.Integer(), nullable=True),
        sa.Column("at", continuum.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            sql_in("field", AMENDABLE_FIELDS), name=op.f("ck_adverse_event_amendment_field")
        ),
        sa.CheckConstraint(
            sql_in("kind", AMENDMENT_KINDS), name=op.f("ck_adverse_event_amendment_kind")
        ),
        sa.ForeignKeyConstraint(
            ["by"], ["staff.id"], name=op.f("fk_adverse_event_amendment_by_staff")
        ),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["adverse_event.id"],
            name=op.f("fk_adverse_event_amendment_event_id_adverse_event"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_adverse_event_amendment")),
    )
    op.create_index(
        "ix_adverse_event_amendment_event",
        "adverse_event_amendment",
        ["event_id", "at"],
        unique=False,
    )
    _set_kinds(op.get_bind(), (*KINDS_0018, *NEW_KINDS))


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
    _set_kinds(conn, KINDS_0018)
    op.drop_index("ix_adverse_event_amendment_event", table_name="adverse_event_amendment")
    op.drop_table("adverse_event_amendment")
    op.drop_index(op.f("ix_adverse_event_patient_id"), table_name="adverse_event")
    op.drop_index("ix_adverse_event_source", table_name="adverse_event")
    op.drop_index("ix_adverse_event_run_time", table_name="adverse_event")
    op.drop_table("adverse_event")
