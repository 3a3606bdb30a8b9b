"""Signatures only by the signer (issue #15): the generic participation endpoint cannot
forge a sign-off, points only at records of the run, says who entered it; API tokens for
people come only from themselves; integrations are service accounts that cannot sign."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from continuum.core import accounts, participation_service
from continuum.core.people import Staff
from continuum.core.record import Participation
from continuum.core.roles import SYSTEM
from continuum.db import make_engine, make_sessionmaker, unit_of_work
from continuum.errors import Forbidden
from tests.conftest import Web


def api_post(web: Web, url: str, body: dict[str, object]):  # type: ignore[no-untyped-def]
    return web.client.post(url, json=body, headers={"X-CSRF-Token": web.csrf("/runs")})


def participations(url: str) -> list[Participation]:
    engine = make_engine(url)
    with unit_of_work(make_sessionmaker(engine)) as db:
        rows = list(db.scalars(select(Participation).order_by(Participation.id)))
    engine.dispose()
    return rows


def staff_ids(url: str) -> dict[str, int]:
    engine = make_engine(url)
    with unit_of_work(make_sessionmaker(engine)) as db:
        found = {s.username or "": s.id for s in db.scalars(select(Staff))}
    engine.dispose()
    return found


def another_run(url: str) -> int:
    from continuum.core import run_service
    from continuum.core.roles import Actor
    from continuum.core.schemas import RunCreate

    engine = make_engine(url)
    with unit_of_work(make_sessionmaker(engine)) as db:
        run = run_service.start_run(
            db,
            Actor(staff_id=None, name="test", role="physician"),
            RunCreate(patient_id=2, support_type="cardiac", mode="VA"),
        )
        db.flush()
        run_id = run.id
    engine.dispose()
    return run_id


def test_nobody_can_enter_a_signature_for_someone_else(web_any: Web) -> None:
    ids = staff_ids(web_any.url)
    web_any.login("nurse")
    before = len(participations(web_any.url))
    forged = api_post(
        web_any, "/api/v1/runs/1/participants", {"staff_id": ids["physician"], "how": "signed"}
    )
    assert forged.status_code == 422
    assert forged.json()["fields"][0]["field"] == "how"
    # the page form refuses it as well, and no longer offers it
    page = web_any.post_form(
        "/runs/1/participants", {"staff_id": ids["physician"], "how": "signed"}
    )
    assert page.status_code == 422
    assert "<option>signed</option>" not in web_any.client.get("/runs/1").text
    assert len(participations(web_any.url)) == before


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"record_type": "anything_at_all"}, "record_type"),
        ({"record_type": "round", "record_id": 999999}, "record_id"),
        ({"record_type": "run", "record_id": "another"}, "record_id"),  # another patient's run
    ],
)
def test_the_record_must_exist_and_belong_to_the_run(
    web_any: Web, params: dict[str, object], field: str
) -> None:
    ids = staff_ids(web_any.url)
    if params.get("record_id") == "another":
        params = {**params, "record_id": another_run(web_any.url)}
    web_any.login("nurse")
    before = len(participations(web_any.url))
    r = web_any.client.post(
        "/api/v1/runs/1/participants",
        params=params,
        json={"staff_id": ids["physician"], "how": "present"},
        headers={"X-CSRF-Token": web_any.csrf("/runs")},
    )
    assert r.status_code == 422, r.text
    assert field in {f["field"].split(".")[-1] for f in r.json()["fields"]}
    assert len(participations(web_any.url)) == before


def test_entered_participation_says_who_entered_it(web_any: Web) -> None:
    ids = staff_ids(web_any.url)
    web_any.login("nurse")
    r = api_post(
        web_any,
        "/api/v1/runs/1/participants",
        {"staff_id": ids["physician"], "how": "consulted", "contribution": "by phone"},
    )
    assert r.status_code == 201
    row = participations(web_any.url)[-1]
    assert (row.staff_id, row.entered_by, row.how) == (ids["physician"], ids["nurse"], "consulted")
    assert "entered by Test nurse" in web_any.client.get("/runs/1").text
    summary = web_any.client.get("/api/v1/runs/1").json()
    assert {"how": "consulted", "entered_by": "Test nurse"}.items() <= summary["participants"][
        0
    ].items()


def test_a_signature_is_the_signers_own(db_url: str) -> None:
    engine = make_engine(db_url)
    with unit_of_work(make_sessionmaker(engine)) as db:
        physician = db.scalars(select(Staff).where(Staff.username == "physician")).one()
        row = participation_service.record_signature(
            db, accounts.actor_for(physician), "run", 1, 1, "ECMO decision"
        )
        assert row is not None
        assert (row.how, row.staff_id, row.entered_by) == ("signed", physician.id, physician.id)
        gateway = db.scalars(select(Staff).where(Staff.username == "integration")).one()
        with pytest.raises(Forbidden):
            participation_service.record_signature(db, accounts.actor_for(gateway), "run", 1, 1)
    engine.dispose()


def test_a_round_signature_comes_from_signing_it(web_any: Web) -> None:
    """The signing services are the one way in: signing a round records the signer."""
    ids = staff_ids(web_any.url)
    engine = make_engine(web_any.url)
    with unit_of_work(make_sessionmaker(engine)) as db:
        from continuum.core.run_record import Run
        from continuum.rounds import round_record

        physician = db.get_one(Staff, ids["physician"])
        actor = accounts.actor_for(physician)
        run = db.get_one(Run, 1)
        from continuum.db import utcnow
        from continuum.rounds.schemas import RoundIn

        today = utcnow().date()
        from tests.rounds.reviews import left_open

        data = RoundIn.model_validate({"alerts_reviewed": left_open(db, 1)})
        row = round_record.record_round(db, actor, run, data, today, run.started_at.date())
        round_record.sign_round(db, actor, row.id)
    engine.dispose()
    signed = [p for p in participations(web_any.url) if p.how == "signed"]
    assert [(p.record_type, p.staff_id, p.entered_by) for p in signed] == [
        ("round", ids["physician"], ids["physician"])
    ]


# --- API tokens ----------------------------------------------------------------------------


def test_an_administrator_cannot_issue_a_token_to_act_as_a_clinician(web_any: Web) -> None:
    ids = staff_ids(web_any.url)
    web_any.login("admin")
    csrf = {"X-CSRF-Token": web_any.csrf("/admin/users")}
    r = web_any.client.post("/api/v1/tokens", json={"staff_id": ids["physician"]}, headers=csrf)
    assert r.status_code == 403  # before: 201, and the token read and wrote as the physician
    page = web_any.post_form(
        "/admin/tokens", {"staff_id": ids["physician"], "label": "x"}, page="/admin/users"
    )
    assert page.status_code == 422 and "is a person" in page.text
    r = web_any.client.post("/api/v1/tokens", json={"staff_id": ids["integration"]}, headers=csrf)
    assert r.status_code == 201  # service accounts get theirs from IT
    engine = make_engine(web_any.url)
    with unit_of_work(make_sessionmaker(engine)) as db, pytest.raises(Forbidden):
        accounts.issue_token(db, SYSTEM, ids["nurse"], "from the command line")
    engine.dispose()


def test_a_person_issues_tokens_only_for_themself(web_any: Web) -> None:
    ids = staff_ids(web_any.url)
    web_any.login("physician")
    csrf = {"X-CSRF-Token": web_any.csrf("/runs")}
    other = web_any.client.post("/api/v1/tokens", json={"staff_id": ids["nurse"]}, headers=csrf)
    assert other.status_code == 403
    mine = web_any.client.post("/api/v1/tokens", json={"label": "my script"}, headers=csrf)
    assert mine.status_code == 201
    api = TestClient(web_any.client.app, base_url="http://testserver")
    api.headers["Authorization"] = f"Bearer {mine.json()['token']}"
    assert api.get("/api/v1/me").json()["staff_id"] == ids["physician"]


def test_a_service_account_neither_reads_identifiers_nor_signs(web_any: Web) -> None:
    ids = staff_ids(web_any.url)
    web_any.login("admin")
    token = web_any.client.post(
        "/api/v1/tokens",
        json={"staff_id": ids["integration"]},
        headers={"X-CSRF-Token": web_any.csrf("/admin/users")},
    ).json()["token"]
    api = TestClient(web_any.client.app, base_url="http://testserver")
    api.headers["Authorization"] = f"Bearer {token}"
    listed = api.get("/api/v1/patients")
    assert listed.status_code == 200
    assert not re.search(r"MRNZQ7781|Zelda Quixote", listed.text)
    me = api.get("/api/v1/me").json()
    assert not {"sign_decision", "record_round", "circuit_check", "view_identifiers"} & set(
        me["permissions"]
    )
    # it can still find a patient by MRN to start a run (what an interface needs)
    started = api.post(
        "/api/v1/runs",
        json={"mrn": "MRNYU5542", "support_type": "cardiac", "mode": "VA"},
    )
    assert started.status_code == 201, started.text
    # and it cannot issue itself more tokens
    assert api.post("/api/v1/tokens", json={"label": "more"}).status_code == 403
