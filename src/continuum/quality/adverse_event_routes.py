"""Adverse events: the register page (/quality/events), the form to record one on a run
(pre-filled from the record it is raised from), the event page with its history and the
amend form, the possible-events list, and the JSON API (/api/v1/…adverse-events).

Reading events one by one needs RECORD_ADVERSE_EVENT (the roles that record them);
researchers and others with VIEW_QUALITY read them counted per period, small cells "<5"
(``adverse_event_summary``). Free text only for roles that see identifiers. Recording and
correcting need RECORD_ADVERSE_EVENT; a consensus amendment and the possible-events list
need REVIEW_CASES."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import Response
from pydantic import AwareDatetime
from sqlalchemy.orm import Session

from continuum.core import concurrency, free_text, run_service
from continuum.core.roles import Actor
from continuum.core.roles import Permission as P
from continuum.core.run_record import Cannula, Component, Run
from continuum.db import utcnow
from continuum.errors import ContinuumError
from continuum.local_time import aware
from continuum.quality import (
    adverse_event_prefill,
    adverse_event_summary,
    adverse_events,
    possible_events,
    taxonomy,
)
from continuum.quality.adverse_event_schemas import (
    AdverseEventIn,
    AdverseEventListOut,
    AdverseEventOut,
    AmendmentIn,
    DismissedOut,
    DismissIn,
    EventClass,
    EventCountsOut,
    Harm,
    PossibleListOut,
)
from continuum.quality.adverse_events import Listed
from continuum.quality.review_factors import CAUSE_CLASS_LABELS
from continuum.web.deps import CurrentActor, DbSession, get_actor, require
from continuum.web.form_post import attempt, posted_values
from continuum.web.pages import (
    NavLink,
    add_nav_link,
    add_template_dir,
    parse_form,
    redirect,
    render,
)

add_template_dir(Path(__file__).parent / "templates")
# Event by event: the roles that record events (clinicians, coordinator, quality lead);
# researchers read the events counted (``adverse_event_summary``), never one by one.
READ_ROWS = P.RECORD_ADVERSE_EVENT
add_nav_link(NavLink("Adverse events", "/quality/events", READ_ROWS, 55))
add_nav_link(NavLink("Event counts", "/quality/events/summary", P.VIEW_QUALITY, 56))

pages = APIRouter(include_in_schema=False, dependencies=[Depends(get_actor)])
api = APIRouter(prefix="/api/v1", dependencies=[Depends(get_actor)], tags=["quality"])
routers = [pages, api]

IfMatch = Annotated[str | None, Header(alias="If-Match")]
Category = Literal[taxonomy.CATEGORIES]  # type: ignore[valid-type]
PERIODS = {"7": "Last 7 days", "30": "Last 30 days", "90": "Last 90 days",
           "365": "Last 12 months", "all": "All time"}  # fmt: skip
TEXT_FIELDS = ("description", "immediate_actions")


# --- shared views ------------------------------------------------------------------------


def _part(row: Component | Cannula | None) -> dict[str, Any] | None:
    if row is None:
        return None
    kind = row.kind if isinstance(row, Component) else f"cannula_{row.role}"
    return {"id": row.id, "kind": kind, "make": row.make, "model": row.model,
            "serial": row.serial, "lot": row.lot, "udi": row.udi}  # fmt: skip


def views(db: Session, actor: Actor, listed: list[Listed]) -> list[dict[str, Any]]:
    """The events as the API and the pages read them (values in force, history, names)."""
    people: set[int | None] = set()
    for x in listed:
        people.add(x.event.recorded_by)
        people |= {c.by for c in x.force.history}
    names = adverse_events.staff_names(db, people)
    held = adverse_events.review_dates(db, {c.review_id for x in listed for c in x.force.history})
    reviewer = actor.can(P.REVIEW_CASES)
    discussed = adverse_events.reviews_of_events(db, [x.event.id for x in listed])
    labels = adverse_events.patient_labels(db, {x.event.patient_id for x in listed})
    out = []
    for x in listed:
        e, v = x.event, x.force.values
        entry = taxonomy.BY_CODE[v["code"]]
        comp = db.get(Component, v["component_id"]) if v["component_id"] else None
        can = db.get(Cannula, v["cannula_id"]) if v["cannula_id"] else None
        history = [
            {
                "at": c.at,
                "by": c.by,
                "by_name": names.get(c.by or 0, "the system"),
                "field": c.field,
                "old": _shown(c.field, c.old, actor),
                "new": _shown(c.field, c.new, actor),
                "reason": free_text.for_api(actor, c.reason),
                "kind": c.kind,
                "review_id": c.review_id,
                "set_by": f"set by M&M review of {held[c.review_id].isoformat()}"
                if c.review_id in held
                else None,
                "review_href": f"/quality/reviews/cases/{c.review_id}"
                if reviewer and c.review_id in held
                else None,
            }
            for c in x.force.history
        ]
        out.append({
            "id": e.id, "run_id": e.run_id, "patient_label": labels.get(e.patient_id, "?"),
            "version": e.version, "code": entry.code, "code_label": entry.label,
            "category": entry.category,
            "category_label": taxonomy.CATEGORY_LABELS[entry.category],
            "elso_code": entry.elso, "elso_code_set": taxonomy.ELSO_CODE_SET_VERSION,
            "ecls_cdm_concept": entry.ecls_cdm,
            "mapping": adverse_events.mapping_text(entry.code),
            "event_class": v["event_class"], "harm": v["harm"],
            "preventability": v["preventability"], "cause_class": v["cause_class"],
            "occurred_at": v["occurred_at"],
            "time_estimated": bool(v["time_estimated"]),
            "component": _part(comp), "cannula": _part(can),
            "detected_by": v["detected_by"], "source_type": e.source_type,
            "source_id": e.source_id,
            "description": free_text.for_api(actor, v["description"]),
            "immediate_actions": free_text.for_api(actor, v["immediate_actions"]),
            "recorded_by": e.recorded_by,
            "recorded_by_name": names.get(e.recorded_by or 0, "the system"),
            "recorded_at": e.recorded_at, "amended": bool(x.force.history),
            "history": history, "review_ids": [r.id for r in discussed.get(e.id, [])],
            "packet_href": f"/quality/runs/{e.run_id}/packet?event={e.id}",
        })  # fmt: skip
    return out


def _shown(field: str, value: Any, actor: Actor) -> Any:
    if field in TEXT_FIELDS:
        return free_text.for_api(actor, value)
    return value.isoformat() if isinstance(value, datetime) else value


def _one(db: Session, actor: Actor, event_id: int) -> Listed:
    event = adverse_events.get_event(db, actor, event_id)
    amended = adverse_events.amendments_of(db, [event.id]).get(event.id, [])
    return Listed(event, adverse_events.in_force(event, amended))


# --- API ---------------------------------------------------------------------------------


@api.post(
    "/runs/{run_id}/adverse-events",
    status_code=201,
    response_model=AdverseEventOut,
    dependencies=[require(P.RECORD_ADVERSE_EVENT)],
)
def api_record(run_id: int, data: AdverseEventIn, db: DbSession, actor: CurrentActor) -> Any:
    """Record an adverse event on the run (time within the run, code from the taxonomy and,
    when a category is given, of that category; part and source of this run)."""
    event = adverse_events.record(db, actor, run_id, data)
    return views(db, actor, [_one(db, actor, event.id)])[0]


@api.get(
    "/runs/{run_id}/adverse-events",
    response_model=AdverseEventListOut,
    dependencies=[require(READ_ROWS)],
)
def api_run_events(run_id: int, db: DbSession, actor: CurrentActor) -> Any:
    """The run's adverse events, newest first, with the values in force."""
    run = run_service.get_run(db, actor, run_id)
    return {"events": views(db, actor, adverse_events.list_events(db, actor, run_id=run.id))}


