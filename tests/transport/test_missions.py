"""Transport missions (service, SQLite and PostgreSQL): a secondary transfer from a referral
linked to its run (the run is flagged as arrived on ECMO), milestones and intervals,
corrections as new rows, the checklist's computed items, events and handover on the clinical
timeline; refusals name the field and change nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from continuum.core import transfers
from continuum.core.clinical_event import ClinicalEvent
from continuum.core.record import AuditEntry
from continuum.core.roles import Actor
from continuum.db import unit_of_work
from continuum.errors import Forbidden, ValidationFailed
from continuum.transport import service
from continuum.transport.models import TransportChecklist, TransportMilestone, TransportMission
from continuum.transport.schemas import (
    ChecklistIn,
    EventIn,
    HandoverIn,
    MilestoneIn,
    MissionAmend,
    MissionIn,
)

COORD = Actor(staff_id=4, name="Test coordinator", role="coordinator")
PERF = Actor(staff_id=1, name="Test perfusionist", role="perfusionist")
RESEARCHER = Actor(staff_id=8, name="Test researcher", role="researcher")
NOW = datetime.now(UTC).replace(microsecond=0)
CALL = NOW - timedelta(hours=5)
PASS = {
    k: True
    for k in (
        "hand_crank",
        "clamps",
        "cannula_securement",
        "blood_products",
        "power_compatibility",
        "transport_ventilator",
    )
}


def _checklist(**over: object) -> ChecklistIn:
    data: dict[str, object] = {
        "cylinder_volume_l": 10,
        "cylinder_pressure_bar": 200,
        "cylinders": 1,
        "sweep_l_min": 4,
        "ventilator_l_min": 6,
        "console_battery_min": 200,
        "pump_battery_min": 200,
        "expected_min": 90,
        "ticked": PASS,
    }
    data.update(over)
    return ChecklistIn.model_validate(data)


def _secondary(db: Session) -> int:
    m = service.create(
        db,
        COORD,
        MissionIn(
            mission_type="secondary", vehicle="rotor", referral_id=1, expected_min=45, call_at=CALL
        ),
        now=NOW,
    )
    return m.number


def _count(db: Session, model: type) -> int:
    return int(db.scalar(select(func.count()).select_from(model)) or 0)


def test_a_secondary_transfer_from_a_referral_to_its_run(sessions: sessionmaker[Session]) -> None:
    with unit_of_work(sessions) as db:
        number = _secondary(db)
        m = service.get(db, COORD, number)
        assert (m.patient_id, m.referring_hospital) == (2, "District General")  # the referral's
        times = {
            "activation": CALL + timedelta(minutes=10),
            "team_departure": CALL + timedelta(minutes=40),
            "arrival_referring": CALL + timedelta(hours=1, minutes=30),
            "departure_patient": CALL + timedelta(hours=3),
            "arrival_base": CALL + timedelta(hours=3, minutes=50),
        }
        for key, at in times.items():
            service.record_milestone(db, COORD, number, MilestoneIn(milestone=key, at=at), NOW)  # type: ignore[arg-type]
        service.sign_checklist(db, PERF, number, _checklist(), NOW)
        service.add_event(
            db,
            PERF,
            number,
            EventIn(
                at=CALL + timedelta(hours=3, minutes=5),
                kind="flow_drop",
                text="flow 2.8 L/min on loading",
            ),
            NOW,
        )
        service.record_handover(
            db,
            PERF,
            number,
            HandoverIn(
                at=CALL + timedelta(hours=4),
                to_name="Dr Ruiz",
                to_discipline="intensive_care",
                summary="VV, flow 4.2 L/min",
            ),
            NOW,
        )
    with unit_of_work(sessions) as db:
        # patient 2 has no run in the seed: start one, then link the mission to it
        from continuum.core import run_service
        from continuum.core.schemas import RunCreate

        r = run_service.start_run(
            db,
            PERF,
            RunCreate(
                patient_id=2,
                support_type="pulmonary",
                mode="VV",
                started_at=CALL + timedelta(hours=3, minutes=50),
            ),
        )
        db.flush()
        service.amend(db, COORD, number, MissionAmend(run_id=r.id), NOW)
        run_id = r.id
    with unit_of_work(sessions) as db:
        v = service.view(db, COORD, number)
        shown = {i["key"]: (i["minutes"], i["shown"]) for i in v.intervals}
        assert shown["activation"] == (10.0, "10 min")
        assert shown["bedside"] == (90.0, "1 h 30 min")
        assert shown["transit"] == (50.0, "50 min")
        assert shown["total"] == (240.0, "4 h 00 min")
        assert "to_cannulation" not in shown  # a secondary mission has no cannulation
        assert v.version == 2 and v.mission.run_id == run_id
        assert v.checklist is not None and v.checklist.all_passed
        assert v.checklist.inputs["oxygen_min"] == 200.0  # 10 L × 200 bar / (4 + 6) L/min
        assert v.checklist.inputs["needed_min"] == 180.0  # 90 min × 2
        # ELSO transfer workflow: the run arrived on ECMO from the referring centre
        arrived = transfers.arrived_on_ecmo(db, [run_id, 1])
        assert set(arrived) == {run_id}
        assert arrived[run_id].centre == "District General"
        assert arrived[run_id].href == f"/transport/{number}"
        kinds = {
            e.kind
            for e in db.scalars(
                select(ClinicalEvent).where(ClinicalEvent.record_type == "transport_mission")
            )
        }
        assert kinds == {
            "transport.mission_started",
            "transport.milestone",
            "transport.checklist_signed",
            "transport.event",
            "transport.handover",
        }
        assert v.handover is not None and "handover" in v.times


def test_milestones_out_of_order_are_refused_naming_both(sessions: sessionmaker[Session]) -> None:
    with unit_of_work(sessions) as db:
        number = _secondary(db)
        service.record_milestone(
            db,
            COORD,
            number,
            MilestoneIn(milestone="team_departure", at=CALL + timedelta(hours=1)),
            NOW,
        )
    with unit_of_work(sessions) as db:
        before = _count(db, TransportMilestone)
        with pytest.raises(ValidationFailed) as err:
            service.record_milestone(
                db,
                COORD,
                number,
                MilestoneIn(milestone="arrival_referring", at=CALL + timedelta(minutes=30)),
                NOW,
            )
        problem = err.value.problems[0]
        assert problem.field == "at"
        assert "Arrived at referring hospital" in problem.message
        assert "Team departed base" in problem.message
        assert (CALL + timedelta(minutes=30)).isoformat(timespec="minutes") in problem.message
        assert (CALL + timedelta(hours=1)).isoformat(timespec="minutes") in problem.message
        # a secondary transfer has no cannulation
        with pytest.raises(ValidationFailed) as err:
            service.record_milestone(
                db, COORD, number, MilestoneIn(milestone="cannulation", at=CALL), NOW
            )
        assert err.value.problems[0].field == "milestone"
        assert _count(db, TransportMilestone) == before


def test_a_correction_is_a_new_row_with_a_reason(sessions: sessionmaker[Session]) -> None:
    with unit_of_work(sessions) as db:
        number = _secondary(db)
        with pytest.raises(ValidationFailed) as err:
            service.record_milestone(
                db,
                COORD,
                number,
                MilestoneIn(milestone="call", at=CALL + timedelta(minutes=2)),
                NOW,
            )
        assert err.value.problems[0].field == "reason"
        service.record_milestone(
            db,
            COORD,
            number,
            MilestoneIn(milestone="call", at=CALL + timedelta(minutes=2), reason="phone log"),
            NOW,
        )
    with unit_of_work(sessions) as db:
        rows = service.milestone_rows(db, number)
        assert [r.at for r in rows] == [CALL, CALL + timedelta(minutes=2)]  # both kept
        assert rows[1].corrects_id == rows[0].id and rows[1].reason == "phone log"
        assert service.milestones(db, number)["call"].id == rows[1].id


def test_a_failed_item_needs_its_reason(sessions: sessionmaker[Session]) -> None:
    with unit_of_work(sessions) as db:
        number = _secondary(db)
    with unit_of_work(sessions) as db:
        # oxygen: 10 L × 100 bar / 10 L/min = 100 min < 90 × 2; clamps ticked as failed
        bad = _checklist(cylinder_pressure_bar=100, ticked=PASS | {"clamps": False})
        with pytest.raises(ValidationFailed) as err:
            service.sign_checklist(db, PERF, number, bad, NOW)
        fields = {p.field: p.message for p in err.value.problems}
        assert set(fields) == {"reason_oxygen", "reason_clamps"}
        assert "Tubing clamps" in fields["reason_clamps"]
        assert _count(db, TransportChecklist) == 0
        row = service.sign_checklist(
            db,
            PERF,
            number,
            _checklist(
                cylinder_pressure_bar=100,
                ticked=PASS | {"clamps": False},
                reasons={
                    "oxygen": "third cylinder in the vehicle",
                    "clamps": "clamps borrowed from the referring theatre",
                },
            ),
            NOW,
        )
        assert not row.all_passed
        assert row.items["oxygen"]["passed"] is False
        assert "100 min" in row.items["oxygen"]["detail"]


def test_bad_input_is_refused(sessions: sessionmaker[Session]) -> None:
    with pytest.raises(ValidationError):  # unknown vehicle: the schema names the choices
        MissionIn.model_validate({"mission_type": "primary", "vehicle": "boat", "referral_id": 1})
    with pytest.raises(ValidationError):  # negative cylinder pressure
        _checklist(cylinder_pressure_bar=-5)
    with unit_of_work(sessions) as db:
        before = _count(db, TransportMission)
        with pytest.raises(ValidationFailed) as err:
            service.create(
                db, COORD, MissionIn(mission_type="primary", vehicle="road", referral_id=999)
            )
        assert err.value.problems[0].field == "referral_id"
        with pytest.raises(ValidationFailed) as err:
            service.create(
                db,
                COORD,
                MissionIn(mission_type="primary", vehicle="road", referral_id=1, run_id=1),
            )
        assert err.value.problems[0].field == "run_id"  # run 1 is patient 1's, not patient 2's
        with pytest.raises(Forbidden):
            service.create(
                db, RESEARCHER, MissionIn(mission_type="primary", vehicle="road", referral_id=1)
            )
        assert _count(db, TransportMission) == before


def test_the_researcher_reads_no_hospital_or_typed_words(sessions: sessionmaker[Session]) -> None:
    with unit_of_work(sessions) as db:
        number = _secondary(db)
        service.add_event(db, PERF, number, EventIn(at=CALL, kind="other", text="Dr X called"))
    with unit_of_work(sessions) as db:
        data = service.as_json(RESEARCHER, service.view(db, RESEARCHER, number))
        assert data["referring_hospital"] is None
        assert data["events"][0]["text"] is None
        audits = db.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.entity.like("transport%"))
        )
        assert audits and audits >= 3  # the mission, its call milestone, the event


def test_the_mission_notes_whose_transport_competency_was_current(
    sessions: sessionmaker[Session],
) -> None:
    """Seeded mission 2 (called 4 h ago): the perfusionist's transport competency, achieved
    30 days ago, is current; the nurse's expired last year; both show on the team."""
    from datetime import date

    from continuum.core import competencies

    lead = Actor(staff_id=9, name="Test physician_lead", role="physician_lead")
    nurse_id = 3
    with unit_of_work(sessions) as db:
        today = date.today()
        competencies.record(db, lead, PERF.staff_id or 0, competencies.CompetencyIn(
            competency="transport", achieved_on=today - timedelta(days=30)))  # fmt: skip
        competencies.record(db, lead, nurse_id, competencies.CompetencyIn(
            competency="transport", achieved_on=today - timedelta(days=800)))  # fmt: skip
        for staff_id in (PERF.staff_id or 0, nurse_id):
            service.add_team_member(db, COORD, 2, staff_id)
    with unit_of_work(sessions) as db:
        v = service.view(db, COORD, 2)
        assert v.current == frozenset({PERF.staff_id})
        team = {t["staff_id"]: t for t in service.as_json(COORD, v)["team"]}
        assert team[PERF.staff_id]["transport_competency_current"] is True
        assert team[nurse_id]["transport_competency_current"] is False
