"""Operations routes: the ingest broker's health page and its JSON (IT, or whoever sends
device data: an integration service account's token for its monitoring)."""

from __future__ import annotations

from continuum.core.roles import Permission as P
from tests.web.routes_table import Case

HEALTH = (P.MANAGE_INTEGRATION, P.INGEST_DATA)

CASES = [
    Case("GET", "/operations/health", HEALTH),
    Case("GET", "/api/v1/operations/broker", HEALTH),
]
