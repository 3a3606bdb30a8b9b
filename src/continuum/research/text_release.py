"""Releasing a cohort's free text into its de-identified exports (docs/research-exports.md).

Free text (indication, diagnosis, stop reason, location) is left out of de-identified
exports: typed prose can name people. A reviewer who may see identifiers and make identified
exports reads every distinct value of one field across a saved cohort and releases it, with
a reason; the decision is appended (``TextRelease``), audited, and applies only while the
cohort's values are the ones the reviewer read (their fingerprint): a new run or a corrected
text withdraws it until the field is reviewed again.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from continuum.core import audit
from continuum.core.roles import Actor, Permission
from continuum.core.run_record import Run
from continuum.errors import FieldProblem, NotFound, ValidationFailed
from continuum.research.cohort import definition_of, run_ids
from continuum.research.cohort_record import RELEASABLE_TEXT, SavedCohort, TextRelease

FIELD_LABELS: dict[str, str] = {
    "indication": "Indication",
    "diagnosis": "Diagnosis (as written)",
    "stop_reason": "Why the run ended",
    "location": "Bed or unit",
}
REASON_MIN = 10


@dataclass(frozen=True)
class FieldReview:
    """One field of a cohort as the reviewer sees it: its distinct values with how many runs
    hold each, and the decision in force (if any) and whether it still applies."""

    field: str
    label: str
    values: list[tuple[str, int]]
    fingerprint: str
    decision: TextRelease | None

    @property
    def released(self) -> bool:
        d = self.decision
        return d is not None and d.released and d.values_sha256 == self.fingerprint

    @property
    def changed_since(self) -> bool:
        d = self.decision
        return d is not None and d.released and d.values_sha256 != self.fingerprint


def fingerprint(values: list[str]) -> str:
    """SHA-256 of the sorted distinct values (unit separator between them)."""
    return hashlib.sha256("\x1f".join(sorted(set(values))).encode("utf-8")).hexdigest()


def _values(db: Session, ids: list[int]) -> dict[str, Counter[str]]:
    """Each releasable field's distinct values over the runs (the run's own columns)."""
    found: dict[str, Counter[str]] = {f: Counter() for f in RELEASABLE_TEXT}
    columns = [getattr(Run, f) for f in RELEASABLE_TEXT]
    for chunk in (ids[i : i + 900] for i in range(0, len(ids), 900)):
        for row in db.execute(select(*columns).where(Run.id.in_(chunk))):
            for f, text in zip(RELEASABLE_TEXT, row, strict=True):
                if isinstance(text, str) and text.strip():
                    found[f][text.strip()] += 1
    return found


def _latest(db: Session, cohort_id: int) -> dict[str, TextRelease]:
    rows = db.scalars(
        select(TextRelease).where(TextRelease.cohort_id == cohort_id).order_by(TextRelease.id)
    )
    return {r.field: r for r in rows}


def _cohort(db: Session, cohort_id: int) -> SavedCohort:
    row = db.get(SavedCohort, cohort_id)
    if row is None:
        raise NotFound(f"no saved cohort {cohort_id}")
    return row


def _require(actor: Actor) -> None:
    actor.require(Permission.VIEW_IDENTIFIERS)
    actor.require(Permission.EXPORT_IDENTIFIED)


def review(db: Session, actor: Actor, cohort_id: int, zone: ZoneInfo) -> list[FieldReview]:
    """Every releasable field of the cohort with its values (identifying: the reviewer's
    roles only; the read is audited)."""
    _require(actor)
    cohort = _cohort(db, cohort_id)
    ids = run_ids(db, definition_of(cohort), zone)
    values = _values(db, ids)
    latest = _latest(db, cohort_id)
    audit.record(db, actor, "read", "research_text_release", cohort_id, None,
                 {"purpose": "free-text release review", "runs": len(ids)})  # fmt: skip
    return [
        FieldReview(
            f, FIELD_LABELS[f], sorted(values[f].items(), key=lambda kv: (-kv[1], kv[0])),
            fingerprint(list(values[f])), latest.get(f),
        )
        for f in RELEASABLE_TEXT
    ]  # fmt: skip


def decide(
    db: Session,
    actor: Actor,
    cohort_id: int,
    fields: list[str],
    released: bool,
    reason: str,
    zone: ZoneInfo,
) -> list[TextRelease]:
    """Release (or withdraw) these fields of the cohort: one appended row per field, with the
    fingerprint of the values as they are now."""
    _require(actor)
    cohort = _cohort(db, cohort_id)
    problems = [
        FieldProblem("fields", f"'{f}' is not a free-text field one may release; one of "
                     f"{', '.join(RELEASABLE_TEXT)}", f)
        for f in fields if f not in RELEASABLE_TEXT
    ]  # fmt: skip
    if not fields:
        problems.append(FieldProblem("fields", "choose at least one field", None))
    reason = (reason or "").strip()
    if len(reason) < REASON_MIN:
        problems.append(
            FieldProblem(
                "reason",
                f"give the reason in at least {REASON_MIN} characters (e.g. 'read all 14 "
                "values: clinical terms only, no names, places or numbers')",
                reason,
            )
        )
    if problems:
        raise ValidationFailed(problems)
    ids = run_ids(db, definition_of(cohort), zone)
    values = _values(db, ids)
    rows = []
    for f in dict.fromkeys(fields):
        row = TextRelease(
            cohort_id=cohort_id, field=f, released=released,
            values_sha256=fingerprint(list(values[f])), value_count=len(values[f]),
            reason=reason, by=actor.staff_id, by_name=actor.name,
        )  # fmt: skip
        db.add(row)
        rows.append(row)
    db.flush()
    for row in rows:
        audit.record(
            db, actor, "text.released" if released else "text.withdrawn",
            "research_text_release", row.id, None,
            {"cohort": cohort.name, "field": row.field, "values": row.value_count,
             "reason": reason},
        )  # fmt: skip
    return rows


def released_fields(
    db: Session, cohort_id: int | None, ids: list[int], zone: ZoneInfo
) -> frozenset[str]:
    """The fields released for this cohort whose values are still the ones reviewed."""
    if cohort_id is None:
        return frozenset()
    latest = {f: r for f, r in _latest(db, cohort_id).items() if r.released}
    if not latest:
        return frozenset()
    values = _values(db, ids)
    return frozenset(
        f for f, r in latest.items() if r.values_sha256 == fingerprint(list(values[f]))
    )
