"""Planned-exchange pages (alerts domain): plan 1 is seeded (tests/seed.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from continuum.core.roles import Permission as P
from tests.web.routes_table import Case

_SOON = (datetime.now(UTC) + timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M")
_ALL = {
    f"check_{k}": "1"
    for k in (
        "team_briefed", "circuit_primed", "clamps_ready", "ventilator_ready", "flow_clamped",
        "connections_checked", "flow_restored", "gases_checked", "pressures_checked",
        "old_part_kept",
    )
}  # fmt: skip

CASES = [
    Case("GET", "/runs/{run_id}/exchanges/new", P.MANAGE_CIRCUIT, "/runs/1/exchanges/new"),
    Case("GET", "/exchanges/{plan_id}", P.VIEW_CLINICAL, "/exchanges/1"),
    Case(
        "POST",
        "/runs/{run_id}/exchanges",
        P.MANAGE_CIRCUIT,
        "/runs/1/exchanges",
        order=3,
        form={"target": "membrane_lung", "planned_at": _SOON},
    ),
    Case(
        "POST",
        "/exchanges/{plan_id}/update",
        P.MANAGE_CIRCUIT,
        "/exchanges/1/update",
        order=3,
        form={"check_team_briefed": "1", "equipment_ready": "1"},
    ),
    Case(
        "POST",
        "/exchanges/{plan_id}/cancel",
        P.MANAGE_CIRCUIT,
        "/exchanges/2/cancel",
        order=4,
        form={"reason": "moved to theatre"},
    ),
    # components 2 (heater) and 3 (console) are added at order 3; /alerts/1/replace-component
    # (order 6) replaces membrane lung 1 by membrane lung 4
    Case(
        "POST",
        "/exchanges/{plan_id}/done",
        P.MANAGE_CIRCUIT,
        "/exchanges/1/done",
        order=7,
        form={"clamp_s": "60", "replaces_id": "4", "stop_reason": "thrombus", **_ALL},
    ),
]
