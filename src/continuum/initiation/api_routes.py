"""JSON API of the initiation record (contracts: same services as the pages)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header

from continuum.core import concurrency, patient_service, run_view
from continuum.core.roles import Permission as P
from continuum.core.schemas import ParticipantIn, RunSummaryOut
from continuum.core.settings_routes import (
    SettingGroupOut,
    SettingsIn,
    SettingsSaved,
    group_out,
    save_out,
)
from continuum.initiation import candidacy, configuration, decision, modality, referral, settings
from continuum.initiation.modality_rules import Physiology, recommend
from continuum.initiation.schemas import (
    AmendmentIn,
    CandidacyIn,
    DecisionIn,
    InitiationRecordOut,
    ModalityIn,
    PhysiologyIn,
    PlanIn,
    ReassessIn,
    Recommendation,
    ReferralCreate,
    ReferralOut,
    SignIn,
    StartRunIn,
    StatusChange,
)
from continuum.initiation.view import as_json, referral_json
from continuum.web.deps import CurrentActor, DbSession, get_actor, require

# The version of the decision record the client read (instead of "version" in the body).
IfMatch = Annotated[str | None, Header(alias="If-Match")]
router = APIRouter(prefix="/api/v1", tags=["initiation"], dependencies=[Depends(get_actor)])
RECORD = InitiationRecordOut  # what every referral endpoint answers: the whole record
Json = dict[str, Any]


@router.get(
    "/referrals", response_model=list[ReferralOut], dependencies=[require(P.VIEW_IDENTIFIERS)]
)
def list_referrals(db: DbSession, actor: CurrentActor) -> list[Json]:
    rows = referral.list_referrals(db, actor)
    ids = patient_service.identities(db, actor, [r.patient_id for r in rows], "referral list")
    return [referral_json(r, ids.get(r.patient_id)) for r in rows]


@router.post(
    "/referrals",
    status_code=201,
    response_model=RECORD,
    response_model_exclude_unset=True,
    dependencies=[require(P.MANAGE_REFERRAL)],
)
def create_referral(data: ReferralCreate, db: DbSession, actor: CurrentActor) -> Json:
    row = referral.create_referral(db, actor, data)
    db.flush()
    return as_json(db, actor, row)


@router.get(
    "/referrals/{referral_id}",
    response_model=RECORD,
    response_model_exclude_unset=True,
    dependencies=[require(P.VIEW_IDENTIFIERS)],
)
def get_record(referral_id: int, db: DbSession, actor: CurrentActor) -> Json:
    return as_json(db, actor, referral.get_referral(db, actor, referral_id))


def _then(db: DbSession, actor: CurrentActor, referral_id: int) -> Json:
    db.flush()
    return as_json(db, actor, referral.get_referral(db, actor, referral_id))


@router.post(
    "/referrals/{referral_id}/status",
    response_model=RECORD,
    response_model_exclude_unset=True,
    dependencies=[require(P.MANAGE_REFERRAL)],
)
def change_status(referral_id: int, data: StatusChange, db: DbSession, actor: CurrentActor) -> Json:
    referral.change_status(db, actor, referral.get_referral(db, actor, referral_id), data)
    return _then(db, actor, referral_id)


@router.post(
    "/referrals/{referral_id}/candidacy",
    response_model=RECORD,
    response_model_exclude_unset=True,
    dependencies=[require(P.MANAGE_REFERRAL)],
)
def save_candidacy(
    referral_id: int,
    data: CandidacyIn,
    db: DbSession,
    actor: CurrentActor,
    if_match: IfMatch = None,
) -> Json:
    data = concurrency.with_version(data, if_match, required=True)
    candidacy.save_candidacy(db, actor, referral.get_referral(db, actor, referral_id), data)
    return _then(db, actor, referral_id)


@router.post(
    "/referrals/{referral_id}/modality",
    response_model=RECORD,
    response_model_exclude_unset=True,
    dependencies=[require(P.MANAGE_REFERRAL)],
)
def save_modality(
    referral_id: int, data: ModalityIn, db: DbSession, actor: CurrentActor, if_match: IfMatch = None
) -> Json:
    data = concurrency.with_version(data, if_match, required=True)
    modality.save_modality(db, actor, referral.get_referral(db, actor, referral_id), data)
    return _then(db, actor, referral_id)


@router.post(
    "/referrals/{referral_id}/plan",
    response_model=RECORD,
    response_model_exclude_unset=True,
    dependencies=[require(P.MANAGE_CIRCUIT)],
)
def save_plan(
    referral_id: int, data: PlanIn, db: DbSession, actor: CurrentActor, if_match: IfMatch = None
) -> Json:
    data = concurrency.with_version(data, if_match, required=True)
    configuration.save_plan(db, actor, referral.get_referral(db, actor, referral_id), data)
    return _then(db, actor, referral_id)


@router.post(
    "/referrals/{referral_id}/participants",
    status_code=201,
    response_model=RECORD,
    response_model_exclude_unset=True,
    dependencies=[require(P.RECORD_PARTICIPATION)],
)
def add_participant(
    referral_id: int, data: ParticipantIn, db: DbSession, actor: CurrentActor
) -> Json:
    decision.add_participant(db, actor, referral.get_referral(db, actor, referral_id), data)
    return _then(db, actor, referral_id)


@router.post(
    "/referrals/{referral_id}/decision",
    response_model=RECORD,
    response_model_exclude_unset=True,
    dependencies=[require(P.SIGN_DECISION)],
)
def record_decision(
    referral_id: int, data: DecisionIn, db: DbSession, actor: CurrentActor, if_match: IfMatch = None
) -> Json:
    data = concurrency.with_version(data, if_match, required=True)
    decision.record_decision(db, actor, referral.get_referral(db, actor, referral_id), data)
    return _then(db, actor, referral_id)


@router.post(
    "/referrals/{referral_id}/sign",
    response_model=RECORD,
    response_model_exclude_unset=True,
    dependencies=[require(P.SIGN_DECISION)],
)
def sign(
    referral_id: int, data: SignIn, db: DbSession, actor: CurrentActor, if_match: IfMatch = None
) -> Json:
    data = concurrency.with_version(data, if_match, required=True)
    decision.sign(db, actor, referral.get_referral(db, actor, referral_id), data)
    return _then(db, actor, referral_id)


@router.post(
    "/referrals/{referral_id}/amendments",
    status_code=201,
    response_model=RECORD,
    response_model_exclude_unset=True,
    dependencies=[require(P.MANAGE_REFERRAL)],
)
def amend(referral_id: int, data: AmendmentIn, db: DbSession, actor: CurrentActor) -> Json:
    decision.amend(db, actor, referral.get_referral(db, actor, referral_id), data)
    return _then(db, actor, referral_id)


@router.post(
    "/referrals/{referral_id}/reassess",
    status_code=201,
    response_model=RECORD,
    response_model_exclude_unset=True,
    dependencies=[require(P.SIGN_DECISION)],
)
def reassess(referral_id: int, data: ReassessIn, db: DbSession, actor: CurrentActor) -> Json:
    """Reopen a signed deferral: a new decision record copied from it (history kept)."""
    decision.reassess(db, actor, referral.get_referral(db, actor, referral_id), data.reason)
    return _then(db, actor, referral_id)


@router.post(
    "/referrals/{referral_id}/start-run",
    status_code=201,
    response_model=RunSummaryOut,
    dependencies=[require(P.SIGN_DECISION)],
)
def start_run(referral_id: int, data: StartRunIn, db: DbSession, actor: CurrentActor) -> Json:
    run = decision.start_run(db, actor, referral.get_referral(db, actor, referral_id), data)
    db.flush()
    db.refresh(run)
    return run_view.summary(db, actor, run)


@router.post(
    "/modality/recommend", response_model=Recommendation, dependencies=[require(P.VIEW_CLINICAL)]
)
def recommend_mode(data: PhysiologyIn, actor: CurrentActor) -> Json:
    """The pure modality rules on a physiology, without storing anything."""
    advice = recommend(Physiology(**data.model_dump()))
    return {"recommended": advice.mode, "rules_fired": [vars(r) for r in advice.fired]}


@router.get("/initiation/settings")
def get_settings(db: DbSession, actor: CurrentActor) -> SettingGroupOut:
    """Former path of ``GET /api/v1/settings/initiation`` (same answer)."""
    return group_out(db, actor, settings.GROUP)


@router.post("/initiation/settings")
def save_settings(data: SettingsIn, db: DbSession, actor: CurrentActor) -> SettingsSaved:
    """Former path of ``PUT /api/v1/settings/initiation`` (same body and answer)."""
    return save_out(db, actor, settings.GROUP, data)
