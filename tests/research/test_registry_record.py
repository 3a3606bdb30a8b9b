"""The ELSO-shaped run record on SQLite and PostgreSQL: a small constructed run gives the
expected values with their sources (observation, record, rule), missing fields with where to
record them, completeness, the reviewer's amendments (append-only), and the refusals
(ready for submission while fields are missing, unknown field, wrong type)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from continuum.core import observation_service, run_service
from continuum.core.people import Patient, PatientIdentity
from continuum.core.record import AuditEntry
from continuum.core.roles import Actor
from continuum.core.run_record import Run
from continuum.core.schemas import (
    CannulaCreate,
    ComponentCreate,
    ObservationIn,
    RunCreate,
    RunEnd,
)
from continuum.db import unit_of_work
from continuum.errors import Conflict, Forbidden, ValidationFailed
from continuum.initiation.models import InitiationDecision, Referral
from continuum.quality.adverse_event_record import AdverseEvent
from continuum.research import registry_export, registry_service
from continuum.research.registry_record import RegistryAmendment
from continuum.research.registry_service import Review

START = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
H = timedelta(hours=1)
UTCZ = ZoneInfo("UTC")
PHYSICIAN = Actor(staff_id=2, name="Test physician", role="physician")
REVIEWER = Actor(staff_id=1, name="Test perfusionist", role="perfusionist")
RESEARCHER = Actor(staff_id=6, name="Test researcher", role="researcher")
NURSE = Actor(staff_id=3, name="Test nurse", role="nurse")


def build_run(db: Session) -> int:
    """Patient born 1980-06-15, 72 kg; VV for respiratory failure from 1 March 08:00 UTC to
    3 March 08:00; EOLIA/Murray inputs decided 2 h before; a membrane lung replaced for
    oxygenator failure; charted values at 4 h and around 24 h; two adverse events (one with
    an ELSO code, one without)."""
    patient = Patient(sex="male", height_cm=180, weight_kg=72)
    db.add(patient)
    db.flush()
    db.add(PatientIdentity(patient_id=patient.id, mrn="SPEC001", name="Spec Person",
                           birth_date=date(1980, 6, 15)))  # fmt: skip
    run = run_service.start_run(
        db, PHYSICIAN,
        RunCreate(patient_id=patient.id, support_type="pulmonary", mode="VV", started_at=START,
                  diagnosis="Influenza A pneumonia", location="ICU 1"),
    )  # fmt: skip
    db.flush()
    run_service.add_cannula(db, PHYSICIAN, run, CannulaCreate(
        role="drainage", site="Femoral vein", side="right", french=25, length_cm=55,
        inserted_at=START))  # fmt: skip
    run_service.add_cannula(db, PHYSICIAN, run, CannulaCreate(
        role="return", site="left ear", french=21, inserted_at=START + 5 * H))  # fmt: skip
    first = run_service.add_component(db, PHYSICIAN, run, ComponentCreate(
        kind="membrane_lung", make="Getinge", model="HLS 7.0", started_at=START))  # fmt: skip
    db.flush()
    second = run_service.add_component(db, PHYSICIAN, run, ComponentCreate(
        kind="membrane_lung", make="Getinge", model="HLS 7.0", started_at=START + 30 * H,
        replaces_id=first.id, stop_reason="oxygenator_failure"))  # fmt: skip
    values = [
        ("blood_flow", START + 4 * H + timedelta(minutes=20), 4.4),
        ("blood_flow", START + 3 * H, 3.9),  # further from 4 h
        ("blood_flow", START + 23 * H, 4.6),
        ("ph", START + 22 * H, 7.36),
        ("ph", START + 25 * H, 7.41),  # closer to 24 h: chosen
        ("paco2", START + 26 * H, 44.0),
        ("pao2", START + 29 * H, 90.0),  # 5 h away: outside the ±4 h tolerance
        ("vent_fio2", START + 24 * H, 0.4),
        ("peep", START + 24 * H, 10.0),
        ("map_nibp", START + 24 * H, 71.0),  # no arterial-line MAP: the cuff stands in
    ]
    observation_service.record_observations(db, PHYSICIAN, run, [
        ObservationIn(code=c, value=v, time=t, source="manual") for c, t, v in values
    ])  # fmt: skip
    referral = Referral(patient_id=patient.id, referring_hospital="X", referring_clinician="Y",
                        referred_at=START - 5 * H, support_type="pulmonary",
                        clinical_picture="ARDS", status="accepted")  # fmt: skip
    db.add(referral)
    db.flush()
    db.add(InitiationDecision(
        referral_id=referral.id, sequence=1, checklist={}, physiology={}, plan={},
        score_inputs={
            "murray": {"pao2_mmhg": 58, "fio2": 1.0, "peep_cmh2o": 16},
            "resp": {"paco2_mmhg": 68, "peak_inspiratory_pressure_cmh2o": 34,
                     "cardiac_arrest": False, "nitric_oxide": True,
                     "diagnosis": "viral_pneumonia"},
        },
        trial_inputs={"eolia": {"ph": 7.21, "paco2_mmhg": 70}},
        outcome="accept", decided_at=START - 2 * H, run_id=run.id,
    ))  # fmt: skip
    for code, at in (("mech_ml_failure", START + 29 * H), ("haem_major_other", START + 40 * H)):
        db.add(AdverseEvent(
            run_id=run.id, patient_id=patient.id, code=code, category="mechanical",
            event_class="incident", harm="mild", occurred_at=at, time_estimated=False,
            detected_by="bedside", description="spec", version=1))  # fmt: skip
    db.flush()
    run_service.end_run(db, PHYSICIAN, run, RunEnd(
        ended_at=START + 48 * H, outcome="weaned_recovered", stop_reason="recovered"))  # fmt: skip
    assert second.replaces_id == first.id
    return run.id


@pytest.fixture
def spec_run(sessions: sessionmaker[Session]) -> int:
    with unit_of_work(sessions) as db:
        return build_run(db)


def fields_of(sessions: sessionmaker[Session], run_id: int, actor: Actor = REVIEWER):  # type: ignore[no-untyped-def]
    with sessions() as db:
        return registry_service.record_for(db, actor, run_id)


def test_a_constructed_run_gives_the_expected_values_and_sources(
    sessions: sessionmaker[Session], spec_run: int
) -> None:
    rec = fields_of(sessions, spec_run)
    f = rec.by_key()
    assert (f["run.support_type"].value, f["run.support_type"].source_kind) == (
        "Pulmonary",
        "record",
    )
    assert f["run.mode_initial"].value == "VV"
    assert f["run.time_on"].value == START and f["run.time_off"].value == START + 48 * H
    assert (f["run.hours_on_ecls"].value, f["run.hours_on_ecls"].source_kind) == (48.0, "rule")
    assert f["run.age_years"].value == 45  # born 15 June 1980, on ECLS 1 March 2026
    assert f["run.sex"].value == "Male" and f["run.weight_kg"].value == 72
    # pump flow at 4 h: the value closest to 4 h (4 h 20 min), its observation named
    flow = f["run.pump_flow_4h"]
    assert flow.value == 4.4 and flow.source_kind == "observation"
    assert flow.source_time == START + 4 * H + timedelta(minutes=20)
    assert flow.source is not None and f"observation {flow.source_id}" in flow.source
    # 24 h snapshot: closest within ±4 h; the cuff MAP stands in; PaO2 5 h away is missing
    assert f["run.ph_24h"].value == 7.41
    assert f["run.paco2_24h"].value == 44.0
    assert f["run.map_24h"].value == 71.0 and "map_nibp" in (f["run.map_24h"].source or "")
    assert f["run.pao2_24h"].status == "missing" and "±4 h" in (f["run.pao2_24h"].note or "")
    assert f["run.pump_flow_24h"].value == 4.6
    # pre-ECLS from the initiation decision 2 h before time on (window 6 h)
    assert f["run.ph_pre"].value == 7.21 and "eolia trial input ph" in (
        f["run.ph_pre"].source or ""
    )
    assert f["run.paco2_pre"].value == 68  # RESP is read before the EOLIA trial
    assert f["run.pao2_pre"].value == 58 and f["run.peep_pre"].value == 16
    assert f["run.pre_ecls_arrest"].value == "No"
    assert f["pre_support.inhaled_nitric_oxide"].value == "Yes"
    assert f["diagnoses.diagnosis_group"].value == "viral_pneumonia"
    # cannulas: coded site and purpose; a site with no code is reported, not guessed
    cannulas = rec.table("cannulas")
    sites = [x for x in cannulas if x.name == "site"]
    assert sites[0].value == "4308414 Femoral vein" and sites[0].status == "filled"
    assert sites[1].status == "no_code" and sites[1].our_value == "left ear"
    added = [x.value for x in cannulas if x.name == "added_replaced"]
    assert added == ["Initial", "Added"]
    # membrane lungs: the second replaced the first for oxygenator failure (ELSO 101)
    lungs = rec.table("membrane_lungs")
    assert [x.value for x in lungs if x.name == "added_replaced"] == ["Initial", "Replaced"]
    reason = next(x for x in lungs if x.name == "replace_reason")
    assert reason.value == "101 Oxygenator failure" and reason.source_kind == "record"
    # complications: ELSO code from the taxonomy; the unmapped one reported
    codes = [x for x in rec.table("complications") if x.name == "elso_code"]
    assert [c.value for c in codes] == ["101", None]
    assert codes[1].status == "no_code" and rec.complications_unmapped == ["haem_major_other"]
    # outcome by rule; discharge has no table: missing, named in the work list
    assert f["outcome.discontinuation"].value == "Expected recovery"
    assert f["outcome.died_on_ecls"].value == "No"
    assert f["discharge.discharged_alive"].status == "missing"
    work = {x.key for x in rec.work_list}
    assert work == {
        "run.pao2_24h", "diagnoses.primary_icd10", "discharge.discharged_alive",
        f"complications.{codes[1].row}.elso_code", f"cannulas.{sites[1].row}.site",
    }  # fmt: skip


def test_completeness_counts_required_fields(
    sessions: sessionmaker[Session], spec_run: int
) -> None:
    rec = fields_of(sessions, spec_run)
    required = rec.required
    filled = sum(f.filled for f in required)
    assert len(required) - filled == len(rec.work_list) == 5
    assert rec.completeness_pct == round(100 * filled / len(required), 1)
    assert rec.untyped_pct == rec.completeness_pct  # nothing typed yet
    with sessions() as db:
        prog = registry_service.programme(db, REVIEWER)
    mine = next(r for r in prog.runs if r.run_id == spec_run)
    assert mine.completeness_pct == rec.completeness_pct
    assert prog.required == sum(r.required for r in prog.runs)


def test_amendments_confirm_and_correct_without_overwriting(
    sessions: sessionmaker[Session], spec_run: int
) -> None:
    with unit_of_work(sessions) as db:
        registry_service.review(db, REVIEWER, spec_run, [
            Review("run.weight_kg", "confirm"),
            Review("run.pao2_24h", "correct", "88", "blood gas on paper, 09:10"),
            Review("diagnoses.primary_icd10", "correct", "J10.0", "discharge letter"),
        ], UTCZ)  # fmt: skip
    with unit_of_work(sessions) as db:
        registry_service.review(db, REVIEWER, spec_run, [
            Review("run.pao2_24h", "correct", "86", "second look: the 09:10 gas was venous")
        ], UTCZ)  # fmt: skip
    rec = fields_of(sessions, spec_run)
    f = rec.by_key()
    assert f["run.weight_kg"].status == "confirmed" and f["run.weight_kg"].value == 72
    pao2 = f["run.pao2_24h"]
    assert (pao2.value, pao2.status, pao2.source_kind) == (86.0, "corrected", "amendment")
    assert [(h["old"], h["new"]) for h in pao2.history] == [(None, "88"), ("88", "86")]
    assert f["diagnoses.primary_icd10"].value == "J10.0"
    assert rec.untyped_pct < rec.completeness_pct  # typed values count apart
    with sessions() as db:
        rows = db.scalars(select(RegistryAmendment).order_by(RegistryAmendment.id)).all()
        assert [(r.field, r.action) for r in rows] == [
            ("run.weight_kg", "confirm"), ("run.pao2_24h", "correct"),
            ("diagnoses.primary_icd10", "correct"), ("run.pao2_24h", "correct"),
        ]  # fmt: skip
        assert db.scalar(select(Patient.weight_kg).join(Run).where(Run.id == spec_run)) == 72
        audited = db.scalar(
            select(func.count()).select_from(AuditEntry).where(
                AuditEntry.action.like("registry.%"))
        )  # fmt: skip
        assert audited == 4
    # a researcher reads the corrected values but no reason
    seen = fields_of(sessions, spec_run, RESEARCHER).by_key()["run.pao2_24h"]
    assert seen.value == 86.0 and all(h["reason"] is None for h in seen.history)


def test_ready_for_submission_is_refused_while_required_fields_are_missing(
    sessions: sessionmaker[Session], spec_run: int
) -> None:
    with unit_of_work(sessions) as db, pytest.raises(ValidationFailed) as refused:
        registry_service.mark_ready(db, REVIEWER, spec_run)
    named = {p.field for p in refused.value.problems}
    assert "discharge.discharged_alive" in named and "run.pao2_24h" in named
    assert len(named) == 5
    rec = fields_of(sessions, spec_run)
    fills = {
        "run.pao2_24h": "88", "diagnoses.primary_icd10": "J10.0",
        "discharge.discharged_alive": "Yes",
    }  # fmt: skip
    for x in rec.work_list:
        if x.name == "elso_code":
            fills[x.key] = "203"
        elif x.name == "site":
            fills[x.key] = "4006845 Internal jugular vein"
    with unit_of_work(sessions) as db:
        registry_service.review(
            db, REVIEWER, spec_run,
            [Review(k, "correct", v, "chart review") for k, v in fills.items()], UTCZ,
        )  # fmt: skip
        mark = registry_service.mark_ready(db, REVIEWER, spec_run)
        assert mark.completeness_pct == 100.0
    with unit_of_work(sessions) as db, pytest.raises(Conflict):
        registry_service.mark_ready(db, REVIEWER, spec_run)  # nothing changed since


@pytest.mark.parametrize(
    ("review", "named", "words"),
    [
        (Review("run.no_such_field", "correct", "1", "x"), "field", "no field"),
        (Review("run.pao2_24h", "correct", "ninety", "x"), "value", "must be a number"),
        (Review("run.pao2_24h", "correct", "9000", "x"), "value", "outside 0–800 mmHg"),
        (Review("run.time_off", "correct", "yesterday", "x"), "value", "date and time"),
        (Review("run.sex", "correct", "Maybe", "x"), "value", "one of Female, Male"),
        (Review("diagnoses.primary_icd10", "correct", "flu", "x"), "value", "ICD-10"),
        (Review("run.pao2_24h", "correct", "88", ""), "reason", "needs a reason"),
        (Review("run.pao2_24h", "confirm"), "field", "nothing to confirm"),
        (Review("run.pao2_24h", "delete"), "action", "confirm, correct"),
    ],
)
def test_bad_reviews_are_refused_naming_the_input_and_change_nothing(
    sessions: sessionmaker[Session], spec_run: int, review: Review, named: str, words: str
) -> None:
    with unit_of_work(sessions) as db, pytest.raises(ValidationFailed) as refused:
        registry_service.review(db, REVIEWER, spec_run, [review], UTCZ)
    problem = refused.value.problems[0]
    assert problem.field == named and words in problem.message
    with sessions() as db:
        assert db.scalar(select(func.count()).select_from(RegistryAmendment)) == 0


def test_only_reviewers_review(sessions: sessionmaker[Session], spec_run: int) -> None:
    for actor in (NURSE, RESEARCHER):
        with unit_of_work(sessions) as db, pytest.raises(Forbidden):
            registry_service.review(db, actor, spec_run, [Review("run.sex", "confirm")], UTCZ)


def test_bundle_holds_a_csv_per_table_and_the_field_provenance(
    sessions: sessionmaker[Session], spec_run: int
) -> None:
    import csv
    import io
    import zipfile

    rec = fields_of(sessions, spec_run)
    z = zipfile.ZipFile(io.BytesIO(registry_export.bundle(rec)))
    names = set(z.namelist())
    assert {"run.csv", "cannulas.csv", "membrane_lungs.csv", "complications.csv",
            "fields.csv", "manifest.json", "record.json"} <= names  # fmt: skip
    runs = list(csv.DictReader(io.StringIO(z.read("run.csv").decode())))
    assert len(runs) == 1 and runs[0]["pump_flow_4h"] == "4.4"
    cannulas = list(csv.DictReader(io.StringIO(z.read("cannulas.csv").decode())))
    assert [c["size_fr"] for c in cannulas] == ["25", "21"]
    fields = list(csv.DictReader(io.StringIO(z.read("fields.csv").decode())))
    flow = next(r for r in fields if r["field"] == "run.pump_flow_4h")
    assert flow["source_kind"] == "observation" and flow["status"] == "filled"
    assert "SPEC001" not in z.read("record.json").decode()


def test_discharge_comes_from_the_hospital_outcome_in_force(
    sessions: sessionmaker[Session], spec_run: int
) -> None:
    """Once the hospital outcome is recorded, the discharge table is filled from it (its row
    named as the source) and leaves the work list; a correction wins over the first row."""
    from continuum.core import hospital_outcome
    from continuum.core.hospital_outcome import HospitalOutcomeIn

    with unit_of_work(sessions) as db:
        run = db.get(Run, spec_run)
        assert run is not None
        first = hospital_outcome.record(db, PHYSICIAN, run, HospitalOutcomeIn(
            status="discharged_alive", at=START + 20 * 24 * H, destination="hospice"))  # fmt: skip
        db.flush()
        hospital_outcome.record(db, PHYSICIAN, run, HospitalOutcomeIn(
            status="discharged_alive", at=START + 21 * 24 * H, destination="rehabilitation",
            corrects_id=first.id, reason="discharge letter says rehabilitation"))  # fmt: skip
    rec = fields_of(sessions, spec_run)
    f = rec.by_key()
    alive = f["discharge.discharged_alive"]
    assert (alive.value, alive.status, alive.source_kind) == ("Yes", "filled", "record")
    assert alive.source is not None and "hospital outcome" in alive.source
    assert f["discharge.discharge_date"].value == START + 21 * 24 * H
    assert f["discharge.discharge_location"].value == "Long-term care or rehab"
    assert "discharge.discharged_alive" not in {x.key for x in rec.work_list}


def test_icd10_code_is_read_only_where_the_diagnosis_begins_with_one() -> None:
    from continuum.research.registry_build import icd10_written

    assert icd10_written("J10.0 Influenza A pneumonia with ARDS") == "J10.0"
    assert icd10_written("J13 Pneumococcal pneumonia") == "J13"
    assert icd10_written("U07.1, COVID-19 pneumonia") == "U07.1"
    assert icd10_written("Influenza A pneumonia (J10.0)") is None  # not written first
    assert icd10_written("ARDS after influenza") is None
    assert icd10_written("J100 pneumonia") is None and icd10_written(None) is None


@pytest.mark.parametrize("as_text", [False, True])
def test_va_run_gets_its_icd10_code_and_pre_ecls_gas_from_the_record(
    sessions: sessionmaker[Session], as_text: bool
) -> None:
    """A VA candidate's last gas before ECLS (the candidacy's pre-ECLS inputs) fills the
    pre-ECLS values; the diagnosis written with its ICD-10 code first fills the code.
    Inputs saved from the web form as text (before numbers were stored as numbers) read the
    same."""
    gas = {"ph": 7.14, "paco2_mmhg": 38.0, "pao2_mmhg": 96.0, "fio2": 0.8, "peep_cmh2o": 8.0}
    given = {k: str(v) for k, v in gas.items()} if as_text else gas
    with unit_of_work(sessions) as db:
        patient = Patient(sex="female", height_cm=165, weight_kg=64)
        db.add(patient)
        db.flush()
        run = run_service.start_run(
            db, PHYSICIAN,
            RunCreate(patient_id=patient.id, support_type="cardiac", mode="VA", started_at=START,
                      diagnosis="I40.0 Fulminant viral myocarditis, cardiogenic shock"),
        )  # fmt: skip
        referral = Referral(patient_id=patient.id, referring_hospital="X", referring_clinician="Y",
                            referred_at=START - 5 * H, support_type="cardiac",
                            clinical_picture="shock", status="accepted")  # fmt: skip
        db.add(referral)
        db.flush()
        db.add(InitiationDecision(
            referral_id=referral.id, sequence=1, checklist={}, physiology={}, plan={},
            score_inputs={"save": {"diagnoses": ["myocarditis"], "cardiac_arrest": False}},
            trial_inputs={"pre_ecls": given},
            outcome="accept", decided_at=START - 1 * H, run_id=run.id,
        ))  # fmt: skip
        run_id = run.id
    f = fields_of(sessions, run_id).by_key()
    icd = f["diagnoses.primary_icd10"]
    assert icd.value == "I40.0" and icd.source_kind == "rule" and "written first" in icd.source
    assert (f["run.ph_pre"].value, f["run.pao2_pre"].value, f["run.peep_pre"].value) == (
        7.14, 96.0, 8.0,
    )  # fmt: skip
    assert "pre-ECLS gas input ph" in (f["run.ph_pre"].source or "")
