"""Initiation services on SQLite and PostgreSQL: referral → candidacy → modality → plan →
decision with both sign-offs → the run, and every refusal on the way (nothing half-written)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from continuum.core import run_service, targets
from continuum.core.record import AuditEntry
from continuum.core.roles import Actor
from continuum.core.schemas import PatientCreate
from continuum.db import unit_of_work
from continuum.errors import Conflict, Forbidden, ValidationFailed
from continuum.initiation import candidacy, configuration, decision, modality, referral
from continuum.initiation.models import Referral
from continuum.initiation.schemas import (
    AmendmentIn,
    CandidacyIn,
    DecisionIn,
    ModalityIn,
    PlanIn,
    ReferralCreate,
    SignIn,
    StartRunIn,
    StatusChange,
)
from continuum.initiation.view import as_json

PERFUSIONIST = Actor(
    staff_id=1, name="Test perfusionist", role="perfusionist", discipline="perfusion"
)
PHYSICIAN = Actor(staff_id=2, name="Test physician", role="physician", discipline="intensive_care")
NURSE = Actor(staff_id=3, name="Test nurse", role="nurse", discipline="nursing")
COORDINATOR = Actor(staff_id=4, name="Test coordinator", role="coordinator")

PLAN = PlanIn.model_validate(
    {
        "cannulas": [
            {
                "role": "drainage_and_return",
                "site": "internal jugular vein",
                "side": "right",
                "catalogue_id": "crescent_32",
            },
        ],
        "membrane_lung_make": "Getinge",
        "membrane_lung_model": "HLS 7.0",
        "rated_flow_l_min": 7,
        "prime_volume_ml": 600,
        "hct_pct": 32,
        "blood_products": "2 units RBC crossmatched",
        "flow_goal_low": 4.0,
        "flow_goal_high": 5.0,
        "monitor_code": "anti_xa",
        "monitor_low": 0.3,
        "monitor_high": 0.5,
        "spo2_goal_low": 88,
        "paco2_goal_low": 35,
        "paco2_goal_high": 45,
    }
)
ARDS = ModalityIn.model_validate(
    {"physiology": {"respiratory_failure": True, "adequate_cardiac_function": True}}
)


def _referral(
    db,
    support: str = "pulmonary",
    urgency: str = "urgent",
    mrn: str = "MRNT1",
    at: datetime | None = None,
) -> Referral:  # type: ignore[no-untyped-def]
    data = ReferralCreate(
        new_patient=PatientCreate(
            mrn=mrn, name="Test Person", sex="female", height_cm=165, weight_kg=70
        ),
        referring_hospital="District General",
        referring_clinician="Dr Far",
        support_type=support,
        urgency=urgency,
        clinical_picture="Severe ARDS",
        referred_at=at,
    )
    return referral.create_referral(db, COORDINATOR, data)


def _ready(db, ref: Referral) -> None:  # type: ignore[no-untyped-def]
    """Candidacy, modality, plan and an accept decision on ``ref``."""
    candidacy.save_candidacy(
        db,
        COORDINATOR,
        ref,
        CandidacyIn(
            checked=["pulmonary.hypoxaemia"],
            scores={"murray": {"cxr_quadrants": 4, "pao2_mmhg": 55, "fio2": 1.0, "peep_cmh2o": 14}},
        ),
    )
    modality.save_modality(db, PHYSICIAN, ref, ARDS)
    configuration.save_plan(db, PERFUSIONIST, ref, PLAN)
    decision.record_decision(db, PHYSICIAN, ref, DecisionIn(outcome="accept", reasons="EOLIA"))


def _audits(db) -> int:  # type: ignore[no-untyped-def]
    return db.scalar(select(func.count(AuditEntry.id))) or 0


def test_referral_to_started_run(sessions) -> None:  # type: ignore[no-untyped-def]
    earlier = datetime.now(UTC) - timedelta(hours=3)
    with unit_of_work(sessions) as db:
        ref = _referral(db, at=earlier)
        referral.change_status(db, COORDINATOR, ref, StatusChange(status="under_assessment"))
        _ready(db, ref)
        decision.add_participant(
            db,
            NURSE,
            ref,
            decision.ParticipantIn(staff_id=3, how="present", contribution="bedside nurse"),
        )
        decision.sign(db, PHYSICIAN, ref, SignIn())
        decision.sign(db, PERFUSIONIST, ref, SignIn(as_role="perfusionist"))
        run = decision.start_run(db, PHYSICIAN, ref, StartRunIn(location="ICU 3"))
        run_id, ref_id = run.id, ref.id
    with unit_of_work(sessions) as db:
        run = run_service.get_run(db, PHYSICIAN, run_id)
        assert run_service.current_mode(run) == "VV"
        assert [(c.role, c.site, c.french) for c in run.cannulas] == [
            ("drainage_and_return", "internal jugular vein", 32),
        ]
        assert [c.kind for c in run.components] == ["membrane_lung"]
        assert run.components[0].rated_flow_l_min == 7
        goals = targets.current_targets(db, run_id)
        assert (goals["anti_xa"].low, goals["anti_xa"].high) == (0.3, 0.5)
        assert (goals["blood_flow"].low, goals["blood_flow"].high) == (4.0, 5.0)
        assert goals["blood_flow"].source == f"initiation:{ref.decision.id}"
        ref = db.get(Referral, ref_id)
        assert ref.status == "accepted"
        assert ref.decision.run_id == run_id
        record = as_json(db, PHYSICIAN, ref)
        assert record["decision"]["referral_to_cannulation_h"] >= 2.9
        assert record["decision"]["referral_to_decision_h"] >= 2.9
        hows = {(p["discipline"], p["how"]) for p in record["decision"]["participants"]}
        assert {
            ("nursing", "present"),
            ("perfusion", "signed"),
            ("intensive_care", "signed"),
        } <= hows
        assert record["modality"]["recommended"] == "VV"
        assert record["configuration_plan"]["priming"]["value"] > 25
        assert record["configuration_plan"]["flow_target"]["interpretation"]["mode"] == "VV"


def test_missing_score_inputs_stay_missing_never_zero(sessions) -> None:  # type: ignore[no-untyped-def]
    with unit_of_work(sessions) as db:
        ref = _referral(db)
        candidacy.save_candidacy(
            db, COORDINATOR, ref, CandidacyIn(scores={"murray": {"pao2_mmhg": 60}, "resp": {}})
        )
        views = {v.name: v for v in candidacy.score_views(ref.decision, "pulmonary")}
        assert views["murray"].result is None
        assert set(views["murray"].missing) >= {"cxr_quadrants", "fio2"}
        assert views["murray"].status == "missing inputs"
        assert views["resp"].status == "not entered"
        assert ref.decision.score_inputs == {"murray": {"pao2_mmhg": 60}}
        eolia = candidacy.trial_views(ref.decision)[0]
        assert eolia.met is None and eolia.status == "incomplete"


def test_computed_score_carries_points_and_elso_caution(sessions) -> None:  # type: ignore[no-untyped-def]
    with unit_of_work(sessions) as db:
        ref = _referral(db)
        candidacy.save_candidacy(
            db,
            COORDINATOR,
            ref,
            CandidacyIn(
                scores={
                    "resp": {
                        "age_years": 40,
                        "mechanical_ventilation_hours": 48,
                        "diagnosis": "viral_pneumonia",
                        "paco2_mmhg": 60,
                        "peak_inspiratory_pressure_cmh2o": 35,
                    }
                }
            ),
        )
        view = next(v for v in candidacy.score_views(ref.decision, "pulmonary") if v.name == "resp")
        assert view.result is not None and view.result.points
        assert any("ELSO caution" in w for w in view.result.warnings)


def test_impossible_values_refused_with_range_and_nothing_written(sessions) -> None:  # type: ignore[no-untyped-def]
    with unit_of_work(sessions) as db:
        ref = _referral(db)
        ref_id, before = ref.id, _audits(db)
    with pytest.raises(ValidationFailed) as exc, unit_of_work(sessions) as db:
        candidacy.save_candidacy(
            db,
            COORDINATOR,
            db.get(Referral, ref_id),
            CandidacyIn(scores={"murray": {"pao2_mmhg": 60, "fio2": 5}}, eolia={"ph": 9.4}),
        )
    fields = {p.field: p.message for p in exc.value.problems}
    assert "scores.murray.fio2" in fields and "eolia.ph" in fields
    assert "6.5–8" in fields["eolia.ph"]
    with pytest.raises(ValidationFailed) as exc, unit_of_work(sessions) as db:
        configuration.save_plan(
            db,
            PERFUSIONIST,
            db.get(Referral, ref_id),
            PLAN.model_copy(update={"monitor_high": 7.5}),
        )
    assert exc.value.problems[0].field == "monitor_high"
    assert "0–3" in exc.value.problems[0].message
    with unit_of_work(sessions) as db:
        ref = db.get(Referral, ref_id)
        assert ref.decision is None or ref.decision.score_inputs == {}
        assert _audits(db) == before


def test_save_for_pulmonary_needs_a_reason(sessions) -> None:  # type: ignore[no-untyped-def]
    save_inputs = {"save": {"age_years": 50, "weight_kg": 80}}
    with pytest.raises(ValidationFailed) as exc, unit_of_work(sessions) as db:
        candidacy.save_candidacy(db, COORDINATOR, _referral(db), CandidacyIn(scores=save_inputs))
    assert exc.value.problems[0].field == "score_reason"
    assert "SAVE" in exc.value.problems[0].message
    with unit_of_work(sessions) as db:
        ref = _referral(db, mrn="MRNT2")
        candidacy.save_candidacy(
            db,
            COORDINATOR,
            ref,
            CandidacyIn(scores=save_inputs, score_reason="mixed shock: cardiac component on echo"),
        )
        assert ref.decision.score_reason.startswith("mixed shock")


def test_vv_for_cardiogenic_shock_needs_a_reason(sessions) -> None:  # type: ignore[no-untyped-def]
    shock = {"physiology": {"cardiogenic_shock": True}, "chosen_mode": "VV"}
    with pytest.raises(ValidationFailed) as exc, unit_of_work(sessions) as db:
        modality.save_modality(
            db, PHYSICIAN, _referral(db, "cardiac"), ModalityIn.model_validate(shock)
        )
    assert {p.field for p in exc.value.problems} == {"choice_reason"}
    assert any("cardiogenic shock" in p.message for p in exc.value.problems)
    with unit_of_work(sessions) as db:
        ref = _referral(db, "cardiac", mrn="MRNT3")
        modality.save_modality(
            db,
            PHYSICIAN,
            ref,
            ModalityIn.model_validate(
                {**shock, "choice_reason": "septic shock with preserved LV, vasoplegia"}
            ),
        )
        assert (ref.decision.recommended_mode, ref.decision.chosen_mode) == ("VA", "VV")


def test_signed_decision_is_immutable_amendments_only(sessions) -> None:  # type: ignore[no-untyped-def]
    with unit_of_work(sessions) as db:
        ref = _referral(db)
        _ready(db, ref)
        decision.sign(db, PHYSICIAN, ref, SignIn())
        ref_id = ref.id
    with pytest.raises(Conflict), unit_of_work(sessions) as db:
        modality.save_modality(db, PHYSICIAN, db.get(Referral, ref_id), ARDS)
    with pytest.raises(Conflict), unit_of_work(sessions) as db:
        decision.sign(db, PHYSICIAN, db.get(Referral, ref_id), SignIn())
    with unit_of_work(sessions) as db:
        ref = db.get(Referral, ref_id)
        decision.amend(db, COORDINATOR, ref, AmendmentIn(note="PaO2 was 55 not 45"))
        assert [a.note for a in ref.decision.amendments] == ["PaO2 was 55 not 45"]


def test_signing_is_personal(sessions) -> None:  # type: ignore[no-untyped-def]
    with unit_of_work(sessions) as db:
        ref = _referral(db)
        _ready(db, ref)
        with pytest.raises(Forbidden):
            decision.sign(db, NURSE, ref, SignIn(as_role="physician"))
        with pytest.raises(Forbidden):
            decision.sign(db, PHYSICIAN, ref, SignIn(as_role="perfusionist"))


def test_start_without_perfusionist_needs_a_reason(sessions) -> None:  # type: ignore[no-untyped-def]
    with unit_of_work(sessions) as db:
        ref = _referral(db)
        _ready(db, ref)
        decision.sign(db, PHYSICIAN, ref, SignIn())
        ref_id = ref.id
    with pytest.raises(ValidationFailed) as exc, unit_of_work(sessions) as db:
        decision.start_run(db, PHYSICIAN, db.get(Referral, ref_id), StartRunIn())
    assert exc.value.problems[0].field == "missing_signoff_reason"
    assert "perfusionist" in exc.value.problems[0].message
    with unit_of_work(sessions) as db:
        ref = db.get(Referral, ref_id)
        run = decision.start_run(
            db,
            PHYSICIAN,
            ref,
            StartRunIn(missing_signoff_reason="ECPR in progress; perfusionist priming"),
        )
        assert ref.decision.missing_signoff_reason and run.id
        with pytest.raises(Conflict):
            decision.start_run(db, PHYSICIAN, ref, StartRunIn(missing_signoff_reason="again"))


def test_unsigned_or_declined_decision_cannot_start(sessions) -> None:  # type: ignore[no-untyped-def]
    with unit_of_work(sessions) as db:
        ref = _referral(db)
        _ready(db, ref)
        with pytest.raises(Conflict):
            decision.start_run(db, PHYSICIAN, ref, StartRunIn(missing_signoff_reason="x" * 5))
        other = _referral(db, mrn="MRNT4")
        decision.record_decision(
            db,
            PHYSICIAN,
            other,
            DecisionIn(
                outcome="decline", reasons="irreversible lung disease, not a transplant candidate"
            ),
        )
        assert other.status == "declined"


def test_accepting_with_an_absolute_contraindication_needs_a_reason(sessions) -> None:  # type: ignore[no-untyped-def]
    with unit_of_work(sessions) as db:
        ref = _referral(db)
        candidacy.save_candidacy(
            db, COORDINATOR, ref, CandidacyIn(checked=["pulmonary.irreversible_lung"])
        )
        modality.save_modality(db, PHYSICIAN, ref, ARDS)
        with pytest.raises(ValidationFailed) as exc:
            decision.record_decision(
                db, PHYSICIAN, ref, DecisionIn(outcome="accept", reasons="severe")
            )
        assert exc.value.problems[0].field == "override_reason"
        decision.record_decision(
            db,
            PHYSICIAN,
            ref,
            DecisionIn(
                outcome="accept", reasons="bridge", override_reason="listed for transplant today"
            ),
        )
        assert ref.decision.override_reason == "listed for transplant today"


def test_membrane_lung_too_small_needs_a_reason(sessions) -> None:  # type: ignore[no-untyped-def]
    small = PLAN.model_copy(update={"rated_flow_l_min": 4.5})
    with unit_of_work(sessions) as db:
        ref = _referral(db)
        modality.save_modality(db, PHYSICIAN, ref, ARDS)
        with pytest.raises(ValidationFailed) as exc:
            configuration.save_plan(db, PERFUSIONIST, ref, small)
        assert exc.value.problems[0].field == "rated_flow_reason"
        configuration.save_plan(
            db,
            PERFUSIONIST,
            ref,
            small.model_copy(
                update={"rated_flow_reason": "only device in stock; exchange planned"}
            ),
        )
        with pytest.raises(Forbidden):
            configuration.save_plan(db, COORDINATOR, ref, PLAN)


def test_status_transitions_recorded_and_checked(sessions) -> None:  # type: ignore[no-untyped-def]
    with unit_of_work(sessions) as db:
        ref = _referral(db)
        with pytest.raises(ValidationFailed) as exc:
            referral.change_status(db, COORDINATOR, ref, StatusChange(status="deferred"))
        assert exc.value.problems[0].field == "reason"
        with pytest.raises(ValidationFailed):
            referral.change_status(db, COORDINATOR, ref, StatusChange(status="accepted"))
        referral.change_status(db, COORDINATOR, ref, StatusChange(status="under_assessment"))
        with pytest.raises(Conflict):
            referral.change_status(db, COORDINATOR, ref, StatusChange(status="accepted"))
        referral.change_status(
            db, COORDINATOR, ref, StatusChange(status="withdrawn", reason="patient improved")
        )
        with pytest.raises(ValidationFailed):
            referral.change_status(db, COORDINATOR, ref, StatusChange(status="under_assessment"))
        assert [c.to_status for c in ref.changes] == ["new", "under_assessment", "withdrawn"]
        with pytest.raises(Forbidden):
            referral.change_status(db, NURSE, ref, StatusChange(status="new"))


def test_list_puts_open_emergencies_first(sessions) -> None:  # type: ignore[no-untyped-def]
    with unit_of_work(sessions) as db:
        _referral(db, urgency="routine", mrn="MRNA")
        emergency = _referral(
            db, "ecpr", urgency="emergency", mrn="MRNB", at=datetime.now(UTC) - timedelta(hours=1)
        )
        rows = referral.list_referrals(db, NURSE)
        assert rows[0].id == emergency.id
        assert referral.age_text(emergency, datetime.now(UTC)).startswith("1 h")


def test_blood_gas_before_ecls_is_kept_for_a_va_candidate(sessions) -> None:  # type: ignore[no-untyped-def]
    """A VA candidate has no EOLIA criteria: the last arterial gas and ventilator before
    ECLS are kept as numbers (the form sends text), shared with the scores that ask for
    them; an impossible or unknown value is refused naming the field and the range."""
    with unit_of_work(sessions) as db:
        ref = _referral(db, support="cardiac", mrn="MRNVA1")
        gas = {"ph": "7.14", "paco2_mmhg": "41", "pao2_mmhg": "88", "fio2": "0.8"}
        candidacy.save_candidacy(db, COORDINATOR, ref, CandidacyIn(pre_ecls=gas))
        assert ref.decision.trial_inputs["pre_ecls"] == {
            "ph": 7.14, "paco2_mmhg": 41.0, "pao2_mmhg": 88.0, "fio2": 0.8,
        }  # fmt: skip
        shared = candidacy.shared_inputs(ref.decision, None, None, None)
        assert shared["fio2"] == (0.8, "blood gas before ECLS")
        ref_id = ref.id
    with pytest.raises(ValidationFailed) as exc, unit_of_work(sessions) as db:
        candidacy.save_candidacy(
            db,
            COORDINATOR,
            db.get(Referral, ref_id),
            CandidacyIn(pre_ecls={"ph": 6.2, "lactate": 9}),
        )
    fields = {p.field: p.message for p in exc.value.problems}
    assert "6.2 is outside 6.5–8" in fields["pre_ecls.ph"]
    assert "unknown input" in fields["pre_ecls.lactate"]