@api.get("/adverse-events", response_model=AdverseEventListOut, dependencies=[require(READ_ROWS)])
def api_programme_events(
    db: DbSession,
    actor: CurrentActor,
    since: AwareDatetime | None = None,
    until: AwareDatetime | None = None,
    category: Category | None = None,
    event_class: EventClass | None = None,
    harm: Harm | None = None,
    reviewed: bool | None = None,
) -> Any:
    """Every run's adverse events, newest first; filters apply to the values in force
    (``reviewed``: harm/preventability agreed by consensus at review, or not yet)."""
    found = adverse_events.list_events(
        db, actor, since=since, until=until, category=category, event_class=event_class,
        harm=harm, reviewed=reviewed,
    )  # fmt: skip
    return {"events": views(db, actor, found)}


@api.get(
    "/adverse-events/{event_id}",
    response_model=AdverseEventOut,
    dependencies=[require(READ_ROWS)],
)
def api_event(event_id: int, db: DbSession, actor: CurrentActor) -> Any:
    """One event: values in force, history, ELSO code and ECLS-CDM concept (null =
    unmapped), the component or cannula with make, model, serial, lot and UDI."""
    return views(db, actor, [_one(db, actor, event_id)])[0]


@api.post(
    "/adverse-events/{event_id}/amendments",
    status_code=201,
    response_model=AdverseEventOut,
    dependencies=[require(P.RECORD_ADVERSE_EVENT)],
)
def api_amend(
    event_id: int, data: AmendmentIn, db: DbSession, actor: CurrentActor, if_match: IfMatch = None
) -> Any:
    """Amend one or more fields with a reason. Name the version you read (``version`` or
    If-Match); a stale one is refused (409). ``kind: consensus`` needs REVIEW_CASES."""
    data = concurrency.with_version(data, if_match, required=True)
    adverse_events.amend(db, actor, event_id, data)
    return views(db, actor, [_one(db, actor, event_id)])[0]


