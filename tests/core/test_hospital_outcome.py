"""Hospital outcome and ECPR times: append-only corrections, the refusals (active run, a
time before the run's end, died on ECMO, bad combinations), the audit and the timeline; and
the metrics they make (a small table of runs worked by hand → survival to discharge and the
ECPR low-flow median), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from continuum.core import ecpr_times, hospital_outcome
from continuum.core.clinical_event import ClinicalEvent
from continuum.core.ecpr_times import EcprTimesIn
from continuum.core.hospital_outcome import HospitalOutcomeIn
from continuum.core.record import AuditEntry
from continuum.core.run_record import Run
from continuum.db import unit_of_work
from continuum.errors import Conflict, Forbidden, ValidationFailed
from continuum.quality import metrics
from continuum.quality.demo_history import HistoryRun, insert_run
from tests.quality.metrics_cohort import staff

START = datetime(2025, 3, 1, tzinfo=UTC)
END = datetime(2025, 4, 1, tzinfo=UTC)
NOW = datetime(2025, 6, 1, tzinfo=UTC)


def _run(db: Any, key: str, support: str, outcome: str | None, day: int) -> Run:
    spec = HistoryRun(
        mrn=f"HO-{key}", name=f"Outcome {key}", birth=date(1975, 1, 1), sex="male",
        support_type=support, mode="VV" if support == "pulmonary" else "VA",
        started_at=START + timedelta(days=day), hours=48, outcome=outcome,
    )  # fmt: skip
    run = db.get(Run, insert_run(db, spec, staff(db)))
    assert run is not None
    return run


def _fields(exc: pytest.ExceptionInfo[ValidationFailed]) -> set[str]:
    return {p.field for p in exc.value.problems}


def test_append_only_corrections_audit_and_timeline(sessions) -> None:  # type: ignore[no-untyped-def]
    with unit_of_work(sessions) as db:
        doc = staff(db)["physician"]
        run = _run(db, "A", "pulmonary", "weaned_recovered", 1)
        assert run.ended_at is not None
        at = run.ended_at + timedelta(days=10)
        first = hospital_outcome.record(
            db, doc, run, HospitalOutcomeIn(status="died_in_hospital", at=at, note="sepsis")
        )
        with pytest.raises(Conflict, match="already has a hospital outcome"):
            hospital_outcome.record(
                db, doc, run, HospitalOutcomeIn(status="discharged_alive", at=at,
                                                destination="home"),
            )  # fmt: skip
        with pytest.raises(ValidationFailed) as missing:
            hospital_outcome.record(
                db, doc, run, HospitalOutcomeIn(status="discharged_alive", at=at,
                                                destination="home", corrects_id=first.id),
            )  # fmt: skip
        assert _fields(missing) == {"reason"}
        fixed = hospital_outcome.record(
            db, doc, run,
            HospitalOutcomeIn(status="discharged_alive", at=at, destination="home",
                              corrects_id=first.id, reason="wrong patient's letter read"),
        )  # fmt: skip
        with pytest.raises(Conflict, match="not the run's hospital outcome in force"):
            hospital_outcome.record(
                db, doc, run,
                HospitalOutcomeIn(status="died_in_hospital", at=at, corrects_id=first.id,
                                  reason="again"),
            )  # fmt: skip
        run_id, first_id, fixed_id = run.id, first.id, fixed.id
    with sessions() as db:
        rows = hospital_outcome.history(db, run_id)
        assert [r.id for r in rows] == [fixed_id, first_id]  # both kept, newest first
        assert rows[1].status == "died_in_hospital" and rows[1].note == "sepsis"
        current = hospital_outcome.in_force(db, run_id)
        assert current is not None and current.status == "discharged_alive"
        assert current.corrects_id == first_id and current.survived is True
        audits = db.scalars(
            select(AuditEntry.action).where(AuditEntry.entity == "hospital_outcome")
        ).all()
        assert sorted(audits) == ["correct", "create"]
        events = db.scalars(
            select(ClinicalEvent.summary).where(ClinicalEvent.kind == "discharge.recorded")
        ).all()
        assert "Hospital outcome: Died in hospital" in events
        fixed_line = "Hospital outcome corrected: Discharged alive (home)"
        assert any(e.startswith(fixed_line) for e in events)


def test_refusals(sessions) -> None:  # type: ignore[no-untyped-def]
    with unit_of_work(sessions) as db:
        people = staff(db)
        doc = people["physician"]
        active = _run(db, "B", "cardiac", None, 2)
        died = _run(db, "C", "cardiac", "died_on_ecmo", 3)
        ended = _run(db, "D", "pulmonary", "weaned_recovered", 4)
        assert ended.ended_at is not None
        later = ended.ended_at + timedelta(days=3)
        with pytest.raises(Conflict, match="still active"):
            hospital_outcome.record(db, doc, active, HospitalOutcomeIn(status="in_hospital"))
        with pytest.raises(Conflict, match="death on ECMO"):
            hospital_outcome.record(db, doc, died, HospitalOutcomeIn(status="died_in_hospital"))
        with pytest.raises(ValidationFailed) as before:
            hospital_outcome.record(
                db, doc, ended,
                HospitalOutcomeIn(status="died_in_hospital",
                                  at=ended.ended_at - timedelta(minutes=5)),
            )  # fmt: skip
        assert _fields(before) == {"at"}
        with pytest.raises(ValidationFailed) as where:
            hospital_outcome.record(
                db, doc, ended, HospitalOutcomeIn(status="discharged_alive", at=later)
            )
        assert _fields(where) == {"destination"}
        with pytest.raises(ValidationFailed) as dead_home:
            hospital_outcome.record(
                db,
                doc,
                ended,
                HospitalOutcomeIn(status="died_in_hospital", at=later, destination="home"),
            )
        assert _fields(dead_home) == {"destination"}
        with pytest.raises(Forbidden):
            hospital_outcome.record(
                db, people["nurse"], ended, HospitalOutcomeIn(status="in_hospital", at=later)
            )
        assert hospital_outcome.history(db, ended.id) == []
        # ECPR times
        perf = people["perfusionist"]
        ecpr = _run(db, "E", "ecpr", "weaned_recovered", 5)
        t0 = ecpr.started_at
        with pytest.raises(ValidationFailed) as order:
            ecpr_times.record(
                db, perf, ecpr,
                EcprTimesIn(cpr_started_at=t0, full_flow_at=t0 - timedelta(minutes=1)),
            )  # fmt: skip
        assert "full_flow_at" in _fields(order)
        with pytest.raises(ValidationFailed) as long:
            ecpr_times.record(
                db, perf, ecpr,
                EcprTimesIn(cpr_started_at=t0 - timedelta(hours=6), full_flow_at=t0),
            )  # fmt: skip
        assert _fields(long) == {"cpr_started_at"}
        with pytest.raises(ValidationFailed) as far:
            ecpr_times.record(
                db, perf, ecpr,
                EcprTimesIn(cpr_started_at=t0 + timedelta(hours=9),
                            full_flow_at=t0 + timedelta(hours=10)),
            )  # fmt: skip
        assert _fields(far) == {"full_flow_at"}
        with pytest.raises(ValidationFailed) as vv:
            ecpr_times.record(
                db, perf, ended,
                EcprTimesIn(cpr_started_at=ended.started_at - timedelta(minutes=30),
                            full_flow_at=ended.started_at),
            )  # fmt: skip
        assert _fields(vv) == {"support_type"}
        row = ecpr_times.record(
            db, perf, ecpr,
            EcprTimesIn(cpr_started_at=t0 - timedelta(minutes=45),
                        full_flow_at=t0 + timedelta(minutes=5)),
        )  # fmt: skip
        assert row.low_flow_min == pytest.approx(50)
        with pytest.raises(Conflict, match="already has ECPR times"):
            ecpr_times.record(
                db, perf, ecpr,
                EcprTimesIn(cpr_started_at=t0 - timedelta(minutes=40), full_flow_at=t0),
            )  # fmt: skip
        fixed = ecpr_times.record(
            db, perf, ecpr,
            EcprTimesIn(cpr_started_at=t0 - timedelta(minutes=40), full_flow_at=t0,
                        corrects_id=row.id, reason="arrest time from the ambulance record"),
        )  # fmt: skip
        current = ecpr_times.in_force(db, ecpr.id)
        assert current is not None and current.id == fixed.id
        assert current.low_flow_min == pytest.approx(40)
        assert len(ecpr_times.history(db, ecpr.id)) == 2


# The spec: (key, support, run outcome, hospital status, destination, low-flow minutes)
SPEC = [
    ("S1", "pulmonary", "weaned_recovered", "discharged_alive", "home", None),
    ("S2", "cardiac", "weaned_recovered", "died_in_hospital", None, None),
    ("S3", "cardiac", "died_on_ecmo", None, None, None),  # not surviving, no record needed
    ("S4", "pulmonary", "weaned_recovered", None, None, None),  # not recorded: left out
    ("S5", "ecpr", "bridged_to_transplant", "transferred_alive", "another_hospital", 40),
    ("S6", "ecpr", "died_on_ecmo", None, None, 60),
    ("S7", "ecpr", "weaned_recovered", "in_hospital", None, None),  # not yet known
]


def test_metrics_spec_survival_to_discharge_and_low_flow(sessions) -> None:  # type: ignore[no-untyped-def]
    with unit_of_work(sessions) as db:
        people = staff(db)
        ids: dict[str, int] = {}
        for day, (key, support, outcome, status, dest, low) in enumerate(SPEC):
            run = _run(db, key, support, outcome, day + 1)
            ids[key] = run.id
            assert run.ended_at is not None
            if status:
                hospital_outcome.record(
                    db, people["physician"], run,
                    HospitalOutcomeIn(status=status, at=run.ended_at + timedelta(days=5),
                                      destination=dest),
                )  # fmt: skip
            if low:
                flow = run.started_at + timedelta(minutes=10)
                ecpr_times.record(
                    db, people["perfusionist"], run,
                    EcprTimesIn(cpr_started_at=flow - timedelta(minutes=low), full_flow_at=flow),
                )  # fmt: skip
    with sessions() as db:
        m = metrics.compute(db, staff(db)["qa_lead"], metrics.MetricsFilter(START, END), now=NOW)
    d = m.figure("survival_discharge")
    # Known: S1 alive, S2 died, S3 died on ECMO, S5 alive, S6 died on ECMO → 2 of 5.
    assert (d.n, d.value) == (5, pytest.approx(40.0))
    assert d.low == pytest.approx(11.76, abs=0.05) and d.high == pytest.approx(76.93, abs=0.05)
    assert "1 ended run without a hospital outcome yet" in d.note
    assert "1 still in hospital" in d.note
    low = m.figure("ecpr_low_flow")
    assert (low.n, low.value, low.recorded) == (2, pytest.approx(50.0), True)
    assert "3 ECPR runs in the cohort" in low.note and "1 without both times" in low.note
    drill = {r.run_id: v for r, v in metrics.drill_down(m, "ecpr_low_flow")}
    assert drill == {ids["S5"]: "40.0 min", ids["S6"]: "60.0 min", ids["S7"]: "not recorded"}
    survival = {r.run_id: v for r, v in metrics.drill_down(m, "survival_discharge")}
    assert survival[ids["S1"]] == "alive · Discharged alive (home)"
    assert survival[ids["S3"]] == "died · died on ECMO"
    assert survival[ids["S4"]] == "not recorded"
    assert survival[ids["S7"]] == "not yet known · Still in hospital"


RESP = {
    "age_years": 44, "mechanical_ventilation_hours": 40, "diagnosis": "viral_pneumonia",
    "paco2_mmhg": 55, "peak_inspiratory_pressure_cmh2o": 30, "neuromuscular_blockade": True,
}  # fmt: skip


def test_control_charts_use_the_hospital_outcome_when_recorded(sessions) -> None:  # type: ignore[no-untyped-def]
    from continuum.quality import control_chart_service

    with unit_of_work(sessions) as db:
        people = staff(db)
        runs = []
        for key in ("K1", "K2"):
            spec = HistoryRun(
                mrn=f"HO-{key}", name=f"Chart {key}", birth=date(1980, 5, 1), sex="male",
                support_type="pulmonary", mode="VV", started_at=START, hours=60,
                outcome="weaned_recovered", scores={"resp": RESP},
                referral_min=120, decision_min=30,
            )  # fmt: skip
            runs.append(db.get(Run, insert_run(db, spec, people)))
        dead = runs[0]
        assert dead is not None and dead.ended_at is not None
        hospital_outcome.record(
            db, people["physician"], dead,
            HospitalOutcomeIn(status="died_in_hospital", at=dead.ended_at + timedelta(days=3)),
        )  # fmt: skip
        ids = [r.id for r in runs if r is not None]
    with sessions() as db:
        charted, _ = control_chart_service.series(db)
    by_id = {c.run_id: c for c in charted}
    assert set(ids) <= set(by_id), "both runs have a RESP score and a known outcome"
    assert by_id[ids[0]].died is True and by_id[ids[0]].hospital == "died_in_hospital"
    assert by_id[ids[1]].died is False and by_id[ids[1]].hospital is None


def test_still_in_hospital_is_followed_by_the_outcome(sessions) -> None:  # type: ignore[no-untyped-def]
    with unit_of_work(sessions) as db:
        doc = staff(db)["physician"]
        run = _run(db, "F", "pulmonary", "weaned_recovered", 6)
        assert run.ended_at is not None
        asof = run.ended_at + timedelta(days=7)
        first = hospital_outcome.record(
            db, doc, run, HospitalOutcomeIn(status="in_hospital", at=asof)
        )
        with pytest.raises(ValidationFailed) as early:
            hospital_outcome.record(
                db, doc, run,
                HospitalOutcomeIn(status="died_in_hospital", at=asof - timedelta(days=1)),
            )  # fmt: skip
        assert _fields(early) == {"at"}
        then = hospital_outcome.record(
            db, doc, run,
            HospitalOutcomeIn(status="discharged_alive", at=asof + timedelta(days=9),
                              destination="rehabilitation"),
        )  # fmt: skip
        assert then.corrects_id is None and then.reason is None
        current = hospital_outcome.in_force(db, run.id)
        assert current is not None and current.id == then.id and current.survived is True
        assert [r.id for r in hospital_outcome.history(db, run.id)] == [then.id, first.id]
        with pytest.raises(Conflict, match="already has a hospital outcome"):
            hospital_outcome.record(db, doc, run, HospitalOutcomeIn(status="in_hospital", at=asof))
