"""The quality layer in core's hook lists: a link on every run page to the run's adverse
events (the register filtered to the run), the page the timeline links an adverse event's
entries to, and the judge of which transfusions are above
the adverse-event threshold (``run_view.ADVERSE_EVENT_OFFERS``), so the rounds transfusion
page offers "Record as adverse event" beside them. Listed in
``continuum.domains.HOOK_MODULES``."""

from __future__ import annotations

from continuum.core import run_view, timeline_view
from continuum.core.roles import Permission
from continuum.quality.possible_events import offers_for_run

EVENTS_LINK = run_view.RunLink(
    "Adverse events",
    "/quality/events?run_id={run_id}&period=all",
    Permission.RECORD_ADVERSE_EVENT,
    60,
)


def install_hooks() -> None:
    """Idempotent (``add_run_link`` adds a link once)."""
    run_view.add_run_link(EVENTS_LINK)
    timeline_view.RECORD_PAGES.setdefault("adverse_event", "/quality/events/{id}")
    if offers_for_run not in run_view.ADVERSE_EVENT_OFFERS:
        run_view.ADVERSE_EVENT_OFFERS.append(offers_for_run)