# --- pages -------------------------------------------------------------------------------


def _since(period: str) -> datetime | None:
    return None if period == "all" else utcnow() - timedelta(days=int(period))


@pages.get("/quality/events", dependencies=[require(READ_ROWS)])
def register_page(
    request: Request,
    db: DbSession,
    actor: CurrentActor,
    period: Annotated[Literal["7", "30", "90", "365", "all"], Query()] = "90",
    category: Annotated[Category | Literal[""], Query()] = "",
    event_class: Annotated[EventClass | Literal[""], Query()] = "",
    harm: Annotated[Harm | Literal[""], Query()] = "",
    reviewed: Annotated[Literal["", "yes", "no"], Query()] = "",
    run_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
) -> Response:
    run = run_service.get_run(db, actor, run_id) if run_id is not None else None
    found = adverse_events.list_events(
        db, actor, run_id=run_id, since=_since(period), category=category or None,
        event_class=event_class or None, harm=harm or None,
        reviewed=None if not reviewed else reviewed == "yes",
    )  # fmt: skip
    return render(
        request, "adverse_register.html", actor, rows=views(db, actor, found), run=run,
        filters={"period": period, "category": category, "event_class": event_class,
                 "harm": harm, "reviewed": reviewed, "run_id": run_id},
        periods=PERIODS, tax=taxonomy,
    )  # fmt: skip


def _form_page(
    request: Request,
    db: Session,
    actor: Actor,
    run: Run,
    values: dict[str, Any],
    error: ContinuumError | None = None,
    source_note: str = "",
) -> Response:
    comps, cans = adverse_events.parts_of(db, run.id)
    return render(
        request, "adverse_new.html", actor, status_code=422 if error else 200, run=run,
        values=values, error=error, tax=taxonomy, source_note=source_note,
        components=[(c.id, adverse_events.part_text(c)) for c in comps],
        cannulas=[(c.id, adverse_events.part_text(c)) for c in cans],
        local_now=utcnow().astimezone(request.app.state.settings.zone).strftime("%Y-%m-%dT%H:%M"),
    )  # fmt: skip


