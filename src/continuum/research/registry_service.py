"""The ELSO-shaped run record as a reviewer and a researcher meet it: built from the captured
record, with the reviewer's confirmations and corrections applied (append-only amendments),
completeness per run and for the programme, and the run marked ready for submission (refused
while a required field is missing, naming each). No HTTP here.

A role without VIEW_IDENTIFIERS (the researcher) reads the record de-identified: no MRN,
name or birth date ever appear (the record carries the pseudonymous label and the age), and
typed free text (a diagnosis as written, a reason) reads "hidden for your role" / null.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from dataclasses import field as dc_field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

import continuum.quality.taxonomy as taxonomy
from continuum.core import audit, free_text
from continuum.core.people import Patient
from continuum.core.roles import Actor, Permission
from continuum.core.run_record import Run, not_training
from continuum.errors import Conflict, FieldProblem, NotFound, ValidationFailed
from continuum.research import elso_codes, registry_settings
from continuum.research.registry_build import RegistryField, RegistryRecord, build
from continuum.research.registry_record import RegistryAmendment, RegistrySubmission

REASON_MAX = 1000
TEXT_MAX = 500


def elso_complication_codes() -> tuple[str, ...]:
    return tuple(sorted({str(c.elso) for c in taxonomy.CODES if c.elso is not None}, key=int))


def allowed_for(f: RegistryField) -> tuple[str, ...] | None:
    """The values a coded field may take (None: not a coded field)."""
    if f.kind != "code" or f.code_list is None:
        return None
    if f.code_list == "elso_complication":
        return elso_complication_codes()
    return elso_codes.allowed_values(f.code_list)


def get_run(db: Session, run_id: int) -> Run:
    run = db.get(Run, run_id)
    if run is None:
        raise NotFound(f"no run {run_id}")
    return run


def record_for(db: Session, actor: Actor, run_id: int) -> RegistryRecord:
    """The run's registry record with amendments applied, as ``actor`` may read it."""
    actor.require(Permission.VIEW_CLINICAL)
    run = get_run(db, run_id)
    if run.is_training:
        raise Conflict(
            f"run {run_id} is a TRAINING run (simulated patient): it has no registry record"
        )
    patient = db.get(Patient, run.patient_id)
    label = patient.label if patient else f"P-{run.patient_id:04d}"
    rec = build(db, run, registry_settings.in_force(db), label)
    _apply(rec, _amendments(db, run_id))
    _hide(rec, actor)
    return rec


def _amendments(db: Session, run_id: int) -> list[RegistryAmendment]:
    return list(
        db.scalars(
            select(RegistryAmendment)
            .where(RegistryAmendment.run_id == run_id)
            .order_by(RegistryAmendment.at, RegistryAmendment.id)
        )
    )


def _apply(rec: RegistryRecord, rows: list[RegistryAmendment]) -> None:
    fields = rec.by_key()
    for a in rows:
        f = fields.get(a.field)
        if f is None:  # the record no longer has the field (e.g. a component removed)
            continue
        f.history.append(
            {
                "id": a.id,
                "action": a.action,
                "old": a.old_value,
                "new": a.new_value,
                "reason": a.reason,
                "by": a.by_name,
                "at": a.at,
            }
        )
        if a.action == "correct":
            f.value = _typed(f, a.new_value)
            f.status = "corrected"
            f.source = f"correction {a.id} by {a.by_name} ({a.at.isoformat(timespec='minutes')})"
            f.source_kind, f.source_id, f.source_time = "amendment", str(a.id), a.at
        elif f.status in ("filled", "confirmed"):
            f.status = "confirmed"
            f.note = f"confirmed by {a.by_name} ({a.at.isoformat(timespec='minutes')})"


def _hide(rec: RegistryRecord, actor: Actor) -> None:
    if free_text.readable(actor):
        return
    for f in rec.fields:
        # typed prose: free text of the record, or text a reviewer typed into a field with no
        # closed list and no pattern (a code list or an ICD-10 pattern holds no prose)
        typed = f.kind == "text" and f.pattern is None and (f.free_text or f.typed)
        if typed and f.value is not None:
            f.value = free_text.HIDDEN
        for h in f.history:
            h["reason"] = None
            if f.kind == "text" and f.pattern is None:
                h["old"] = h["new"] = None


def _typed(f: RegistryField, text: str | None) -> Any:
    if text is None:
        return None
    if f.kind == "number":
        return float(text)
    if f.kind == "time":
        return datetime.fromisoformat(text)
    return text


