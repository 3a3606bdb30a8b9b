"""Reassessing a signed deferral, on SQLite and PostgreSQL: a new decision record copied
from the deferred one (which stays as signed, as history), the referral back under
assessment, the refusals, the pages and the API."""

from __future__ import annotations

from typing import Any, TypeVar

import pytest
from sqlalchemy import select

from continuum.core.record import AuditEntry
from continuum.db import unit_of_work
from continuum.errors import Conflict, Forbidden, ValidationFailed
from continuum.initiation import candidacy, configuration, decision, modality, referral
from continuum.initiation.models import InitiationDecision, Referral
from continuum.initiation.schemas import (
    AmendmentIn,
    CandidacyIn,
    DecisionIn,
    SignIn,
    StartRunIn,
    StatusChange,
)
from continuum.initiation.view import as_json
from tests.conftest import VERSIONED, Web, if_match
from tests.initiation.test_initiation_service import (
    ARDS,
    COORDINATOR,
    NURSE,
    PERFUSIONIST,
    PHYSICIAN,
    PLAN,
    _referral,
)

DEFER = DecisionIn(outcome="defer", reasons="lactate 9 mmol/L: reassess in 6 h")
REASON = "lactate back: 2.1 mmol/L"
COPIED = (
    "checklist",
    "checklist_note",
    "score_inputs",
    "trial_inputs",
    "score_reason",
    "physiology",
    "recommended_mode",
    "chosen_mode",
    "choice_reason",
    "plan",
    "plan_by",
    "plan_at",
)
COLUMNS = [c.key for c in InitiationDecision.__table__.columns]
Row = TypeVar("Row")


def _get(db, model: type[Row], row_id: int) -> Row:  # type: ignore[no-untyped-def]
    row = db.get(model, row_id)
    assert row is not None
    return row


def _snapshot(d: InitiationDecision) -> dict[str, Any]:
    return {name: getattr(d, name) for name in COLUMNS}


def _deferred(db, mrn: str = "MRNR1", sign: bool = True) -> Referral:  # type: ignore[no-untyped-def]
    """A referral assessed (candidacy, modality, plan) and deferred, signed by the physician."""
    ref = _referral(db, mrn=mrn)
    referral.change_status(db, COORDINATOR, ref, StatusChange(status="under_assessment"))
    candidacy.save_candidacy(
        db,
        COORDINATOR,
        ref,
        CandidacyIn(
            checked=["pulmonary.hypoxaemia"],
            note="awaiting lactate",
            scores={"murray": {"cxr_quadrants": 4, "pao2_mmhg": 55, "fio2": 1.0, "peep_cmh2o": 14}},
            eolia={"fio2": 0.9, "peep_cmh2o": 14},
        ),
    )
    modality.save_modality(db, PHYSICIAN, ref, ARDS)
    configuration.save_plan(db, PERFUSIONIST, ref, PLAN)
    decision.add_participant(
        db, NURSE, ref, decision.ParticipantIn(staff_id=3, how="present", contribution="bedside")
    )
    decision.record_decision(db, PHYSICIAN, ref, DEFER)
    if sign:
        decision.sign(db, PHYSICIAN, ref, SignIn())
    return ref