def _text(value: Any) -> Any:
    """A posted value with a textarea's CRLF line ends as the record keeps them (LF), so an
    untouched description is not taken for a change."""
    return value.replace("\r\n", "\n").strip() if isinstance(value, str) else value


def _local(request: Request, at: datetime | None) -> str:
    if at is None:
        return ""
    return at.astimezone(request.app.state.settings.zone).strftime("%Y-%m-%dT%H:%M")


@pages.get("/runs/{run_id}/adverse-events/new", dependencies=[require(P.RECORD_ADVERSE_EVENT)])
def new_event_page(
    request: Request,
    run_id: int,
    db: DbSession,
    actor: CurrentActor,
    source: Annotated[Literal[taxonomy.SOURCES] | None, Query()] = None,  # type: ignore[valid-type]
    source_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
) -> Response:
    run = run_service.get_run(db, actor, run_id)
    values: dict[str, Any] = {}
    note = ""
    if source is not None and source_id is not None:
        filled = adverse_event_prefill.prefill(db, run.id, source, source_id)
        if filled is None:
            note = f"No {taxonomy.SOURCE_LABELS[source].lower()} {source_id} on this run."
        else:
            values = filled.form_values()
            values["occurred_at"] = _local(request, filled.at)
            note = f"From {taxonomy.SOURCE_LABELS[source].lower()} {source_id}: {filled.what}"
    return _form_page(request, db, actor, run, values, source_note=note)


FORM_FIELDS = (
    "code", "event_class", "harm", "preventability", "component_id", "cannula_id",
    "detected_by", "source_type", "source_id", "description", "immediate_actions",
)  # fmt: skip


@pages.post("/runs/{run_id}/adverse-events/new", dependencies=[require(P.RECORD_ADVERSE_EVENT)])
def new_event_form(request: Request, run_id: int, db: DbSession, actor: CurrentActor) -> Response:
    run = run_service.get_run(db, actor, run_id)
    values = posted_values(request)
    zone = request.app.state.settings.zone

    def save() -> Any:
        data: dict[str, Any] = {k: _text(values.get(k)) or None for k in FORM_FIELDS}
        data = {k: v for k, v in data.items() if v is not None}
        data.setdefault("description", "")
        data["time_estimated"] = values.get("time_estimated") in ("on", "true", "1")
        when = str(values.get("occurred_at") or "")
        data["occurred_at"] = aware(when, zone, "occurred_at") if when else None
        return adverse_events.record(db, actor, run.id, parse_form(AdverseEventIn, data))

    event, problem = attempt(db, save)
    if problem or event is None:
        return _form_page(request, db, actor, run, values, problem)
    return redirect(f"/quality/events/{event.id}")


def _possible(
    request: Request,
    db: Session,
    actor: Actor,
    days: int = 14,
    error: ContinuumError | None = None,
    values: dict[str, Any] | None = None,
) -> Response:
    return render(
        request, "adverse_possible.html", actor, status_code=422 if error else 200,
        rows=possible_events.find(db, actor, days), days=days, tax=taxonomy, error=error,
        values=values or {},
    )  # fmt: skip


@pages.get("/quality/events/possible", dependencies=[require(P.REVIEW_CASES)])
def possible_page(
    request: Request,
    db: DbSession,
    actor: CurrentActor,
    days: Annotated[int, Query(ge=1, le=365)] = 14,
) -> Response:
    return _possible(request, db, actor, days)


