"""M&M routes with the permission each needs and a valid request (role matrix).

Run after the other domains (order 20+): meeting 1 (page) and 2 (API); the case reviewers
(qa_lead 5, coordinator 4, physician lead 9) and a perfusionist (1) attend meeting 1, so
whichever reviewer runs the cases may vote; review 1 (page) and 2 (API) of run 1 are voted
on, agreed, signed and amended; action 1 (page) and 2 (API) are PDSA cycles. Voting needs
attendance: a role on no meeting's attendance is refused (403) before the review is read.
The identified packet: case reviewers or clinical roles that see identifiers; the
de-identified teaching packet: case reviewers.
"""

from __future__ import annotations

from continuum.core.roles import Permission as P
from tests.web.routes_table import Case

R = P.REVIEW_CASES
M = "/quality/reviews/meetings/1"
C1 = "/quality/reviews/cases/1"
A = "/api/v1/quality"
PACKET_READERS = (P.REVIEW_CASES, P.VIEW_IDENTIFIERS)
PDSA = {"measure_name": "critical alerts acknowledged within 5 min", "measure_unit": "%"}

CASES = [
    Case("POST", "/quality/reviews", R, form={"held_on": "2026-11-02", "title": "Matrix M&M"},
         order=20),
    Case("POST", f"{A}/meetings", R, json={"held_on": "2026-11-03", "title": "API M&M"}, order=20),
    Case("POST", "/quality/reviews/meetings/{meeting_id}/attendance", R, f"{M}/attendance",
         form={"staff_id": 5, "present": "on"}, order=21),
    Case("POST", f"{A}/meetings/{{meeting_id}}/attendance", R, f"{A}/meetings/1/attendance",
         json={"staff_id": 4, "discipline": "other"}, order=21),
    Case("POST", f"{A}/meetings/{{meeting_id}}/attendance", R, f"{A}/meetings/1/attendance",
         json={"staff_id": 9, "discipline": "intensive_care"}, order=21),
    Case("POST", f"{A}/meetings/{{meeting_id}}/attendance", R, f"{A}/meetings/1/attendance",
         json={"staff_id": 1, "discipline": "perfusion"}, order=21),
    Case("POST", "/quality/reviews/meetings/{meeting_id}/cases", R, f"{M}/cases",
         form={"run_id": 1}, order=22),
    Case("POST", f"{A}/meetings/{{meeting_id}}/reviews", R, f"{A}/meetings/1/reviews",
         json={"run_id": 1, "summary": "late acknowledgement"}, order=22),
    Case("POST", "/quality/reviews/cases/{review_id}/problems", R, f"{C1}/problems",
         form={"description": "alert acknowledged late", "factors": "team"}, order=23),
    Case("POST", f"{A}/reviews/{{review_id}}/problems", R, f"{A}/reviews/2/problems",
         json={"description": "no perfusionist on call", "factors": ["ecmo_perfusion_coverage"]},
         order=23),
    Case("POST", "/quality/reviews/cases/{review_id}/voting", R, f"{C1}/voting", form={},
         order=23),
    Case("POST", f"{A}/reviews/{{review_id}}/voting", R, f"{A}/reviews/2/voting", json={},
         order=23),
    Case("GET", "/quality/reviews/cases/{review_id}/vote", R, f"{C1}/vote", order=24),
    Case("POST", "/quality/reviews/cases/{review_id}/vote", R, f"{C1}/vote",
         form={"cause_class": "technical"}, order=24),
    Case("POST", f"{A}/reviews/{{review_id}}/votes", R, f"{A}/reviews/2/votes",
         json={"cause_class": "management"}, order=24),
    Case("POST", "/quality/reviews/cases/{review_id}/consensus", R, f"{C1}/consensus",
         form={"cause_class": "technical", "harm": "mild", "lessons": "alarm limits"}, order=25),
    Case("POST", f"{A}/reviews/{{review_id}}/consensus", R, f"{A}/reviews/2/consensus",
         json={"cause_class": "management", "preventability": "probably"}, order=25),
    Case("POST", "/quality/reviews/cases/{review_id}/sign", R, f"{C1}/sign", form={}, order=26),
    Case("POST", f"{A}/reviews/{{review_id}}/sign", R, f"{A}/reviews/2/sign", json={}, order=26),
    Case("POST", "/quality/reviews/cases/{review_id}/amend", R, f"{C1}/amend",
         form={"field": "lessons", "value": "alarm limits reviewed", "reason": "wording"},
         order=27),
    Case("POST", f"{A}/reviews/{{review_id}}/amendments", R, f"{A}/reviews/2/amendments",
         json={"field": "summary", "value": "late call-out", "reason": "clearer"}, order=27),
    Case("POST", "/quality/reviews/cases/{review_id}/actions", R, f"{C1}/actions",
         form={"text": "Alarm audit", "owner_id": 1, "due_on": "2026-12-31", **PDSA}, order=27),
    Case("POST", f"{A}/reviews/{{review_id}}/actions", R, f"{A}/reviews/2/actions",
         json={"text": "On-call rota", "owner_id": 4, "due_on": "2026-12-15", **PDSA}, order=27),
    Case("POST", "/quality/actions/{action_id}/measurements", R,
         "/quality/actions/1/measurements", form={"measured_on": "2026-11-20", "value": 70},
         order=28),
    Case("POST", f"{A}/actions/{{action_id}}/measurements", R, f"{A}/actions/2/measurements",
         json={"measured_on": "2026-11-21", "value": 80}, order=28),
    Case("POST", "/quality/actions/{action_id}/status", R, "/quality/actions/1/status",
         form={"status": "done", "note": "audit done"}, order=29),
    Case("POST", f"{A}/actions/{{action_id}}/status", R, f"{A}/actions/2/status",
         json={"status": "open"}, order=29),
    Case("GET", "/quality/reviews", R, order=30),
    Case("GET", "/quality/reviews/meetings/{meeting_id}", R, M, order=30),
    Case("GET", "/quality/reviews/cases/{review_id}", R, C1, order=30),
    Case("GET", "/quality/actions", R, order=30),
    Case("GET", f"{A}/meetings", R, order=30),
    Case("GET", f"{A}/meetings/{{meeting_id}}", R, f"{A}/meetings/1", order=30),
    Case("GET", f"{A}/reviews/{{review_id}}", R, f"{A}/reviews/1", order=30),
    Case("GET", f"{A}/actions", R, order=30),
    Case("GET", "/quality/runs/{run_id}/packet", PACKET_READERS, "/quality/runs/1/packet",
         order=30),
    Case("GET", "/quality/runs/{run_id}/packet", R, "/quality/runs/1/packet", order=30,
         params={"deidentified": "1"}),
    Case("GET", "/quality/runs/{run_id}/packet.pdf", PACKET_READERS,
         "/quality/runs/1/packet.pdf", order=30),
    Case("GET", "/quality/runs/{run_id}/packet.pdf", R, "/quality/runs/1/packet.pdf",
         order=30, params={"deidentified": "1"}),
]  # fmt: skip
