"""Quality control-chart routes with the permission each needs (role matrix)."""

from __future__ import annotations

from continuum.core.roles import Permission as P
from tests.web.routes_table import Case

CASES = [
    Case("GET", "/quality/control-charts", P.VIEW_QUALITY),
    Case(
        "GET",
        "/quality/control-charts",
        P.VIEW_QUALITY,
        params={"h": "3", "h_improvement": "2.5", "runs_per_year": "40"},
    ),
]
