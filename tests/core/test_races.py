"""No silent overwrites: racing state changes and stale saves, on SQLite and PostgreSQL.

Each race starts real threads together on a ``threading.Barrier``; every thread has its own
session (its own connection) and its own unit of work, as two requests would. Exactly one
wins; the others get a 409 naming the winner, and nothing the winner wrote is replaced.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from continuum.alerts import service as alert_service
from continuum.alerts.models import AlertEvent, CircuitAlert
from continuum.core import run_service
from continuum.core.clinical_event import ClinicalEvent
from continuum.core.concurrency import StaleRecord
from continuum.core.models import Participation, Run
from continuum.core.roles import Actor
from continuum.core.schemas import RunEnd
from continuum.db import unit_of_work, utcnow
from continuum.errors import Conflict
from continuum.initiation import candidacy, decision
from continuum.initiation.models import Referral
from continuum.initiation.schemas import CandidacyIn, DecisionIn, SignIn
from continuum.rounds import actions, round_record
from continuum.rounds.models import RoundAction, RoundRecord
from continuum.rounds.schemas import CompleteIn, RoundIn
from continuum.weaning import decannulation, trials
from continuum.weaning.models import Decannulation, WeaningTrial
from continuum.weaning.schemas import AssessmentIn, DecannulationIn, TrialAbort, TrialStart
from continuum.weaning.schemas import SignIn as WeanSignIn
from tests.rounds.reviews import left_open
from tests.seed import RUN_START

PERFUSIONIST = Actor(staff_id=1, name="Test perfusionist", role="perfusionist")
PHYSICIAN = Actor(staff_id=2, name="Test physician", role="physician")
NURSE = Actor(staff_id=3, name="Test nurse", role="nurse")


@dataclass
class Outcome:
    index: int
    value: Any = None
    conflict: Conflict | None = None
    error: BaseException | None = None


def race(
    sessions: sessionmaker[Session], n: int, work: Callable[[Session, int], Any]
) -> list[Outcome]:
    """Run ``work(db, i)`` in ``n`` threads released together, each in its own unit of work."""
    barrier = threading.Barrier(n)
    outcomes = [Outcome(i) for i in range(n)]

    def one(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            with unit_of_work(sessions) as db:
                outcomes[i].value = work(db, i)
        except Conflict as exc:
            outcomes[i].conflict = exc
        except BaseException as exc:
            outcomes[i].error = exc

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    errors = [o.error for o in outcomes if o.error is not None]
    assert not errors, errors
    return outcomes


def one_winner(outcomes: list[Outcome]) -> tuple[Outcome, list[Outcome]]:
    winners = [o for o in outcomes if o.conflict is None]
    losers = [o for o in outcomes if o.conflict is not None]
    assert len(winners) == 1, [(o.index, o.conflict) for o in outcomes]
    for loser in losers:
        assert loser.conflict is not None and loser.conflict.status_code == 409
    return winners[0], losers


# -- ending a run ----------------------------------------------------------------------------


def test_two_racing_run_ends_one_wins_the_other_is_told_who_ended_it(sessions) -> None:
    at = RUN_START + timedelta(hours=30)
    ends = [
        (PHYSICIAN, RunEnd(ended_at=at, outcome="died_on_ecmo", stop_reason="Cardiac arrest")),
        (  # the two who may end a run (END_RUN: not the coordinator)
            PERFUSIONIST,
            RunEnd(ended_at=at, outcome="weaned_recovered", stop_reason="Recovered, decannulated"),
        ),
    ]

    def end(db: Session, i: int) -> str:
        actor, data = ends[i]
        run = run_service.get_run(db, actor, 1)
        return run_service.end_run(db, actor, run, data).outcome or ""

    winner, [loser] = one_winner(race(sessions, 2, end))
    winner_actor = ends[winner.index][0]
    assert loser.conflict is not None
    assert f"already ended by {winner_actor.name}" in loser.conflict.message
    assert loser.conflict.as_dict()["by"] == winner_actor.name
    with unit_of_work(sessions) as db:
        run = db.get_one(Run, 1)
        assert run.outcome == ends[winner.index][1].outcome
        ends = db.execute(
            select(ClinicalEvent.kind, ClinicalEvent.details).where(
                ClinicalEvent.run_id == 1, ClinicalEvent.kind == "run.ended"
            )
        ).all()
        assert [(k, d["outcome"]) for k, d in ends] == [("run.ended", winner.value)]


# -- alerts ------------------------------------------------------------------------------------


def test_three_racing_acknowledgements_one_kept_two_refused_none_lost(sessions) -> None:
    actors = [PHYSICIAN, PERFUSIONIST, NURSE]
    comments = ["Haemolysis: checking pump head", "Sending repeat pfHb", "Informed ICU fellow"]

    def ack(db: Session, i: int) -> str:
        alert = alert_service.acknowledge(db, actors[i], 1, comments[i])
        return alert.acknowledge_comment or ""

    winner, losers = one_winner(race(sessions, 3, ack))
    for loser in losers:
        assert loser.conflict is not None
        assert f"already acknowledged by {actors[winner.index].name}" in loser.conflict.message
        assert comments[winner.index] in loser.conflict.message
    with unit_of_work(sessions) as db:
        alert = db.get_one(CircuitAlert, 1)
        assert alert.acknowledge_comment == comments[winner.index]
        assert alert.acknowledged_by == actors[winner.index].staff_id
        acks = db.scalars(
            select(AlertEvent.comment).where(
                AlertEvent.alert_id == 1, AlertEvent.kind == "acknowledged"
            )
        ).all()
        # The stored comment is the one the history shows: no comment was silently replaced.
        assert acks == [comments[winner.index]]


def test_two_racing_resolutions_one_wins(sessions) -> None:
    actors = [PHYSICIAN, PERFUSIONIST]

    def resolve(db: Session, i: int) -> None:
        alert_service.resolve(db, actors[i], 2, f"note {i}")

    winner, [loser] = one_winner(race(sessions, 2, resolve))
    assert loser.conflict is not None
    assert f"already resolved by {actors[winner.index].name}" in loser.conflict.message
    with unit_of_work(sessions) as db:
        assert db.get_one(CircuitAlert, 2).resolve_note == f"note {winner.index}"
        count = db.scalar(
            select(func.count())
            .select_from(AlertEvent)
            .where(AlertEvent.alert_id == 2, AlertEvent.kind == "resolved")
        )
        assert count == 1


# -- the initiation decision -------------------------------------------------------------------


def _decided_referral(sessions: sessionmaker[Session]) -> tuple[int, int]:
    """Referral with an accept decision recorded (unsigned); returns (referral id, version)."""
    from tests.initiation.test_initiation_service import _ready, _referral

    with unit_of_work(sessions) as db:
        ref = _referral(db)
        _ready(db, ref)
        assert ref.decision is not None
        return ref.id, ref.decision.version


def test_four_racing_signoffs_by_one_physician_one_signature(sessions) -> None:
    ref_id, version = _decided_referral(sessions)

    def sign(db: Session, i: int) -> None:
        decision.sign(db, PHYSICIAN, db.get_one(Referral, ref_id), SignIn(version=version))

    _winner, losers = one_winner(race(sessions, 4, sign))
    assert len(losers) == 3
    for loser in losers:
        assert loser.conflict is not None
        assert "already signed this decision: signed by Test physician" in loser.conflict.message
    with unit_of_work(sessions) as db:
        d = db.get_one(Referral, ref_id).decision
        assert d is not None and d.physician_signed_by == PHYSICIAN.staff_id
        signatures = db.scalars(
            select(Participation).where(
                Participation.record_type == "initiation_decision",
                Participation.record_id == d.id,
                Participation.how == "signed",
            )
        ).all()
        assert len(signatures) == 1


def test_a_signature_on_a_decision_changed_after_it_was_viewed_is_refused(sessions) -> None:
    ref_id, viewed = _decided_referral(sessions)
    with unit_of_work(sessions) as db:  # the physician changes the decision meanwhile
        decision.record_decision(
            db,
            PHYSICIAN,
            db.get_one(Referral, ref_id),
            DecisionIn(outcome="defer", reasons="lactate falling: reassess in 2 h", version=viewed),
        )
    with pytest.raises(StaleRecord) as caught, unit_of_work(sessions) as db:
        decision.sign(db, PERFUSIONIST, db.get_one(Referral, ref_id), SignIn(version=viewed))
    assert caught.value.status_code == 409
    assert "changed by Test physician" in caught.value.message
    assert caught.value.as_dict()["current_version"] == viewed + 1
    with unit_of_work(sessions) as db:
        d = db.get_one(Referral, ref_id).decision
        assert d is not None and d.perfusionist_signed_at is None and d.outcome == "defer"


def test_a_stale_decision_edit_is_refused_and_the_colleagues_save_kept(sessions) -> None:
    ref_id, opened = _decided_referral(sessions)
    with unit_of_work(sessions) as db:
        decision.record_decision(
            db,
            PHYSICIAN,
            db.get_one(Referral, ref_id),
            DecisionIn(
                outcome="defer", reasons="new VAP, start pip-tazo; reassess", version=opened
            ),
        )
    with pytest.raises(StaleRecord, match="Test physician"), unit_of_work(sessions) as db:
        decision.record_decision(
            db,
            PHYSICIAN,
            db.get_one(Referral, ref_id),
            DecisionIn(outcome="accept", reasons="stale draft", version=opened),
        )
    with unit_of_work(sessions) as db:
        d = db.get_one(Referral, ref_id).decision
        assert d is not None and (d.outcome, d.version) == ("defer", opened + 1)
        assert d.reasons == "new VAP, start pip-tazo; reassess"


def test_racing_edits_of_the_same_version_one_saved(sessions) -> None:
    ref_id, opened = _decided_referral(sessions)
    reasons = ["EOLIA criteria met, reassessed", "Murray 3.5, prone failed"]

    def save(db: Session, i: int) -> None:
        data = DecisionIn(outcome="accept", reasons=reasons[i], version=opened)
        decision.record_decision(db, PHYSICIAN, db.get_one(Referral, ref_id), data)

    winner, [loser] = one_winner(race(sessions, 2, save))
    assert isinstance(loser.conflict, StaleRecord)
    with unit_of_work(sessions) as db:
        d = db.get_one(Referral, ref_id).decision
        assert d is not None and d.reasons == reasons[winner.index] and d.version == opened + 1


# -- rounds ------------------------------------------------------------------------------------


def _today() -> date:
    return datetime.now(UTC).date()


def _round(db: Session, actor: Actor, **data: Any) -> RoundRecord:
    run = db.get_one(Run, 1)
    data.setdefault("alerts_reviewed", left_open(db, 1))  # the run's alerts stay open
    return round_record.record_round(
        db, actor, run, RoundIn.model_validate(data), _today(), run.started_at.date()
    )


def test_two_rounds_created_at_once_no_500_and_no_goals_lost(sessions) -> None:
    people = [(NURSE, {"blood_flow": {"low": 4.0, "high": 5.0}}), (PHYSICIAN, {})]

    def create(db: Session, i: int) -> int:
        actor, goals = people[i]
        return _round(db, actor, problems=f"by {actor.name}", goals=goals).id

    winner, [loser] = one_winner(race(sessions, 2, create))
    by = people[winner.index][0].name
    assert loser.conflict is not None
    assert f"just created by {by}" in loser.conflict.message and "open it" in loser.conflict.message
    with unit_of_work(sessions) as db:
        rows = db.scalars(select(RoundRecord).where(RoundRecord.run_id == 1)).all()
        assert len(rows) == 1 and rows[0].problems == f"by {by}"
        assert rows[0].goals == {
            code: {"low": g["low"], "high": g["high"]}
            for code, g in people[winner.index][1].items()
        }
    # The loser's goals are not lost: opening the round (its version) and saving them works.
    with unit_of_work(sessions) as db:
        row = _round(
            db,
            NURSE,
            problems="merged",
            goals={"blood_flow": {"low": 4.0, "high": 5.0}},
            version=rows[0].version,
        )
        assert row.goals["blood_flow"] == {"low": 4.0, "high": 5.0}


def test_a_stale_draft_never_replaces_a_colleagues_save(sessions) -> None:
    with unit_of_work(sessions) as db:
        opened = _round(db, NURSE, problems="ΔP rising").version
    with unit_of_work(sessions) as db:
        _round(db, PHYSICIAN, problems="new VAP, start pip-tazo", version=opened)
    with pytest.raises(StaleRecord) as caught, unit_of_work(sessions) as db:
        _round(db, NURSE, problems="ΔP rising, stable", version=opened)
    assert "changed by Test physician" in caught.value.message
    with unit_of_work(sessions) as db:
        row = round_record.find_round(db, 1, _today())
        assert row is not None and row.problems == "new VAP, start pip-tazo"
        assert row.version == opened + 1


def test_racing_round_signoffs_one_signature(sessions) -> None:
    with unit_of_work(sessions) as db:
        round_id = _round(db, NURSE, problems="stable").id
    actors = [PHYSICIAN, NURSE, PERFUSIONIST]

    def sign(db: Session, i: int) -> None:
        round_record.sign_round(db, actors[i], round_id)

    winner, losers = one_winner(race(sessions, 3, sign))
    for loser in losers:
        assert loser.conflict is not None
        assert f"already signed by {actors[winner.index].name}" in loser.conflict.message
    with unit_of_work(sessions) as db:
        assert db.get_one(RoundRecord, round_id).signed_by == actors[winner.index].staff_id


def test_racing_action_completions_one_kept(sessions) -> None:
    with unit_of_work(sessions) as db:
        row = _round(
            db,
            NURSE,
            actions=[
                {
                    "text": "Repeat pfHb",
                    "owner_discipline": "nursing",
                    "due_at": (utcnow() + timedelta(hours=2)).isoformat(),
                }
            ],
        )
        [action_id] = [a.id for a in actions.run_actions(db, 1) if a.round_id == row.id]
    notes = ["sent at 10:00", "sent at 10:02"]

    def complete(db: Session, i: int) -> None:
        actions.complete_action(db, [NURSE, PHYSICIAN][i], action_id, CompleteIn(note=notes[i]))

    winner, [loser] = one_winner(race(sessions, 2, complete))
    assert loser.conflict is not None and "already completed by" in loser.conflict.message
    with unit_of_work(sessions) as db:
        assert db.get_one(RoundAction, action_id).completion_note == notes[winner.index]


# -- weaning -----------------------------------------------------------------------------------


def _decannulation(sessions: sessionmaker[Session]) -> int:
    from tests.weaning.test_services import CHECKLIST

    with unit_of_work(sessions) as db:
        at = utcnow() - timedelta(hours=1)
        values = {**CHECKLIST, "no_trial_reason": "test", "decannulated_at": at}
        data = DecannulationIn.model_validate(values)
        return decannulation.create(db, PHYSICIAN, db.get_one(Run, 1), data).id


def test_racing_decannulation_signoffs_of_one_part_one_signature(sessions) -> None:
    row_id = _decannulation(sessions)

    def sign(db: Session, i: int) -> bool:
        return decannulation.sign(db, PHYSICIAN, db.get_one(Decannulation, row_id), WeanSignIn())

    _winner, losers = one_winner(race(sessions, 3, sign))
    for loser in losers:
        assert loser.conflict is not None
        assert "the physician's part was signed by Test physician" in loser.conflict.message
    with unit_of_work(sessions) as db:
        assert db.get_one(Run, 1).status != "ended"


def test_both_parts_signed_at_once_end_the_run_exactly_once(sessions) -> None:
    row_id = _decannulation(sessions)
    signers = [PHYSICIAN, PERFUSIONIST]

    def sign(db: Session, i: int) -> bool:
        row = db.get_one(Decannulation, row_id)
        return decannulation.sign(db, signers[i], row, WeanSignIn())

    outcomes = race(sessions, 2, sign)
    assert all(o.conflict is None for o in outcomes)
    assert sorted(o.value for o in outcomes) == [False, True]  # the second one ended the run
    with unit_of_work(sessions) as db:
        assert db.get_one(Run, 1).status == "ended"
        ends = db.scalars(
            select(ClinicalEvent.kind).where(
                ClinicalEvent.run_id == 1, ClinicalEvent.kind == "run.ended"
            )
        ).all()
        assert len(ends) == 1


def test_first_edits_racing_to_open_the_decision_record_no_500(sessions) -> None:
    from tests.initiation.test_initiation_service import _referral

    with unit_of_work(sessions) as db:
        ref_id = _referral(db).id  # no decision record yet: the first edit opens it
    notes = ["hypoxaemia on PEEP 16", "hypercapnia, pH 7.18"]

    def save(db: Session, i: int) -> None:
        data = CandidacyIn(checked=["pulmonary.hypoxaemia"], note=notes[i], version=1)
        candidacy.save_candidacy(db, PHYSICIAN, db.get_one(Referral, ref_id), data)

    winner, [_loser] = one_winner(race(sessions, 2, save))
    with unit_of_work(sessions) as db:
        ref = db.get_one(Referral, ref_id)
        assert len(ref.decisions) == 1
        assert ref.decisions[0].checklist_note == notes[winner.index]


def _trial(sessions: sessionmaker[Session]) -> int:
    with unit_of_work(sessions) as db:
        run = db.get_one(Run, 1)
        return trials.start_trial(db, PHYSICIAN, run, TrialStart(kind="sweep_reduction")).id


def test_racing_trial_aborts_one_closes_it(sessions) -> None:
    trial_id = _trial(sessions)
    reasons = ["SpO2 84 %", "RR 38, distressed"]

    def abort(db: Session, i: int) -> None:
        trial = trials.get_trial(db, PHYSICIAN, trial_id)
        trials.abort(db, [PHYSICIAN, PERFUSIONIST][i], trial, TrialAbort(reason=reasons[i]))

    winner, [loser] = one_winner(race(sessions, 2, abort))
    assert loser.conflict is not None and "already closed (aborted) by" in loser.conflict.message
    with unit_of_work(sessions) as db:
        trial = db.get_one(WeaningTrial, trial_id)
        assert (trial.status, trial.outcome_reason) == ("aborted", reasons[winner.index])


def test_racing_perfusion_assessments_one_signed(sessions) -> None:
    trial_id = _trial(sessions)
    notes = ["min flow 1.5 L/min safe", "flow 1.0 L/min too low"]

    def assess(db: Session, i: int) -> None:
        trial = trials.get_trial(db, PERFUSIONIST, trial_id)
        data = AssessmentIn(flow_safe=i == 0, anticoagulation_ok=True, assessment=notes[i])
        trials.assess(db, PERFUSIONIST, trial, data)

    winner, [loser] = one_winner(race(sessions, 2, assess))
    assert loser.conflict is not None
    assert "already recorded by Test perfusionist" in loser.conflict.message
    with unit_of_work(sessions) as db:
        assert db.get_one(WeaningTrial, trial_id).perfusion_assessment == notes[winner.index]
