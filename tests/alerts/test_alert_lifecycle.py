"""An alert's life on both databases: raised by a stored batch, updated (never stacked),
escalated only when worse, acknowledged with a comment, resolved; a rolled-back batch
leaves no alert behind."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from continuum.alerts import service
from continuum.alerts.models import AlertEvent, CircuitAlert
from continuum.core.record import AuditEntry
from continuum.db import unit_of_work
from continuum.errors import Conflict, ValidationFailed
from tests.alerts.conftest import NURSE, T0, alerts, count, events, store

H = timedelta(hours=1)


def test_a_batch_raises_then_updates_the_same_alert(
    sessions: sessionmaker[Session], run_id: int
) -> None:
    with unit_of_work(sessions) as db:
        store(db, run_id, T0, pfhb=60)
    with unit_of_work(sessions) as db:
        [alert] = alerts(db, run_id)
        assert (alert.detector, alert.severity, alert.status) == ("hemolysis", "warning", "open")
        assert alert.evidence["threshold"]["name"] == "pfhb_warning"
        assert "Omar" in alert.evidence["threshold"]["source"]
        assert events(db, alert.id) == ["raised"]
    with unit_of_work(sessions) as db:
        store(db, run_id, T0 + H, pfhb=70)
    with unit_of_work(sessions) as db:
        [again] = alerts(db, run_id)  # updated, not a second alert
        assert again.id == alert.id and again.severity == "warning"
        assert "70" in again.summary
        assert events(db, alert.id) == ["raised", "updated"]


def test_only_a_worse_finding_re_raises(sessions: sessionmaker[Session], run_id: int) -> None:
    with unit_of_work(sessions) as db:
        store(db, run_id, T0, pfhb=60)
    with unit_of_work(sessions) as db:
        [alert] = alerts(db, run_id)
        service.acknowledge(db, NURSE, alert.id, "pfHb sent again, pump head checked")
    with unit_of_work(sessions) as db:
        store(db, run_id, T0 + H, pfhb=65)  # same level: stays acknowledged
    with unit_of_work(sessions) as db:
        [same] = alerts(db, run_id)
        assert same.status == "acknowledged"
        assert same.acknowledge_comment == "pfHb sent again, pump head checked"
        assert same.acknowledged_by == NURSE.staff_id
    with unit_of_work(sessions) as db:
        store(db, run_id, T0 + 2 * H, pfhb=130)  # worse: escalated, needs a new acknowledgement
    with unit_of_work(sessions) as db:
        [worse] = alerts(db, run_id)
        assert (worse.severity, worse.peak_severity, worse.status) == (
            "critical",
            "critical",
            "open",
        )
        assert events(db, worse.id)[-1] == "escalated"
        assert "acknowledged" in events(db, worse.id)


def test_resolve_and_clear(sessions: sessionmaker[Session], run_id: int) -> None:
    with unit_of_work(sessions) as db:
        store(db, run_id, T0, pfhb=60)
    with unit_of_work(sessions) as db:
        [alert] = alerts(db, run_id)
        service.resolve(db, NURSE, alert.id, "repeat sample haemolysed in the tube")
    with unit_of_work(sessions) as db:
        store(db, run_id, T0 + H, pfhb=62)  # still present, not worse: no new alert
    with unit_of_work(sessions) as db:
        assert [a.status for a in alerts(db, run_id)] == ["resolved"]
        with pytest.raises(Conflict):
            service.resolve(db, NURSE, alert.id, None)
    with unit_of_work(sessions) as db:
        store(db, run_id, T0 + 2 * H, pfhb=150)  # worse than the resolved one: a new alert
    with unit_of_work(sessions) as db:
        assert [(a.status, a.severity) for a in alerts(db, run_id)] == [
            ("resolved", "warning"),
            ("open", "critical"),
        ]
    with unit_of_work(sessions) as db:
        store(db, run_id, T0 + 3 * H, pfhb=8)  # back to normal: cleared, still to be resolved
    with unit_of_work(sessions) as db:
        latest = alerts(db, run_id)[-1]
        assert latest.cleared_at is not None and latest.status == "open"
        assert events(db, latest.id)[-1] == "cleared"


def test_acknowledging_needs_a_comment_and_changes_nothing_without_one(
    sessions: sessionmaker[Session], run_id: int
) -> None:
    with unit_of_work(sessions) as db:
        store(db, run_id, T0, pfhb=60)
    with unit_of_work(sessions) as db:
        [alert] = alerts(db, run_id)
        before = count(db, AuditEntry), count(db, AlertEvent)
        with pytest.raises(ValidationFailed) as exc:
            service.acknowledge(db, NURSE, alert.id, "   ")
        assert exc.value.problems[0].field == "comment"
        assert (count(db, AuditEntry), count(db, AlertEvent)) == before
        assert alert.status == "open"


def test_a_rolled_back_batch_leaves_no_alert(sessions: sessionmaker[Session], run_id: int) -> None:
    db = sessions()
    try:
        store(db, run_id, T0, pfhb=120)
        assert len(alerts(db, run_id)) == 1  # raised inside the batch's transaction …
        db.rollback()
    finally:
        db.close()
    with unit_of_work(sessions) as db:
        assert alerts(db, run_id) == []  # … and gone with it
        assert db.query(CircuitAlert).filter_by(run_id=run_id).count() == 0
    with unit_of_work(sessions) as db, pytest.raises(ValidationFailed):
        store(db, run_id, T0, pfhb=120, blood_temp=80)  # one bad value: nothing stored
    with unit_of_work(sessions) as db:
        assert alerts(db, run_id) == []
