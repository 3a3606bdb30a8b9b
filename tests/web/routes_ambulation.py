"""Ambulation pages and API: session 1 (run 1) is seeded (tests/seed.py)."""

from __future__ import annotations

from datetime import timedelta

from continuum.core.roles import Permission as P
from tests.seed import RUN_START
from tests.web.routes_table import Case

_START = RUN_START + timedelta(hours=22)
_END = _START + timedelta(minutes=40)
_SAFE = {
    k: "pass"
    for k in (
        "flow_stable", "cannula_secured", "clamps_at_hand", "tubing_slack", "roles_assigned",
        "stop_criteria",
    )
}  # fmt: skip
_FORM = {
    "started_at": _START.isoformat(),
    "ended_at": _END.isoformat(),
    "ims_level": "4",
    "staff_id": "1",
    "event_kind_1": "desaturation",
    "event_at_1": (_START + timedelta(minutes=10)).isoformat(),
    "event_note_1": "SpO2 86 % on standing",
    "note": "stood for 2 minutes",
    **{f"safety_{k}": v for k, v in _SAFE.items()},
}
_JSON = {
    "started_at": _START.isoformat(),
    "ended_at": _END.isoformat(),
    "ims_level": 5,
    "safety": _SAFE,
    "staff_ids": [1, 3],
    "events": [{"kind": "flow_drop", "at": (_START + timedelta(minutes=5)).isoformat()}],
    "note": "bed to chair",
}

CASES = [
    Case("GET", "/runs/{run_id}/ambulation", P.VIEW_CLINICAL, "/runs/1/ambulation"),
    Case("GET", "/runs/{run_id}/ambulation/new", P.RECORD_AMBULATION, "/runs/1/ambulation/new"),
    Case("GET", "/ambulation/{number}", P.VIEW_CLINICAL, "/ambulation/1"),
    Case("GET", "/ambulation/{number}/print", P.VIEW_CLINICAL, "/ambulation/1/print"),
    Case("GET", "/ambulation/{number}/amend", P.RECORD_AMBULATION, "/ambulation/1/amend"),
    Case(
        "POST",
        "/runs/{run_id}/ambulation",
        P.RECORD_AMBULATION,
        "/runs/1/ambulation",
        order=3,
        form=_FORM,
    ),
    Case(
        "POST",
        "/ambulation/{number}/amend",
        P.RECORD_AMBULATION,
        "/ambulation/1/amend",
        order=4,
        form={**_FORM, "ims_level": "3", "reason": "level entered one too high"},
    ),
    Case("GET", "/api/v1/runs/{run_id}/ambulation", P.VIEW_CLINICAL, "/api/v1/runs/1/ambulation"),
    Case("GET", "/api/v1/ambulation/{number}", P.VIEW_CLINICAL, "/api/v1/ambulation/1"),
    Case(
        "POST",
        "/api/v1/runs/{run_id}/ambulation",
        P.RECORD_AMBULATION,
        "/api/v1/runs/1/ambulation",
        order=3,
        json=_JSON,
    ),
    Case(
        "POST",
        "/api/v1/ambulation/{number}/amendments",
        P.RECORD_AMBULATION,
        "/api/v1/ambulation/1/amendments",
        order=4,
        json={**_JSON, "reason": "time corrected"},
    ),
]
