"""Ambulation sessions (service): recording with staff by discipline, events and the
timeline entry; corrections as new versions; bad input refused naming field, value and
range with nothing written; circuit values from the stored observations with "not
recorded" where absent; the highest level in the registry record. SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from continuum.ambulation import hooks, service
from continuum.ambulation import settings as amb_settings
from continuum.ambulation.models import SAFETY_ITEMS, AmbulationSession, in_force
from continuum.ambulation.schemas import AmendIn, EventIn, SessionIn
from continuum.core import observation_service, settings_service
from continuum.core.clinical_event import ClinicalEvent
from continuum.core.record import Participation
from continuum.core.roles import Actor
from continuum.core.run_record import Run
from continuum.core.schemas import ObservationIn
from continuum.db import unit_of_work
from continuum.errors import Forbidden, ValidationFailed
from continuum.research import registry_build, registry_export
from continuum.research.registry_settings import in_force as registry_windows
from tests.seed import RUN_START

NURSE = Actor(staff_id=3, name="Test nurse", role="nurse", discipline="nursing")
RESEARCHER = Actor(staff_id=6, name="Test researcher", role="researcher")
LEAD = Actor(staff_id=9, name="Test physician_lead", role="physician_lead")
T0 = RUN_START + timedelta(hours=30)
PASS = dict.fromkeys(SAFETY_ITEMS, "pass")


def _data(**changes: object) -> SessionIn:
    base: dict[str, object] = {
        "started_at": T0,
        "ended_at": T0 + timedelta(minutes=40),
        "ims_level": 4,
        "safety": PASS,
        "staff_ids": [1, 3],
    }
    return SessionIn.model_validate({**base, **changes})


def _count(db: Session) -> int:
    return int(db.scalar(select(func.count()).select_from(AmbulationSession)) or 0)


def test_record_a_session_with_staff_events_and_timeline(sessions: sessionmaker[Session]) -> None:
    with unit_of_work(sessions) as db:
        row = service.record(
            db, NURSE, 1,
            _data(events=[EventIn(kind="desaturation", at=T0 + timedelta(minutes=12),
                                  note="SpO2 85 % standing")]),
        )  # fmt: skip
        number = row.number
    with unit_of_work(sessions) as db:
        row = service.get(db, NURSE, number)
        assert (row.ims_level, row.ims_label) == (4, "Standing")
        assert row.events[0]["kind"] == "desaturation"
        present = {(s.name, g) for s, g in service.staff_present(db, number)}
        assert present == {("Test perfusionist", "Perfusion"), ("Test nurse", "Nursing")}
        parts = db.scalars(
            select(Participation).where(Participation.record_type == "ambulation_session")
        ).all()
        assert {p.record_id for p in parts} == {number} and {p.how for p in parts} == {"present"}
        event = db.scalars(
            select(ClinicalEvent).where(ClinicalEvent.kind == "ambulation.session_recorded")
        ).one()
        assert event.record_id == row.id and event.clinical_time == T0
        assert "ICU Mobility Scale 4 (standing)" in event.summary
        assert "desaturation" in event.summary


def test_a_correction_is_a_new_version_and_the_old_one_stays(
    sessions: sessionmaker[Session],
) -> None:
    with unit_of_work(sessions) as db:
        number = service.record(db, NURSE, 1, _data()).number
    with unit_of_work(sessions) as db:
        fixed = AmendIn.model_validate(
            {**_data(ims_level=5, staff_ids=[1, 3, 2]).model_dump(), "reason": "level was 5"}
        )
        service.amend(db, NURSE, number, fixed)
    with unit_of_work(sessions) as db:
        rows = service.versions(db, number)
        assert [r.ims_level for r in rows] == [4, 5]
        assert rows[1].follows_id == rows[0].id and rows[1].amend_reason == "level was 5"
        assert [r.ims_level for r in in_force(db, [1])] == [3, 5]  # seeded session 1 + this
        assert len(service.staff_present(db, number)) == 3  # the physician added, no doubles
        kinds = db.scalars(select(ClinicalEvent.kind).where(ClinicalEvent.run_id == 1)).all()
        assert "ambulation.session_amended" in kinds


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"ims_level": 11}, "ims_level", "ICU Mobility Scale level 11 is outside 0–10"),
        ({"ims_level": -1}, "ims_level", "outside 0–10"),
        ({"ended_at": T0 - timedelta(minutes=5)}, "ended_at", "end must be after the start"),
        ({"safety": {**PASS, "clamps_at_hand": "fail"}}, "safety_reason", "Clamps at hand"),
        ({"safety": {**PASS, "tubing_slack": ""}}, "safety_tubing_slack", "pass or fail"),
        ({"stopped_early": True}, "stop_reason", "stopped early"),
        ({"staff_ids": [999]}, "staff_ids", "no active staff member 999"),
        ({"started_at": RUN_START - timedelta(hours=1)}, "started_at", "before run 1 started"),
        (
            {"events": [{"kind": "fall", "at": (T0 + timedelta(hours=2)).isoformat()}]},
            "event_at_1",
            "outside the session",
        ),
        (
            {"events": [{"kind": "sneeze", "at": (T0 + timedelta(minutes=1)).isoformat()}]},
            "event_kind_1",
            "not one of",
        ),
    ],
)
def test_bad_input_is_refused_naming_the_field_and_nothing_is_written(
    sessions: sessionmaker[Session], changes: dict[str, object], field: str, words: str
) -> None:
    with unit_of_work(sessions) as db:
        before = _count(db)
        with pytest.raises(ValidationFailed) as err:
            service.record(db, NURSE, 1, _data(**changes))
        problems = {p.field: p for p in err.value.problems}
        assert field in problems, err.value.message
        assert words in problems[field].message
        if field == "ims_level":
            assert problems[field].value == changes["ims_level"]
    with unit_of_work(sessions) as db:
        assert _count(db) == before


def test_a_failed_item_with_a_reason_is_accepted(sessions: sessionmaker[Session]) -> None:
    with unit_of_work(sessions) as db:
        row = service.record(
            db, NURSE, 1,
            _data(safety={**PASS, "tubing_slack": "fail"}, safety_reason="standing only"),
        )  # fmt: skip
        assert row.failed_items == ["tubing_slack"]


def test_a_researcher_may_not_record(sessions: sessionmaker[Session]) -> None:
    with unit_of_work(sessions) as db, pytest.raises(Forbidden):
        service.record(db, RESEARCHER, 1, _data())


def test_circuit_values_come_from_the_stored_observations_in_the_windows(
    sessions: sessionmaker[Session],
) -> None:
    end = T0 + timedelta(minutes=40)
    points = [
        ("blood_flow", -20, 4.2), ("blood_flow", -50, 4.4),  # -50: outside the 30-min window
        ("blood_flow", 10, 3.1), ("blood_flow", 25, 3.9), ("blood_flow", 55, 4.1),
        ("spo2", 15, 86), ("spo2", 20, 91),
    ]  # fmt: skip
    with unit_of_work(sessions) as db:
        run = db.get_one(Run, 1)
        observation_service.record_observations(
            db, NURSE, run,
            [ObservationIn(code=c, value=v, time=T0 + timedelta(minutes=m)) for c, m, v in points],
        )  # fmt: skip
        row = service.record(db, NURSE, 1, _data())
        values = {v["code"]: v for v in service.circuit_values(db, row, amb_settings.in_force(db))}
        flow = values["blood_flow"]
        assert flow["before"]["value"] == 4.2
        assert (flow["during"]["low"], flow["during"]["high"], flow["during"]["count"]) == (
            3.1, 3.9, 2,
        )  # fmt: skip
        assert flow["after"]["value"] == 4.1 and flow["after"]["time"] == end + timedelta(
            minutes=15
        )
        assert values["spo2"]["during"]["low"] == 86 and values["spo2"]["before"] is None
        assert values["pump_speed"] == {**values["pump_speed"], "before": None, "during": None,
                                        "after": None}  # fmt: skip
        # a wider window (programme setting) reaches the value 50 min before
        settings_service.save(db, LEAD, "ambulation", {"before_window_min": 60}, "wider")
        values = {v["code"]: v for v in service.circuit_values(db, row, amb_settings.in_force(db))}
        assert values["blood_flow"]["before"]["value"] == 4.2  # the newest still wins
        settings_service.save(db, LEAD, "ambulation", {"before_window_min": 5}, "narrow")
        values = {v["code"]: v for v in service.circuit_values(db, row, amb_settings.in_force(db))}
        assert values["blood_flow"]["before"] is None


def test_the_highest_level_per_run_is_in_the_registry_record(
    sessions: sessionmaker[Session],
) -> None:
    hooks.install_hooks()
    with unit_of_work(sessions) as db:
        service.record(db, NURSE, 1, _data(ims_level=7))
        service.record(db, NURSE, 1, _data(ims_level=5, started_at=T0 + timedelta(hours=2),
                                           ended_at=T0 + timedelta(hours=3)))  # fmt: skip
    with unit_of_work(sessions) as db:
        run = db.get_one(Run, 1)
        rec = registry_build.build(db, run, registry_windows(db), "P1")
        field = rec.by_key()["run.highest_ims"]
        assert (field.value, field.status, field.required) == (7, "filled", False)
        assert field.source and field.source.startswith("ambulation session")
        assert "Hodgson" in (field.note or "")
        header, rows = registry_export.table_rows(rec, "run")  # run.csv of the bundle
        assert "highest_ims" in header and rows[0]["highest_ims"] == "7"
        other = db.get_one(Run, run.id)
        assert other is not None
    with unit_of_work(sessions) as db:
        from continuum.core import run_service
        from continuum.core.schemas import RunCreate

        fresh = run_service.start_run(
            db, LEAD, RunCreate(patient_id=2, support_type="pulmonary", mode="VV",
                                started_at=RUN_START)
        )  # fmt: skip
        db.flush()
        rec = registry_build.build(db, fresh, registry_windows(db), "P2")
        field = rec.by_key()["run.highest_ims"]
        assert field.status == "missing" and "no ambulation session" in (field.note or "")


def test_the_session_notes_whose_ambulation_competency_was_current(
    sessions: sessionmaker[Session],
) -> None:
    """The perfusionist's ambulation competency was achieved before the session (current);
    the nurse's expired long before it: on the session's day only the perfusionist was."""
    from continuum.core import competencies

    with unit_of_work(sessions) as db:
        competencies.record(db, LEAD, 1, competencies.CompetencyIn(
            competency="ambulation", achieved_on=(T0 - timedelta(days=10)).date()))  # fmt: skip
        competencies.record(db, LEAD, 3, competencies.CompetencyIn(
            competency="ambulation", achieved_on=(T0 - timedelta(days=800)).date()))  # fmt: skip
        number = service.record(db, NURSE, 1, _data()).number
    with unit_of_work(sessions) as db:
        row = service.get(db, NURSE, number)
        assert service.competency_current(db, row) == frozenset({1})
        staff = {
            s["staff_id"]: s for s in service.as_dict(db, row, amb_settings.in_force(db))["staff"]
        }
        assert staff[1]["ambulation_competency_current"] is True
        assert staff[3]["ambulation_competency_current"] is False
