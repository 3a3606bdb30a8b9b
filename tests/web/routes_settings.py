"""The one settings page and API: clinical groups are read with clinical access and changed
by clinical leads (quality lead, physician lead); the integration group is read and changed
by the integration administrator only."""

from __future__ import annotations

from continuum.core.roles import Permission as P
from tests.web.routes_table import ANY, Case

CLINICAL_READ = (P.VIEW_CLINICAL, P.MANAGE_CLINICAL_SETTINGS)
GROUP = "/settings/{group}"
API = "/api/v1/settings/{group}"

CASES = [
    Case("GET", "/settings", ANY),
    Case("GET", "/api/v1/settings", ANY),
    *[
        Case("GET", GROUP, CLINICAL_READ, f"/settings/{g}")
        for g in ("surveillance", "weaning", "initiation", "rounds", "shifts")
    ],
    Case("GET", GROUP, P.MANAGE_INTEGRATION, "/settings/integration"),
    Case("GET", GROUP, P.MANAGE_USERS, "/settings/accounts"),
    Case(
        "POST",
        GROUP,
        P.MANAGE_CLINICAL_SETTINGS,
        "/settings/weaning",
        order=3,
        form={"t_vv_peep_max": "12", "note": "programme protocol 2026"},
    ),
    Case(
        "POST",
        GROUP,
        P.MANAGE_CLINICAL_SETTINGS,
        "/settings/initiation",
        order=3,
        form={"t_ecpr_max_no_flow_min": "8", "note": "programme protocol 2026"},
    ),
    Case(
        "POST",
        GROUP,
        P.MANAGE_INTEGRATION,
        "/settings/integration",
        order=3,
        form={"t_message_log_days": "120", "note": "role matrix"},
    ),
    Case("GET", API, CLINICAL_READ, "/api/v1/settings/surveillance"),
    Case("GET", API, P.MANAGE_INTEGRATION, "/api/v1/settings/integration"),
    Case(
        "PUT",
        API,
        P.MANAGE_CLINICAL_SETTINGS,
        "/api/v1/settings/surveillance",
        order=3,
        json={"values": {"pfhb_warning": 45}, "note": "QA committee"},
    ),
    Case(
        "PUT",
        API,
        P.MANAGE_INTEGRATION,
        "/api/v1/settings/integration",
        order=3,
        json={"values": {"message_log_days": 60}},
    ),
]
