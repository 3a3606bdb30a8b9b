"""JSON API of weaning (/api/v1). Roles declared on each route and checked in the services."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from continuum.core import run_service
from continuum.core.roles import Permission as P
from continuum.core.schemas import Created
from continuum.weaning import decannulation, history, readiness, trials
from continuum.weaning.schemas import (
    AssessmentIn,
    DecannulationIn,
    FollowUpDone,
    ReadinessOut,
    ReviewIn,
    Signed,
    SignIn,
    StepIn,
    StepOut,
    TrialAbort,
    TrialFinish,
    TrialStart,
    WeaningHistoryOut,
)
from continuum.web.deps import CurrentActor, DbSession, get_actor, require

router = APIRouter(prefix="/api/v1", dependencies=[Depends(get_actor)], tags=["weaning"])


@router.get(
    "/runs/{run_id}/weaning",
    response_model=WeaningHistoryOut,
    response_model_exclude_unset=True,
    dependencies=[require(P.VIEW_CLINICAL)],
)
def weaning_history(run_id: int, db: DbSession, actor: CurrentActor) -> dict[str, Any]:
    return history.history(db, actor, run_service.get_run(db, actor, run_id))


@router.get(
    "/runs/{run_id}/weaning/readiness",
    response_model=ReadinessOut,
    response_model_exclude_unset=True,
    dependencies=[require(P.VIEW_CLINICAL)],
)
def live_readiness(run_id: int, db: DbSession, actor: CurrentActor) -> dict[str, Any]:
    return readiness.review(db, actor, run_service.get_run(db, actor, run_id))


@router.post(
    "/runs/{run_id}/weaning/readiness", status_code=201, dependencies=[require(P.RUN_WEANING)]
)
def save_readiness(run_id: int, data: ReviewIn, db: DbSession, actor: CurrentActor) -> Created:
    run = run_service.get_run(db, actor, run_id)
    return Created(id=readiness.save_review(db, actor, run, data).id)


@router.post(
    "/runs/{run_id}/weaning/trials", status_code=201, dependencies=[require(P.RUN_WEANING)]
)
def start_trial(run_id: int, data: TrialStart, db: DbSession, actor: CurrentActor) -> Created:
    run = run_service.get_run(db, actor, run_id)
    return Created(id=trials.start_trial(db, actor, run, data).id)


@router.post(
    "/weaning/trials/{trial_id}/steps",
    status_code=201,
    response_model=StepOut,
    response_model_exclude_unset=True,
    dependencies=[require(P.RUN_WEANING)],
)
def add_step(trial_id: int, data: StepIn, db: DbSession, actor: CurrentActor) -> dict[str, Any]:
    step = trials.add_step(db, actor, trials.get_trial(db, actor, trial_id), data)
    return {"id": step.id, "seq": step.seq, "stage": step.stage, "judged": step.judged}


@router.post("/weaning/trials/{trial_id}/assessment", dependencies=[require(P.CIRCUIT_CHECK)])
def assess(trial_id: int, data: AssessmentIn, db: DbSession, actor: CurrentActor) -> Created:
    trials.assess(db, actor, trials.get_trial(db, actor, trial_id), data)
    return Created(id=trial_id)


@router.post("/weaning/trials/{trial_id}/finish", dependencies=[require(P.RUN_WEANING)])
def finish(trial_id: int, data: TrialFinish, db: DbSession, actor: CurrentActor) -> Created:
    trials.finish(db, actor, trials.get_trial(db, actor, trial_id), data)
    return Created(id=trial_id)


@router.post("/weaning/trials/{trial_id}/abort", dependencies=[require(P.RUN_WEANING)])
def abort(trial_id: int, data: TrialAbort, db: DbSession, actor: CurrentActor) -> Created:
    trials.abort(db, actor, trials.get_trial(db, actor, trial_id), data)
    return Created(id=trial_id)


@router.post("/runs/{run_id}/decannulation", status_code=201, dependencies=[require(P.RUN_WEANING)])
def create_decannulation(
    run_id: int, data: DecannulationIn, db: DbSession, actor: CurrentActor
) -> Created:
    run = run_service.get_run(db, actor, run_id)
    return Created(id=decannulation.create(db, actor, run, data).id)


@router.post("/weaning/decannulations/{item_id}/sign", dependencies=[require(P.SIGN_DECANNULATION)])
def sign(item_id: int, data: SignIn, db: DbSession, actor: CurrentActor) -> Signed:
    row = decannulation.get(db, actor, item_id)
    ended = decannulation.sign(db, actor, row, data)
    return Signed(signed=row.signed, run_ended=ended)


@router.post("/weaning/follow-ups/{item_id}/done", dependencies=[require(P.RUN_WEANING)])
def follow_up_done(item_id: int, data: FollowUpDone, db: DbSession, actor: CurrentActor) -> Created:
    return Created(id=decannulation.complete_follow_up(db, actor, item_id, data).id)
