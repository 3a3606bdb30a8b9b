"""Competencies: expiry, renewal and correction (append-only), team_current, API refusals."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from continuum.core import competencies as comp
from continuum.core.roles import Actor
from continuum.db import unit_of_work
from continuum.errors import Forbidden, ValidationFailed
from tests.conftest import Web

COORD = Actor(staff_id=4, name="Test coordinator", role="coordinator")
NURSE = Actor(staff_id=3, name="Test nurse", role="nurse")
TODAY = date(2026, 12, 4)


def _rec(db: Session, staff: int, code: str, on: date, **kw: object) -> comp.CompetencyRecord:
    data = comp.CompetencyIn(competency=code, achieved_on=on, **kw)  # type: ignore[arg-type]
    return comp.record(db, COORD, staff, data, TODAY)


def test_add_months_keeps_the_month_end() -> None:
    assert comp.add_months(date(2025, 1, 31), 1) == date(2025, 2, 28)
    assert comp.add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert comp.add_months(date(2025, 12, 4), 12) == date(2026, 12, 4)
    assert comp.add_months(date(2026, 3, 15), -3) == date(2025, 12, 15)


def test_expiry_states(sessions: sessionmaker[Session]) -> None:
    with unit_of_work(sessions) as db:
        r = _rec(db, 1, "transport", date(2026, 1, 10))
        assert r.valid_months == 12 and r.expires_on == date(2027, 1, 10)
        assert comp.state_of(r, date(2026, 6, 1), 60) == "current"
        assert comp.state_of(r, date(2026, 11, 11), 60) == "expiring"  # 60 days left
        assert comp.state_of(r, date(2026, 11, 10), 60) == "current"  # 61 days left
        assert comp.state_of(r, date(2027, 1, 9), 60) == "expiring"
        assert comp.state_of(r, date(2027, 1, 10), 60) == "expired"  # the expiry day itself
        assert comp.state_of(r, date(2026, 1, 9), 60) == "none"  # before it was achieved
        assert comp.state_of(None, TODAY, 60) == "none"


def test_validity_is_a_setting_and_rows_keep_theirs(sessions: sessionmaker[Session]) -> None:
    from continuum.core import settings_service

    lead = Actor(staff_id=9, name="Test physician_lead", role="physician_lead")
    with unit_of_work(sessions) as db:
        old = _rec(db, 1, "priming", date(2026, 1, 1))
        settings_service.save(db, lead, "competencies", {"valid_priming": 24}, "two-yearly")
        new = _rec(db, 2, "priming", date(2026, 1, 1))
        assert (old.valid_months, old.expires_on) == (12, date(2027, 1, 1))
        assert (new.valid_months, new.expires_on) == (24, date(2028, 1, 1))


def test_renewal_and_correction_are_appended(sessions: sessionmaker[Session]) -> None:
    with unit_of_work(sessions) as db:
        first = _rec(db, 1, "emergency_air", date(2025, 1, 5))
        renewal = _rec(db, 1, "emergency_air", date(2025, 12, 20))
        held = comp.in_force(comp.history(db, 1))
        assert held[(1, "emergency_air")].id == renewal.id
        fix = _rec(db, 1, "emergency_air", date(2025, 12, 2), corrects_id=renewal.id,
                   reason="date on the assessment form")  # fmt: skip
        held = comp.in_force(comp.history(db, 1))
        assert held[(1, "emergency_air")].id == fix.id
        assert {r.id for r in comp.history(db, 1)} >= {first.id, renewal.id, fix.id}
        n = db.scalar(select(func.count()).select_from(comp.CompetencyRecord))
        assert n == 3


def test_team_current(sessions: sessionmaker[Session]) -> None:
    with unit_of_work(sessions) as db:
        _rec(db, 1, "transport", date(2026, 1, 10))  # current until 2027-01-10
        _rec(db, 2, "transport", date(2025, 6, 1))  # expired 2026-06-01
        t = comp.team_current(db, [1, 2, 3], "transport", date(2026, 7, 1))
        assert (t.current, t.not_current, t.all_current) == ([1], [2, 3], False)
        t = comp.team_current(db, [1, 2], "transport", date(2026, 3, 1))
        assert t.all_current and t.current == [1, 2]
        assert comp.team_current(db, [], "transport", TODAY).all_current
        with pytest.raises(ValidationFailed) as e:
            comp.team_current(db, [1], "juggling", TODAY)
        assert e.value.problems[0].field == "competency"


def test_refusals(sessions: sessionmaker[Session]) -> None:
    with unit_of_work(sessions) as db:
        with pytest.raises(Forbidden):
            comp.record(db, NURSE, 3, comp.CompetencyIn(competency="transport",
                        achieved_on=date(2026, 1, 1)))  # fmt: skip
        with pytest.raises(ValidationFailed) as e:
            _rec(db, 1, "transport", date(2027, 1, 1))
        assert e.value.problems[0].field == "achieved_on"
        with pytest.raises(ValidationFailed) as e:
            _rec(db, 8, "transport", date(2026, 1, 1))  # staff 8: the integration account
        assert e.value.problems[0].field == "staff_id"
        with pytest.raises(ValidationFailed) as e:
            _rec(db, 1, "transport", date(2026, 1, 1), reason="no row named")
        assert e.value.problems[0].field == "reason"


def test_api_board_mine_and_bad_input(web: Web) -> None:
    web.login("coordinator")
    c = web.client
    csrf = web.csrf()
    h = {"X-CSRF-Token": csrf}
    r = c.post("/api/v1/staff/1/competencies", json={"competency": "transport",
               "achieved_on": "2026-01-10", "assessor_id": 4}, headers=h)  # fmt: skip
    assert r.status_code == 201, r.text
    assert r.json()["expires_on"] == "2027-01-10"
    for bad, field in (
        ({"competency": "juggling", "achieved_on": "2026-01-10"}, "competency"),
        ({"competency": "transport", "achieved_on": "2999-01-10"}, "achieved_on"),
    ):
        r = c.post("/api/v1/staff/1/competencies", json=bad, headers=h)
        assert r.status_code == 422, r.text
        assert any(field in f["field"] for f in r.json()["fields"])
    assert len(c.get("/api/v1/staff/1/competencies").json()) == 1
    board = c.get("/api/v1/competencies").json()
    row = next(x for x in board["rows"] if x["staff_id"] == 1 and x["competency"] == "transport")
    assert row["state"] in ("current", "expiring")
    r = c.get("/api/v1/competencies/team-current",
              params={"competency": "transport", "staff_ids": [1, 3]})  # fmt: skip
    assert r.json()["current"] == [1] and r.json()["not_current"] == [3]
    page = c.get("/competencies")
    assert page.status_code == 200 and "Test perfusionist" in page.text
    web.client.cookies.clear()
    web.login("perfusionist")
    mine = web.client.get("/api/v1/competencies/mine").json()
    assert {m["competency"]: m["state"] for m in mine}["transport"] in ("current", "expiring")
    assert web.client.get("/api/v1/competencies").status_code == 403
