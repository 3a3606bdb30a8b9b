"""Quality metrics and audits routes with the permission each needs and a valid request."""

from __future__ import annotations

from continuum.core.roles import Permission as P
from tests.web.routes_table import Case

AUDIT_FORM = {
    "title": "Circuit checks (matrix)",
    "criterion": "circuit_check_every_shift",
    "standard_pct": "95",
    "period_start": "2025-01-01",
    "period_end": "2025-01-31",
}

CASES = [
    Case("GET", "/quality/metrics", P.VIEW_QUALITY),
    Case("GET", "/quality/metrics/{metric}", P.VIEW_QUALITY, "/quality/metrics/runs"),
    Case("GET", "/api/v1/quality/metrics", P.VIEW_QUALITY),
    Case("GET", "/quality/audits", P.VIEW_QUALITY),
    Case("GET", "/quality/audits/{audit_id}", P.VIEW_QUALITY, "/quality/audits/1"),
    Case("GET", "/api/v1/quality/audits", P.VIEW_QUALITY),
    Case("GET", "/api/v1/quality/audits/{audit_id}", P.VIEW_QUALITY, "/api/v1/quality/audits/1"),
    Case("POST", "/quality/audits", P.REVIEW_CASES, form=AUDIT_FORM),
    Case(
        "POST",
        "/api/v1/quality/audits",
        P.REVIEW_CASES,
        json={**AUDIT_FORM, "standard_pct": 95, "title": "Circuit checks (API)"},
    ),
]
CASES.append(
    Case("GET", "/api/v1/quality/metrics/{metric}", P.VIEW_QUALITY, "/api/v1/quality/metrics/runs")
)
