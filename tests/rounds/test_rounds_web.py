"""Rounds pages and API: bad input refused with field messages, identifiers per role,
the board's row fragment and the printable sheet."""

from __future__ import annotations

import re

from tests.conftest import Web
from tests.rounds.reviews import left_open_fields
from tests.seed import SECRET_MRNS


def test_round_form_with_implausible_goal_and_ownerless_action_is_refused(web: Web) -> None:
    web.login("nurse")
    response = web.post_form(
        "/runs/1/rounds",
        {"goal.spo2.low": "120", "action.0.text": "Call the surgeon", "problems": "kept"},
        page="/runs/1/rounds",
    )
    assert response.status_code == 422
    assert "goals.spo2.low" in response.text and "120 % is outside 0–100 %" in response.text
    assert "actions[0].owner_discipline" in response.text
    assert "actions[0].due_at" in response.text
    assert ">kept</textarea>" in response.text  # what was typed is shown again
    assert "No rounds recorded for this run yet." in web.client.get("/runs/1/rounds").text


def test_api_action_without_owner_or_due_time_is_refused(web: Web) -> None:
    web.login("physician")
    csrf = web.csrf("/runs/1/rounds")
    response = web.client.post(
        "/api/v1/runs/1/actions", json={"text": "Echo"}, headers={"X-CSRF-Token": csrf}
    )
    assert response.status_code == 422
    fields = {f["field"] for f in response.json()["fields"]}
    assert fields == {"action.owner_discipline", "action.due_at"}
    assert web.client.get("/api/v1/runs/1/rounds").json()["actions"] == []


def test_api_round_goals_out_of_range_are_refused_by_field(web: Web) -> None:
    web.login("physician")
    csrf = web.csrf("/runs/1/rounds")
    body = {"goals": {"anti_xa": {"low": 0.3, "high": 5}, "fluid_balance_ml": {"low": -20000}}}
    response = web.client.post("/api/v1/runs/1/rounds", json=body, headers={"X-CSRF-Token": csrf})
    assert response.status_code == 422
    fields = {f["field"]: f["message"] for f in response.json()["fields"]}
    assert "outside 0–3 IU/mL" in fields["goals.anti_xa.high"]
    assert "outside -10000–10000" in fields["goals.fluid_balance_ml.low"]


def test_board_is_for_roles_that_see_identifiers(web: Web) -> None:
    web.login("researcher")  # de-identified reading: not the live board
    for path in ("/rounds", "/rounds/rows", "/rounds/sheet", "/api/v1/rounds/board"):
        response = web.client.get(path)
        assert response.status_code == 403 and SECRET_MRNS[0] not in response.text, path
    web.client.post("/logout", data={"csrf_token": web.csrf("/rounds")})
    web.login("coordinator")
    assert SECRET_MRNS[0] in web.client.get("/rounds/rows").text


def test_signed_round_cannot_be_resaved_on_the_page(web: Web) -> None:
    web.login("physician")
    leave = left_open_fields(web.client.get("/runs/1/rounds").text)
    assert web.post_form("/runs/1/rounds", {"problems": "first", **leave}).status_code == 303
    assert web.post_form("/rounds/1/sign", {}).status_code == 303
    response = web.post_form("/runs/1/rounds", {"problems": "second", **leave})
    assert response.status_code == 409 or "is signed; add an amendment" in response.text
    page = web.client.get("/runs/1/rounds").text
    assert "first" in page and "signed" in page


def test_attendance_list_says_what_an_other_discipline_attendee_does(web: Web) -> None:
    """Staff of discipline "other" are listed by what they do (quality lead, research), not
    as "(other)"; clinical disciplines by name; IT roles are not offered."""
    web.login("nurse")
    page = web.client.get("/runs/1/rounds").text
    box = page[page.index("Attendance by discipline") : page.index('id="alerts-reviewed"')]
    shown = re.findall(r'<span class="muted">\(([^)]*)\)</span>', box)
    assert "quality lead" in shown and "research" in shown, shown
    assert "other" not in shown, shown
    assert "perfusion" in shown, shown
