"""Ingest routes: console upload on a run, FHIR bundles, the integration page."""

from __future__ import annotations

from datetime import timedelta

from continuum.core.roles import Permission as P
from tests.seed import RUN_START, SECRET_MRNS
from tests.web.routes_table import Case

AT = (RUN_START + timedelta(hours=5)).isoformat()
BUNDLE = {
    "resourceType": "Bundle",
    "type": "collection",
    "identifier": {"value": "matrix-bundle-1"},
    "entry": [
        {
            "resource": {
                "resourceType": "Observation",
                "status": "final",
                "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4"}]},
                "subject": {"identifier": {"value": SECRET_MRNS[0]}},
                "effectiveDateTime": AT,
                "valueQuantity": {"value": 92, "unit": "/min"},
            }
        }
    ],
}

CASES = [
    Case("GET", "/runs/{run_id}/ingest", P.INGEST_DATA, "/runs/1/ingest"),
    Case(
        "POST",
        "/runs/{run_id}/ingest",
        P.INGEST_DATA,
        "/runs/1/ingest",
        order=2,
        form={"csv_text": f"time,blood_flow,p_access [kPa]\n{AT},4.1,-8.0\n"},
    ),
    Case("POST", "/api/v1/fhir/Bundle", P.INGEST_DATA, order=2, json=BUNDLE),
    Case(
        "POST",
        "/runs/{run_id}/ingest/preview",
        P.INGEST_DATA,
        "/runs/1/ingest/preview",
        order=2,
        form={"csv_text": f"Time,P1,P2,Flow\n{AT},250,230,4.1\n", "preset": "p1-p2-p3"},
    ),
    Case("GET", "/api/v1/ingest/presets", P.INGEST_DATA),
    Case("GET", "/integration/presets", P.MANAGE_INTEGRATION),
    Case(
        "POST",
        "/integration/presets",
        P.MANAGE_INTEGRATION,
        order=1,
        form={
            "name": "matrix-preset",
            "time_column": "Zeit",
            "time_format": "iso",
            "delimiter": ";",
            "columns": "Fluss = blood_flow [L/min]",
            "version": 0,
        },
    ),
    Case(
        "POST",
        "/integration/presets/{name}/remove",
        P.MANAGE_INTEGRATION,
        "/integration/presets/matrix-preset/remove",
        order=2,
    ),
    Case("GET", "/integration", P.MANAGE_INTEGRATION),
    Case(
        "POST",
        "/integration/mappings",
        P.MANAGE_INTEGRATION,
        order=1,
        form={"system": "MAQUET", "identifier": "FLOW", "code": "blood_flow", "active": "on"},
    ),
    Case(
        "POST",
        "/integration/units",
        P.MANAGE_INTEGRATION,
        order=1,
        form={"spelling": "LPM_X", "unit": "L/min", "active": "on"},
    ),
    Case(
        "POST",
        "/integration/consoles",
        P.MANAGE_INTEGRATION,
        order=1,
        form={"console_id": "CARDIOHELP-7", "run_id": 1},
    ),
    Case(
        "POST",
        "/integration/consoles/{assignment_id}/unassign",
        P.MANAGE_INTEGRATION,
        "/integration/consoles/1/unassign",
        order=2,
    ),
]
