"""Competencies (core) and simulation training: training session 1 is started by the page
form and session 2 by the API (order 3), with the perfusionist (staff 1) as trainee.

A debrief is read by instructors (RUN_TRAINING) and the session's named trainees. Here a
role without RUN_TRAINING cannot have started a session (its database has none), so it gets
403 like any staff not named in a session; the named trainee reading it is tested in
tests/training/test_training_faults.py."""

from __future__ import annotations

from continuum.core.roles import Permission as P
from tests.web.routes_table import Case

_START = {
    "title": "Role matrix drill",
    "scenario": "control_vv",
    "acceleration": "1",
    "trainee_ids": "1",
}

_DEBRIEF = P.RUN_TRAINING  # + the session's named trainees (service.may_read_debrief)

CASES = [
    Case("GET", "/competencies", P.MANAGE_COMPETENCIES),
    Case("GET", "/competencies/mine", P.VIEW_OWN_COMPETENCIES),
    Case("GET", "/competencies/staff/{staff_id}", P.MANAGE_COMPETENCIES, "/competencies/staff/1"),
    Case(
        "POST",
        "/competencies/staff/{staff_id}",
        P.MANAGE_COMPETENCIES,
        "/competencies/staff/1",
        order=3,
        form={"competency": "transport", "achieved_on": "2026-01-10", "assessor_id": "4"},
    ),
    Case("GET", "/api/v1/competencies", P.MANAGE_COMPETENCIES),
    Case("GET", "/api/v1/competencies/mine", P.VIEW_OWN_COMPETENCIES),
    Case(
        "GET",
        "/api/v1/competencies/team-current",
        P.VIEW_CLINICAL,
        params={"competency": "transport", "staff_ids": [1, 3]},
    ),
    Case(
        "GET",
        "/api/v1/staff/{staff_id}/competencies",
        P.MANAGE_COMPETENCIES,
        "/api/v1/staff/1/competencies",
    ),
    Case(
        "POST",
        "/api/v1/staff/{staff_id}/competencies",
        P.MANAGE_COMPETENCIES,
        "/api/v1/staff/1/competencies",
        order=3,
        json={"competency": "priming", "achieved_on": "2026-02-01"},
    ),
    Case("GET", "/api/v1/training/library", P.VIEW_CLINICAL),
    Case("GET", "/api/v1/training", P.VIEW_CLINICAL),
    Case("GET", "/training", P.RUN_TRAINING),
    Case("POST", "/training", P.RUN_TRAINING, order=40, form=_START),
    Case(
        "POST",
        "/api/v1/training",
        P.RUN_TRAINING,
        order=40,
        json={
            "title": "API drill",
            "scenario": "control_va",
            "acceleration": 5,
            "trainee_ids": [1],
        },
    ),
    Case("GET", "/training/{training_id}", P.RUN_TRAINING, "/training/1", order=41),
    Case("GET", "/api/v1/training/{training_id}", P.RUN_TRAINING, "/api/v1/training/2", order=41),
    Case(
        "POST",
        "/training/{training_id}/faults",
        P.RUN_TRAINING,
        "/training/1/faults",
        order=42,
        form={"scenario": "oxygenator_failure"},
    ),
    Case(
        "POST",
        "/api/v1/training/{training_id}/faults",
        P.RUN_TRAINING,
        "/api/v1/training/2/faults",
        order=42,
        json={"scenario": "differential_hypoxia"},
    ),
    Case(
        "POST",
        "/api/v1/training/{training_id}/step",
        P.RUN_TRAINING,
        "/api/v1/training/2/step",
        order=43,
    ),
    Case(
        "GET",
        "/training/{training_id}/debrief",
        _DEBRIEF,
        "/training/1/debrief",
        order=43,
    ),
    Case(
        "GET",
        "/api/v1/training/{training_id}/debrief",
        _DEBRIEF,
        "/api/v1/training/1/debrief",
        order=43,
    ),
    Case(
        "POST",
        "/training/{training_id}/signoff",
        P.RUN_TRAINING,
        "/training/1/signoff",
        order=43,
        form={"staff_id": "1", "competency": "simulation_response"},
    ),
    Case(
        "POST",
        "/api/v1/training/{training_id}/signoff",
        P.RUN_TRAINING,
        "/api/v1/training/2/signoff",
        order=43,
        json={"staff_id": 1, "competency": "circuit_change"},
    ),
    Case(
        "POST",
        "/training/{training_id}/end",
        P.RUN_TRAINING,
        "/training/1/end",
        order=44,
        form={"note": "good drill"},
    ),
    Case(
        "POST",
        "/api/v1/training/{training_id}/end",
        P.RUN_TRAINING,
        "/api/v1/training/2/end",
        order=44,
        json={},
    ),
]
