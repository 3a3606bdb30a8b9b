"""Stale saves through the pages and the API, on SQLite and PostgreSQL: the form carries the
version it was opened on; a save on an older version is refused with 409, the page shows the
clinician's entries beside the saved version (and keeps them in the form), the API names
who changed it and when; resaving on the current version then works."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from continuum.db import make_engine, make_sessionmaker, unit_of_work
from continuum.initiation.models import Referral
from continuum.rounds import round_record
from continuum.rounds.models import RoundRecord
from continuum.rounds.schemas import RoundIn
from tests.conftest import Web
from tests.core.test_races import PHYSICIAN
from tests.rounds.reviews import left_open, left_open_fields

ROUNDS = "/runs/1/rounds"


def _form_version(html: str, form_id: str) -> str:
    form = html[html.index(f'id="{form_id}"') :]
    found = re.search(r'name="version" value="([^"]*)"', form)
    assert found, f"no version input in {form_id}"
    return found.group(1)


def _colleague_saves_round(url: str, version: int, problems: str) -> None:
    engine = make_engine(url)
    try:
        with unit_of_work(make_sessionmaker(engine)) as db:
            from continuum.core.run_record import Run

            run = db.get_one(Run, 1)
            today = datetime.now(UTC).date()
            data = RoundIn.model_validate(
                {
                    "problems": problems,
                    "version": version or None,
                    "alerts_reviewed": left_open(db, 1),
                }
            )
            round_record.record_round(db, PHYSICIAN, run, data, today, run.started_at.date())
    finally:
        engine.dispose()


def _reviews(url: str) -> list[dict[str, str]]:
    """A "leave open" review of each open alert of run 1 (every save must give one)."""
    engine = make_engine(url)
    try:
        with unit_of_work(make_sessionmaker(engine)) as db:
            return left_open(db, 1)
    finally:
        engine.dispose()


def _saved_round(url: str) -> RoundRecord:
    engine = make_engine(url)
    try:
        with unit_of_work(make_sessionmaker(engine)) as db:
            row = round_record.find_round(db, 1, datetime.now(UTC).date())
            assert row is not None
            return row
    finally:
        engine.dispose()


def test_stale_round_draft_on_the_page_shows_both_versions_and_resaves(web_any: Web) -> None:
    web = web_any
    web.login("nurse")
    form = web.client.get(ROUNDS).text
    assert _form_version(form, "round-form") == ""  # a new round
    leave = left_open_fields(form)
    assert (
        web.post_form(ROUNDS, {"problems": "ΔP rising", "version": "", **leave}).status_code == 303
    )
    opened = _form_version(web.client.get(ROUNDS).text, "round-form")
    assert opened == "1"
    _colleague_saves_round(web.url, 1, "new VAP, start pip-tazo")

    response = web.post_form(
        ROUNDS,
        {"problems": "ΔP rising, stable", "goal.blood_flow.low": "4", "version": opened, **leave},
    )
    assert response.status_code == 409
    page = response.text
    compare = page[page.index('id="stale-compare"') :]
    assert "Test physician" in compare
    assert "ΔP rising, stable" in compare and "new VAP, start pip-tazo" in compare
    assert ">ΔP rising, stable</textarea>" in page  # what was typed stays in the form
    assert _form_version(page, "round-form") == "2"  # resaving merges onto the saved version
    assert _saved_round(web.url).problems == "new VAP, start pip-tazo"  # nothing overwritten

    merged = "new VAP, start pip-tazo; ΔP rising, stable"
    assert web.post_form(ROUNDS, {"problems": merged, "version": "2", **leave}).status_code == 303
    row = _saved_round(web.url)
    assert (row.problems, row.version) == (merged, 3)


def test_a_round_created_meanwhile_is_a_409_that_keeps_the_goals(web_any: Web) -> None:
    web = web_any
    web.login("nurse")
    form = web.client.get(ROUNDS).text
    assert _form_version(form, "round-form") == ""
    _colleague_saves_round(web.url, 0, "created first")
    response = web.post_form(
        ROUNDS,
        {"problems": "mine", "goal.blood_flow.low": "4.5", "version": "", **left_open_fields(form)},
    )
    assert response.status_code == 409
    assert "just created by Test physician" in response.text
    assert 'value="4.5"' in response.text  # the nurse's goal is still in the form
    assert _saved_round(web.url).problems == "created first"


def test_api_stale_round_is_409_naming_who_and_when(web_any: Web) -> None:
    web = web_any
    web.login("nurse")
    csrf = web.csrf(ROUNDS)
    headers = {"X-CSRF-Token": csrf}
    reviewed = {"alerts_reviewed": _reviews(web.url)}
    first = web.client.post(
        "/api/v1/runs/1/rounds", json={"problems": "a", **reviewed}, headers=headers
    )
    assert first.status_code == 201 and first.json()["version"] == 1
    again = web.client.post(
        "/api/v1/runs/1/rounds", json={"problems": "b", **reviewed}, headers=headers
    )
    assert again.status_code == 409 and again.json()["by"] == "Test nurse"
    _colleague_saves_round(web.url, 1, "colleague")
    stale = web.client.post(
        "/api/v1/runs/1/rounds", json={"problems": "c", "version": 1, **reviewed}, headers=headers
    )
    assert stale.status_code == 409
    body = stale.json()
    assert body["error"] == "stale_version" and body["changed_by"] == "Test physician"
    assert body["current_version"] == 2 and body["changed_at"]
    stale_header = {**headers, "If-Match": 'W/"1"'}  # the version may come as If-Match
    refused = web.client.post(
        "/api/v1/runs/1/rounds", json={"problems": "c", **reviewed}, headers=stale_header
    )
    assert refused.status_code == 409 and refused.json()["current_version"] == 2
    ok = web.client.post(
        "/api/v1/runs/1/rounds",
        json={"problems": "c", **reviewed},
        headers={**headers, "If-Match": '"2"'},
    )
    assert ok.status_code == 201 and ok.json()["version"] == 3


def test_stale_decision_on_the_referral_page_shows_both_versions(web_any: Web) -> None:
    web = web_any
    web.login("physician")
    page = "/referrals/1"
    opened = _form_version(web.client.get(page).text, "decision-form")
    assert opened == "1"
    first = {"outcome": "defer", "reasons": "new VAP, start pip-tazo", "version": opened}
    assert web.post_form(f"{page}/decision", first, page=page).status_code == 303
    stale = {"outcome": "accept", "reasons": "stale draft of mine", "version": opened}
    response = web.post_form(f"{page}/decision", stale, page=page)
    assert response.status_code == 409
    compare = response.text[response.text.index('id="stale-compare"') :]
    assert "stale draft of mine" in compare and "new VAP, start pip-tazo" in compare
    assert _form_version(response.text, "decision-form") == "2"
    engine = make_engine(web.url)
    try:
        with unit_of_work(make_sessionmaker(engine)) as db:
            d = db.get_one(Referral, 1).decision
            assert d is not None and (d.reasons, d.version) == ("new VAP, start pip-tazo", 2)
    finally:
        engine.dispose()
    # The perfusionist viewed version 1; their signature is refused, not put on version 2.
    web.client.post("/logout", data={"csrf_token": web.csrf(page)})
    web.login("perfusionist")
    signed = web.post_form(f"{page}/sign", {"as_role": "perfusionist", "version": "1"}, page=page)
    assert signed.status_code == 409 and "changed by Test physician" in signed.text
