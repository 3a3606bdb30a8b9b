"""Circulatory support pages and API (mcs domain): device 1 (an Impella CP on run 1) is
seeded (tests/seed.py). A role that may manage runs records an IABP by page (device 2) and
a right temporary VAD by API (device 3) at order 3, then new versions of devices 1 and 2."""

from __future__ import annotations

from datetime import timedelta

from continuum.core.roles import Permission as P
from tests.seed import RUN_START
from tests.web.routes_table import Case

_AT = RUN_START + timedelta(hours=2)
_LOCAL = (RUN_START + timedelta(hours=3)).isoformat()

CASES = [
    Case("GET", "/runs/{run_id}/mcs", P.VIEW_CLINICAL, "/runs/1/mcs"),
    Case("GET", "/mcs/{device_id}", P.VIEW_CLINICAL, "/mcs/1"),
    Case("GET", "/api/v1/runs/{run_id}/mcs", P.VIEW_CLINICAL, "/api/v1/runs/1/mcs"),
    Case("GET", "/api/v1/mcs/{device_id}", P.VIEW_CLINICAL, "/api/v1/mcs/1"),
    Case(
        "POST",
        "/runs/{run_id}/mcs",
        P.MANAGE_RUN,
        "/runs/1/mcs",
        order=3,
        form={"kind": "iabp", "model": "Cardiosave", "inserted_at": _LOCAL},
    ),
    Case(
        "POST",
        "/api/v1/runs/{run_id}/mcs",
        P.MANAGE_RUN,
        "/api/v1/runs/1/mcs",
        order=3,
        json={
            "kind": "temporary_vad",
            "model": "CentriMag",
            "side": "right",
            "inserted_at": _AT.isoformat(),
        },
    ),
    Case(
        "POST",
        "/mcs/{device_id}/readings",
        P.ENTER_OBSERVATION,
        "/mcs/1/readings",
        order=2,
        form={"at": _LOCAL, "p_level": "8", "flow": "3.3", "purge_pressure": "560"},
    ),
    Case(
        "POST",
        "/api/v1/mcs/{device_id}/readings",
        P.ENTER_OBSERVATION,
        "/api/v1/mcs/1/readings",
        order=2,
        json={"at": _AT.isoformat(), "p_level": 8, "flow": 3.2, "purge_flow": 12.5},
    ),
    Case(
        "POST",
        "/mcs/{device_id}/checks",
        P.ENTER_OBSERVATION,
        "/mcs/1/checks",
        order=2,
        form={"kind": "position", "at": _LOCAL, "method": "echo", "result": "correct"},
    ),
    Case(
        "POST",
        "/api/v1/mcs/{device_id}/checks",
        P.ENTER_OBSERVATION,
        "/api/v1/mcs/1/checks",
        order=2,
        json={
            "kind": "position",
            "at": _AT.isoformat(),
            "method": "chest_xray",
            "result": "correct",
        },
    ),
    Case(
        "POST",
        "/mcs/{device_id}/versions",
        P.MANAGE_RUN,
        "/mcs/1/versions",
        order=5,
        form={"follows_id": "1", "site": "left femoral artery", "reason": "site mistyped"},
    ),
    Case(
        "POST",
        "/api/v1/mcs/{device_id}/versions",
        P.MANAGE_RUN,
        "/api/v1/mcs/2/versions",
        order=5,
        json={"follows_id": 2, "site": "left femoral artery", "reason": "site added"},
    ),
]
