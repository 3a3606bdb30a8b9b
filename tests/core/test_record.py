"""The core record on SQLite and PostgreSQL: runs, modes, components, observations,
amendments, end of run — and the database invariants behind them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from continuum.core import observation_service, run_service, run_view
from continuum.core.clinical_event import ClinicalEvent
from continuum.core.models import (
    AuditEntry,
    Component,
    ModeSegment,
    Observation,
    ObservationAmendment,
    Run,
)
from continuum.core.roles import Actor
from continuum.core.schemas import (
    AmendmentIn,
    ComponentCreate,
    ModeChange,
    ObservationIn,
    RunEnd,
)
from continuum.db import unit_of_work
from continuum.errors import Conflict, Forbidden, ValidationFailed
from tests.seed import RUN_START

PERFUSIONIST = Actor(
    staff_id=1, name="Test perfusionist", role="perfusionist", discipline="perfusion"
)
RESEARCHER = Actor(staff_id=6, name="Test researcher", role="researcher")


def obs(code: str, value: float | str, minutes: int = 90, unit: str | None = None) -> ObservationIn:
    return ObservationIn(
        code=code, value=value, unit=unit, time=RUN_START + timedelta(minutes=minutes)
    )


def test_mode_change_closes_the_old_segment_where_the_new_one_begins(sessions) -> None:
    at = RUN_START + timedelta(hours=5)
    with unit_of_work(sessions) as db:
        run = db.get_one(Run, 1)
        run_service.change_mode(
            db,
            PERFUSIONIST,
            run,
            ModeChange(mode="VVA", at=at, reason="Worsening RV function: arterial return added"),
        )
    with unit_of_work(sessions) as db:
        segments = db.scalars(select(ModeSegment).order_by(ModeSegment.started_at)).all()
        assert [(s.mode, s.ended_at) for s in segments] == [("VV", at), ("VVA", None)]
        assert run_service.current_mode(db.get_one(Run, 1)) == "VVA"
        kinds = db.scalars(select(ClinicalEvent.kind)).all()
        assert "mode.changed" in kinds


def test_oxygenator_change_keeps_the_old_one_with_its_stop_reason(sessions) -> None:
    at = RUN_START + timedelta(hours=30)
    with unit_of_work(sessions) as db:
        run = db.get_one(Run, 1)
        new = run_service.add_component(
            db,
            PERFUSIONIST,
            run,
            ComponentCreate(
                kind="membrane_lung",
                model="HLS 7.0",
                serial="B2",
                started_at=at,
                replaces_id=1,
                stop_reason="rising_transmembrane_gradient",
            ),
        )
        new_id = new.id
    with unit_of_work(sessions) as db:
        old, replacement = db.get_one(Component, 1), db.get_one(Component, new_id)
        assert (old.stopped_at, old.stop_reason) == (at, "rising_transmembrane_gradient")
        assert replacement.replaces_id == 1 and replacement.stopped_at is None


@pytest.mark.parametrize(
    "change, message",
    [
        ({"replaces_id": 1}, "say why"),
        ({"replaces_id": 99, "stop_reason": "thrombus"}, "not part of run"),
        ({"kind": "pump", "replaces_id": 1, "stop_reason": "thrombus"}, "only be replaced"),
    ],
)
def test_bad_component_replacement_is_refused_and_changes_nothing(sessions, change, message):
    data = {"kind": "membrane_lung", "started_at": RUN_START + timedelta(hours=3), **change}
    with pytest.raises(ValidationFailed, match=message), unit_of_work(sessions) as db:
        run_service.add_component(db, PERFUSIONIST, db.get_one(Run, 1), ComponentCreate(**data))
    with unit_of_work(sessions) as db:
        assert db.get_one(Component, 1).stopped_at is None
        assert len(db.scalars(select(Component)).all()) == 1


def test_observations_are_converted_and_delta_p_derived(sessions) -> None:
    with unit_of_work(sessions) as db:
        stored = observation_service.record_observations(
            db,
            PERFUSIONIST,
            db.get_one(Run, 1),
            [
                obs("p_preoxy", "40", unit="kPa"),
                obs("p_postoxy", 280),
                obs("hb", 95, unit="g/L"),
                obs("sweep_fio2", 60),
            ],
        )
        assert stored == 5  # four given + derived ΔP
    with unit_of_work(sessions) as db:
        latest = {c: o for c, (_, o) in observation_service.latest_per_code(db, 1).items()}
        assert latest["p_preoxy"].value == pytest.approx(300.025, abs=1e-3)
        assert latest["oxy_delta_p"].value == pytest.approx(20.025, abs=1e-3)
        assert latest["hb"].value == pytest.approx(9.5)
        assert latest["sweep_fio2"].value == pytest.approx(0.6)


def test_a_batch_with_one_bad_value_stores_nothing_and_names_it(sessions) -> None:
    with pytest.raises(ValidationFailed) as caught, unit_of_work(sessions) as db:
        observation_service.record_observations(
            db,
            PERFUSIONIST,
            db.get_one(Run, 1),
            [
                obs("blood_flow", 4.0),
                obs("blood_flow", 55, minutes=91),
                obs("p_access", "x", minutes=92),
            ],
        )
    message = caught.value.message
    assert "ECMO blood flow 55 L/min is outside 0–10 L/min" in message
    assert "observations[2].p_access" in message and "not a number" in message
    with unit_of_work(sessions) as db:
        assert observation_service.code_counts(db, 1)["blood_flow"] == 3


def test_amendment_keeps_the_original_who_and_why(sessions) -> None:
    with unit_of_work(sessions) as db:
        first = db.scalars(
            select(Observation).where(Observation.code == "hb").order_by(Observation.id)
        ).first()
        assert first is not None
        new = observation_service.amend(
            db,
            PERFUSIONIST,
            first.id,
            AmendmentIn(value=8.1, reason="transcription error: 8.1 not 10"),
        )
        ids = (first.id, new.id)
    with unit_of_work(sessions) as db:
        original, replacement = db.get_one(Observation, ids[0]), db.get_one(Observation, ids[1])
        assert (original.value, original.status) == (10.0, "superseded")
        assert (replacement.value, replacement.amends_id) == (8.1, original.id)
        note = db.scalars(select(ObservationAmendment)).one()
        assert note.reason.startswith("transcription") and note.amended_by == 1
        audit = db.scalars(select(AuditEntry).where(AuditEntry.action == "amend")).one()
        assert audit.detail == {
            "from": 10.0,
            "to": 8.1,
            "reason": note.reason,
            "replacement_id": replacement.id,
        }
        with pytest.raises(Conflict):
            observation_service.amend(db, PERFUSIONIST, ids[0], AmendmentIn(value=9, reason="x2x"))


def test_ending_a_run_closes_every_open_part(sessions) -> None:
    end = RUN_START + timedelta(days=1)
    with unit_of_work(sessions) as db:
        run_service.end_run(
            db,
            PERFUSIONIST,
            db.get_one(Run, 1),
            RunEnd(ended_at=end, outcome="weaned_recovered", stop_reason="Sweep-off trial passed"),
        )
    with unit_of_work(sessions) as db:
        run = db.get_one(Run, 1)
        assert (run.status, run.outcome, run.ended_at) == ("ended", "weaned_recovered", end)
        assert all(c.stopped_at and c.stop_reason for c in run.components)
        assert all(c.removed_at and c.stop_reason for c in run.cannulas)
        assert all(m.ended_at for m in run.modes) and all(c.ended_at for c in run.circuits)
        with pytest.raises(Conflict):
            observation_service.record_observations(db, PERFUSIONIST, run, [obs("hb", 9)])


def test_roles_are_checked_in_the_services(sessions) -> None:
    with pytest.raises(Forbidden), unit_of_work(sessions) as db:
        observation_service.record_observations(db, RESEARCHER, db.get_one(Run, 1), [obs("hb", 9)])


def test_run_summary_has_the_contract_shape(sessions) -> None:
    with unit_of_work(sessions) as db:
        summary = run_view.summary(db, RESEARCHER, db.get_one(Run, 1))
    assert {
        "id",
        "patient_id",
        "support",
        "mode",
        "started_at",
        "observations",
        "open_alerts",
    } <= set(summary)
    assert summary["observations"]["blood_flow"]["count"] == 3
    assert summary["observations"]["blood_flow"]["latest"]["unit"] == "L/min"
    assert summary["patient"]["name"] is None and summary["patient"]["mrn"] is None


# --- invariants held by the database itself (check and unique constraints, triggers) ---

INVARIANTS = [
    ("run support type", "UPDATE run SET support_type = 'lunar' WHERE id = 1"),
    ("ended run needs outcome", "UPDATE run SET status = 'ended' WHERE id = 1"),
    (
        "end after start",
        "UPDATE run SET ended_at = '2000-01-01 00:00:00', outcome = 'withdrawn',"
        " status = 'ended' WHERE id = 1",
    ),
    ("mode vocabulary", "UPDATE mode_segment SET mode = 'XX' WHERE id = 1"),
    ("component stop needs reason", "UPDATE component SET stopped_at = started_at WHERE id = 1"),
    ("cannula size", "UPDATE cannula SET french = 99 WHERE id = 1"),
    ("observation source", "UPDATE observation SET source = 'guess' WHERE id = 1"),
    ("unique MRN", "UPDATE patient_identity SET mrn = 'MRNZQ7781' WHERE patient_id = 2"),
    ("staff role", "UPDATE staff SET role = 'king' WHERE id = 1"),
    ("audit log is append-only (update)", "UPDATE audit_log SET action = 'x'"),
    ("audit log is append-only (delete)", "DELETE FROM audit_log"),
]


@pytest.mark.parametrize("name, statement", INVARIANTS, ids=[n for n, _ in INVARIANTS])
def test_database_refuses(sessions, name: str, statement: str) -> None:
    with pytest.raises((IntegrityError, DBAPIError)), unit_of_work(sessions) as db:
        db.execute(text(statement))


def test_times_are_stored_and_returned_in_utc(sessions) -> None:
    from zoneinfo import ZoneInfo

    local = datetime(2026, 1, 5, 9, 30, tzinfo=ZoneInfo("Europe/Berlin"))
    with unit_of_work(sessions) as db:
        run = db.get_one(Run, 1)
        run.started_at = local
    with unit_of_work(sessions) as db:
        assert db.get_one(Run, 1).started_at == datetime(2026, 1, 5, 8, 30, tzinfo=UTC)
        assert db.get_one(Run, 1).started_at.tzinfo is not None


def test_bulk_insert_round_trips_times_and_values(sessions) -> None:
    import numpy as np

    times = np.datetime64("2026-03-01T10:00") + np.arange(3).astype("timedelta64[m]")
    with unit_of_work(sessions) as db:
        rows = observation_service.series_rows(
            1, "blood_flow", times, np.array([4.1, np.nan, 4.3]), "console"
        )
        observation_service.bulk_insert(db, rows)
    with unit_of_work(sessions) as db:
        got = observation_service.series(
            db,
            1,
            "blood_flow",
            start=datetime(2026, 3, 1, tzinfo=UTC),
            end=datetime(2026, 3, 2, tzinfo=UTC),
        )
    assert got == [
        (datetime(2026, 3, 1, 10, 0, tzinfo=UTC), 4.1),
        (datetime(2026, 3, 1, 10, 2, tzinfo=UTC), 4.3),
    ]


def test_run_targets_keep_history_and_refuse_nonsense(sessions) -> None:
    from continuum.core import targets

    with unit_of_work(sessions) as db:
        run = db.get_one(Run, 1)
        targets.set_target(db, PERFUSIONIST, run, "anti_xa", 0.3, 0.7, "plan:1")
        targets.set_target(db, PERFUSIONIST, run, "anti_xa", 0.2, 0.4, "round:5")
        targets.set_target(db, PERFUSIONIST, run, "blood_flow", 4.5, None)
    with unit_of_work(sessions) as db:
        current = targets.current_targets(db, 1)
        assert (current["anti_xa"].low, current["anti_xa"].high) == (0.2, 0.4)
        assert current["anti_xa"].text == "0.2–0.4 IU/mL"
        assert current["blood_flow"].contains(4.6) and not current["blood_flow"].contains(4.0)
    with pytest.raises(ValidationFailed, match="outside"), unit_of_work(sessions) as db:
        targets.set_target(db, PERFUSIONIST, db.get_one(Run, 1), "anti_xa", 0.5, 9)
    with pytest.raises(ValidationFailed, match="above upper"), unit_of_work(sessions) as db:
        targets.set_target(db, PERFUSIONIST, db.get_one(Run, 1), "anti_xa", 0.7, 0.3)


def test_after_store_hooks_run_inside_the_batch(sessions) -> None:
    seen: list[tuple[int, set[str]]] = []
    observation_service.AFTER_STORE_HOOKS.append(
        lambda db, run_id, codes: seen.append((run_id, codes))
    )
    try:
        with unit_of_work(sessions) as db:
            observation_service.record_observations(
                db, PERFUSIONIST, db.get_one(Run, 1), [obs("hb", 9.0)]
            )
    finally:
        observation_service.AFTER_STORE_HOOKS.pop()
    assert seen == [(1, {"hb"})]


def test_schema_choices_match_the_database_vocabulary() -> None:
    """The pydantic Literals and the CHECK-constraint tuples must list the same words."""
    import typing

    from continuum.core import schemas, vocab

    pairs = [
        (schemas.SupportType, vocab.SUPPORT_TYPES),
        (schemas.Mode, vocab.MODES),
        (schemas.Sex, vocab.SEXES),
        (schemas.CannulaRole, vocab.CANNULA_ROLES),
        (schemas.ComponentKind, vocab.COMPONENT_KINDS),
        (schemas.StopReason, vocab.COMPONENT_STOP_REASONS),
        (schemas.Outcome, vocab.OUTCOMES),
        (schemas.ObservationSource, vocab.OBSERVATION_SOURCES),
        (schemas.Participation, vocab.PARTICIPATION_HOW),
    ]
    for literal, words in pairs:
        assert set(typing.get_args(literal)) == set(words), words


# --- observation references: checked by triggers, not per-row foreign keys (0010) ----


@pytest.mark.parametrize(
    ("column", "value"),
    [("run_id", 999), ("entered_by", 999), ("amends_id", 999_999)],
)
def test_an_observation_referring_to_nothing_is_refused(sessions, column: str, value: int) -> None:
    row = {"run_id": 1, "code": "blood_flow", "time": RUN_START + timedelta(hours=1),
           "value": 4.2, "unit": "L/min", "source": "manual", "status": "final",
           "entered_by": None, "recorded_at": RUN_START + timedelta(hours=1),
           "amends_id": None, column: value}  # fmt: skip
    with pytest.raises(IntegrityError, match=column), unit_of_work(sessions) as db:
        db.execute(Observation.__table__.insert(), [row])
    with unit_of_work(sessions) as db:
        assert db.scalar(select(Observation.id).where(Observation.value == 4.2)) is None


def test_a_run_still_referred_to_by_observations_cannot_be_deleted(sessions) -> None:
    with unit_of_work(sessions) as db:
        observation_service.record_observations(
            db, PERFUSIONIST, db.get_one(Run, 1), [obs("blood_flow", 4.1)]
        )
    with pytest.raises(IntegrityError, match="observation"), unit_of_work(sessions) as db:
        db.execute(text("DELETE FROM run WHERE id = 1"))


def test_a_bulk_copy_with_one_bad_run_stores_nothing(pg_url: str) -> None:
    """PostgreSQL checks a whole COPY once (statement trigger) — and still refuses it."""
    from continuum.db import make_engine, make_sessionmaker

    sessions = make_sessionmaker(make_engine(pg_url))
    good = observation_service.series_rows(1, "blood_flow", [RUN_START], [4.0], "csv")
    bad = observation_service.series_rows(404, "blood_flow", [RUN_START], [4.0], "csv")
    refused = pytest.raises(IntegrityError, match="run_id 404 refers to no run")
    with refused, unit_of_work(sessions) as db:
        observation_service.bulk_insert(db, good + bad)
    with unit_of_work(sessions) as db:
        assert db.scalar(select(Observation.id).where(Observation.source == "csv")) is None
