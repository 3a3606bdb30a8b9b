"""The run's clinical timeline: a page (/runs/{id}/timeline) and its JSON twin
(/api/v1/runs/{id}/events), both filtered by kind, discipline and time window."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from continuum.core import patient_service, run_service, run_view, timeline_view
from continuum.core.clinical_event import KIND_GROUPS, KIND_LABELS
from continuum.core.roles import Permission as P
from continuum.core.run_view import RunLink, add_run_link
from continuum.errors import FieldProblem, ValidationFailed
from continuum.web.deps import CurrentActor, DbSession, get_actor, require
from continuum.web.pages import render

pages = APIRouter(include_in_schema=False, dependencies=[Depends(get_actor)])
api = APIRouter(prefix="/api/v1", dependencies=[Depends(get_actor)], tags=["core record"])
routers = [pages, api]

add_run_link(RunLink("Clinical timeline", "/runs/{run_id}/timeline", P.VIEW_CLINICAL, 5))

Kinds = Annotated[list[str], Query(description="event kinds or groups (e.g. alert, round.signed)")]
Disciplines = Annotated[list[str], Query(description="disciplines of who recorded it")]


@api.get(
    "/runs/{run_id}/events",
    response_model=timeline_view.RunTimelineOut,
    dependencies=[require(P.VIEW_CLINICAL)],
)
def run_events(
    run_id: int,
    db: DbSession,
    actor: CurrentActor,
    kind: Kinds = [],  # noqa: B006  (FastAPI reads the default, never mutates it)
    discipline: Disciplines = [],  # noqa: B006
    since: datetime | None = None,
    until: datetime | None = None,
) -> timeline_view.RunTimelineOut:
    """The run's clinical events in clinical order (UTC times), each linked to its record."""
    run = run_service.get_run(db, actor, run_id)
    filters = timeline_view.check_filters(kind, discipline, _utc(since), _utc(until))
    return timeline_view.timeline_out(db, actor, run, filters)


@api.get(
    "/runs/{run_id}/timeline",
    response_model=list[timeline_view.LegacyTimelineEntry],
    dependencies=[require(P.VIEW_CLINICAL)],
    deprecated=True,
)
def run_timeline_legacy(
    run_id: int, db: DbSession, actor: CurrentActor
) -> list[timeline_view.LegacyTimelineEntry]:
    """Deprecated: use ``/runs/{run_id}/events``. The run's clinical events newest first,
    with the keys this endpoint always had (kind, at, summary, record); ``kind`` is now a
    clinical event kind (e.g. ``run.started``, formerly ``run_start``)."""
    run = run_service.get_run(db, actor, run_id)
    return timeline_view.legacy_rows(db, run, actor)


def _local(value: str, zone: ZoneInfo, name: str) -> datetime | None:
    """A datetime-local input read in the programme's zone ("" → no bound)."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValidationFailed(
            [FieldProblem(name, "a date and time, e.g. 2026-12-01T08:00", value)]
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=zone)


def _heading(date: str, numbers: set[int]) -> str:
    on = sorted(n for n in numbers if n > 0)
    parts = [date]
    if 0 in numbers:
        parts.append("before the run")
    if on:
        first, last = on[0], on[-1]
        parts.append(f"ECMO day {first}" if first == last else f"ECMO days {first}–{last}")
    return " · ".join(parts)


def _utc(at: datetime | None) -> datetime | None:
    if at is None or at.tzinfo is not None:
        return at
    raise ValidationFailed("give a time zone (e.g. 2026-12-01T08:00:00Z)", "since/until")


@pages.get("/runs/{run_id}/timeline", dependencies=[require(P.VIEW_CLINICAL)])
def timeline_page(
    request: Request,
    run_id: int,
    db: DbSession,
    actor: CurrentActor,
    kind: Kinds = [],  # noqa: B006
    discipline: Disciplines = [],  # noqa: B006
    since: str = "",
    until: str = "",
) -> Response:
    run = run_service.get_run(db, actor, run_id)
    zone = request.app.state.settings.zone
    error = None
    try:
        start, end = _local(since, zone, "since"), _local(until, zone, "until")
        filters = timeline_view.check_filters(kind, discipline, start, end)
    except ValidationFailed as exc:
        error, filters = exc, timeline_view.Filters()
    rows = [] if error else timeline_view.events(db, run, filters, actor)
    ident = patient_service.identities(db, actor, [run.patient_id], "run timeline")
    days: dict[str, list[timeline_view.ClinicalEventOut]] = {}
    ecmo_days: dict[str, set[int]] = {}
    for event in rows:
        date = f"{event.clinical_time.astimezone(zone):%a %d %b %Y}"
        days.setdefault(date, []).append(timeline_view.to_out(event, run, actor))
        n = (event.clinical_time - run.started_at).days + 1
        ecmo_days.setdefault(date, set()).add(n if n > 0 else 0)
    headings = {date: _heading(date, ecmo_days[date]) for date in days}
    return render(
        request,
        "run_timeline.html",
        actor,
        status_code=422 if error else 200,
        run=run,
        identity=ident.get(run.patient_id),
        mode=run_service.current_mode(run),
        day=run_view.ecmo_day(run),
        days=days,
        headings=headings,
        count=len(rows),
        groups=KIND_GROUPS,
        labels=KIND_LABELS,
        disciplines=timeline_view.FILTER_DISCIPLINES,
        chosen_kinds=set(kind),
        chosen_disciplines=set(discipline),
        since=since,
        until=until,
        error=error,
        run_links=run_view.run_links(actor, run.id),
    )
