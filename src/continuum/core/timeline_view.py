"""A run's clinical timeline as a reader sees it: filtered, linked to the source records,
shaped once for the page and the JSON API."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from continuum.core import free_text
from continuum.core.clinical_event import (
    KIND_GROUPS,
    KIND_LABELS,
    SYSTEM_DISCIPLINE,
    ClinicalEvent,
    events_for_run,
)
from continuum.core.roles import Actor, Permission
from continuum.core.run_record import Run
from continuum.core.vocab import DISCIPLINES
from continuum.errors import FieldProblem, ValidationFailed

FILTER_DISCIPLINES: tuple[str, ...] = (*DISCIPLINES, SYSTEM_DISCIPLINE)

# The page that shows each kind of source record ({run_id}, {id}; details keys too).
RECORD_PAGES: dict[str, str] = {
    "run": "/runs/{run_id}#summary",
    "mode_segment": "/runs/{run_id}#mode",
    "cannula": "/runs/{run_id}#cannulas",
    "component": "/runs/{run_id}#circuit",
    "observation": "/runs/{run_id}#manual",
    "alert": "/runs/{run_id}/alerts#alert-{id}",
    "round": "/runs/{run_id}/rounds#round-{id}",
    "round_action": "/runs/{run_id}/rounds#actions",
    "circuit_check": "/runs/{run_id}/circuit-check#checks",
    "referral": "/referrals/{id}",
    "initiation_decision": "/runs/{run_id}/initiation",
    "weaning_trial": "/runs/{run_id}/weaning/trial?id={id}",
    "decannulation": "/runs/{run_id}/decannulation",
    "weaning_follow_up": "/runs/{run_id}/decannulation#follow-ups",
    "transfusion": "/runs/{run_id}/transfusions#tx-{id}",
    "exchange_plan": "/exchanges/{id}",
    "transport_mission": "/transport/{id}",
}
RECORD_PERMISSION: dict[str, Permission] = {"circuit_check": Permission.CIRCUIT_CHECK}
# Entries a role sees on the timeline only with a permission (record type → permission): the
# quality layer keeps adverse events and M&M reviews from roles that read them only counted
# (researchers, interfaces). Filled by the quality layer's hooks.
SEEN_WITH: dict[str, Permission] = {}
RECORD_FALLBACK: dict[str, str] = {"circuit_check": "/runs/{run_id}/rounds"}


class ClinicalEventOut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: int
    run_id: int | None
    kind: str
    label: str
    clinical_time: datetime
    recorded_at: datetime
    staff_id: int | None
    by: str | None
    discipline: str | None
    record_type: str
    record_id: int
    link: str | None
    summary: str
    details: dict[str, Any] | None


class TimelineFilters(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: list[str]
    discipline: list[str]
    since: datetime | None
    until: datetime | None


class RunTimelineOut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    run_id: int
    patient_id: int
    filters: TimelineFilters
    count: int
    events: list[ClinicalEventOut]


@dataclass
class Filters:
    kind: list[str] = field(default_factory=list)
    discipline: list[str] = field(default_factory=list)
    since: datetime | None = None
    until: datetime | None = None


def check_filters(
    kind: list[str], discipline: list[str], since: datetime | None, until: datetime | None
) -> Filters:
    """Refuse unknown kinds and disciplines and a window that ends before it starts."""
    problems = []
    allowed_kinds = [*KIND_GROUPS, *KIND_LABELS]
    for k in kind:
        if k not in allowed_kinds:
            problems.append(FieldProblem("kind", "one of " + ", ".join(allowed_kinds), k))
    for d in discipline:
        if d not in FILTER_DISCIPLINES:
            problems.append(
                FieldProblem("discipline", "one of " + ", ".join(FILTER_DISCIPLINES), d)
            )
    if since is not None and until is not None and until < since:
        problems.append(
            FieldProblem(
                "until", f"must not be before since ({since.isoformat()})", until.isoformat()
            )
        )
    if problems:
        raise ValidationFailed(problems)
    return Filters(list(kind), list(discipline), since, until)


def previous_end(session: Session, run: Run) -> datetime | None:
    """When the patient's previous run ended (its events are not this run's)."""
    return session.scalar(
        select(func.max(Run.ended_at)).where(
            Run.patient_id == run.patient_id, Run.id != run.id, Run.ended_at <= run.started_at
        )
    )


def events(
    session: Session, run: Run, filters: Filters, actor: Actor | None = None
) -> list[ClinicalEvent]:
    """The run's events in order; for an ``actor``, without those it may not see
    (``SEEN_WITH``)."""
    rows = events_for_run(
        session,
        run,
        kinds=filters.kind,
        disciplines=filters.discipline,
        since=filters.since,
        until=filters.until,
        previous_end=previous_end(session, run),
    )
    if actor is None:
        return rows
    return [
        e for e in rows if e.record_type not in SEEN_WITH or actor.can(SEEN_WITH[e.record_type])
    ]


def newest_first(
    session: Session, run: Run, limit: int | None = None, actor: Actor | None = None
) -> list[ClinicalEvent]:
    """The run's whole timeline, newest first (the run page's summary, the old endpoint)."""
    rows = events(session, run, Filters(), actor)[::-1]
    return rows if limit is None else rows[:limit]


class LegacyTimelineEntry(BaseModel):
    """One row of the deprecated ``GET /api/v1/runs/{id}/timeline``: its keys as before,
    answered from the clinical timeline (``kind`` is a clinical event kind)."""

    model_config = ConfigDict(extra="forbid")

    kind: str
    at: datetime
    summary: str
    record: str | None


def legacy_rows(session: Session, run: Run, actor: Actor) -> list[LegacyTimelineEntry]:
    """Summaries are typed words: "hidden for your role" for a role without identifiers."""
    return [
        LegacyTimelineEntry(
            kind=e.kind,
            at=e.clinical_time,
            summary=free_text.for_page(actor, e.summary),
            record=f"{e.record_type}:{e.record_id}",
        )
        for e in newest_first(session, run, actor=actor)
    ]


def link(event: ClinicalEvent, run: Run, actor: Actor) -> str | None:
    pattern = RECORD_PAGES.get(event.record_type)
    if pattern is None:
        return None
    needed = RECORD_PERMISSION.get(event.record_type)
    if needed is not None and not actor.can(needed):
        pattern = RECORD_FALLBACK[event.record_type]
    return pattern.format(run_id=event.run_id or run.id, id=event.record_id)


def to_out(event: ClinicalEvent, run: Run, actor: Actor) -> ClinicalEventOut:
    return ClinicalEventOut(
        id=event.id,
        run_id=event.run_id,
        kind=event.kind,
        label=KIND_LABELS[event.kind],
        clinical_time=event.clinical_time,
        recorded_at=event.recorded_at,
        staff_id=event.staff_id,
        by=event.by_name,
        discipline=event.discipline,
        record_type=event.record_type,
        record_id=event.record_id,
        link=link(event, run, actor),
        summary=free_text.for_page(actor, event.summary),  # typed words ride in summaries
        details=event.details,
    )


def timeline_out(session: Session, actor: Actor, run: Run, filters: Filters) -> RunTimelineOut:
    rows = [to_out(e, run, actor) for e in events(session, run, filters, actor)]
    return RunTimelineOut(
        run_id=run.id,
        patient_id=run.patient_id,
        filters=TimelineFilters(
            kind=filters.kind,
            discipline=filters.discipline,
            since=filters.since,
            until=filters.until,
        ),
        count=len(rows),
        events=rows,
    )
