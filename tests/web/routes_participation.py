"""Participation map routes with the permission each needs and a valid request."""

from __future__ import annotations

from continuum.core.roles import Permission as P
from tests.web.routes_table import Case

CASES = [
    Case("GET", "/quality/participation", P.VIEW_QUALITY),
    Case(
        "GET",
        "/quality/participation/steps/{step}",
        P.VIEW_IDENTIFIERS,
        "/quality/participation/steps/rounds",
    ),
    Case("GET", "/quality/participation/trend.csv", P.VIEW_QUALITY),
    Case("GET", "/quality/participation/trend.svg", P.VIEW_QUALITY),
    Case("GET", "/quality/participation/trend.png", P.VIEW_QUALITY),
    Case("GET", "/api/v1/quality/participation", P.VIEW_QUALITY),
    Case(
        "GET",
        "/api/v1/quality/participation/steps/{step}",
        P.VIEW_IDENTIFIERS,
        "/api/v1/quality/participation/steps/rounds",
    ),
    Case("GET", "/api/v1/quality/participation/missing-voices", P.VIEW_IDENTIFIERS),
]
