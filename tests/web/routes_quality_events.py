"""Adverse-event routes with the permission each needs and a valid request (role matrix).

Adverse event 1 (run 1, membrane-lung clot on component 1) is in the seeded template.
Events recorded here fall two hours into run 1, before the core cases end it (order 9)."""

from __future__ import annotations

from datetime import timedelta

from continuum.core.roles import Permission as P
from tests.seed import RUN_START
from tests.web.routes_table import Case

AT = (RUN_START + timedelta(hours=3)).isoformat()
EVENT = {
    "code": "haem_peripheral_cannula_site", "event_class": "incident", "harm": "mild",
    "occurred_at": AT, "detected_by": "bedside", "cannula_id": 1,
    "description": "oozing at the cannula site",
}  # fmt: skip

CASES = [
    Case("GET", "/quality/events", P.RECORD_ADVERSE_EVENT, params={"period": "all"}),
    Case("GET", "/quality/events/possible", P.REVIEW_CASES),
    Case("GET", "/quality/events/{event_id}", P.RECORD_ADVERSE_EVENT, "/quality/events/1"),
    Case(
        "GET",
        "/runs/{run_id}/adverse-events/new",
        P.RECORD_ADVERSE_EVENT,
        "/runs/1/adverse-events/new",
        params={"source": "alert", "source_id": 1},
    ),
    Case(
        "POST",
        "/runs/{run_id}/adverse-events/new",
        P.RECORD_ADVERSE_EVENT,
        "/runs/1/adverse-events/new",
        form={**EVENT, "time_estimated": "on"},
        order=-1,
    ),
    Case(
        "POST",
        "/quality/events/{event_id}/amend",
        P.RECORD_ADVERSE_EVENT,
        "/quality/events/1/amend",
        form={"harm": "moderate", "reason": "worse than first seen"},
        order=1,
    ),
    Case(
        "POST",
        "/quality/events/possible/dismiss",
        P.REVIEW_CASES,
        form={"source_type": "alert", "source_id": 2, "reason": "lab artefact, repeated normal"},
    ),
    Case("GET", "/api/v1/adverse-events", P.RECORD_ADVERSE_EVENT),
    Case(
        "GET",
        "/api/v1/adverse-events/{event_id}",
        P.RECORD_ADVERSE_EVENT,
        "/api/v1/adverse-events/1",
    ),
    Case(
        "GET",
        "/api/v1/runs/{run_id}/adverse-events",
        P.RECORD_ADVERSE_EVENT,
        "/api/v1/runs/1/adverse-events",
    ),
    Case(
        "POST",
        "/api/v1/runs/{run_id}/adverse-events",
        P.RECORD_ADVERSE_EVENT,
        "/api/v1/runs/1/adverse-events",
        json=EVENT,
        order=-1,
    ),
    Case(
        "POST",
        "/api/v1/adverse-events/{event_id}/amendments",
        P.RECORD_ADVERSE_EVENT,
        "/api/v1/adverse-events/1/amendments",
        json={"preventability": "possibly", "reason": "seen again", "version": 1},
        order=0,
    ),
    # Researchers read events counted (small cells "<5"), never one by one.
    Case("GET", "/quality/events/summary", P.VIEW_QUALITY, params={"group": "quarter"}),
    Case("GET", "/api/v1/quality/adverse-events/summary", P.VIEW_QUALITY),
    Case("GET", "/api/v1/quality/possible-events", P.REVIEW_CASES, params={"days": 30}),
    Case(
        "POST",
        "/api/v1/quality/possible-events/dismissals",
        P.REVIEW_CASES,
        json={"source_type": "component", "source_id": 1, "reason": "planned change"},
    ),
]