def _counts(db: Session, actor: Actor, zone: Any, periods: int, group: str) -> dict[str, Any]:
    found = adverse_event_summary.summarise(db, actor, zone, periods, group)

    def cell(c: adverse_event_summary.Cell) -> dict[str, Any]:
        return {"count": c.value, "shown": c.shown}

    return {
        "group": found.group, "periods": found.periods,
        "small_cell": adverse_event_summary.SMALL_CELL,
        "totals": [cell(c) for c in found.totals], "total": cell(found.total),
        "tables": [
            {"dimension": t.dimension, "label": t.label,
             "lines": [{"value": x.value, "label": x.label, "counts": [cell(c) for c in x.cells],
                        "total": cell(x.total)} for x in t.lines]}
            for t in found.tables
        ],
    }  # fmt: skip


Group = Literal["month", "quarter"]
Periods = Annotated[int, Query(ge=1, le=60, description="how many months or quarters back")]


@api.get(
    "/quality/adverse-events/summary",
    response_model=EventCountsOut,
    dependencies=[require(P.VIEW_QUALITY)],
)
def api_event_counts(
    request: Request, db: DbSession, actor: CurrentActor, periods: Periods = 12,
    group: Group = "month",
) -> Any:  # fmt: skip
    """Adverse events counted per month or quarter by category, class and harm (values in
    force); counts of 1 to 4 are null and shown "<5". No run, patient, time or text."""
    return _counts(db, actor, request.app.state.settings.zone, periods, group)


@pages.get("/quality/events/summary", dependencies=[require(P.VIEW_QUALITY)])
def summary_page(
    request: Request, db: DbSession, actor: CurrentActor, periods: Periods = 12,
    group: Group = "month",
) -> Response:  # fmt: skip
    counts = _counts(db, actor, request.app.state.settings.zone, periods, group)
    return render(
        request, "adverse_summary.html", actor, counts=counts, periods=periods, group=group,
        groups=adverse_event_summary.GROUPS,
    )  # fmt: skip


def _possible_out(p: possible_events.Possible) -> dict[str, Any]:
    code = taxonomy.BY_CODE.get(p.suggested_code or "")
    return {
        "source_type": p.source_type, "source_id": p.source_id,
        "source_label": taxonomy.SOURCE_LABELS[p.source_type], "run_id": p.run_id,
        "patient_label": p.patient_label, "at": p.at, "what": p.what,
        "suggested_code": p.suggested_code, "suggested_code_label": code.label if code else None,
        "record_href": p.record_href,
    }  # fmt: skip


@api.get(
    "/quality/possible-events",
    response_model=PossibleListOut,
    dependencies=[require(P.REVIEW_CASES)],
)
def api_possible(
    db: DbSession,
    actor: CurrentActor,
    days: Annotated[int, Query(ge=1, le=365, description="look back this many days")] = 14,
) -> Any:
    """Possible adverse events not yet reviewed (found in the record, not reported): critical
    alerts, failure component changes, aborted weaning trials, transfusions above the
    threshold, clot at circuit checks; each until recorded as an event or set aside."""
    return {
        "days": days,
        "possible": [_possible_out(p) for p in possible_events.find(db, actor, days)],
    }


@api.post(
    "/quality/possible-events/dismissals",
    status_code=201,
    response_model=DismissedOut,
    dependencies=[require(P.REVIEW_CASES)],
)
def api_dismiss(data: DismissIn, db: DbSession, actor: CurrentActor) -> Any:
    """Set a possible event aside as "not an adverse event", with the reason (audited)."""
    screen = possible_events.dismiss(db, actor, data)
    return {
        "source_type": screen.source_type, "source_id": screen.source_id,
        "run_id": screen.run_id, "reason": screen.reason, "dismissed_at": screen.at,
    }  # fmt: skip


@pages.post("/quality/events/possible/dismiss", dependencies=[require(P.REVIEW_CASES)])
def dismiss_form(request: Request, db: DbSession, actor: CurrentActor) -> Response:
    values = posted_values(request)

    def save() -> Any:
        data = {k: values.get(k) or "" for k in ("source_type", "source_id", "reason")}
        return possible_events.dismiss(db, actor, parse_form(DismissIn, data))

    _, problem = attempt(db, save)
    if problem:
        return _possible(request, db, actor, error=problem, values=values)
    return redirect("/quality/events/possible")


