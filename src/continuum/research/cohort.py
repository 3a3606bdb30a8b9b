"""The cohort builder: a definition (support type, mode, dates, outcome, complications, age
group, devices, data availability), the runs it holds, their count as it is refined, and
saved cohorts (name, definition, who, when; every save audited).

The runs are found from the record each time (nothing cached), so a count or an export
always reflects the record as it is now. Age groups use the same bounds as the programme
metrics (neonatal ≤ 28 days, paediatric < 18 years, adult), age at the start of the run.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from sqlalchemy import exists, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.sql import Select

from continuum.core import audit, outcome_scores
from continuum.core.people import PatientIdentity
from continuum.core.record import Observation
from continuum.core.roles import Actor, Permission
from continuum.core.run_record import Component, ModeSegment, Run, not_training
from continuum.core.vocab import MODES, OUTCOMES, SUPPORT_TYPES
from continuum.errors import Conflict, FieldProblem, NotFound, ValidationFailed
from continuum.initiation.models import InitiationDecision
from continuum.quality.adverse_event_record import AdverseEvent
from continuum.research.cohort_record import SavedCohort
from continuum.scores import resp as resp_score
from continuum.scores import save as save_score

AGE_GROUPS: tuple[str, ...] = ("neonatal", "paediatric", "adult")
AGE_GROUP_LABELS = {
    "neonatal": "neonatal (≤ 28 days)",
    "paediatric": "paediatric (29 days – 17 years)",
    "adult": "adult (≥ 18 years)",
}
NEONATAL_DAYS = 28
ADULT_YEARS = 18
COMPLICATIONS = ("any", "none")
# Sources of 1-minute circuit data (a console feed), as against hand-entered values.
DEVICE_SOURCES: tuple[str, ...] = ("console", "hl7", "csv", "mqtt", "simulator", "fhir")
MINUTE_DATA_CODE = "blood_flow"

# The diagnosis groups entered with the RESP (respiratory) or SAVE (cardiac) score at
# initiation, and the risk classes those scores put a run in.
_SAVE_KEYS = {k: "other_cardiac" if k == "other" else k for k in save_score.DIAGNOSIS_POINTS}
DIAGNOSIS_LABELS: dict[str, str] = {
    **{k: f"{k.replace('_', ' ')} (RESP)" for k in resp_score.DIAGNOSIS_POINTS},
    **{key: f"{key.replace('_', ' ')} (SAVE)" for key in _SAVE_KEYS.values()},
}
RISK_CLASSES: tuple[str, ...] = (
    *(f"RESP {c.numeral}" for c in resp_score.CLASSES),
    *(f"SAVE {c.numeral}" for c in save_score.CLASSES),
)
SupportType = Literal[SUPPORT_TYPES]  # type: ignore[valid-type]
Diagnosis = Literal[tuple(DIAGNOSIS_LABELS)]  # type: ignore[valid-type]
RiskClassName = Literal[RISK_CLASSES]  # type: ignore[valid-type]
Mode = Literal[MODES]  # type: ignore[valid-type]
Outcome = Literal[(*OUTCOMES, "ongoing")]  # type: ignore[valid-type]
AgeGroup = Literal[AGE_GROUPS]  # type: ignore[valid-type]


class CohortDefinition(BaseModel):
    """Which runs a cohort holds. Empty lists and nulls mean "any"."""

    model_config = ConfigDict(extra="forbid")

    support_types: list[SupportType] = Field(default_factory=list, description="any of these")
    modes: list[Mode] = Field(
        default_factory=list, description="runs that were in any of these modes at any time"
    )
    started_from: date | None = Field(None, description="run started on or after (local day)")
    started_to: date | None = Field(None, description="run started on or before (local day)")
    outcomes: list[Outcome] = Field(
        default_factory=list, description="any of these ('ongoing' = not ended)"
    )
    complications: Literal["any", "none"] | None = Field(
        None, description="any = at least one adverse event in the register; none = none"
    )
    age_groups: list[AgeGroup] = Field(default_factory=list, description="age at run start")
    membrane_lung_model: str | None = Field(
        None, max_length=100, description="a membrane lung whose make or model contains this"
    )
    device_model: str | None = Field(
        None, max_length=100, description="any circuit component whose make or model contains this"
    )
    has_minute_data: bool = Field(
        False, description="only runs with 1-minute circuit data (a console feed of blood flow)"
    )
    diagnoses: list[Diagnosis] = Field(
        default_factory=list,
        description="any of these diagnosis groups, as entered with the RESP or SAVE score at "
        "initiation",
    )
    risk_classes: list[RiskClassName] = Field(
        default_factory=list,
        description="any of these risk classes of the RESP or SAVE score at initiation "
        "(e.g. 'RESP II')",
    )

    @field_validator("membrane_lung_model", "device_model")
    @classmethod
    def _blank(cls, value: str | None) -> str | None:
        return value.strip() or None if value else None

    @model_validator(mode="after")
    def _order(self) -> CohortDefinition:
        if self.started_from and self.started_to and self.started_to < self.started_from:
            raise ValueError(
                f"started_to {self.started_to} is before started_from {self.started_from}"
            )
        return self

    def summary(self) -> str:
        """The definition in words, for pages and manifests."""
        parts = []
        if self.support_types:
            parts.append("support " + " or ".join(self.support_types))
        if self.modes:
            parts.append("mode " + " or ".join(self.modes))
        if self.started_from or self.started_to:
            parts.append(f"started {self.started_from or '…'} to {self.started_to or '…'}")
        if self.outcomes:
            parts.append("outcome " + " or ".join(self.outcomes))
        if self.complications:
            parts.append(
                "with complications" if self.complications == "any" else "no complications"
            )
        if self.age_groups:
            parts.append(" or ".join(self.age_groups))
        if self.membrane_lung_model:
            parts.append(f"membrane lung '{self.membrane_lung_model}'")
        if self.device_model:
            parts.append(f"device '{self.device_model}'")
        if self.has_minute_data:
            parts.append("with 1-minute circuit data")
        if self.diagnoses:
            parts.append("diagnosis " + " or ".join(DIAGNOSIS_LABELS[d] for d in self.diagnoses))
        if self.risk_classes:
            parts.append("risk class " + " or ".join(self.risk_classes))
        return "; ".join(parts) or "every run"


def _local_start(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone)


def _like(text: str) -> str:
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _component_matches(kind: str | None, text: str) -> Any:
    pattern = _like(text)
    cond = [
        Component.run_id == Run.id,
        or_(
            func.lower(func.coalesce(Component.model, "")).like(pattern, escape="\\"),
            func.lower(func.coalesce(Component.make, "")).like(pattern, escape="\\"),
        ),
    ]
    if kind:
        cond.append(Component.kind == kind)
    return exists().where(*cond)


def runs_query(definition: CohortDefinition, zone: ZoneInfo) -> Select[Any]:
    """(run id, start, birth date) of the runs matching everything but the age group."""
    d = definition
    stmt = (
        select(Run.id, Run.started_at, PatientIdentity.birth_date)
        .outerjoin(PatientIdentity, PatientIdentity.patient_id == Run.patient_id)
        .where(not_training())
        .order_by(Run.id)
    )
    if d.support_types:
        stmt = stmt.where(Run.support_type.in_(d.support_types))
    if d.modes:
        stmt = stmt.where(
            exists().where(ModeSegment.run_id == Run.id, ModeSegment.mode.in_(d.modes))
        )
    if d.started_from:
        stmt = stmt.where(Run.started_at >= _local_start(d.started_from, zone))
    if d.started_to:
        stmt = stmt.where(Run.started_at < _local_start(d.started_to + timedelta(days=1), zone))
    if d.outcomes:
        ended = [o for o in d.outcomes if o != "ongoing"]
        cond = [Run.outcome.in_(ended)] if ended else []
        if "ongoing" in d.outcomes:
            cond.append(Run.status != "ended")
        stmt = stmt.where(or_(*cond))
    if d.complications:
        any_event = exists().where(AdverseEvent.run_id == Run.id)
        stmt = stmt.where(any_event if d.complications == "any" else ~any_event)
    if d.membrane_lung_model:
        stmt = stmt.where(_component_matches("membrane_lung", d.membrane_lung_model))
    if d.device_model:
        stmt = stmt.where(_component_matches(None, d.device_model))
    if d.has_minute_data:
        stmt = stmt.where(
            exists().where(
                Observation.run_id == Run.id,
                Observation.code == MINUTE_DATA_CODE,
                Observation.status == "final",
                Observation.source.in_(DEVICE_SOURCES),
            )
        )
    return stmt


def age_group(birth: date | None, at: date) -> str | None:
    if birth is None:
        return None
    if (at - birth).days <= NEONATAL_DAYS:
        return "neonatal"
    years = at.year - birth.year - ((at.month, at.day) < (birth.month, birth.day))
    return "adult" if years >= ADULT_YEARS else "paediatric"


def run_ids(db: Session, definition: CohortDefinition, zone: ZoneInfo) -> list[int]:
    """The ids of the runs the definition holds, in order."""
    rows = db.execute(runs_query(definition, zone)).all()
    if definition.age_groups:
        wanted = set(definition.age_groups)
        rows = [
            r for r in rows
            if age_group(r.birth_date, r.started_at.astimezone(zone).date()) in wanted
        ]  # fmt: skip
    ids = [r.id for r in rows]
    if definition.diagnoses:
        found = diagnoses_of(db, ids)
        wanted = set(definition.diagnoses)
        ids = [i for i in ids if found.get(i, set()) & wanted]
    if definition.risk_classes and ids:
        classes = risk_classes_of(db, ids)
        ids = [i for i in ids if classes.get(i) in definition.risk_classes]
    return ids


def diagnoses_of(db: Session, ids: list[int]) -> dict[int, set[str]]:
    """Each run's diagnosis groups as entered with its RESP or SAVE score at initiation."""
    out: dict[int, set[str]] = {}
    for chunk in (ids[i : i + 900] for i in range(0, len(ids), 900)):
        stmt = select(InitiationDecision.run_id, InitiationDecision.score_inputs).where(
            InitiationDecision.run_id.in_(chunk)
        )
        for run_id, inputs in db.execute(stmt):
            groups: set[str] = set()
            resp = (inputs or {}).get("resp")
            if isinstance(resp, dict) and isinstance(resp.get("diagnosis"), str):
                groups.add(resp["diagnosis"])
            save = (inputs or {}).get("save")
            if isinstance(save, dict):
                for d in save.get("diagnoses") or []:
                    if isinstance(d, str):
                        groups.add("other_cardiac" if d == "other" else d)
            out[run_id] = groups
    return out


