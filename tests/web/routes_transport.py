"""Transport pages and API: missions 1 (primary, referral 1, patient 2) and 2 (primary,
run 1) are seeded with their call 3 h and 4 h ago (tests/seed.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from continuum.core.roles import Permission as P
from tests.web.routes_table import Case


def _ago(hours: float) -> str:
    return (datetime.now(UTC) - timedelta(hours=hours)).replace(microsecond=0).isoformat()


_CHECKLIST = {
    "cylinder_volume_l": "10", "cylinder_pressure_bar": "200", "cylinders": "1",
    "sweep_l_min": "4", "ventilator_l_min": "0", "console_battery_min": "180",
    "pump_battery_min": "180", "expected_min": "60",
    **{f"tick_{k}": "pass" for k in (
        "hand_crank", "clamps", "cannula_securement", "blood_products", "power_compatibility",
        "transport_ventilator",
    )},
}  # fmt: skip
_TICKED = {
    k: True
    for k in (
        "hand_crank", "clamps", "cannula_securement", "blood_products", "power_compatibility",
        "transport_ventilator",
    )
}  # fmt: skip

CASES = [
    Case("GET", "/transport", P.VIEW_CLINICAL),
    Case("GET", "/transport/new", P.MANAGE_TRANSPORT),
    Case("GET", "/transport/{mission_id}", P.VIEW_CLINICAL, "/transport/1"),
    Case(
        "POST",
        "/transport",
        P.MANAGE_TRANSPORT,
        order=3,
        form={
            "mission_type": "secondary",
            "vehicle": "rotor",
            "referral_id": "1",
            "referring_hospital": "Hilltop Hospital",
            "expected_min": "40",
        },
    ),
    Case(
        "POST",
        "/transport/{mission_id}/milestone",
        P.MANAGE_TRANSPORT,
        "/transport/1/milestone",
        order=3,
        form={"milestone": "activation", "at": _ago(2.8)},
    ),
    Case(
        "POST",
        "/transport/{mission_id}/amend",
        P.MANAGE_TRANSPORT,
        "/transport/1/amend",
        order=3,
        form={"expected_min": "75", "reason": "road works on the bypass"},
    ),
    Case(
        "POST",
        "/transport/{mission_id}/checklist",
        P.MANAGE_TRANSPORT,
        "/transport/1/checklist",
        order=3,
        form=_CHECKLIST,
    ),
    Case(
        "POST",
        "/transport/{mission_id}/events",
        P.MANAGE_TRANSPORT,
        "/transport/1/events",
        order=4,
        form={"at": _ago(1.5), "kind": "desaturation", "text": "SpO2 84% on loading"},
    ),
    Case(
        "POST",
        "/transport/{mission_id}/handover",
        P.MANAGE_TRANSPORT,
        "/transport/1/handover",
        order=5,
        form={
            "at": _ago(1),
            "to_name": "Dr Night",
            "to_discipline": "intensive_care",
            "summary": "stable on VV, flow 4 L/min",
        },
    ),
    Case(
        "POST",
        "/transport/{mission_id}/team",
        P.MANAGE_TRANSPORT,
        "/transport/1/team",
        order=3,
        form={"staff_id": "1", "contribution": "ECMO specialist"},
    ),
    Case("GET", "/api/v1/transport", P.VIEW_CLINICAL),
    Case("GET", "/api/v1/transport/{mission_id}", P.VIEW_CLINICAL, "/api/v1/transport/2"),
    Case(
        "POST",
        "/api/v1/transport",
        P.MANAGE_TRANSPORT,
        order=3,
        json={"mission_type": "primary", "vehicle": "road", "referral_id": 1},
    ),
    Case(
        "POST",
        "/api/v1/transport/{mission_id}/milestones",
        P.MANAGE_TRANSPORT,
        "/api/v1/transport/2/milestones",
        order=3,
        json={"milestone": "activation", "at": _ago(3.8)},
    ),
    Case(
        "POST",
        "/api/v1/transport/{mission_id}/amend",
        P.MANAGE_TRANSPORT,
        "/api/v1/transport/2/amend",
        order=3,
        json={"vehicle": "rotor", "reason": "helicopter available"},
    ),
    Case(
        "POST",
        "/api/v1/transport/{mission_id}/checklist",
        P.MANAGE_TRANSPORT,
        "/api/v1/transport/2/checklist",
        order=3,
        json={
            "cylinder_volume_l": 10,
            "cylinder_pressure_bar": 200,
            "sweep_l_min": 4,
            "console_battery_min": 180,
            "pump_battery_min": 180,
            "ticked": _TICKED,
        },
    ),
    Case(
        "POST",
        "/api/v1/transport/{mission_id}/events",
        P.MANAGE_TRANSPORT,
        "/api/v1/transport/2/events",
        order=4,
        json={"at": _ago(2), "kind": "power_loss", "text": "inverter tripped, on battery 4 min"},
    ),
    Case(
        "POST",
        "/api/v1/transport/{mission_id}/handover",
        P.MANAGE_TRANSPORT,
        "/api/v1/transport/2/handover",
        order=5,
        json={
            "at": _ago(1),
            "to_name": "Dr Day",
            "to_discipline": "intensive_care",
            "summary": "handed over in ICU 3",
        },
    ),
]
