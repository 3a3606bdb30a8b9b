"""Rounds routes with the permission each needs and a valid request (role matrix)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from continuum.core.roles import Permission as P
from continuum.rounds.schemas import INSPECTION_SITES
from tests.web.routes_table import Case

YESTERDAY = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()
DUE = (datetime.now(UTC) + timedelta(hours=6)).isoformat()
ACTION = {"text": "Check oxygenator ΔP trend", "owner_discipline": "perfusion", "due_at": DUE}
# Run 1 of the seed carries two open alerts; a round gives each an explicit disposition.
SEEDED_ALERTS = ("hemolysis", "anticoagulation_out_of_range")
REVIEWED = [{"detector": d, "disposition": "left_open"} for d in SEEDED_ALERTS]
ROUND_FORM = {
    **{f"alert.{i}.detector": d for i, d in enumerate(SEEDED_ALERTS)},
    **{f"alert.{i}.disposition": "left_open" for i in range(len(SEEDED_ALERTS))},
    "attendee": 1,
    "problems": "Rising ΔP",
    "therapy.anticoagulation": "UFH, anti-Xa 0.3–0.5",
    "goal.blood_flow.low": "4",
    "goal.blood_flow.high": "5.5",
    "goal.anti_xa.low": "0.3",
    "goal.anti_xa.high": "0.5",
    "goal.fluid_balance_ml.high": "0",
    "action.0.text": "Repeat pfHb at 18:00",
    "action.0.owner_discipline": "nursing",
    "action.0.due_at": "2030-01-01T18:00",
}
ROUND_JSON = {
    "round_date": YESTERDAY,
    "attendees": [1, 2, 3],
    "problems": "Weaning assessment",
    "therapy": {"ventilation": "lung-protective"},
    "goals": {"sweep_flow": {"low": 2, "high": 4}, "spo2": {"low": 88}},
    "alerts_reviewed": REVIEWED,
    "actions": [ACTION],
}
CHECK_FORM = {
    "shift": "day",
    **{f"inspect.{site}": "none" for site in INSPECTION_SITES},
    "inspect.ml_inlet": "fibrin",
    "reading.blood_flow": "4.4",
    "reading.sweep_flow": "3",
    "heater": "37 °C",
    "tx.red_cells": "1",
    "findings": "Fibrin at membrane-lung inlet",
    "action.0.text": "Re-inspect ML inlet next shift",
    "action.0.owner_discipline": "perfusion",
    "action.0.due_at": "2030-01-01T20:00",
}
CHECK_JSON = {
    "shift": "round",
    "inspection": {**dict.fromkeys(INSPECTION_SITES, "none"), "connectors": "small_clot"},
    "readings": {"oxy_delta_p": 30},
    "findings": "Clot at a connector",
}

TRANSFUSION = {"product": "red_cells", "units": "1", "reason": "Hb 68 g/L with oozing"}

CASES = [
    Case("GET", "/runs/{run_id}/transfusions", P.VIEW_CLINICAL, "/runs/1/transfusions"),
    Case(
        "GET", "/api/v1/runs/{run_id}/transfusions", P.VIEW_CLINICAL, "/api/v1/runs/1/transfusions"
    ),
    Case(
        "POST",
        "/runs/{run_id}/transfusions",
        P.ENTER_OBSERVATION,
        "/runs/1/transfusions",
        form=TRANSFUSION,
        order=3,
    ),
    Case(
        "POST",
        "/api/v1/runs/{run_id}/transfusions",
        P.ENTER_OBSERVATION,
        "/api/v1/runs/1/transfusions",
        json={**TRANSFUSION, "units": 1},
        order=3,
    ),
    Case("GET", "/rounds", P.VIEW_IDENTIFIERS),
    Case("GET", "/rounds/rows", P.VIEW_IDENTIFIERS),
    Case("GET", "/rounds/sheet", P.VIEW_IDENTIFIERS),
    Case("GET", "/runs/{run_id}/rounds", P.VIEW_CLINICAL, "/runs/1/rounds"),
    Case("GET", "/runs/{run_id}/circuit-check", P.CIRCUIT_CHECK, "/runs/1/circuit-check"),
    Case("GET", "/api/v1/rounds/board", P.VIEW_IDENTIFIERS),
    Case("GET", "/api/v1/runs/{run_id}/rounds", P.VIEW_CLINICAL, "/api/v1/runs/1/rounds"),
    Case(
        "GET",
        "/api/v1/runs/{run_id}/circuit-checks",
        P.VIEW_CLINICAL,
        "/api/v1/runs/1/circuit-checks",
    ),
    Case(
        "POST", "/runs/{run_id}/rounds", P.RECORD_ROUND, "/runs/1/rounds", form=ROUND_FORM, order=3
    ),
    Case(
        "POST",
        "/api/v1/runs/{run_id}/rounds",
        P.RECORD_ROUND,
        "/api/v1/runs/1/rounds",
        json=ROUND_JSON,
        order=3,
    ),
    Case(
        "POST",
        "/runs/{run_id}/actions",
        P.RECORD_ROUND,
        "/runs/1/actions",
        form={f"action.0.{k}": v for k, v in {**ACTION, "due_at": "2030-01-02T09:00"}.items()},
        order=3,
    ),
    Case(
        "POST",
        "/api/v1/runs/{run_id}/actions",
        P.RECORD_ROUND,
        "/api/v1/runs/1/actions",
        json=ACTION,
        order=3,
    ),
    Case(
        "POST",
        "/runs/{run_id}/circuit-check",
        P.CIRCUIT_CHECK,
        "/runs/1/circuit-check",
        form=CHECK_FORM,
        order=3,
    ),
    Case(
        "POST",
        "/api/v1/runs/{run_id}/circuit-checks",
        P.CIRCUIT_CHECK,
        "/api/v1/runs/1/circuit-checks",
        json=CHECK_JSON,
        order=3,
    ),
    Case("POST", "/rounds/{round_id}/sign", P.RECORD_ROUND, "/rounds/1/sign", form={}, order=4),
    Case(
        "POST",
        "/api/v1/rounds/{round_id}/sign",
        P.RECORD_ROUND,
        "/api/v1/rounds/2/sign",
        json={},
        order=4,
    ),
    Case(
        "POST",
        "/rounds/{round_id}/amend",
        P.RECORD_ROUND,
        "/rounds/1/amend",
        form={"section": "goals", "text": "Flow goal 4–5 L/min, not 5.5"},
        order=5,
    ),
    Case(
        "POST",
        "/api/v1/rounds/{round_id}/amendments",
        P.RECORD_ROUND,
        "/api/v1/rounds/2/amendments",
        json={"section": "attendance", "text": "Pharmacist also present"},
        order=5,
    ),
    Case(
        "POST",
        "/rounds/actions/{action_id}/complete",
        P.RECORD_ROUND,
        "/rounds/actions/1/complete",
        form={"note": "done"},
        order=5,
    ),
    Case(
        "POST",
        "/api/v1/actions/{action_id}/complete",
        P.RECORD_ROUND,
        "/api/v1/actions/2/complete",
        json={"note": "done"},
        order=5,
    ),
    Case("GET", "/rounds/sheet", P.VIEW_IDENTIFIERS, "/rounds/sheet?run_id=1", order=6),
    Case("GET", "/rounds", P.VIEW_IDENTIFIERS, "/rounds", order=6),
]
