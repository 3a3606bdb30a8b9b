"""Every page and endpoint with the permission it needs and a valid request for it.

The role-matrix test fails when a route exists that is not listed here, so a new
endpoint cannot slip in without its access rule being tested.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from continuum.core.roles import Permission as P
from tests.seed import RUN_START

PUBLIC = "public"
ANY = "any authenticated"


@dataclass(frozen=True)
class Case:
    method: str
    template: str
    needs: str | P | tuple[P, ...]
    path: str = ""
    form: dict[str, Any] | None = None
    json: dict[str, Any] | None = None
    order: int = 0
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return self.path or self.template

    @property
    def is_api(self) -> bool:
        return self.template.startswith("/api/")


RUN = "/runs/1"
LATER = (RUN_START + timedelta(hours=3)).isoformat()
CORE_CASES = [
    Case("GET", "/login", PUBLIC),
    Case("POST", "/login", PUBLIC, form={"username": "nobody", "password": "x"}),
    Case("GET", "/healthz", PUBLIC),
    Case("GET", "/api/docs", PUBLIC),
    Case("GET", "/", PUBLIC),
    Case("GET", "/runs", P.VIEW_CLINICAL),
    Case("GET", "/runs/new", P.MANAGE_RUN),
    Case("GET", "/runs/{run_id}", P.VIEW_CLINICAL, RUN),
    Case("GET", "/patients", P.VIEW_CLINICAL),
    Case("GET", "/patients/new", P.CREATE_PATIENT),
    Case(
        "GET", "/observations/{observation_id}/amend", P.AMEND_OBSERVATION, "/observations/1/amend"
    ),
    Case("GET", "/admin/users", P.MANAGE_USERS),
    Case("GET", "/admin/audit", P.VIEW_AUDIT),
    Case(
        "POST",
        "/patients/new",
        P.CREATE_PATIENT,
        order=1,
        form={"mrn": "MRNNEW1", "name": "New Person", "sex": "male"},
    ),
    Case(
        "POST",
        "/runs/new",
        P.MANAGE_RUN,
        order=2,
        form={"patient_id": 2, "support_type": "cardiac", "mode": "VA"},
    ),
    Case(
        "POST",
        "/runs/{run_id}/mode",
        P.MANAGE_RUN,
        f"{RUN}/mode",
        order=3,
        form={"mode": "VVA", "reason": "differential hypoxia"},
    ),
    Case(
        "POST",
        "/runs/{run_id}/components",
        P.MANAGE_CIRCUIT,
        f"{RUN}/components",
        order=3,
        form={"kind": "heater", "model": "HU 35"},
    ),
    Case(
        "POST",
        "/runs/{run_id}/cannulas",
        P.MANAGE_RUN,
        f"{RUN}/cannulas",
        order=3,
        form={"role": "return", "site": "internal jugular vein", "french": 21},
    ),
    Case(
        "POST",
        "/runs/{run_id}/observations",
        P.ENTER_OBSERVATION,
        f"{RUN}/observations",
        order=3,
        form={"code": "hb", "value": "9.1"},
    ),
    Case(
        "POST",
        "/runs/{run_id}/participants",
        P.RECORD_PARTICIPATION,
        f"{RUN}/participants",
        order=3,
        form={"staff_id": 1, "how": "present"},
    ),
    Case(
        "POST",
        "/observations/{observation_id}/amend",
        P.AMEND_OBSERVATION,
        "/observations/4/amend",
        order=3,
        form={"value": "8.8", "reason": "lab re-run"},
    ),
    Case(
        "POST",
        "/runs/{run_id}/end",
        P.END_RUN,
        f"{RUN}/end",
        order=9,
        form={"outcome": "weaned_recovered", "stop_reason": "trial passed"},
    ),
    Case(
        "POST",
        "/admin/users",
        P.MANAGE_USERS,
        order=3,
        form={"name": "New Nurse", "discipline": "nursing", "role": "nurse"},
    ),
    Case("POST", "/admin/tokens", P.MANAGE_USERS, order=3, form={"staff_id": 8, "label": "t"}),
    Case("GET", "/account", ANY),
    Case("POST", "/account/tokens", P.ISSUE_OWN_TOKEN, order=3, form={"label": "my script"}),
    Case(
        "POST",
        "/account/tokens/{token_id}/revoke",
        P.ISSUE_OWN_TOKEN,
        "/account/tokens/1/revoke",
        order=4,
    ),
    # {password} is the logged-in role's own password (test_role_matrix.send fills it in).
    Case(
        "POST",
        "/account/password",
        ANY,
        order=98,
        form={"current_password": "{password}", "new_password": "a-new-password-for-{role}"},
    ),
    Case("GET", "/admin/users/{staff_id}", P.MANAGE_USERS, "/admin/users/3"),
    Case("POST", "/admin/users/{staff_id}/reset", P.MANAGE_USERS, "/admin/users/3/reset", order=5),
    Case(
        "POST",
        "/admin/users/{staff_id}/role",
        P.MANAGE_USERS,
        "/admin/users/3/role",
        order=5,
        form={"role": "coordinator"},
    ),
    Case(
        "POST",
        "/admin/users/{staff_id}/active",
        P.MANAGE_USERS,
        "/admin/users/3/active",
        order=6,
        form={"active": "no"},
    ),
    Case(
        "POST",
        "/admin/users/{staff_id}/end-sessions",
        P.MANAGE_USERS,
        "/admin/users/3/end-sessions",
        order=5,
    ),
    Case(
        "POST", "/admin/users/{staff_id}/unlock", P.MANAGE_USERS, "/admin/users/3/unlock", order=5
    ),
    Case(
        "POST", "/admin/tokens/{token_id}/revoke", P.MANAGE_USERS, "/admin/tokens/1/revoke", order=4
    ),
    Case("POST", "/logout", ANY, order=99, form={}),
    Case("GET", "/calculators", ANY),
    Case("GET", "/calculators/{name}", ANY, "/calculators/bsa"),
    Case(
        "POST",
        "/calculators/{name}",
        ANY,
        "/calculators/bsa",
        order=3,
        form={"height_cm": 180, "weight_kg": 80},
    ),
    Case("GET", "/api/v1/calculators", ANY),
    Case(
        "POST",
        "/api/v1/calculators/{name}",
        ANY,
        "/api/v1/calculators/bsa",
        order=3,
        json={"height_cm": 180, "weight_kg": 80},
    ),
    Case("GET", "/api/v1/me", ANY),
    Case("GET", "/api/v1/patients", P.VIEW_CLINICAL),
    Case("GET", "/api/v1/patients/{patient_id}", P.VIEW_CLINICAL, "/api/v1/patients/1"),
    Case("GET", "/api/v1/runs", P.VIEW_CLINICAL),
    Case("GET", "/api/v1/runs/{run_id}", P.VIEW_CLINICAL, "/api/v1/runs/1"),
    Case(
        "GET",
        "/api/v1/runs/{run_id}/observations",
        P.VIEW_CLINICAL,
        "/api/v1/runs/1/observations",
        params={"code": ["blood_flow", "hb"]},
    ),
    Case("GET", "/api/v1/runs/{run_id}/timeline", P.VIEW_CLINICAL, "/api/v1/runs/1/timeline"),
    Case("GET", "/api/v1/runs/{run_id}/events", P.VIEW_CLINICAL, "/api/v1/runs/1/events"),
    Case("GET", "/runs/{run_id}/timeline", P.VIEW_CLINICAL, "/runs/1/timeline"),
    Case("GET", "/api/v1/observations/{observation_id}", P.VIEW_CLINICAL, "/api/v1/observations/1"),
    Case("GET", "/api/v1/staff", (P.VIEW_CLINICAL, P.MANAGE_USERS)),
    Case("GET", "/api/v1/audit", P.VIEW_AUDIT),
    Case(
        "POST",
        "/api/v1/patients",
        P.CREATE_PATIENT,
        order=1,
        json={"mrn": "MRNAPI1", "name": "Api Person", "sex": "female"},
    ),
    Case(
        "POST",
        "/api/v1/runs",
        P.MANAGE_RUN,
        order=2,
        json={"mrn": "MRNAPI1", "support_type": "cardiac", "mode": "VA"},
    ),
    Case(
        "POST",
        "/api/v1/runs/{run_id}/modes",
        P.MANAGE_RUN,
        "/api/v1/runs/1/modes",
        order=5,
        json={"mode": "VAV", "reason": "native heart recovering"},
    ),
    Case(
        "POST",
        "/api/v1/runs/{run_id}/cannulas",
        P.MANAGE_RUN,
        "/api/v1/runs/1/cannulas",
        order=3,
        json={"role": "distal_perfusion", "site": "superficial femoral artery"},
    ),
    Case(
        "POST",
        "/api/v1/runs/{run_id}/components",
        P.MANAGE_CIRCUIT,
        "/api/v1/runs/1/components",
        order=3,
        json={"kind": "console", "model": "Cardiohelp"},
    ),
    Case(
        "POST",
        "/api/v1/runs/{run_id}/observations",
        P.ENTER_OBSERVATION,
        "/api/v1/runs/1/observations",
        order=3,
        json={"observations": [{"code": "blood_flow", "value": 4.1, "time": LATER}]},
    ),
    Case(
        "POST",
        "/api/v1/observations/{observation_id}/amendments",
        P.AMEND_OBSERVATION,
        "/api/v1/observations/8/amendments",
        order=3,
        json={"value": 4.4, "reason": "probe misread"},
    ),
    Case(
        "POST",
        "/api/v1/runs/{run_id}/participants",
        P.RECORD_PARTICIPATION,
        "/api/v1/runs/1/participants",
        order=3,
        json={"staff_id": 2, "how": "consulted"},
    ),
    Case(
        "POST",
        "/api/v1/runs/{run_id}/end",
        P.END_RUN,
        "/api/v1/runs/3/end",
        order=10,
        json={"outcome": "died_on_ecmo", "stop_reason": "refractory shock"},
    ),
    Case("POST", "/api/v1/tokens", P.MANAGE_USERS, order=3, json={"staff_id": 8}),
    Case("POST", "/api/v1/tokens", P.ISSUE_OWN_TOKEN, order=3, json={"label": "mine"}),
]


def _domain_cases() -> list[Case]:
    """Each domain lists its routes in tests/web/routes_<domain>.py as ``CASES``."""
    import importlib
    from pathlib import Path

    cases: list[Case] = []
    for path in sorted(Path(__file__).parent.glob("routes_*.py")):
        if path.stem != "routes_table":
            cases += importlib.import_module(f"tests.web.{path.stem}").CASES
    return cases


CASES = CORE_CASES + _domain_cases()
