"""Initiation routes with the permission each needs and a valid request.

Referral 1 (patient 2) is seeded for every role. Roles that may manage referrals create
referral 2 (pages, new patient) and referral 3 (API, new patient) and walk each one from
assessment to a started run; read-only roles read referral 1. They then create referral 4
(patient 2) which signers defer, sign and reassess twice: once through the page, once
through the API (each reassessment opens the next decision record).
"""

from __future__ import annotations

from continuum.core.roles import Permission as P
from tests.web.routes_table import Case

PAGE, API = "/referrals/2", "/api/v1/referrals/3"
T, TA = "/referrals/{referral_id}", "/api/v1/referrals/{referral_id}"
CANDIDACY_FORM = {
    "checked": "pulmonary.hypoxaemia",
    "murray.cxr_quadrants": "4",
    "murray.pao2_mmhg": "55",
    "murray.fio2": "1.0",
    "murray.peep_cmh2o": "14",
}
PLAN_FORM = {
    "c0.role": "drainage_and_return",
    "c0.site": "internal jugular vein",
    "c0.side": "right",
    "c0.catalogue_id": "crescent_32",
    "membrane_lung_make": "Getinge",
    "membrane_lung_model": "HLS 7.0",
    "rated_flow_l_min": "7",
    "prime_volume_ml": "600",
    "hct_pct": "32",
    "flow_goal_low": "4",
    "flow_goal_high": "5",
    "monitor_code": "anti_xa",
    "monitor_low": "0.3",
    "monitor_high": "0.5",
}
PLAN_JSON = {
    "cannulas": [
        {
            "role": "drainage_and_return",
            "site": "internal jugular vein",
            "side": "right",
            "catalogue_id": "crescent_32",
        },
    ],
    "membrane_lung_make": "Getinge",
    "rated_flow_l_min": 7,
    "flow_goal_low": 4,
    "flow_goal_high": 5,
    "monitor_low": 0.3,
    "monitor_high": 0.5,
}
NEW = {"name": "Route Test", "sex": "male", "height_cm": 180, "weight_kg": 80}
REFERRAL = {
    "referring_hospital": "District General",
    "referring_clinician": "Dr Route",
    "support_type": "pulmonary",
    "clinical_picture": "Severe ARDS",
}
START_REASON = {"missing_signoff_reason": "second signer scrubbing in; signs after cannulation"}
DEFERRED = "/referrals/4"
DEFER = {"outcome": "defer", "reasons": "lactate 9 mmol/L: reassess in 6 h"}
REASSESS = {"reason": "lactate back: 2.1 mmol/L"}

