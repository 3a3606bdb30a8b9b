"""The quality layer in core's hook lists: a link on every run page to the run's adverse
events (the register filtered to the run), the page the timeline links an adverse event's
entries to, and the judge of which transfusions are above
the adverse-event threshold (``run_view.ADVERSE_EVENT_OFFERS``), so the rounds transfusion
page offers "Record as adverse event" beside them. Listed in
``continuum.domains.HOOK_MODULES``."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from continuum.core import run_view, timeline_view
from continuum.core.roles import Actor, Permission
from continuum.quality.review_record import Review, ReviewAction

EVENTS_LINK = run_view.RunLink(
    "Adverse events",
    "/quality/events?run_id={run_id}&period=all",
    Permission.RECORD_ADVERSE_EVENT,
    60,
)


def _plural(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def open_quality_items(
    session: Session, actor: Actor, run_ids: list[int]
) -> dict[int, list[tuple[str, str]]]:
    """``run_view.RUN_NOTES`` entry: per run, the adverse events not yet reviewed (no harm
    agreed by consensus) for those who read events, and the open M&M actions of its reviews
    for those who review cases; each a link to the list filtered to the run."""
    found: dict[int, list[tuple[str, str]]] = {}
    if not run_ids:
        return found
    if actor.can(Permission.RECORD_ADVERSE_EVENT):
        from continuum.quality import adverse_events

        unreviewed: dict[int, int] = {}
        for event, force in adverse_events.events_in_force(session, run_ids):
            if not force.reviewed:
                unreviewed[event.run_id] = unreviewed.get(event.run_id, 0) + 1
        for run_id, n in unreviewed.items():
            found.setdefault(run_id, []).append(
                (
                    _plural(n, "adverse event", "adverse events") + " not yet reviewed",
                    f"/quality/events?run_id={run_id}&period=all&reviewed=no",
                )
            )
    if actor.can(Permission.REVIEW_CASES):
        stmt = (
            select(Review.run_id, ReviewAction.id)
            .join(Review, Review.id == ReviewAction.review_id)
            .where(ReviewAction.status == "open", Review.run_id.in_(run_ids))
        )
        actions: dict[int, int] = {}
        for run_id, _ in session.execute(stmt):
            actions[run_id] = actions.get(run_id, 0) + 1
        for run_id, n in actions.items():
            found.setdefault(run_id, []).append(
                (
                    _plural(n, "open M&M action", "open M&M actions"),
                    f"/quality/actions?run_id={run_id}",
                )
            )
    return found


def adverse_event_offers(session: Session, run_id: int) -> set[tuple[str, int]]:
    """``run_view.ADVERSE_EVENT_OFFERS`` entry: ``possible_events.offers_for_run``, imported
    when a page asks (every database command of the CLI installs the hooks, and the register
    and screen modules cost ~70 ms of its start-up)."""
    from continuum.quality.possible_events import offers_for_run

    return offers_for_run(session, run_id)


def install_hooks() -> None:
    """Idempotent (``add_run_link`` adds a link once)."""
    run_view.add_run_link(EVENTS_LINK)
    timeline_view.RECORD_PAGES.setdefault("adverse_event", "/quality/events/{id}")
    # Researchers read adverse events and reviews counted only, not on a run's timeline.
    for record_type in ("adverse_event", "review"):
        timeline_view.SEEN_WITH.setdefault(record_type, Permission.RECORD_ADVERSE_EVENT)
    if open_quality_items not in run_view.RUN_NOTES:
        run_view.RUN_NOTES.append(open_quality_items)
    if adverse_event_offers not in run_view.ADVERSE_EVENT_OFFERS:
        run_view.ADVERSE_EVENT_OFFERS.append(adverse_event_offers)
