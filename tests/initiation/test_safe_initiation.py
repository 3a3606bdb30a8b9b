"""Safe initiation records (#16), on SQLite and PostgreSQL: an accepted plan is signed only
when each of its warnings has a reason (kept, shown on the record and the print); dual-lumen
single-site cannulas are planned only as drainage and return at a jugular site, for a mode
that returns where they return; an outside patient without a local MRN is referred under a
temporary identifier that the hospital MRN later replaces (audited)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from continuum.core import patient_service
from continuum.core.people import PatientIdentity
from continuum.core.record import AuditEntry
from continuum.core.schemas import PatientDetails
from continuum.db import unit_of_work
from continuum.errors import Conflict, ValidationFailed
from continuum.initiation import configuration, decision, forms, modality, referral
from continuum.initiation.models import Referral
from continuum.initiation.schemas import (
    ConfirmMrnIn,
    DecisionIn,
    PlanIn,
    ReferralCreate,
    SignIn,
)
from continuum.physiology.cannula_catalogue import CANNULAE, device_type, placement_problems
from tests.conftest import Web, if_match
from tests.initiation.test_initiation_service import (
    ARDS,
    COORDINATOR,
    PERFUSIONIST,
    PHYSICIAN,
    PLAN,
    _ready,
    _referral,
)

SMALL = {  # a Crescent 24 Fr cannot carry 5 L/min through its return lumen
    "role": "drainage_and_return",
    "site": "internal jugular vein",
    "side": "right",
    "catalogue_id": "crescent_24",
}


def _problems(caught: pytest.ExceptionInfo[ValidationFailed]) -> dict[str, str]:
    return {p.field: p.message for p in caught.value.problems}


# -- dual-lumen cannulas ------------------------------------------------------------------------


def test_every_catalogue_cannula_is_typed_and_placed_at_one_upper_body_site() -> None:
    for cid in CANNULAE:
        device = device_type(cid)
        assert device is not None and device.roles == ("drainage_and_return",)
        assert placement_problems(cid, "drainage_and_return", "right internal jugular vein") == []
        assert placement_problems(cid, "drainage_and_return", "R IJ") == []
        wrong = placement_problems(cid, "drainage", "femoral vein")
        assert len(wrong) == 2
        assert "its role is drainage and return, not drainage" in wrong[0]
        assert "not 'femoral vein'" in wrong[1]
    assert device_type("protek_duo_29").returns == "pulmonary artery"  # type: ignore[union-attr]
    assert device_type("crescent_28").returns.startswith("right atrium")  # type: ignore[union-attr]
    assert device_type("someone_elses_21") is None


def test_a_dual_lumen_cannula_as_femoral_drainage_is_refused(sessions) -> None:
    femoral = {"role": "drainage", "site": "femoral vein", "catalogue_id": "avalon_27"}
    with pytest.raises(ValidationFailed) as caught, unit_of_work(sessions) as db:
        ref = _referral(db)
        modality.save_modality(db, PHYSICIAN, ref, ARDS)
        configuration.save_plan(db, PERFUSIONIST, ref, PlanIn(cannulas=[femoral]))  # type: ignore[list-item]
    problems = _problems(caught)
    assert "Getinge Avalon 27 Fr" in problems["cannulas.0.role"]
    assert "right internal jugular vein" in problems["cannulas.0.site"]


def test_an_ra_pa_cannula_needs_a_mode_that_returns_to_the_pulmonary_artery(sessions) -> None:
    protek = {**SMALL, "catalogue_id": "protek_duo_31"}
    with pytest.raises(ValidationFailed) as caught, unit_of_work(sessions) as db:
        ref = _referral(db)
        modality.save_modality(db, PHYSICIAN, ref, ARDS)
        configuration.save_plan(db, PERFUSIONIST, ref, PlanIn(cannulas=[protek]))  # type: ignore[list-item]
    message = _problems(caught)["cannulas.0.catalogue_id"]
    assert "returns to the pulmonary artery" in message and "planned VV" in message


def test_both_lumens_of_a_dual_lumen_cannula_are_checked(sessions) -> None:
    with unit_of_work(sessions) as db:
        ref = _referral(db)
        _ready(db, ref)
        d = ref.decision
        assert d is not None
        checks = configuration.plan_checks(ref, d.plan or {}, "VV")
        assert [c.get("lumen") for c, _, _ in checks.cannulas] == ["drainage", "return"]
        assert all(r is not None for _, r, _ in checks.cannulas)


# -- plan warnings need a reason before signing -------------------------------------------------


def _small_plan(reasons: dict[str, str] | None = None) -> PlanIn:
    data = PLAN.model_dump(exclude_unset=True) | {"cannulas": [SMALL]}
    return PlanIn.model_validate({**data, "warning_reasons": reasons or {}})


def test_an_unacknowledged_plan_warning_blocks_signing_and_a_reason_clears_it(sessions) -> None:
    with unit_of_work(sessions) as db:
        ref = _referral(db)
        _ready(db, ref)
        configuration.save_plan(db, PERFUSIONIST, ref, _small_plan())
        ref_id = ref.id
    with pytest.raises(ValidationFailed) as caught, unit_of_work(sessions) as db:
        decision.sign(db, PHYSICIAN, db.get_one(Referral, ref_id), SignIn())
    problems = caught.value.problems
    assert {p.field for p in problems} == {"warning_reasons"}
    assert len(problems) == 2  # both lumens are too small at 5 L/min
    assert "Medtronic Crescent 24 Fr drainage" in problems[0].message
    assert "Medtronic Crescent 24 Fr return" in problems[1].message
    assert all("TOO SMALL for the flow" in p.message for p in problems)
    warnings = [str(p.value) for p in problems]
    reason = "larger cannula not in stock; flow capped at 4 L/min"
    with unit_of_work(sessions) as db:
        ref = db.get_one(Referral, ref_id)
        assert ref.decision is not None and ref.decision.physician_signed_at is None
        only_one = _small_plan({warnings[0]: reason, "x" * 5: "y"})
        configuration.save_plan(db, PERFUSIONIST, ref, only_one)
        assert ref.decision.plan is not None
        assert ref.decision.plan["warning_reasons"] == {warnings[0]: reason}  # stale dropped
    with pytest.raises(ValidationFailed) as caught, unit_of_work(sessions) as db:
        decision.sign(db, PHYSICIAN, db.get_one(Referral, ref_id), SignIn())
    assert [str(p.value) for p in caught.value.problems] == [warnings[1]]
    with unit_of_work(sessions) as db:
        ref = db.get_one(Referral, ref_id)
        configuration.save_plan(db, PERFUSIONIST, ref, _small_plan(dict.fromkeys(warnings, reason)))
    with unit_of_work(sessions) as db:
        ref = db.get_one(Referral, ref_id)
        decision.sign(db, PHYSICIAN, ref, SignIn())
        assert ref.decision is not None and ref.decision.physician_signed_at is not None


def test_a_declined_referral_signs_without_plan_reasons(sessions) -> None:
    with unit_of_work(sessions) as db:
        ref = _referral(db)
        _ready(db, ref)
        configuration.save_plan(db, PERFUSIONIST, ref, _small_plan())
        decision.record_decision(db, PHYSICIAN, ref, DecisionIn(outcome="decline", reasons="n/a"))
        decision.sign(db, PHYSICIAN, ref, SignIn())


def test_the_plan_form_carries_each_warning_with_its_reason() -> None:
    from starlette.datastructures import FormData

    form = FormData(
        [
            ("warning.0.text", "W one"),
            ("warning.0.reason", "because"),
            ("warning.1.text", "W two"),
            ("warning.1.reason", ""),
            ("weight_kg", "70"),
        ]
    )
    data = forms.plan(form)
    assert data["warning_reasons"] == {"W one": "because"}
    assert not any(k.startswith("warning.") for k in data)


def test_the_record_and_print_show_each_warning_and_its_reason(web: Web) -> None:
    web.login("perfusionist")
    csrf = web.csrf("/referrals/1")
    headers = {"X-CSRF-Token": csrf}
    plan = {"weight_kg": 70, "flow_goal_high": 5, "rated_flow_l_min": 7, "cannulas": [SMALL]}
    physiology = {"physiology": {"respiratory_failure": True, "adequate_cardiac_function": True}}
    path = "/api/v1/referrals/1"
    r = web.client.post(
        f"{path}/modality",
        headers=if_match(web.client, f"{path}/modality", headers),
        json=physiology,
    )
    assert r.status_code == 200, r.text
    r = web.client.post(
        f"{path}/plan", headers=if_match(web.client, f"{path}/plan", headers), json=plan
    )
    assert r.status_code == 200, r.text
    warnings = r.json()["configuration_plan"]["warnings"]
    assert r.json()["configuration_plan"]["warning_acknowledgements"] == [
        {"warning": w, "reason": None} for w in warnings
    ]
    page = web.client.get("/referrals/1").text
    assert "Not acknowledged" in page and 'name="warning.0.text"' in page
    reasons = {"warning_reasons": dict.fromkeys(warnings, "only size in stock; flow limited")}
    r = web.client.post(
        f"{path}/plan",
        headers=if_match(web.client, f"{path}/plan", headers),
        json={**plan, **reasons},
    )
    assert r.status_code == 200, r.text
    page = web.client.get("/referrals/1").text
    assert "<b>Acknowledged:</b> only size in stock; flow limited" in page
    printed = web.client.get("/referrals/1/print").text
    assert "Acknowledged: only size in stock; flow limited" in printed


# -- a temporary identifier for an outside patient -------------------------------------------------


def _outside(db):  # type: ignore[no-untyped-def]
    data = ReferralCreate(
        new_outside_patient=PatientDetails(name="Outside Person", sex="female", weight_kg=60),
        referring_hospital="Island Hospital",
        referring_clinician="Dr Remote",
        support_type="pulmonary",
        clinical_picture="ARDS, no local record",
    )
    return referral.create_referral(db, COORDINATOR, data)


def test_an_outside_patient_gets_a_temporary_identifier_replaced_later(sessions) -> None:
    with unit_of_work(sessions) as db:
        ref = _outside(db)
        ident = patient_service.identities(db, COORDINATOR, [ref.patient_id], "test")
        temporary = ident[ref.patient_id].mrn
        assert temporary == f"TMP-{ref.patient_id:06d}"
        assert ident[ref.patient_id].mrn_is_temporary
        ref_id, patient_id = ref.id, ref.patient_id
    with unit_of_work(sessions) as db:
        ref = db.get_one(Referral, ref_id)
        referral.confirm_mrn(
            db, COORDINATOR, ref, ConfirmMrnIn(mrn="MRN777", reason="ED registration")
        )
    with unit_of_work(sessions) as db:
        identity = db.get_one(PatientIdentity, patient_id)
        assert identity.mrn == "MRN777" and not identity.mrn_is_temporary
        entry = db.scalar(
            select(AuditEntry).where(
                AuditEntry.action == "amend_identifier", AuditEntry.entity_id == str(patient_id)
            )
        )
        assert entry is not None and entry.actor_id == COORDINATOR.staff_id
        assert entry.detail == {"from": temporary, "to": "MRN777", "reason": "ED registration"}
        ref = db.get_one(Referral, ref_id)
        assert ref.decision is not None
        assert "Temporary identifier replaced" in ref.decision.amendments[-1].note
        assert "MRN777" not in ref.decision.amendments[-1].note  # identifiers stay in identity
    with pytest.raises(Conflict, match="not temporary"), unit_of_work(sessions) as db:
        ref = db.get_one(Referral, ref_id)
        referral.confirm_mrn(db, COORDINATOR, ref, ConfirmMrnIn(mrn="MRN778", reason="again"))


def test_an_mrn_of_another_patient_is_refused_and_nothing_changes(sessions) -> None:
    with unit_of_work(sessions) as db:
        _referral(db, mrn="TAKEN1")
        ref = _outside(db)
        ref_id, patient_id = ref.id, ref.patient_id
    with pytest.raises(Conflict, match="another patient record"), unit_of_work(sessions) as db:
        ref = db.get_one(Referral, ref_id)
        referral.confirm_mrn(db, COORDINATOR, ref, ConfirmMrnIn(mrn="TAKEN1", reason="typo"))
    with unit_of_work(sessions) as db:
        assert db.get_one(PatientIdentity, patient_id).mrn_is_temporary


def test_a_referral_names_exactly_one_patient(sessions) -> None:
    data = ReferralCreate.model_validate(
        {
            "patient_id": 1,
            "new_outside_patient": {"name": "Two Ways", "sex": "male"},
            "referring_hospital": "Far",
            "referring_clinician": "Dr X",
            "support_type": "pulmonary",
            "clinical_picture": "ARDS",
        }
    )
    with pytest.raises(ValidationFailed, match="exactly one"), unit_of_work(sessions) as db:
        referral.create_referral(db, COORDINATOR, data)


def test_the_referral_form_issues_and_replaces_a_temporary_identifier(web: Web) -> None:
    web.login("coordinator")
    form = {
        "new_outside": "on",
        "new_name": "Outside Form",
        "new_sex": "male",
        "referring_hospital": "Island Hospital",
        "referring_clinician": "Dr Remote",
        "support_type": "pulmonary",
        "urgency": "urgent",
        "clinical_picture": "ARDS, transferred",
    }
    r = web.post_form("/referrals/new", form, page="/referrals/new")
    assert r.status_code == 303, r.text[:500]
    url = r.headers["location"]
    page = web.client.get(url).text
    assert "temporary identifier" in page and 'id="mrn-form"' in page
    bad = web.post_form(f"{url}/mrn", {"mrn": "bad mrn!", "reason": "ED"}, page=url)
    assert bad.status_code == 422 and "mrn" in bad.text
    assert "temporary identifier" in web.client.get(url).text
    ok = web.post_form(f"{url}/mrn", {"mrn": "MRNFORM1", "reason": "ED registration"}, page=url)
    assert ok.status_code == 303
    page = web.client.get(url).text
    assert 'id="mrn-form"' not in page and "MRNFORM1" in page
    assert "Temporary identifier replaced by the hospital MRN: ED registration" in page


# -- scores: shared inputs, relevance, read-only rendering ----------------------------------------

PRESERVE_WITHOUT_PEEP = {
    "age_years": 45,
    "mechanical_ventilation_days": 3,
    "sofa": 8,
    "plateau_pressure_cmh2o": 28,
    "peak_inspiratory_pressure_cmh2o": 30,
    "prone_positioning": True,
}


@pytest.mark.parametrize(
    ("support", "mode", "relevant"),
    [
        ("pulmonary", None, ("murray", "resp", "preserve")),
        ("cardiac", None, ("save",)),
        ("ecpr", None, ("save",)),
        ("cardiac", "VV", ("murray", "resp", "preserve")),  # the planned mode decides
    ],
)
def test_the_scores_offered_are_those_derived_for_the_support(
    support: str, mode: str | None, relevant: tuple[str, ...]
) -> None:
    from continuum.initiation.candidacy import relevant_scores

    assert relevant_scores(support, mode) == relevant


def test_an_input_entered_once_fills_the_other_scores(sessions) -> None:
    from continuum.initiation import candidacy
    from continuum.initiation.schemas import CandidacyIn

    murray = {"cxr_quadrants": 4, "pao2_mmhg": 55, "fio2": 1.0, "peep_cmh2o": 14}
    with unit_of_work(sessions) as db:
        ref = _referral(db)
        data = CandidacyIn(scores={"murray": murray, "preserve": PRESERVE_WITHOUT_PEEP})
        candidacy.save_candidacy(db, COORDINATOR, ref, data)
        assert ref.decision is not None
        alone = {v.name: v for v in candidacy.score_views(ref.decision, "pulmonary")}
        assert alone["preserve"].missing == ["bmi", "peep_cmh2o"]  # without sharing: missing
        shared = candidacy.shared_inputs(ref.decision, 70, 165, None)
        assert shared["peep_cmh2o"] == (14, "Murray")
        assert shared["bmi"] == (25.7, "patient's weight and height")
        views = {v.name: v for v in candidacy.score_views(ref.decision, "pulmonary", shared)}
        preserve = views["preserve"]
        assert preserve.result is not None and preserve.missing == []
        assert preserve.shared["peep_cmh2o"] == (14, "Murray")
        assert "age_years" not in preserve.shared  # entered in PRESERVE itself: its own value
        assert [v.name for v in views.values() if v.relevant] == ["murray", "resp", "preserve"]


def test_the_page_offers_relevant_scores_and_says_where_shared_values_come_from(web: Web) -> None:
    web.login("coordinator")
    form = {
        "murray.cxr_quadrants": "4",
        "murray.pao2_mmhg": "55",
        "murray.fio2": "1.0",
        "murray.peep_cmh2o": "14",
        **{f"preserve.{k}": str(v).lower() for k, v in PRESERVE_WITHOUT_PEEP.items()},
    }
    version = web.client.get("/api/v1/referrals/1").json()["decision"]["version"]
    r = web.post_form("/referrals/1/candidacy", {**form, "version": version}, page="/referrals/1")
    assert r.status_code == 303, r.text[:800]
    page = web.client.get("/referrals/1").text
    preserve = page[page.index('id="score-preserve"') :]
    preserve = preserve[: preserve.index('id="score-', 10)]
    assert "computed" in preserve and "Missing" not in preserve
    assert "blank: uses 14 from Murray" in preserve
    others = page[page.index('id="other-scores"') :]
    assert 'id="score-save"' in others  # SAVE: derived in another cohort
    assert page.index('id="score-murray"') < page.index('id="other-scores"')


def test_a_role_that_cannot_edit_sees_values_not_dead_inputs(web: Web) -> None:
    web.login("qa_lead")  # reads referrals, may not change them
    page = web.client.get("/referrals/1").text
    assert "Read-only for your role" in page
    section = page[page.index('id="candidacy-form"') : page.index('id="modality"')]
    assert 'name="murray.peep_cmh2o"' not in section and 'data-readonly="murray"' in section
    assert "Save candidacy" not in section
    for tag in re.findall(r"<(?:input|select|textarea)[^>]*>", section):
        if 'type="hidden"' not in tag:
            assert "disabled" in tag, tag
