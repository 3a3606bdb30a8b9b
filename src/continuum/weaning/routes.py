"""Weaning pages: history, readiness review, trial steps, decannulation checklist, settings."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from continuum import vocabulary
from continuum.core import observation_service, patient_service, run_service
from continuum.core.roles import Actor
from continuum.core.roles import Permission as P
from continuum.core.run_view import RunLink, add_run_link
from continuum.core.vocab import OUTCOME_LABELS
from continuum.errors import Conflict, FieldProblem, Forbidden, NotFound, ValidationFailed
from continuum.weaning import decannulation, history, readiness, trials
from continuum.weaning.api_routes import router as api_router
from continuum.weaning.protocols import PROTOCOLS
from continuum.weaning.schemas import (
    AssessmentIn,
    DecannulationIn,
    FollowUpDone,
    ReviewIn,
    SignIn,
    StepIn,
    TrialAbort,
    TrialFinish,
    TrialStart,
)
from continuum.weaning.settings_routes import router as settings_router
from continuum.web.deps import CurrentActor, DbSession, form_of, get_actor, require
from continuum.web.form_post import attempt
from continuum.web.pages import (
    add_template_dir,
    form_dict,
    parse_form,
    redirect,
    render,
)

add_template_dir(Path(__file__).parent / "templates")
add_run_link(RunLink("Weaning", "/runs/{run_id}/weaning", P.VIEW_CLINICAL, 40))
router = APIRouter(include_in_schema=False, dependencies=[Depends(get_actor)])
routers = [router, settings_router, api_router]
Problem = ValidationFailed | Conflict | Forbidden


def trial_url(trial: Any) -> str:
    return f"/runs/{trial.run_id}/weaning/trial?id={trial.id}"


def _who(db: DbSession, actor: Actor, patient_id: int) -> Any:
    return patient_service.identities(db, actor, [patient_id], "weaning page").get(patient_id)


def _values(request: Request, times: tuple[str, ...] = ()) -> dict[str, Any]:
    return form_dict(form_of(request), request.app.state.settings.zone, times)


def _attempt(db: DbSession, action: Callable[[], Any]) -> tuple[Any, Problem | None]:
    return attempt(db, action, (ValidationFailed, Conflict, Forbidden))  # type: ignore[return-value]


@router.get("/runs/{run_id}/weaning", dependencies=[require(P.VIEW_CLINICAL)])
def weaning_page(request: Request, run_id: int, db: DbSession, actor: CurrentActor) -> Response:
    return _weaning(request, db, actor, run_id)


def _weaning(
    request: Request,
    db: DbSession,
    actor: Actor,
    run_id: int,
    error: Problem | None = None,
    form: str | None = None,
    values: dict[str, Any] | None = None,
) -> Response:
    run = run_service.get_run(db, actor, run_id)
    data = history.history(db, actor, run)
    trial_list = trials.trials_for(db, run.id)
    fam = data["family"]
    return render(
        request,
        "weaning.html",
        actor,
        status_code=422 if error else 200,
        run=run,
        identity=_who(db, actor, run.patient_id),
        h=data,
        trials=trial_list,
        chart=history.trial_chart(db, run.id, trial_list, request.app.state.settings.zone),
        protocols=PROTOCOLS,
        kinds=[p for p in PROTOCOLS.values() if p.family == fam],
        live=readiness.review(db, actor, run),
        outcomes=OUTCOME_LABELS,
        error=error,
        error_form=form,
        values=values or {},
    )


@router.get("/runs/{run_id}/weaning/readiness", dependencies=[require(P.VIEW_CLINICAL)])
def readiness_page(request: Request, run_id: int, db: DbSession, actor: CurrentActor) -> Response:
    return _readiness(request, db, actor, run_id, None, {})


def _readiness(
    request: Request,
    db: DbSession,
    actor: Actor,
    run_id: int,
    error: Problem | None,
    values: dict[str, Any],
) -> Response:
    run = run_service.get_run(db, actor, run_id)
    return render(
        request,
        "weaning_readiness.html",
        actor,
        status_code=422 if error else 200,
        run=run,
        identity=_who(db, actor, run.patient_id),
        live=readiness.review(db, actor, run),
        error=error,
        values=values,
    )


@router.post("/runs/{run_id}/weaning/readiness", dependencies=[require(P.RUN_WEANING)])
def readiness_form(request: Request, run_id: int, db: DbSession, actor: CurrentActor) -> Response:
    values = _values(request)
    run = run_service.get_run(db, actor, run_id)
    _, err = _attempt(
        db, lambda: readiness.save_review(db, actor, run, parse_form(ReviewIn, values))
    )
    if err:
        return _readiness(request, db, actor, run_id, err, values)
    return redirect(f"/runs/{run_id}/weaning#reviews")


@router.post("/runs/{run_id}/weaning/trials", dependencies=[require(P.RUN_WEANING)])
def trial_form(request: Request, run_id: int, db: DbSession, actor: CurrentActor) -> Response:
    values = _values(request, ("started_at",))
    run = run_service.get_run(db, actor, run_id)
    trial, err = _attempt(
        db, lambda: trials.start_trial(db, actor, run, parse_form(TrialStart, values))
    )
    if err:
        return _weaning(request, db, actor, run_id, err, "trial", values)
    return redirect(trial_url(trial))


@router.get("/runs/{run_id}/weaning/trial", dependencies=[require(P.VIEW_CLINICAL)])
def trial_page(
    request: Request, run_id: int, db: DbSession, actor: CurrentActor, id: int | None = None
) -> Response:
    """One trial of the run (the latest when no id is given): the bedside page of a trial."""
    run = run_service.get_run(db, actor, run_id)
    if id is None:
        latest = trials.trials_for(db, run.id)
        if not latest:
            return redirect(f"/runs/{run_id}/weaning#trials")
        id = latest[-1].id
    trial = trials.get_trial(db, actor, id)
    if trial.run_id != run.id:
        raise NotFound(f"weaning trial {id} is not a trial of run {run_id}")
    return _trial(request, db, actor, trial.id)


def _trial(
    request: Request,
    db: DbSession,
    actor: Actor,
    trial_id: int,
    error: Problem | None = None,
    form: str | None = None,
    values: dict[str, Any] | None = None,
) -> Response:
    trial = trials.get_trial(db, actor, trial_id)
    run = run_service.get_run(db, actor, trial.run_id)
    protocol = PROTOCOLS[trial.kind]
    latest = {c: observation_service.latest(db, run.id, c) for c in protocol.measures}
    return render(
        request,
        "weaning_trial.html",
        actor,
        status_code=422 if error else 200,
        run=run,
        identity=_who(db, actor, run.patient_id),
        trial=trial,
        protocol=protocol,
        latest=latest,
        codes=vocabulary.CODES,
        safety=trials.circuit_safety(db, run, trial),
        chart=history.trial_chart(db, run.id, [trial], request.app.state.settings.zone),
        next_stage=_next_stage(trial),
        off_sweep=trials.off_sweep_minutes(trial),
        error=error,
        error_form=form,
        values=values or {},
    )


def _next_stage(trial: Any) -> str:
    stages = PROTOCOLS[trial.kind].stages
    if not trial.steps:
        return stages[0].key
    i = [s.key for s in stages].index(trial.steps[-1].stage)
    return stages[i].key if stages[i].repeatable else stages[min(i + 1, len(stages) - 1)].key


def step_from_form(values: dict[str, Any], measures: tuple[str, ...]) -> StepIn:
    numbers: dict[str, float] = {}
    problems = []
    for code in measures:
        raw = values.pop(code, None)
        if raw is None:
            continue
        try:
            numbers[code] = float(raw)
        except ValueError:
            problems.append(FieldProblem(code, f"'{raw}' is not a number", raw))
    if problems:
        raise ValidationFailed(problems)
    return parse_form(StepIn, {**values, "values": numbers})


def _trial_action(
    request: Request,
    db: DbSession,
    actor: Actor,
    trial_id: int,
    form: str,
    action: Callable[[Any, dict[str, Any]], Any],
    times: tuple[str, ...] = ("at",),
) -> Response:
    values = _values(request, times)
    trial = trials.get_trial(db, actor, trial_id)
    _, err = _attempt(db, lambda: action(trial, dict(values)))
    if err:
        return _trial(request, db, actor, trial_id, err, form, values)
    return redirect(f"{trial_url(trial)}#{form}")


@router.post("/weaning/trials/{trial_id}/steps", dependencies=[require(P.RUN_WEANING)])
def step_form(request: Request, trial_id: int, db: DbSession, actor: CurrentActor) -> Response:
    def act(trial: Any, v: dict[str, Any]) -> Any:
        return trials.add_step(db, actor, trial, step_from_form(v, PROTOCOLS[trial.kind].measures))

    return _trial_action(request, db, actor, trial_id, "step", act)


@router.post("/weaning/trials/{trial_id}/assessment", dependencies=[require(P.CIRCUIT_CHECK)])
def assessment_form(
    request: Request, trial_id: int, db: DbSession, actor: CurrentActor
) -> Response:
    def act(trial: Any, v: dict[str, Any]) -> Any:
        v.setdefault("flow_safe", "false")
        v.setdefault("anticoagulation_ok", "false")
        return trials.assess(db, actor, trial, parse_form(AssessmentIn, v))

    return _trial_action(request, db, actor, trial_id, "assessment", act, ())


@router.post("/weaning/trials/{trial_id}/finish", dependencies=[require(P.RUN_WEANING)])
def finish_form(request: Request, trial_id: int, db: DbSession, actor: CurrentActor) -> Response:
    def act(trial: Any, v: dict[str, Any]) -> Any:
        return trials.finish(db, actor, trial, parse_form(TrialFinish, v))

    return _trial_action(request, db, actor, trial_id, "finish", act)


@router.post("/weaning/trials/{trial_id}/abort", dependencies=[require(P.RUN_WEANING)])
def abort_form(request: Request, trial_id: int, db: DbSession, actor: CurrentActor) -> Response:
    def act(trial: Any, v: dict[str, Any]) -> Any:
        return trials.abort(db, actor, trial, parse_form(TrialAbort, v))

    return _trial_action(request, db, actor, trial_id, "abort", act)


@router.get("/runs/{run_id}/decannulation", dependencies=[require(P.VIEW_CLINICAL)])
def decannulation_page(
    request: Request, run_id: int, db: DbSession, actor: CurrentActor
) -> Response:
    return _decannulation(request, db, actor, run_id)


def _decannulation(
    request: Request,
    db: DbSession,
    actor: Actor,
    run_id: int,
    error: Problem | None = None,
    values: dict[str, Any] | None = None,
) -> Response:
    run = run_service.get_run(db, actor, run_id)
    return render(
        request,
        "weaning_decannulation.html",
        actor,
        status_code=422 if error else 200,
        run=run,
        identity=_who(db, actor, run.patient_id),
        checklists=decannulation.for_run(db, run.id),
        trials=trials.trials_for(db, run.id),
        passed=decannulation.last_passed_trial(db, run.id),
        coag=decannulation.coagulation_snapshot(db, run.id),
        follow_ups=decannulation.follow_ups(db, run.id),
        outcomes=OUTCOME_LABELS,
        error=error,
        values=values or {},
    )


@router.post("/runs/{run_id}/decannulation", dependencies=[require(P.RUN_WEANING)])
def decannulation_form(
    request: Request, run_id: int, db: DbSession, actor: CurrentActor
) -> Response:
    values = _values(request, ("decannulated_at", "anticoagulation_stopped_at"))
    run = run_service.get_run(db, actor, run_id)

    def act() -> Any:
        v = {"blood_products_available": "false", **values}
        return decannulation.create(db, actor, run, parse_form(DecannulationIn, v))

    _, err = _attempt(db, act)
    if err:
        return _decannulation(request, db, actor, run_id, err, values)
    return redirect(f"/runs/{run_id}/decannulation#sign")


@router.post("/weaning/decannulations/{item_id}/sign", dependencies=[require(P.SIGN_DECANNULATION)])
def sign_form(request: Request, item_id: int, db: DbSession, actor: CurrentActor) -> Response:
    values = _values(request)
    row = decannulation.get(db, actor, item_id)
    run_id = row.run_id
    _, err = _attempt(db, lambda: decannulation.sign(db, actor, row, parse_form(SignIn, values)))
    if err:
        if isinstance(err, Forbidden):
            raise err
        return _decannulation(request, db, actor, run_id, err, values)
    return redirect(f"/runs/{run_id}/decannulation#sign")


@router.post("/weaning/follow-ups/{item_id}/done", dependencies=[require(P.RUN_WEANING)])
def follow_up_form(request: Request, item_id: int, db: DbSession, actor: CurrentActor) -> Response:
    values = _values(request, ("at",))
    item, err = _attempt(
        db,
        lambda: decannulation.complete_follow_up(
            db, actor, item_id, parse_form(FollowUpDone, values)
        ),
    )
    if err:
        raise err
    return redirect(f"/runs/{item.run_id}/decannulation#follow-ups")
