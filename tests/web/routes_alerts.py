"""Alert pages and API (circuit surveillance): every route with its permission.

The seeded run 1 carries two open alerts (tests/seed.py): 1 haemolysis, 2 anticoagulation.
"""

from __future__ import annotations

from continuum.core.roles import Permission as P
from tests.web.routes_table import Case

CASES = [
    Case("GET", "/alerts", P.VIEW_CLINICAL, params={"status": "all"}),
    Case("GET", "/runs/{run_id}/alerts", P.VIEW_CLINICAL, "/runs/1/alerts"),
    Case(
        "POST",
        "/alerts/{alert_id}/acknowledge",
        P.ACKNOWLEDGE_ALERT,
        "/alerts/1/acknowledge",
        order=4,
        form={"comment": "pfHb repeated, perfusionist checking the pump head"},
    ),
    Case(
        "POST",
        "/api/v1/alerts/{alert_id}/acknowledge",
        P.ACKNOWLEDGE_ALERT,
        "/api/v1/alerts/2/acknowledge",
        order=4,
        json={"comment": "heparin rate reduced"},
    ),
    Case(
        "POST",
        "/alerts/{alert_id}/resolve",
        P.ACKNOWLEDGE_ALERT,
        "/alerts/1/resolve",
        order=5,
        form={"note": "repeat pfHb normal"},
    ),
    Case(
        "POST",
        "/api/v1/alerts/{alert_id}/resolve",
        P.ACKNOWLEDGE_ALERT,
        "/api/v1/alerts/2/resolve",
        order=5,
        json={"note": "anti-Xa back in range"},
    ),
    Case(
        "POST",
        "/alerts/{alert_id}/raise-action",
        P.RECORD_ROUND,
        "/alerts/1/raise-action",
        order=3,
        form={"text": "Repeat pfHb", "owner_discipline": "nursing", "due_at": "2030-01-01T08:00"},
    ),
    Case(
        "POST",
        "/alerts/{alert_id}/replace-component",
        P.MANAGE_CIRCUIT,
        "/alerts/1/replace-component",
        order=6,
        form={"replaces_id": 1, "stop_reason": "haemolysis", "note": "membrane lung changed"},
    ),
    Case("GET", "/api/v1/alerts", P.VIEW_CLINICAL, params={"status": "all"}),
    Case("GET", "/api/v1/alerts/{alert_id}", P.VIEW_CLINICAL, "/api/v1/alerts/1"),
    Case("GET", "/api/v1/runs/{run_id}/alerts", P.VIEW_CLINICAL, "/api/v1/runs/1/alerts"),
    Case(
        "GET",
        "/api/v1/alerts/stream",
        P.VIEW_CLINICAL,
        params={"after": 0, "max_seconds": 0},
    ),
    Case(
        "GET",
        "/api/v1/surveillance/thresholds",
        (P.VIEW_CLINICAL, P.MANAGE_CLINICAL_SETTINGS),
    ),
    Case("GET", "/api/v1/surveillance/rules", P.VIEW_CLINICAL),
    Case(
        "POST",
        "/api/v1/surveillance/thresholds",
        P.MANAGE_CLINICAL_SETTINGS,
        order=3,
        json={"values": {"pfhb_critical": 90}, "note": "QA committee"},
    ),
]