def _event_page(
    request: Request,
    db: Session,
    actor: Actor,
    event_id: int,
    error: ContinuumError | None = None,
    values: dict[str, Any] | None = None,
) -> Response:
    one = _one(db, actor, event_id)
    view = views(db, actor, [one])[0]
    run = db.get_one(Run, one.event.run_id)
    comps, cans = adverse_events.parts_of(db, run.id)
    stale = isinstance(error, concurrency.StaleRecord)
    reviews = None
    if actor.can(P.REVIEW_CASES):
        found = adverse_events.reviews_of_events(db, [event_id])[event_id]
        held = adverse_events.review_dates(db, [r.id for r in found])
        reviews = [(r, held[r.id]) for r in found]
    packet = actor.can(P.REVIEW_CASES) or actor.can(P.VIEW_IDENTIFIERS)
    return render(
        request, "adverse_event.html", actor, status_code=(409 if stale else 422) if error else 200,
        e=view, run=run, tax=taxonomy, error=error, values=values or {}, reviews=reviews,
        causes=CAUSE_CLASS_LABELS,
        packet_href=f"/quality/runs/{run.id}/packet?event={event_id}" if packet else None,
        components=[(c.id, adverse_events.part_text(c)) for c in comps],
        cannulas=[(c.id, adverse_events.part_text(c)) for c in cans],
        occurred_local=_local(request, one.force.values["occurred_at"]),
        component_text=adverse_events.part_text(
            db.get(Component, view["component"]["id"]) if view["component"] else None),
        cannula_text=adverse_events.part_text(
            db.get(Cannula, view["cannula"]["id"]) if view["cannula"] else None),
    )  # fmt: skip


@pages.get("/quality/events/{event_id}", dependencies=[require(READ_ROWS)])
def event_page(request: Request, event_id: int, db: DbSession, actor: CurrentActor) -> Response:
    return _event_page(request, db, actor, event_id)


AMEND_FIELDS = ("code", "event_class", "harm", "preventability", "detected_by", "component_id",
                "cannula_id", "description", "immediate_actions")  # fmt: skip


@pages.post("/quality/events/{event_id}/amend", dependencies=[require(P.RECORD_ADVERSE_EVENT)])
def amend_form(request: Request, event_id: int, db: DbSession, actor: CurrentActor) -> Response:
    values = posted_values(request)
    zone = request.app.state.settings.zone

    def save() -> Any:
        one = _one(db, actor, event_id)
        now = one.force.values
        data: dict[str, Any] = {
            "reason": values.get("reason") or "",
            "kind": values.get("kind") or "correction",
            "version": values.get("version") or None,
        }
        # Only the fields the form changed become amendments.
        for key in AMEND_FIELDS:
            if key not in values:
                continue
            given = _text(values.get(key)) or None
            if key in ("component_id", "cannula_id"):
                same = str(now[key] or "") == str(given or "")
            else:
                same = (now[key] or None) == given
            if not same:
                data[key] = given
        when = str(values.get("occurred_at") or "")
        if when:
            at = aware(when, zone, "occurred_at")
            if at.replace(second=0, microsecond=0) != now["occurred_at"].replace(
                second=0, microsecond=0
            ):
                data["occurred_at"] = at
        estimated = values.get("time_estimated") in ("on", "true", "1")
        if "time_estimated_shown" in values and estimated != bool(now["time_estimated"]):
            data["time_estimated"] = estimated
        return adverse_events.amend(db, actor, event_id, parse_form(AmendmentIn, data))

    _, problem = attempt(db, save)
    if problem:
        return _event_page(request, db, actor, event_id, problem, values)
    return redirect(f"/quality/events/{event_id}#history")
