"""Alerts reviewed at rounds are acknowledged by whoever saves the round (through
``run_view.review_alerts``: rounds never import alerts), on SQLite and PostgreSQL: only open
alerts, only for roles that may acknowledge, in the round's own unit of work."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from continuum.alerts import service
from continuum.alerts.models import AlertEvent, CircuitAlert
from continuum.core import roles, run_view
from continuum.core.record import AuditEntry
from continuum.core.roles import Actor, Permission
from continuum.core.run_record import Run
from continuum.db import unit_of_work
from continuum.rounds import round_record
from continuum.rounds.models import RoundRecord
from continuum.rounds.schemas import RoundIn
from tests.alerts.conftest import T0, alerts, count, events, new_run, store
from tests.conftest import Web

PHYSICIAN = Actor(staff_id=2, name="Test physician", role="physician")
NURSE = Actor(staff_id=3, name="Test nurse", role="nurse", discipline="nursing")
# No seeded role records rounds without acknowledging alerts; a scribe role does here.
SCRIBE = Actor(staff_id=4, name="Test scribe", role="scribe")


@pytest.fixture
def run_id(sessions: sessionmaker[Session]) -> int:
    """A fresh VV run (patient 2) with one open hemolysis alert."""
    run_id = new_run(sessions)
    with unit_of_work(sessions) as db:
        store(db, run_id, T0, pfhb=60)
        [alert] = alerts(db, run_id)
        assert (alert.detector, alert.status) == ("hemolysis", "open")
    return run_id


def _today() -> date:
    return datetime.now(UTC).date()


def _save_round(db: Session, actor: Actor, run_id: int, *reviews: dict[str, str]) -> RoundRecord:
    run = db.get_one(Run, run_id)
    draft = round_record.find_round(db, run_id, _today())
    data = RoundIn.model_validate(
        {
            "problems": "pfHb rising",
            "alerts_reviewed": list(reviews),
            "version": draft.version if draft is not None else None,
        }
    )
    return round_record.record_round(db, actor, run, data, _today(), run.started_at.date())


def _audits(db: Session, alert_id: int) -> list[tuple[str, int | None]]:
    stmt = (
        select(AuditEntry.action, AuditEntry.actor_id)
        .where(AuditEntry.entity == "alert", AuditEntry.entity_id == str(alert_id))
        .order_by(AuditEntry.id)
    )
    return [(a, b) for a, b in db.execute(stmt)]


HEMOLYSIS = {
    "detector": "hemolysis",
    "disposition": "action_raised",
    "note": "repeat pfHb 4-hourly",
}


def test_a_reviewed_open_alert_is_acknowledged_by_whoever_saves_the_round(
    sessions: sessionmaker[Session], run_id: int
) -> None:
    with unit_of_work(sessions) as db:
        row = _save_round(db, NURSE, run_id, HEMOLYSIS)
        round_id = row.id
    with unit_of_work(sessions) as db:
        [alert] = alerts(db, run_id)
        assert alert.status == "acknowledged"
        assert alert.acknowledged_by == NURSE.staff_id and alert.acknowledged_at is not None
        assert alert.acknowledge_comment == (
            f"Reviewed at rounds ({_today()}): action raised — repeat pfHb 4-hourly"
        )
        assert events(db, alert.id) == ["raised", "acknowledged"]
        last = db.scalars(select(AlertEvent).where(AlertEvent.alert_id == alert.id)).all()[-1]
        assert (last.by_id, last.by_name) == (NURSE.staff_id, NURSE.name)
        assert last.comment == alert.acknowledge_comment
        assert ("acknowledge", NURSE.staff_id) in _audits(db, alert.id)
        assert run_view.open_alerts(db, run_id)[0]["status"] == "acknowledged"
        [reviewed] = db.get_one(RoundRecord, round_id).alerts_reviewed
        assert reviewed["detector"] == "hemolysis"
        assert reviewed["alert_acknowledgement"] == "acknowledged"


def test_without_a_note_the_comment_is_the_disposition(
    sessions: sessionmaker[Session], run_id: int
) -> None:
    with unit_of_work(sessions) as db:
        _save_round(db, PHYSICIAN, run_id, {"detector": "hemolysis", "disposition": "not_relevant"})
    with unit_of_work(sessions) as db:
        [alert] = alerts(db, run_id)
        assert alert.acknowledge_comment == f"Reviewed at rounds ({_today()}): not relevant"


@pytest.mark.parametrize("done", ["acknowledged", "resolved"])
def test_an_alert_already_acknowledged_or_resolved_is_left_alone(
    sessions: sessionmaker[Session], run_id: int, done: str
) -> None:
    with unit_of_work(sessions) as db:
        [alert] = alerts(db, run_id)
        if done == "acknowledged":
            service.acknowledge(db, PHYSICIAN, alert.id, "pump head checked")
        else:
            service.resolve(db, PHYSICIAN, alert.id, "sample haemolysed in the tube")
    with unit_of_work(sessions) as db:
        [alert] = alerts(db, run_id)
        kinds, audits = events(db, alert.id), _audits(db, alert.id)
        ack = (alert.acknowledged_by, alert.acknowledged_at, alert.acknowledge_comment)
    with unit_of_work(sessions) as db:
        _save_round(db, NURSE, run_id, HEMOLYSIS)
    with unit_of_work(sessions) as db:
        [after] = alerts(db, run_id)
        assert after.status == done
        assert (after.acknowledged_by, after.acknowledged_at, after.acknowledge_comment) == ack
        assert events(db, after.id) == kinds
        assert _audits(db, after.id) == audits


def test_a_role_that_may_not_acknowledge_saves_the_round_and_the_alert_stays_open(
    sessions: sessionmaker[Session], run_id: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    scribe = frozenset({Permission.VIEW_CLINICAL, Permission.RECORD_ROUND})
    monkeypatch.setitem(roles.ROLE_PERMISSIONS, "scribe", scribe)
    assert not SCRIBE.can(Permission.ACKNOWLEDGE_ALERT)
    with unit_of_work(sessions) as db:
        events_before = count(db, AlertEvent)
        row = _save_round(db, SCRIBE, run_id, HEMOLYSIS)
        round_id = row.id
    with unit_of_work(sessions) as db:
        [alert] = alerts(db, run_id)
        assert alert.status == "open" and alert.acknowledged_by is None
        assert count(db, AlertEvent) == events_before
        [reviewed] = db.get_one(RoundRecord, round_id).alerts_reviewed
        assert reviewed["alert_acknowledgement"] == "not_permitted"
        # and the reviewer refuses on its own as well
        assert run_view.review_alerts(db, SCRIBE, run_id, "hemolysis", "x") == 0
        assert service.acknowledge_reviewed(db, SCRIBE, run_id, "hemolysis", "x") == 0


def test_a_detector_without_an_alert_changes_nothing(
    sessions: sessionmaker[Session], run_id: int
) -> None:
    with unit_of_work(sessions) as db:
        before = count(db, AlertEvent), count(db, CircuitAlert)
        left = {"detector": "hemolysis", "disposition": "left_open"}
        row = _save_round(
            db, NURSE, run_id, left, {"detector": "recirculation", "disposition": "not_relevant"}
        )
        round_id = row.id
    with unit_of_work(sessions) as db:
        assert (count(db, AlertEvent), count(db, CircuitAlert)) == before
        [alert] = alerts(db, run_id)
        assert alert.status == "open"  # the hemolysis alert was left open
        hemolysis, recirculation = db.get_one(RoundRecord, round_id).alerts_reviewed
        assert "alert_acknowledgement" not in hemolysis and hemolysis["disposition"] == "left_open"
        assert recirculation == {
            "detector": "recirculation",
            "severity": None,
            "summary": None,
            "disposition": "not_relevant",
            "note": None,
        }


def test_resaving_a_draft_keeps_the_acknowledgement_and_does_not_repeat_it(
    sessions: sessionmaker[Session], run_id: int
) -> None:
    with unit_of_work(sessions) as db:
        _save_round(db, NURSE, run_id, HEMOLYSIS)
    with unit_of_work(sessions) as db:
        row = _save_round(db, PHYSICIAN, run_id, HEMOLYSIS)
        assert row.alerts_reviewed[0]["alert_acknowledgement"] == "acknowledged"
    with unit_of_work(sessions) as db:
        [alert] = alerts(db, run_id)
        assert alert.acknowledged_by == NURSE.staff_id
        assert events(db, alert.id) == ["raised", "acknowledged"]


def test_a_round_that_fails_to_commit_acknowledges_nothing(
    sessions: sessionmaker[Session], run_id: int
) -> None:
    with pytest.raises(RuntimeError), unit_of_work(sessions) as db:
        _save_round(db, NURSE, run_id, HEMOLYSIS)
        assert alerts(db, run_id)[0].status == "acknowledged"
        raise RuntimeError("rolled back")
    with unit_of_work(sessions) as db:
        assert alerts(db, run_id)[0].status == "open"
        assert db.scalar(select(RoundRecord).where(RoundRecord.run_id == run_id)) is None


def test_the_rounds_page_acknowledges_and_says_so(
    web_any: Web, sessions: sessionmaker[Session], run_id: int
) -> None:
    web_any.login("nurse")
    page = f"/runs/{run_id}/rounds"
    form = web_any.client.get(page).text
    assert "Choose a disposition for every open alert" in form and "in your name" in form
    response = web_any.post_form(
        page,
        {
            "alert.0.detector": "hemolysis",
            "alert.0.severity": "warning",
            "alert.0.disposition": "escalated",
            "alert.0.note": "surgeon called",
        },
        page=page,
    )
    assert response.status_code == 303, response.text[:500]
    assert "alert acknowledged" in web_any.client.get(page).text
    with unit_of_work(sessions) as db:
        [alert] = alerts(db, run_id)
        assert alert.status == "acknowledged"
        assert alert.acknowledge_comment is not None
        assert alert.acknowledge_comment.endswith("escalated — surgeon called")