def risk_classes_of(db: Session, ids: list[int]) -> dict[int, str]:
    """Each run's RESP or SAVE risk class at initiation ("RESP II"), where it has one."""
    runs = list(db.scalars(select(Run).where(Run.id.in_(ids))))
    out: dict[int, str] = {}
    for run_id, answer in outcome_scores.scores_for(db, runs).items():
        if isinstance(answer, outcome_scores.RunScore):
            out[run_id] = f"{answer.score} {answer.risk_class}"
    return out


def count(db: Session, actor: Actor, definition: CohortDefinition, zone: ZoneInfo) -> int:
    actor.require(Permission.EXPORT_DEIDENTIFIED)
    return len(run_ids(db, definition, zone))


def parse(data: dict[str, Any]) -> CohortDefinition:
    """A definition from JSON or a form; bad values refused with field, value and allowed."""
    from pydantic import ValidationError

    from continuum.errors import validation_failed

    try:
        return CohortDefinition.model_validate(data)
    except ValidationError as exc:
        failed = validation_failed(exc)
        for p in failed.problems:  # name the value given beside what is allowed
            if p.value is not None and not isinstance(p.value, dict | list):
                p.message = f"{p.message} (given: {p.value!r})"
        raise ValidationFailed(failed.problems) from None


def save(
    db: Session, actor: Actor, name: str, definition: CohortDefinition, zone: ZoneInfo
) -> SavedCohort:
    """Save a cohort under a new name; a name in use is a conflict, a blank one refused."""
    actor.require(Permission.EXPORT_DEIDENTIFIED)
    name = (name or "").strip()
    if not 1 <= len(name) <= 120:
        raise ValidationFailed([FieldProblem("title", "give a title of 1–120 characters", name)])
    if db.scalar(select(SavedCohort.id).where(SavedCohort.name == name)) is not None:
        raise Conflict(f"a cohort named '{name}' exists already; choose another name")
    row = SavedCohort(
        name=name, definition=definition.model_dump(mode="json"), created_by=actor.staff_id
    )
    db.add(row)
    try:
        db.flush()
    except IntegrityError:
        raise Conflict(f"a cohort named '{name}' exists already; choose another name") from None
    n = len(run_ids(db, definition, zone))
    audit.record(
        db, actor, "cohort.save", "research_cohort", row.id,
        detail={"name": name, "definition": row.definition, "runs": n},
    )  # fmt: skip
    return row


def list_saved(db: Session, actor: Actor) -> list[SavedCohort]:
    actor.require(Permission.EXPORT_DEIDENTIFIED)
    return list(db.scalars(select(SavedCohort).order_by(SavedCohort.created_at.desc())))


def by_name(db: Session, actor: Actor, name: str) -> SavedCohort:
    actor.require(Permission.EXPORT_DEIDENTIFIED)
    row = db.scalar(select(SavedCohort).where(SavedCohort.name == name))
    if row is None:
        known = ", ".join(db.scalars(select(SavedCohort.name).order_by(SavedCohort.name)))
        raise ValidationFailed(
            [FieldProblem("cohort", f"no saved cohort named '{name}' (saved: {known or 'none'})",
                          name)]
        )  # fmt: skip
    return row


def get(db: Session, actor: Actor, cohort_id: int) -> SavedCohort:
    actor.require(Permission.EXPORT_DEIDENTIFIED)
    row = db.get(SavedCohort, cohort_id)
    if row is None:
        raise NotFound(f"no saved cohort {cohort_id}")
    return row


def definition_of(row: SavedCohort) -> CohortDefinition:
    return CohortDefinition.model_validate(row.definition)
