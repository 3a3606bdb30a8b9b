"""Weaning routes with the permission each needs and a valid request (role matrix).

Run 1 (VV) is used before the core cases change its mode (order 3) and end it (order 9):
a sweep-off trial to a pass, an aborted FdO2 trial, a checklist signed by one part (so the
run stays open). Run 2 (VA, created at order 2) takes the API cases.
"""

from __future__ import annotations

from continuum.core.roles import Permission as P
from tests.web.routes_table import Case

W = "/runs/1/weaning"
T1 = "/weaning/trials/1"
GAS = {"blood_flow": 4.2, "spo2": 95, "sao2": 95, "pao2": 85, "paco2": 42, "ph": 7.4}
DECANNULATION = {
    "anticoagulation_note": "heparin off for 1 h",
    "blood_products_available": "true",
    "positioning": "Trendelenburg",
    "closure_technique": "purse-string",
    "haemostasis_minutes": 30,
    "limb_perfusion": "warm, pulses present",
}

CASES = [
    Case("GET", "/runs/{run_id}/weaning", P.VIEW_CLINICAL, W),
    Case("GET", "/runs/{run_id}/weaning/readiness", P.VIEW_CLINICAL, f"{W}/readiness"),
    Case("GET", "/runs/{run_id}/weaning/trial", P.VIEW_CLINICAL, f"{W}/trial"),
    Case("GET", "/runs/{run_id}/decannulation", P.VIEW_CLINICAL, "/runs/1/decannulation"),
    Case("GET", "/weaning/settings", P.VIEW_CLINICAL),  # now a redirect to /settings/weaning
    Case("GET", "/api/v1/runs/{run_id}/weaning", P.VIEW_CLINICAL, "/api/v1/runs/1/weaning"),
    Case(
        "GET",
        "/api/v1/runs/{run_id}/weaning/readiness",
        P.VIEW_CLINICAL,
        "/api/v1/runs/1/weaning/readiness",
    ),
    # pages, run 1 (VV) before the core cases change its mode
    Case(
        "POST", "/runs/{run_id}/weaning/readiness", P.RUN_WEANING, f"{W}/readiness",
        form={"note": "looks ready"}, order=-5,
    ),
    Case(
        "POST", "/runs/{run_id}/weaning/trials", P.RUN_WEANING, f"{W}/trials",
        form={"kind": "sweep_off", "planned_minutes": 120}, order=-5,
    ),
    Case(
        "POST", "/weaning/trials/{trial_id}/steps", P.RUN_WEANING, f"{T1}/steps",
        form={"stage": "baseline", "sweep_flow": 2, **GAS}, order=-4,
    ),
    Case(
        "POST", "/weaning/trials/{trial_id}/steps", P.RUN_WEANING, f"{T1}/steps",
        form={"stage": "sweep_off", "sweep_flow": 0, **GAS}, order=-4,
    ),
    Case(
        "POST", "/weaning/trials/{trial_id}/steps", P.RUN_WEANING, f"{T1}/steps",
        form={"stage": "during", "sweep_flow": 0, **GAS}, order=-4,
    ),
    Case(
        "POST", "/weaning/trials/{trial_id}/assessment", P.CIRCUIT_CHECK, f"{T1}/assessment",
        form={"flow_safe": "true", "anticoagulation_ok": "true", "assessment": "flow 4.2"},
        order=-4,
    ),
    Case(
        "POST", "/weaning/trials/{trial_id}/finish", P.RUN_WEANING, f"{T1}/finish",
        form={"outcome": "passed", "reason": "gases stable"}, order=-3,
    ),
    Case(
        "POST", "/runs/{run_id}/weaning/trials", P.RUN_WEANING, f"{W}/trials",
        form={"kind": "fdo2_reduction"}, order=-3,
    ),
    Case(
        "POST", "/weaning/trials/{trial_id}/abort", P.RUN_WEANING, "/weaning/trials/2/abort",
        form={"reason": "desaturation"}, order=-2,
    ),
    Case("GET", "/runs/{run_id}/weaning/trial", P.VIEW_CLINICAL, f"{W}/trial?id=1", order=-2),
    Case(
        "POST", "/runs/{run_id}/decannulation", P.RUN_WEANING, "/runs/1/decannulation",
        form=DECANNULATION, order=-2,
    ),
    Case(
        "POST", "/weaning/decannulations/{item_id}/sign", P.SIGN_DECANNULATION,
        "/weaning/decannulations/1/sign", form={}, order=-1,
    ),
    Case(
        "POST", "/weaning/follow-ups/{item_id}/done", P.RUN_WEANING, "/weaning/follow-ups/1/done",
        form={"result": "pH 7.41, PaCO2 41, PaO2 88"}, order=-1,
    ),
    # API, run 2 (VA, created at order 2)
    Case(
        "POST", "/api/v1/runs/{run_id}/weaning/readiness", P.RUN_WEANING,
        "/api/v1/runs/2/weaning/readiness", json={"pulse_pressure": 35}, order=4,
    ),
    Case(
        "POST", "/api/v1/runs/{run_id}/weaning/trials", P.RUN_WEANING,
        "/api/v1/runs/2/weaning/trials", json={"kind": "va_flow_reduction"}, order=4,
    ),
    Case(
        "POST", "/api/v1/weaning/trials/{trial_id}/steps", P.RUN_WEANING,
        "/api/v1/weaning/trials/3/steps",
        json={"stage": "baseline", "values": {"blood_flow": 3.5, "map": 70}}, order=5,
    ),
    Case(
        "POST", "/api/v1/weaning/trials/{trial_id}/assessment", P.CIRCUIT_CHECK,
        "/api/v1/weaning/trials/3/assessment",
        json={"flow_safe": True, "anticoagulation_ok": True, "assessment": "ok"}, order=5,
    ),
    Case(
        "POST", "/api/v1/weaning/trials/{trial_id}/finish", P.RUN_WEANING,
        "/api/v1/weaning/trials/3/finish", json={"outcome": "failed", "reason": "MAP fell"},
        order=6,
    ),
    Case(
        "POST", "/api/v1/runs/{run_id}/weaning/trials", P.RUN_WEANING,
        "/api/v1/runs/2/weaning/trials", json={"kind": "va_flow_reduction"}, order=6,
    ),
    Case(
        "POST", "/api/v1/weaning/trials/{trial_id}/abort", P.RUN_WEANING,
        "/api/v1/weaning/trials/4/abort", json={"reason": "arrhythmia"}, order=7,
    ),
    Case(
        "POST", "/api/v1/runs/{run_id}/decannulation", P.RUN_WEANING,
        "/api/v1/runs/2/decannulation",
        json={**DECANNULATION, "blood_products_available": True,
              "no_trial_reason": "bridged to VAD in theatre", "outcome": "bridged_to_vad"},
        order=7,
    ),
    Case(
        "POST", "/api/v1/weaning/decannulations/{item_id}/sign", P.SIGN_DECANNULATION,
        "/api/v1/weaning/decannulations/2/sign", json={}, order=8,
    ),
    Case(
        "POST", "/api/v1/weaning/follow-ups/{item_id}/done", P.RUN_WEANING,
        "/api/v1/weaning/follow-ups/4/done", json={"result": "Doppler: no thrombus"}, order=8,
    ),
]  # fmt: skip
