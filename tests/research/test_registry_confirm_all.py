"""The review page's one-step confirmation: every value filled from the record, in every
table, listed on the page (field, value, source) and confirmed with one submit; each is a
confirmation in its own field's history; nothing left: 422, nothing saved."""

from __future__ import annotations

from tests.conftest import Web

API = "/api/v1/research/registry/runs/1"
PAGE = "/research/registry/runs/1"


def test_confirm_all_sourced_values_in_one_step(web: Web) -> None:
    web.login("qa_lead")
    before = web.client.get(API).json()["fields"]
    sourced = [f for f in before if f["status"] == "filled"]
    tables = {f["table"] for f in sourced}
    assert len(sourced) >= 5 and len(tables) >= 2  # more than one table: one step for all
    page = web.client.get(PAGE).text
    assert f"Confirm all {len(sourced)} values filled from the record" in page
    for f in sourced:  # each value is visible before it is confirmed
        assert f'href="#f-{f["field"]}"' in page
    done = web.post_form(f"{PAGE}/review", {"confirm_table": "*"}, PAGE)
    assert done.status_code == 303 and done.headers["location"].endswith(
        f"?saved={len(sourced)}#ready"
    )
    after = {f["field"]: f for f in web.client.get(API).json()["fields"]}
    for f in sourced:
        now = after[f["field"]]
        assert now["status"] == "confirmed" and now["value"] == f["value"]
        assert now["history"][-1]["action"] == "confirm"
        assert now["history"][-1]["by"] == "Test qa_lead"
    untouched = [f for f in before if f["status"] != "filled"]
    assert all(after[f["field"]]["status"] == f["status"] for f in untouched)
    assert "Confirm all" not in web.client.get(PAGE).text
    again = web.post_form(f"{PAGE}/review", {"confirm_table": "*"}, PAGE)
    assert again.status_code == 422
    web.client.cookies.clear()
    web.login("researcher")  # reads the record, may not review: no form
    assert "Confirm all" not in web.client.get(PAGE).text