CASES = [
    Case("GET", "/referrals", P.VIEW_IDENTIFIERS),
    Case("GET", "/referrals/new", P.MANAGE_REFERRAL),
    Case("GET", T, P.VIEW_IDENTIFIERS, "/referrals/1"),
    Case("GET", f"{T}/print", P.VIEW_IDENTIFIERS, "/referrals/1/print"),
    Case("GET", "/runs/{run_id}/initiation", P.VIEW_IDENTIFIERS, "/runs/1/initiation"),
    Case(
        "POST",
        "/referrals/new",
        P.MANAGE_REFERRAL,
        order=4,
        form={
            **REFERRAL,
            "new_mrn": "MRNINIT1",
            "new_name": "Page Route",
            "new_sex": "male",
            "new_weight_kg": "80",
            "new_height_cm": "180",
        },
    ),
    Case(
        "POST",
        f"{T}/status",
        P.MANAGE_REFERRAL,
        f"{PAGE}/status",
        order=6,
        form={"status": "under_assessment"},
    ),
    Case(
        "POST",
        f"{T}/candidacy",
        P.MANAGE_REFERRAL,
        f"{PAGE}/candidacy",
        order=7,
        form=CANDIDACY_FORM,
    ),
    Case(
        "POST",
        f"{T}/modality",
        P.MANAGE_REFERRAL,
        f"{PAGE}/modality",
        order=8,
        form={"phys.respiratory_failure": "on", "phys.adequate_cardiac_function": "on"},
    ),
    Case("POST", f"{T}/plan", P.MANAGE_CIRCUIT, f"{PAGE}/plan", order=9, form=PLAN_FORM),
    Case(
        "POST",
        f"{T}/participants",
        P.RECORD_PARTICIPATION,
        "/referrals/1/participants",
        order=10,
        form={"staff_id": 2, "how": "consulted", "contribution": "echo"},
    ),
    Case(
        "POST",
        f"{T}/decision",
        P.SIGN_DECISION,
        f"{PAGE}/decision",
        order=11,
        form={"outcome": "accept", "reasons": "meets EOLIA criteria"},
    ),
    Case("POST", f"{T}/sign", P.SIGN_DECISION, f"{PAGE}/sign", order=12, form={}),
    Case(
        "POST", f"{T}/start-run", P.SIGN_DECISION, f"{PAGE}/start-run", order=13, form=START_REASON
    ),
    Case(
        "POST",
        f"{T}/amendments",
        P.MANAGE_REFERRAL,
        f"{PAGE}/amendments",
        order=14,
        form={"note": "cannulated in the ICU"},
    ),
    Case("GET", "/api/v1/referrals", P.VIEW_IDENTIFIERS),
    Case("GET", TA, P.VIEW_IDENTIFIERS, "/api/v1/referrals/1"),
    Case(
        "POST",
        "/api/v1/modality/recommend",
        P.VIEW_CLINICAL,
        json={"cardiogenic_shock": True, "lv_distension": True},
    ),
    Case(
        "POST",
        "/api/v1/referrals",
        P.MANAGE_REFERRAL,
        order=5,
        json={**REFERRAL, "new_patient": {**NEW, "mrn": "MRNINIT2"}},
    ),
    Case(
        "POST",
        f"{TA}/status",
        P.MANAGE_REFERRAL,
        f"{API}/status",
        order=6,
        json={"status": "under_assessment"},
    ),
    Case(
        "POST",
        f"{TA}/candidacy",
        P.MANAGE_REFERRAL,
        f"{API}/candidacy",
        order=7,
        json={
            "checked": ["pulmonary.hypoxaemia"],
            "scores": {"murray": {"cxr_quadrants": 4, "pao2_mmhg": 55, "fio2": 1.0}},
        },
    ),
    Case(
        "POST",
        f"{TA}/modality",
        P.MANAGE_REFERRAL,
        f"{API}/modality",
        order=8,
        json={"physiology": {"respiratory_failure": True, "adequate_cardiac_function": True}},
    ),
    Case("POST", f"{TA}/plan", P.MANAGE_CIRCUIT, f"{API}/plan", order=9, json=PLAN_JSON),
    Case(
        "POST",
        f"{TA}/participants",
        P.RECORD_PARTICIPATION,
        "/api/v1/referrals/1/participants",
        order=10,
        json={"staff_id": 1, "how": "present"},
    ),
    Case(
        "POST",
        f"{TA}/decision",
        P.SIGN_DECISION,
        f"{API}/decision",
        order=11,
        json={"outcome": "accept", "reasons": "meets EOLIA criteria"},
    ),
    Case("POST", f"{TA}/sign", P.SIGN_DECISION, f"{API}/sign", order=12, json={}),
    Case(
        "POST", f"{TA}/start-run", P.SIGN_DECISION, f"{API}/start-run", order=13, json=START_REASON
    ),
    Case(
        "POST",
        f"{TA}/amendments",
        P.MANAGE_REFERRAL,
        f"{API}/amendments",
        order=14,
        json={"note": "cannulated in the ICU"},
    ),
    Case("POST", "/referrals/new", P.MANAGE_REFERRAL, order=15, form={**REFERRAL, "patient_id": 2}),
    Case("POST", f"{T}/decision", P.SIGN_DECISION, f"{DEFERRED}/decision", order=16, form=DEFER),
    Case("POST", f"{T}/sign", P.SIGN_DECISION, f"{DEFERRED}/sign", order=17, form={}),
    Case("POST", f"{T}/reassess", P.SIGN_DECISION, f"{DEFERRED}/reassess", order=18, form=REASSESS),
    Case(
        "POST",
        f"{TA}/decision",
        P.SIGN_DECISION,
        f"/api/v1{DEFERRED}/decision",
        order=19,
        json=DEFER,
    ),
    Case("POST", f"{TA}/sign", P.SIGN_DECISION, f"/api/v1{DEFERRED}/sign", order=20, json={}),
    Case(
        "POST",
        f"{TA}/reassess",
        P.SIGN_DECISION,
        f"/api/v1{DEFERRED}/reassess",
        order=21,
        json=REASSESS,
    ),
    # An outside patient without a local MRN (referral 5), then the hospital MRN replaces
    # the temporary identifier.
    Case(
        "POST",
        "/referrals/new",
        P.MANAGE_REFERRAL,
        order=22,
        form={**REFERRAL, "new_outside": "on", "new_name": "Outside Patient", "new_sex": "male"},
    ),
    Case(
        "POST",
        f"{T}/mrn",
        P.MANAGE_REFERRAL,
        "/referrals/5/mrn",
        order=23,
        form={"mrn": "MRNOUT1", "reason": "registered on arrival"},
    ),
    Case("GET", "/api/v1/initiation/settings", (P.VIEW_CLINICAL, P.MANAGE_CLINICAL_SETTINGS)),
    Case(
        "POST",
        "/api/v1/initiation/settings",
        P.MANAGE_CLINICAL_SETTINGS,
        order=3,
        json={"values": {"ecpr_max_age_years": 75}, "note": "programme protocol 2026"},
    ),
]