def test_reassess_opens_a_copy_and_keeps_the_deferral(sessions) -> None:  # type: ignore[no-untyped-def]
    with unit_of_work(sessions) as db:
        ref = _deferred(db)
        decision.amend(db, COORDINATOR, ref, AmendmentIn(note="lactate sent at 10:05"))
        old = ref.decision
        assert old is not None and ref.status == "deferred"
        ref_id, old_id, before = ref.id, old.id, _snapshot(old)
        last_audit = db.scalar(select(AuditEntry.id).order_by(AuditEntry.id.desc()).limit(1))

    with unit_of_work(sessions) as db:
        ref = _get(db, Referral, ref_id)
        fresh = decision.reassess(db, PHYSICIAN, ref, f"  {REASON} ")
        fresh_id = fresh.id

    with unit_of_work(sessions) as db:
        ref = _get(db, Referral, ref_id)
        old, fresh = _get(db, InitiationDecision, old_id), _get(db, InitiationDecision, fresh_id)
        assert ref.status == "under_assessment"
        change = ref.changes[-1]
        assert (change.from_status, change.to_status, change.reason) == (
            "deferred",
            "under_assessment",
            REASON,
        )
        # the current decision is the new one; the deferral is history, unchanged
        assert ref.decision is fresh and ref.decisions == [old, fresh]
        assert ref.earlier_decisions == [old]
        assert _snapshot(old) == before
        assert old.outcome == "defer" and old.signed
        assert [a.note for a in old.amendments] == ["lactate sent at 10:05"]
        assert (fresh.sequence, fresh.supersedes_id, fresh.reassessment_reason) == (
            2,
            old_id,
            REASON,
        )
        assert {name: getattr(fresh, name) for name in COPIED} == {
            name: before[name] for name in COPIED
        }
        assert "pulmonary.hypoxaemia" in fresh.checklist and fresh.trial_inputs
        assert fresh.chosen_mode == old.chosen_mode and fresh.plan["flow_goal_low"] == 4.0
        assert fresh.outcome is None and fresh.reasons is None and fresh.decided_at is None
        assert not fresh.signed and fresh.run_id is None and fresh.amendments == []
        # participants stay on the record they took part in
        old_people = {(p.how, s.id) for p, s in decision.participants(db, old)}
        assert ("present", 3) in old_people and ("signed", 2) in old_people
        assert decision.participants(db, fresh) == []
        audits = list(db.scalars(select(AuditEntry).where(AuditEntry.id > last_audit)))
        assert [(a.action, a.entity, a.entity_id) for a in audits] == [
            ("update", "referral", str(ref_id)),
            ("reassess", "initiation_decision", str(fresh_id)),
        ]
        assert audits[1].detail == {"supersedes": old_id, "sequence": 2, "reason": REASON}
        assert (audits[0].detail or {}).get("from") == "deferred"
        record = as_json(db, PHYSICIAN, ref)
        assert record["decision"]["id"] == fresh_id and record["decision"]["sequence"] == 2
        assert record["decision"]["outcome"] is None
        assert record["decision"]["reassessment_reason"] == REASON
        [earlier] = record["earlier_decisions"]
        assert (earlier["id"], earlier["outcome"], earlier["reasons"]) == (
            old_id,
            "defer",
            DEFER.reasons,
        )
        assert earlier["physician_signed_by"] and earlier["physician_signed_at"]
        assert earlier["perfusionist_signed_at"] is None
        assert earlier["reassessment_reason"] == REASON
        assert [a["note"] for a in earlier["amendments"]] == ["lactate sent at 10:05"]

    # the new record is a normal, editable record: update, accept, sign, start the run
    with unit_of_work(sessions) as db:
        ref = _get(db, Referral, ref_id)
        changed = PLAN.model_copy(update={"flow_goal_low": 4.5})
        configuration.save_plan(db, PERFUSIONIST, ref, changed)
        decision.record_decision(
            db, PHYSICIAN, ref, DecisionIn(outcome="accept", reasons="lactate cleared")
        )
        decision.sign(db, PHYSICIAN, ref, SignIn())
        decision.sign(db, PERFUSIONIST, ref, SignIn())
        run = decision.start_run(db, PHYSICIAN, ref, StartRunIn(location="ICU 2"))
        run_id = run.id
    with unit_of_work(sessions) as db:
        ref = _get(db, Referral, ref_id)
        old, fresh = _get(db, InitiationDecision, old_id), _get(db, InitiationDecision, fresh_id)
        assert ref.status == "accepted" and ref.decision is fresh
        assert fresh.run_id == run_id and fresh.outcome == "accept"
        assert decision.decision_for_run(db, run_id) is fresh
        assert _snapshot(old) == before  # the copy was deep: the new plan is its own
        assert old.plan["flow_goal_low"] == 4.0 and fresh.plan["flow_goal_low"] == 4.5


def test_reassess_refusals(sessions) -> None:  # type: ignore[no-untyped-def]
    with unit_of_work(sessions) as db:
        open_ref = _referral(db, mrn="MRNR2")
        unsigned = _deferred(db, mrn="MRNR3", sign=False)
        signed = _deferred(db, mrn="MRNR4")
        ids = (open_ref.id, unsigned.id, signed.id)

    def attempt(ref_id: int, reason: str = REASON, actor=PHYSICIAN) -> None:  # type: ignore[no-untyped-def]
        with unit_of_work(sessions) as db:
            decision.reassess(db, actor, _get(db, Referral, ref_id), reason)

    with pytest.raises(
        Conflict, match="only a deferred referral can be reassessed; this one is new"
    ):
        attempt(ids[0])
    with pytest.raises(Conflict, match="the deferral is not signed yet"):
        attempt(ids[1])
    for blank in ("", "  ", "x"):
        with pytest.raises(ValidationFailed) as exc:
            attempt(ids[2], blank)
        assert exc.value.problems[0].field == "reason"
        assert "say why the referral is reassessed" in exc.value.problems[0].message
    for actor in (NURSE, COORDINATOR):
        with pytest.raises(Forbidden):
            attempt(ids[2], actor=actor)
    with (  # the plain status change would leave the signed deferral as the open record
        unit_of_work(sessions) as db,
        pytest.raises(Conflict, match="the deferral is signed: reassess the referral"),
    ):
        change = StatusChange(status="under_assessment", reason="lactate back")
        referral.change_status(db, COORDINATOR, _get(db, Referral, ids[2]), change)
    with unit_of_work(sessions) as db:  # an unsigned deferral may still move back
        referral.change_status(
            db, COORDINATOR, _get(db, Referral, ids[1]), StatusChange(status="under_assessment")
        )
        referral.change_status(
            db, COORDINATOR, _get(db, Referral, ids[1]), StatusChange(status="deferred", reason="x")
        )
    with unit_of_work(sessions) as db:  # nothing half-written by the refusals
        for ref_id, status in zip(ids, ("new", "deferred", "deferred"), strict=True):
            ref = _get(db, Referral, ref_id)
            assert ref.status == status and len(ref.decisions) <= 1
    attempt(ids[2])
    with pytest.raises(Conflict, match="this one is under assessment"):
        attempt(ids[2])  # twice: the new record is open, nothing to reassess
    with unit_of_work(sessions) as db:
        assert [d.sequence for d in _get(db, Referral, ids[2]).decisions] == [1, 2]


