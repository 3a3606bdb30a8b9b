"""M&M over HTTP: the API's refusals name the field and change nothing (a review signed
without attendance, a second vote, a due date before the meeting, an unknown factor group);
a refused page form is shown again (422) with the problem; the meeting carries open actions
of earlier meetings; the coordinator's list puts overdue actions first."""

from __future__ import annotations

from typing import Any

from tests.conftest import Web

A = "/api/v1/quality"


def _post(web: Web, path: str, body: dict[str, Any]) -> Any:
    return web.client.post(path, json=body, headers={"X-CSRF-Token": web.csrf()})


def _fields(response: Any) -> list[str]:
    return [p["field"] for p in response.json()["fields"]]


def test_api_refusals_name_the_field_and_change_nothing(web: Web) -> None:
    web.login("qa_lead")
    m = _post(web, f"{A}/meetings", {"held_on": "2026-11-02", "title": "M&M"}).json()
    r = _post(web, f"{A}/meetings/{m['id']}/reviews", {"run_id": 1}).json()
    rid = r["id"]
    _post(web, f"{A}/reviews/{rid}/consensus", {"cause_class": "technical"})
    refused = _post(web, f"{A}/reviews/{rid}/sign", {})
    assert refused.status_code == 422 and _fields(refused) == ["attendance"]
    assert web.client.get(f"{A}/reviews/{rid}").json()["status"] == "draft"

    bad = _post(web, f"{A}/reviews/{rid}/problems", {"description": "x", "factors": ["luck"]})
    assert bad.status_code == 422 and _fields(bad) == ["factors"] and "luck" in bad.text
    assert web.client.get(f"{A}/reviews/{rid}").json()["problems"] == []

    early = _post(
        web, f"{A}/reviews/{rid}/actions", {"text": "x", "owner_id": 1, "due_on": "2026-11-01"}
    )
    assert early.status_code == 422 and _fields(early) == ["due_on"]
    assert "2026-11-02" in early.text
    assert web.client.get(f"{A}/actions").json() == []

    _post(web, f"{A}/meetings/{m['id']}/attendance", {"staff_id": 5, "discipline": "other"})
    _post(web, f"{A}/reviews/{rid}/voting", {})
    assert _post(web, f"{A}/reviews/{rid}/votes", {"cause_class": "technical"}).status_code == 201
    twice = _post(web, f"{A}/reviews/{rid}/votes", {"cause_class": "disease"})
    assert twice.status_code == 422 and _fields(twice) == ["vote"]
    votes = web.client.get(f"{A}/reviews/{rid}").json()["votes"]
    assert votes == {"disease": 0, "management": 0, "technical": 1, "misadventure": 0}

    signed = _post(web, f"{A}/reviews/{rid}/sign", {})
    assert signed.status_code == 200 and signed.json()["status"] == "signed"
    edit = _post(web, f"{A}/reviews/{rid}/consensus", {"lessons": "later"})
    assert edit.status_code == 409


def test_a_refused_page_form_is_shown_again_with_the_field(web: Web) -> None:
    web.login("coordinator")
    r = web.post_form("/quality/reviews", {"held_on": "2026-11-02", "title": "M&M"})
    assert r.status_code == 303
    web.post_form("/quality/reviews/meetings/1/cases", {"run_id": 1})
    page = web.post_form("/quality/reviews/cases/1/sign", {})
    assert page.status_code == 422
    assert 'data-field="attendance"' in page.text and "Nothing was saved" in page.text
    page = web.post_form(
        "/quality/reviews/cases/1/actions", {"text": "x", "owner_id": 1, "due_on": "2026-10-01"}
    )
    assert page.status_code == 422 and 'data-field="due_on"' in page.text


def test_open_actions_carry_to_the_next_meeting_and_overdue_come_first(web: Web) -> None:
    web.login("qa_lead")
    m1 = _post(web, f"{A}/meetings", {"held_on": "2026-01-05", "title": "January"}).json()
    rid = _post(web, f"{A}/meetings/{m1['id']}/reviews", {"run_id": 1}).json()["id"]
    late = _post(
        web, f"{A}/reviews/{rid}/actions", {"text": "late", "owner_id": 1, "due_on": "2026-01-20"}
    ).json()
    later = _post(
        web,
        f"{A}/reviews/{rid}/actions",
        {
            "text": "later",
            "owner_id": 2,
            "due_on": "2099-01-01",
            "pdsa_plan": "p",
            "measure_name": "m",
            "measure_unit": "%",
        },
    ).json()
    listed = web.client.get(f"{A}/actions").json()
    assert [a["id"] for a in listed] == [late["id"], later["id"]] and listed[0]["overdue"]
    m2 = _post(web, f"{A}/meetings", {"held_on": "2026-02-02", "title": "February"}).json()
    carried = web.client.get(f"{A}/meetings/{m2['id']}").json()["open_actions"]
    assert {a["id"] for a in carried} == {late["id"], later["id"]}
    _post(web, f"{A}/actions/{late['id']}/status", {"status": "done"})
    carried = web.client.get(f"{A}/meetings/{m2['id']}").json()["open_actions"]
    assert [a["id"] for a in carried] == [later["id"]]
    page = web.client.get(f"/quality/reviews/meetings/{m2['id']}").text
    assert "later" in page and "Perfusion present: no" in page


def test_an_attending_perfusionist_votes_on_the_ballot_page(web: Web) -> None:
    web.login("qa_lead")
    m = _post(web, f"{A}/meetings", {"held_on": "2026-11-02", "title": "M&M"}).json()
    rid = _post(web, f"{A}/meetings/{m['id']}/reviews", {"run_id": 1}).json()["id"]
    _post(web, f"{A}/meetings/{m['id']}/attendance", {"staff_id": 1, "discipline": "perfusion"})
    _post(web, f"{A}/reviews/{rid}/voting", {})
    web.client.post("/logout", data={"csrf_token": web.csrf()})
    web.login("nurse")  # on no meeting's attendance
    assert web.client.get(f"/quality/reviews/cases/{rid}/vote").status_code == 403
    web.client.post("/logout", data={"csrf_token": web.csrf()})
    web.login("perfusionist")
    ballot = web.client.get(f"/quality/reviews/cases/{rid}/vote")
    assert ballot.status_code == 200 and "Misadventure" in ballot.text
    assert web.client.get(f"/quality/reviews/cases/{rid}").status_code == 403  # not a reviewer
    r = web.post_form(f"/quality/reviews/cases/{rid}/vote", {"cause_class": "technical"})
    assert r.status_code == 303 and r.headers["location"].endswith("vote?voted=true")
    again = web.post_form(f"/quality/reviews/cases/{rid}/vote", {"cause_class": "technical"})
    assert again.status_code == 422 and "already voted" in again.text