def shown(value: Any) -> str | None:
    """A field value as text (amendment rows, CSV cells)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


# --- reviewing ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Review:
    field: str
    action: str  # confirm | correct
    value: Any = None
    reason: str | None = None
    # the input each part was sent in (a form's "v.run.ph_pre", the API's "reviews.0.value"),
    # so a refusal names what the sender typed
    names: dict[str, str] = dc_field(default_factory=dict)

    def name(self, part: str) -> str:
        return self.names.get(part, part)


def check_value(f: RegistryField, raw: Any, zone: ZoneInfo, name: str) -> str:
    """The corrected value as stored text, or a 422 naming the input, the value and what is
    allowed."""
    key = f.key

    def refuse(message: str) -> ValidationFailed:
        return ValidationFailed([FieldProblem(name, f"{f.label} ({key}): {message}", raw)])

    if raw is None or (isinstance(raw, str) and not raw.strip()):
        raise refuse("a correction needs a value")
    if f.kind == "number":
        try:
            number = math.nan if isinstance(raw, bool) else float(raw)
        except (TypeError, ValueError):
            number = math.nan
        if not math.isfinite(number):
            raise refuse(f"must be a number in {f.unit or 'the field unit'}")
        lo, hi = f.low, f.high
        if lo is not None and hi is not None and not lo <= number <= hi:
            raise refuse(f"{number:g} is outside {lo:g}–{hi:g} {f.unit}".strip())
        return f"{number:g}"
    if not isinstance(raw, str):
        raise refuse("must be text")
    if f.kind == "time":
        try:
            at = datetime.fromisoformat(raw.strip())
        except ValueError:
            raise refuse("must be a date and time, e.g. 2026-03-01T08:00") from None
        if at.tzinfo is None:
            at = at.replace(tzinfo=zone)
        return at.astimezone(UTC).isoformat()
    text = raw.strip()
    allowed = allowed_for(f)
    if allowed is not None and text not in allowed:
        raise refuse(f"'{text[:60]}' is not allowed; one of {', '.join(allowed)}")
    if f.pattern is not None and not re.fullmatch(f.pattern, text):
        raise refuse(f"'{text[:60]}' is not a valid {f.pattern_words}")
    if len(text) > TEXT_MAX:
        raise refuse(f"at most {TEXT_MAX} characters")
    return text


def _prepare(
    rec: RegistryRecord, r: Review, zone: ZoneInfo
) -> tuple[RegistryField, str | None, str | None]:
    f = rec.by_key().get(r.field) if isinstance(r.field, str) else None
    if f is None:
        raise ValidationFailed(
            [
                FieldProblem(
                    r.name("field"),
                    f"run {rec.run_id}'s registry record has no field '{str(r.field)[:120]}'",
                    r.field,
                )
            ]
        )
    reason = (r.reason or "").strip() or None
    if reason and len(reason) > REASON_MAX:
        raise ValidationFailed(
            [FieldProblem(r.name("reason"), f"at most {REASON_MAX} characters", None)]
        )
    if r.action == "confirm":
        if not f.filled:
            raise ValidationFailed(
                [
                    FieldProblem(
                        r.name("field"),
                        f"{f.label} ({f.key}): nothing to confirm, the "
                        "field has no value; correct it with the value instead",
                        f.key,
                    )
                ]
            )
        return f, None, reason
    if r.action != "correct":
        raise ValidationFailed(
            [FieldProblem(r.name("action"), "one of confirm, correct", r.action)]
        )
    new = check_value(f, r.value, zone, r.name("value"))
    if not reason:
        raise ValidationFailed(
            [
                FieldProblem(
                    r.name("reason"),
                    f"{f.label} ({f.key}): a correction needs a "
                    "reason (e.g. where the value was found)",
                    None,
                )
            ]
        )
    return f, new, reason


def review(
    db: Session, actor: Actor, run_id: int, reviews: list[Review], zone: ZoneInfo
) -> list[RegistryAmendment]:
    """Confirm values shown or correct them: one new amendment row each, nothing
    overwritten. Every problem of every review is reported together; none is saved then."""
    actor.require(Permission.REVIEW_REGISTRY)
    rec = record_for(db, actor, run_id)
    if not reviews:
        raise ValidationFailed([FieldProblem("reviews", "nothing to confirm or correct", None)])
    problems: list[FieldProblem] = []
    ready: list[tuple[RegistryField, str, str | None, str | None]] = []
    for r in reviews:
        try:
            f, new, reason = _prepare(rec, r, zone)
        except ValidationFailed as exc:
            problems += exc.problems
            continue
        ready.append((f, r.action, new, reason))
    if problems:
        raise ValidationFailed(problems)
    run = get_run(db, run_id)
    rows = []
    for f, action, new, reason in ready:
        row = RegistryAmendment(
            run_id=run_id,
            field=f.key,
            action=action,
            old_value=shown(f.value),
            new_value=new,
            reason=reason,
            by=actor.staff_id,
            by_name=actor.name,
        )
        db.add(row)
        db.flush()
        audit.record(
            db,
            actor,
            f"registry.{action}",
            "registry_amendment",
            row.id,
            run.patient_id,
            {"run_id": run_id, "field": f.key, "old": row.old_value, "new": new},
        )
        rows.append(row)
    return rows


def submissions(db: Session, run_id: int) -> list[RegistrySubmission]:
    return list(
        db.scalars(
            select(RegistrySubmission)
            .where(RegistrySubmission.run_id == run_id)
            .order_by(RegistrySubmission.at, RegistrySubmission.id)
        )
    )


def mark_ready(db: Session, actor: Actor, run_id: int) -> RegistrySubmission:
    """Mark the run ready for submission; refused (422) while required fields are missing,
    naming each, and (409) when it is already marked with nothing corrected since."""
    actor.require(Permission.REVIEW_REGISTRY)
    rec = record_for(db, actor, run_id)
    missing = rec.work_list
    if missing:
        raise ValidationFailed(
            [
                FieldProblem(f.key, f"{f.label} is required and {f.status.replace('_', ' ')}", None)
                for f in missing
            ]
        )
    before = submissions(db, run_id)
    last_change = max((h["at"] for f in rec.fields for h in f.history), default=None)
    if before and (last_change is None or last_change <= before[-1].at):
        raise Conflict(
            f"run {run_id} was already marked ready for submission by {before[-1].by_name} "
            f"at {before[-1].at.isoformat(timespec='minutes')}"
        )
    row = RegistrySubmission(
        run_id=run_id,
        completeness_pct=rec.completeness_pct,
        by=actor.staff_id,
        by_name=actor.name,
    )
    db.add(row)
    db.flush()
    run = get_run(db, run_id)
    audit.record(
        db,
        actor,
        "registry.ready",
        "registry_submission",
        row.id,
        run.patient_id,
        {"run_id": run_id, "completeness_pct": row.completeness_pct},
    )
    return row


# --- programme ----------------------------------------------------------------------------


@dataclass(frozen=True)
class RunScore:
    run_id: int
    patient_label: str
    status: str
    started_at: datetime
    ended_at: datetime | None
    required: int
    filled: int
    untyped: int
    completeness_pct: float
    untyped_pct: float
    missing: list[str]
    ready_at: datetime | None


@dataclass(frozen=True)
class Programme:
    runs: list[RunScore]
    required: int
    filled: int
    untyped: int

    @property
    def completeness_pct(self) -> float:
        return 100.0 if not self.required else round(100 * self.filled / self.required, 1)

    @property
    def untyped_pct(self) -> float:
        return 100.0 if not self.required else round(100 * self.untyped / self.required, 1)

    @property
    def ready(self) -> int:
        return sum(r.ready_at is not None for r in self.runs)


def score(rec: RegistryRecord, ready_at: datetime | None) -> RunScore:
    req = rec.required
    return RunScore(
        run_id=rec.run_id,
        patient_label=rec.patient_label,
        status=rec.status,
        started_at=rec.started_at,
        ended_at=rec.ended_at,
        required=len(req),
        filled=sum(f.filled for f in req),
        untyped=sum(f.status in ("filled", "confirmed") for f in req),
        completeness_pct=rec.completeness_pct,
        untyped_pct=rec.untyped_pct,
        missing=[f.key for f in rec.work_list],
        ready_at=ready_at,
    )


def programme(db: Session, actor: Actor, ended_only: bool = False) -> Programme:
    """Every run's completeness (newest first) and the programme's, pooled over fields."""
    actor.require(Permission.VIEW_CLINICAL)
    stmt = select(Run.id).where(not_training()).order_by(Run.started_at.desc(), Run.id.desc())
    if ended_only:
        stmt = stmt.where(Run.status == "ended")
    ready: dict[int, datetime] = {}
    for s in db.scalars(select(RegistrySubmission).order_by(RegistrySubmission.at)):
        ready[s.run_id] = s.at
    rows = [score(record_for(db, actor, rid), ready.get(rid)) for rid in db.scalars(stmt)]
    return Programme(
        runs=rows,
        required=sum(r.required for r in rows),
        filled=sum(r.filled for r in rows),
        untyped=sum(r.untyped for r in rows),
    )
