"""Rounds services on SQLite and PostgreSQL: goals become run targets, attendance by
discipline, actions carry forward until done, signed rounds are immutable, circuit checks."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from continuum.core import observation_service, run_view, targets
from continuum.core.record import RunTarget
from continuum.core.roles import Actor
from continuum.core.run_record import Run
from continuum.core.schemas import ObservationIn
from continuum.db import unit_of_work
from continuum.errors import Conflict, Forbidden, ValidationFailed
from continuum.rounds import actions, board, circuit_check, round_record
from continuum.rounds.models import RoundAction, RoundRecord
from continuum.rounds.schemas import (
    INSPECTION_SITES,
    ActionIn,
    AlertReview,
    AmendmentIn,
    CircuitCheckIn,
    CompleteIn,
    RoundIn,
)
from tests.rounds.reviews import left_open

UTCZ = ZoneInfo("UTC")
PERFUSIONIST = Actor(
    staff_id=1, name="Test perfusionist", role="perfusionist", discipline="perfusion"
)
PHYSICIAN = Actor(staff_id=2, name="Test physician", role="physician", discipline="intensive_care")
NURSE = Actor(staff_id=3, name="Test nurse", role="nurse", discipline="nursing")
RESEARCHER = Actor(staff_id=6, name="Test researcher", role="researcher")


def _now() -> datetime:
    return datetime.now(UTC)


def _today() -> date:
    return _now().date()


def _record(db, data: RoundIn, actor: Actor = PHYSICIAN) -> RoundRecord:  # type: ignore[no-untyped-def]
    run = db.get(Run, 1)
    if not data.alerts_reviewed:  # the run's open alerts are not what these tests are about
        reviews = [AlertReview.model_validate(r) for r in left_open(db, 1)]
        data = data.model_copy(update={"alerts_reviewed": reviews})
    return round_record.record_round(db, actor, run, data, _today(), run.started_at.date())


def _round(**extra) -> RoundIn:  # type: ignore[no-untyped-def]
    base = {
        "attendees": [1, 2],
        "problems": "ΔP rising",
        "goals": {
            "blood_flow": {"low": 4.0, "high": 5.5},
            "anti_xa": {"low": 0.3, "high": 0.5},
            "fluid_balance_ml": {"high": 0},
        },
        "actions": [
            {
                "text": "Repeat pfHb",
                "owner_discipline": "nursing",
                "due_at": (_now() + timedelta(hours=4)).isoformat(),
            }
        ],
    }
    return RoundIn.model_validate({**base, **extra})


def test_round_goals_become_run_targets_and_attendance_shows_perfusion(sessions) -> None:
    with unit_of_work(sessions) as db:
        row = _record(db, _round())
        round_id = row.id
    with unit_of_work(sessions) as db:
        current = targets.current_targets(db, 1)
        assert (current["blood_flow"].low, current["blood_flow"].high) == (4.0, 5.5)
        assert current["anti_xa"].source == f"round:{round_id}"
        assert "fluid_balance_ml" not in current  # not an observation code: kept on the round
        people = round_record.attendance(db, [round_id])[round_id]
        assert round_record.disciplines_present(people) == {"perfusion", "intensive_care"}
        assert [a.text for a in actions.open_actions(db, [1])[1]] == ["Repeat pfHb"]
        stored = db.get(RoundRecord, round_id)
        assert stored.goals["fluid_balance_ml"] == {"low": None, "high": 0.0}


def test_bad_goals_and_actions_are_refused_by_field_and_nothing_is_written(sessions) -> None:
    bad = _round(
        goals={"blood_flow": {"low": 4, "high": 55}, "anti_xa": {"low": 0.6, "high": 0.3}},
        actions=[{"text": "Call cardiology"}],
    )
    with pytest.raises(ValidationFailed) as caught, unit_of_work(sessions) as db:
        _record(db, bad)
    fields = {p.field: p.message for p in caught.value.problems}
    assert "55 L/min is outside 0–10 L/min" in fields["goals.blood_flow.high"]
    assert "above" in fields["goals.anti_xa"]
    assert "owner discipline" in fields["actions[0].owner_discipline"]
    assert "due" in fields["actions[0].due_at"]
    with unit_of_work(sessions) as db:
        for model in (RoundRecord, RoundAction, RunTarget):
            assert db.scalar(select(func.count()).select_from(model)) == 0


def test_future_round_date_is_refused(sessions) -> None:
    with pytest.raises(ValidationFailed, match="in the future"), unit_of_work(sessions) as db:
        _record(db, _round(round_date=(_today() + timedelta(days=1)).isoformat()))


def test_a_signed_round_is_immutable_and_corrected_by_amendment(sessions) -> None:
    with unit_of_work(sessions) as db:
        row = _record(db, _round())
        # a draft can be re-saved (naming the version it was opened on)
        _record(db, _round(problems="updated while a draft", version=row.version))
        round_record.sign_round(db, PHYSICIAN, row.id)
        round_id = row.id
    with pytest.raises(Conflict, match="signed"), unit_of_work(sessions) as db:
        _record(db, _round(problems="changed after signing"))
    with unit_of_work(sessions) as db:
        round_record.amend_round(db, NURSE, round_id, AmendmentIn(section="goals", text="4–5"))
    with unit_of_work(sessions) as db:
        row = db.get(RoundRecord, round_id)
        assert row.status == "signed" and row.problems == "updated while a draft"
        assert [a.text for a in round_record.amendments(db, "round", [round_id])[round_id]] == [
            "4–5"
        ]


def test_roles_are_checked_in_the_services(sessions) -> None:
    with pytest.raises(Forbidden), unit_of_work(sessions) as db:
        _record(db, _round(), RESEARCHER)
    with pytest.raises(Forbidden), unit_of_work(sessions) as db:
        circuit_check.record_check(db, NURSE, db.get(Run, 1), CircuitCheckIn())


def test_an_open_action_carries_forward_to_the_next_day_until_done(sessions) -> None:
    yesterday = _today() - timedelta(days=1)
    due = datetime.combine(yesterday, datetime.min.time(), UTC) + timedelta(hours=18)
    with unit_of_work(sessions) as db:
        row = _record(
            db,
            _round(
                round_date=yesterday.isoformat(),
                actions=[
                    {
                        "text": "Echo for LV",
                        "owner_discipline": "cardiology",
                        "due_at": due.isoformat(),
                    }
                ],
            ),
        )
        row.held_at = datetime.combine(yesterday, datetime.min.time(), UTC) + timedelta(hours=9)
        db.query(RoundAction).update({RoundAction.created_at: row.held_at})
    with unit_of_work(sessions) as db:
        today_board = board.board(db, PHYSICIAN, board.board_when(None, UTCZ, _now()))
        (r,) = today_board
        assert [a.text for a in r.overdue] == ["Echo for LV"]
        assert r.round.round_date == yesterday  # yesterday's goals carried
        assert r.level in ("warning", "critical")
        action_id = r.overdue[0].id
        actions.complete_action(db, NURSE, action_id, CompleteIn(note="done at 20:00"))
    with unit_of_work(sessions) as db:
        (r,) = board.board(db, PHYSICIAN, board.board_when(None, UTCZ, _now()))
        assert r.open_actions == []
        (past,) = board.board(db, PHYSICIAN, board.board_when(yesterday, UTCZ, _now()))
        assert [a.text for a in past.open_actions] == ["Echo for LV"]  # done only today
    with pytest.raises(Conflict), unit_of_work(sessions) as db:
        actions.complete_action(db, NURSE, action_id, CompleteIn())


def test_standalone_action_needs_owner_and_due_time(sessions) -> None:
    with pytest.raises(ValidationFailed) as caught, unit_of_work(sessions) as db:
        actions.add_action(db, NURSE, db.get(Run, 1), ActionIn(text="Do something"))
    assert {p.field for p in caught.value.problems} == {"action.owner_discipline", "action.due_at"}


def _gases(db, at: datetime) -> None:  # type: ignore[no-untyped-def]
    values = {
        "blood_flow": 4.5,
        "hb": 10.0,
        "pre_oxy_so2": 70,
        "pre_oxy_po2": 40,
        "post_oxy_so2": 100,
        "post_oxy_po2": 450,
        "sweep_flow": 3,
        "sweep_fio2": 1.0,
        "anti_xa": 0.2,
    }
    items = [ObservationIn(code=c, value=v, time=at, source="manual") for c, v in values.items()]
    observation_service.record_observations(db, PERFUSIONIST, db.get(Run, 1), items)


def test_circuit_check_prefills_computes_o2_transfer_and_raises_an_action(sessions) -> None:
    at = _now() - timedelta(hours=1)
    with unit_of_work(sessions) as db:
        _gases(db, at)
        latest = circuit_check.prefill(db, 1)
        assert latest["post_oxy_po2"]["value"] == 450
        first = circuit_check.record_check(
            db,
            PERFUSIONIST,
            db.get(Run, 1),
            CircuitCheckIn(
                inspection={**dict.fromkeys(INSPECTION_SITES, "none"), "ml_inlet": "fibrin"},
                readings={"post_oxy_po2": 450, "sweep_flow": 4},
                transfusions={"red_cells": 1},
                action=ActionIn(
                    text="Re-inspect ML inlet",
                    owner_discipline="perfusion",
                    due_at=_now() + timedelta(hours=8),
                ),
            ),
        )
        assert first.readings["post_oxy_po2"]["entered"] is False  # unchanged pre-fill keeps time
        assert first.readings["sweep_flow"]["entered"] is True
        transfer = first.o2_transfer
        assert transfer["unit"] == "mL O2/min" and transfer["value"] > 0
        assert "Cpost" in transfer["formula"]
        assert actions.open_actions(db, [1])[1][0].circuit_check_id == first.id
        changes = circuit_check.changes(first, latest, {"ml_inlet": "small_clot"})
        assert changes["readings"]["sweep_flow"] == {"before": 4.0, "now": 3.0, "change": -1.0}
        assert changes["inspection"]["ml_inlet"]["worse"] is True


def test_circuit_check_refuses_implausible_readings(sessions) -> None:
    with pytest.raises(ValidationFailed) as caught, unit_of_work(sessions) as db:
        circuit_check.record_check(
            db,
            PERFUSIONIST,
            db.get(Run, 1),
            CircuitCheckIn(
                readings={"blood_flow": 55},
                transfusions={"red_cells": 99},
                action=ActionIn(text="x"),
            ),
        )
    fields = {p.field for p in caught.value.problems}
    assert {"readings.blood_flow", "transfusions.red_cells", "action.owner_discipline"} <= fields


def test_board_shows_latest_trends_targets_and_sorts_critical_first(sessions, monkeypatch) -> None:
    at = _now() - timedelta(minutes=30)
    with unit_of_work(sessions) as db:
        _gases(db, at)
        _record(db, _round())
    monkeypatch.setattr(
        run_view,
        "ALERT_PROVIDERS",
        [lambda s, run_id: [{"detector": "hemolysis", "severity": "critical", "summary": "pfHb"}]],
    )
    with unit_of_work(sessions) as db:
        (row,) = board.board(db, NURSE, board.board_when(None, UTCZ, _now()))
        assert row.latest["blood_flow"][1] == 4.5
        assert row.out_of_target == ["anti_xa"]  # 0.2 against 0.3–0.5
        assert row.level == "critical" and row.alert_counts["critical"] == 1
        assert row.sparks["blood_flow"].points  # a 24 h trend with at least one bucket
        assert row.identity is not None and row.identity.mrn
        data = board.row_json(row)
        assert data["goals"]["blood_flow"] == {"low": 4.0, "high": 5.5}
        assert row.perfusion_at_round is True and data["perfusion_at_round"] is True
        (hidden,) = board.board(db, RESEARCHER, board.board_when(None, UTCZ, _now()))
        assert hidden.identity is None


def test_an_ended_run_takes_no_new_round_check_or_action(sessions) -> None:
    from continuum.core import run_service
    from continuum.core.schemas import RunEnd

    with unit_of_work(sessions) as db:
        run_service.end_run(
            db,
            PHYSICIAN,
            db.get(Run, 1),
            RunEnd(outcome="weaned_recovered", stop_reason="trial passed"),
        )
    with pytest.raises(Conflict, match="ended"), unit_of_work(sessions) as db:
        _record(db, _round())
    with pytest.raises(Conflict, match="ended"), unit_of_work(sessions) as db:
        circuit_check.record_check(db, PERFUSIONIST, db.get(Run, 1), CircuitCheckIn())
    with pytest.raises(Conflict, match="ended"), unit_of_work(sessions) as db:
        action = ActionIn(text="x", owner_discipline="nursing", due_at=_now())
        actions.add_action(db, NURSE, db.get(Run, 1), action)
    with unit_of_work(sessions) as db:
        assert board.board(db, NURSE, board.board_when(None, UTCZ, _now())) == []


def test_demo_adds_signed_rounds_open_actions_and_circuit_checks(sessions) -> None:
    from continuum.rounds import demo
    from continuum.rounds.models import CircuitCheck

    staff = {"physician": PHYSICIAN, "perfusionist": PERFUSIONIST}
    staff.update(
        {n: Actor(staff_id=i, name=n, role="nurse") for i, n in enumerate(demo.TEAM, start=1)}
    )
    with unit_of_work(sessions) as db:
        demo.add_demo_data(db, staff, _now())
    with unit_of_work(sessions) as db:
        (row,) = board.board(db, NURSE, board.board_when(None, UTCZ, _now()))
        assert row.round is not None and row.round.status == "signed"
        assert [a.text for a in row.overdue] == ["Repeat pfHb and LDH"]
        assert db.scalar(select(func.count()).select_from(CircuitCheck)) == 1