def test_reassess_twice_keeps_the_whole_history(sessions) -> None:  # type: ignore[no-untyped-def]
    with unit_of_work(sessions) as db:
        ref = _deferred(db, mrn="MRNR5")
        decision.reassess(db, PHYSICIAN, ref, REASON)
        decision.record_decision(
            db, PHYSICIAN, ref, DecisionIn(outcome="defer", reasons="lactate 4: wait for echo")
        )
        decision.sign(db, PERFUSIONIST, ref, SignIn())
        third = decision.reassess(db, PERFUSIONIST, ref, "echo done: LV fine")
        assert [d.sequence for d in ref.decisions] == [1, 2, 3] and ref.decision is third
        assert third.supersedes_id == ref.decisions[1].id
        history = as_json(db, PHYSICIAN, ref)["earlier_decisions"]
        assert [(h["sequence"], h["reasons"], h["reassessment_reason"]) for h in history] == [
            (1, DEFER.reasons, REASON),
            (2, "lactate 4: wait for echo", "echo done: LV fine"),
        ]
        assert history[1]["perfusionist_signed_by"] and history[1]["physician_signed_at"] is None


def _api(web: Web, path: str, body: dict[str, Any]):  # type: ignore[no-untyped-def]
    headers = {"X-CSRF-Token": web.csrf()}
    if VERSIONED.match(path):
        headers = if_match(web.client, path, headers)
    return web.client.post(path, json=body, headers=headers)


def test_reassess_on_the_page_and_the_api(web_any: Web) -> None:
    web = web_any
    web.login("physician")
    body = {
        "new_patient": {"mrn": "MRNRW1", "name": "Page Reassess", "sex": "male"},
        "referring_hospital": "District General",
        "referring_clinician": "Dr Far",
        "support_type": "pulmonary",
        "clinical_picture": "Severe ARDS",
    }
    r = _api(web, "/api/v1/referrals", body)
    assert r.status_code == 201, r.text
    rid = r.json()["referral"]["id"]
    page = f"/referrals/{rid}"
    assert "reassess-form" not in web.client.get(page).text
    r = _api(web, f"/api/v1{page}/decision", DEFER.model_dump())
    assert r.status_code == 200, r.text
    text = web.client.get(page).text
    assert "reassess-form" not in text  # not signed yet: the record can still be edited
    r = web.post_form(f"{page}/reassess", {"reason": REASON})
    assert r.status_code == 422 and "the deferral is not signed yet" in r.text
    assert web.post_form(f"{page}/sign", {}).status_code == 303
    text = web.client.get(page).text
    assert 'id="reassess-form"' in text and f'action="{page}/reassess"' in text
    assert "decision-history" not in text

    for role in ("coordinator", "nurse", "researcher"):
        web.login(role)
        assert 'id="reassess-form"' not in web.client.get(page).text
        assert web.post_form(f"{page}/reassess", {"reason": REASON}).status_code == 403
        assert _api(web, f"/api/v1{page}/reassess", {"reason": REASON}).status_code == 403

    web.login("physician")
    r = web.post_form(f"{page}/reassess", {"reason": ""})
    assert r.status_code == 422 and "reason" in r.text
    r = web.post_form(f"{page}/reassess", {"reason": REASON})
    assert r.status_code == 303 and r.headers["location"] == f"{page}#reassess"
    text = web.client.get(page).text
    assert 'id="reassess-form"' not in text and 'id="decision-form"' in text
    assert 'id="reassessment-note"' in text and REASON in text
    assert 'id="decision-history"' in text and 'id="history-1"' in text
    assert DEFER.reasons in text
    record = web.client.get(f"/api/v1{page}").json()
    assert record["referral"]["status"] == "under_assessment"
    assert record["decision"]["sequence"] == 2 and record["decision"]["outcome"] is None
    assert [h["outcome"] for h in record["earlier_decisions"]] == ["defer"]
    assert record["candidacy"]["checked"] == []  # copied as it was (nothing ticked)

    # the API: refused while under assessment, then a second deferral reassessed
    r = _api(web, f"/api/v1{page}/reassess", {"reason": REASON})
    assert r.status_code == 409 and "only a deferred referral" in r.text
    assert _api(web, f"/api/v1{page}/reassess", {}).status_code == 422
    assert _api(web, f"/api/v1{page}/decision", DEFER.model_dump()).status_code == 200
    assert _api(web, f"/api/v1{page}/sign", {}).status_code == 200
    r = _api(web, f"/api/v1{page}/reassess", {"reason": "second look"})
    assert r.status_code == 201, r.text
    record = r.json()
    assert record["decision"]["sequence"] == 3
    assert [h["sequence"] for h in record["earlier_decisions"]] == [1, 2]
