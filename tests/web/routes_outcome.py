"""Hospital outcome and ECPR times routes with the permission each needs (role matrix).

Run 1 is ended at order 9 by the roles that may end a run (END_RUN), the same roles that
record its hospital outcome; run 2 (cardiac, created at order 2 by MANAGE_RUN roles) takes
the ECPR times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from continuum.core.roles import Permission as P
from tests.web.routes_table import Case

_NOW = datetime.now(UTC).replace(second=0, microsecond=0)
CPR = (_NOW - timedelta(minutes=40)).isoformat()
FLOW = (_NOW - timedelta(minutes=2)).isoformat()
OUTCOME = {"status": "discharged_alive", "destination": "home", "note": "home on oxygen"}

CASES = [
    Case("GET", "/runs/{run_id}/hospital-outcome", P.VIEW_CLINICAL, "/runs/1/hospital-outcome"),
    Case(
        "GET",
        "/api/v1/runs/{run_id}/hospital-outcome",
        P.VIEW_CLINICAL,
        "/api/v1/runs/1/hospital-outcome",
    ),
    Case(
        "POST",
        "/runs/{run_id}/hospital-outcome",
        P.END_RUN,
        "/runs/1/hospital-outcome",
        form=OUTCOME,
        order=10,
    ),
    Case(
        "POST",
        "/api/v1/runs/{run_id}/hospital-outcome",
        P.END_RUN,
        "/api/v1/runs/1/hospital-outcome",
        json={**OUTCOME, "corrects_id": 1, "reason": "destination from the discharge letter"},
        order=11,
    ),
    Case("GET", "/runs/{run_id}/ecpr-times", P.VIEW_CLINICAL, "/runs/1/ecpr-times"),
    Case("GET", "/api/v1/runs/{run_id}/ecpr-times", P.VIEW_CLINICAL, "/api/v1/runs/1/ecpr-times"),
    Case(
        "POST",
        "/runs/{run_id}/ecpr-times",
        P.MANAGE_RUN,
        "/runs/2/ecpr-times",
        form={"cpr_started_at": CPR, "full_flow_at": FLOW},
        order=4,
    ),
    Case(
        "POST",
        "/api/v1/runs/{run_id}/ecpr-times",
        P.MANAGE_RUN,
        "/api/v1/runs/2/ecpr-times",
        json={
            "cpr_started_at": CPR,
            "full_flow_at": FLOW,
            "corrects_id": 1,
            "reason": "arrest time from the ambulance record",
        },
        order=5,
    ),
]
