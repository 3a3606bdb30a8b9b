"""No silent overwrites: racing state changes and stale saves, on SQLite and PostgreSQL.

Each race starts real threads together on a ``threading.Barrier``; every thread has its own
session (its own connection) and its own unit of work, as two requests would. Exactly one
wins; the others get a 409 naming the winner, and nothing the winner wrote is replaced.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from continuum.alerts import service as alert_service
from continuum.alerts.models import AlertEvent, CircuitAlert
from continuum.core import run_service
from continuum.core.models import Run, TimelineEvent
from continuum.core.roles import Actor
from continuum.core.schemas import RunEnd
from continuum.db import unit_of_work
from continuum.errors import Conflict
from tests.seed import RUN_START

PERFUSIONIST = Actor(staff_id=1, name="Test perfusionist", role="perfusionist")
PHYSICIAN = Actor(staff_id=2, name="Test physician", role="physician")
NURSE = Actor(staff_id=3, name="Test nurse", role="nurse")
COORDINATOR = Actor(staff_id=4, name="Test coordinator", role="coordinator")


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
        (
            COORDINATOR,
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
        kinds = db.scalars(
            select(TimelineEvent.kind).where(
                TimelineEvent.run_id == 1, TimelineEvent.kind.in_(("death", "decannulation"))
            )
        ).all()
        assert kinds == ["death" if winner.value == "died_on_ecmo" else "decannulation"]


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
