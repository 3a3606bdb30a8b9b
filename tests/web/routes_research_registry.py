"""Registry routes with the permission each needs and a valid request (role matrix).

Run 1 of the seeded template is reviewed at order 2, before other cases add cannulas and
components to it or end it, so every reviewing role finds the same work list: the batch
below fills it, then the run is marked ready (API), one field is corrected on the page (a
change since the mark) and the page marks it ready again."""

from __future__ import annotations

from datetime import timedelta

from continuum.core.roles import Permission as P
from tests.seed import RUN_START
from tests.web.routes_table import Case

OFF = (RUN_START + timedelta(hours=40)).isoformat()
FILLS: dict[str, object] = {
    "run.time_off": OFF, "run.hours_on_ecls": 40, "run.pre_ecls_arrest": "No",
    "run.ph_pre": 7.2, "run.paco2_pre": 60, "run.pao2_pre": 55, "run.fio2_pre": 1.0,
    "run.peep_pre": 14, "run.pump_flow_4h": 4.2, "run.pump_flow_24h": 4.5,
    "run.ph_24h": 7.38, "run.paco2_24h": 42, "run.pao2_24h": 85, "run.fio2_24h": 0.5,
    "run.peep_24h": 10, "run.map_24h": 70, "diagnoses.primary_icd10": "J12.82",
    "outcome.discontinuation": "Expected recovery", "outcome.died_on_ecls": "No",
    "discharge.discharged_alive": "Yes",
}  # fmt: skip
REVIEWS = {
    "reviews": [
        {"field": k, "action": "correct", "value": v, "reason": "chart review"}
        for k, v in FILLS.items()
    ]
}

CASES = [
    Case("GET", "/research/registry", P.VIEW_QUALITY),
    Case("GET", "/research/registry/runs/{run_id}", P.VIEW_QUALITY, "/research/registry/runs/1"),
    Case(
        "GET",
        "/research/registry/runs/{run_id}/bundle.zip",
        P.VIEW_QUALITY,
        "/research/registry/runs/1/bundle.zip",
    ),
    Case("GET", "/api/v1/research/registry", P.VIEW_QUALITY),
    Case(
        "GET",
        "/api/v1/research/registry/runs/{run_id}",
        P.VIEW_QUALITY,
        "/api/v1/research/registry/runs/1",
    ),
    Case(
        "GET",
        "/api/v1/research/registry/runs/{run_id}/bundle",
        P.VIEW_QUALITY,
        "/api/v1/research/registry/runs/1/bundle",
    ),
    Case(
        "POST",
        "/api/v1/research/registry/runs/{run_id}/amendments",
        P.REVIEW_REGISTRY,
        "/api/v1/research/registry/runs/1/amendments",
        json=REVIEWS,
        order=2,
    ),
    Case(
        "POST",
        "/api/v1/research/registry/runs/{run_id}/ready",
        P.REVIEW_REGISTRY,
        "/api/v1/research/registry/runs/1/ready",
        json={},
        order=2,
    ),
    Case(
        "POST",
        "/research/registry/runs/{run_id}/review",
        P.REVIEW_REGISTRY,
        "/research/registry/runs/1/review",
        form={
            "field": "run.pump_flow_4h",
            "action": "correct",
            "value": "4.1",
            "reason": "paper chart at 4 h",
        },
        order=2,
    ),
    Case(
        "POST",
        "/research/registry/runs/{run_id}/ready",
        P.REVIEW_REGISTRY,
        "/research/registry/runs/1/ready",
        form={},
        order=2,
    ),
]
