"""Mechanical circulatory support pages (/runs/{id}/mcs, /mcs/{device}) and their JSON twins
under /api/v1. Typed reasons and notes are hidden from roles that do not read identifiers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from continuum import vocabulary
from continuum.core import free_text, patient_service, run_service
from continuum.core.roles import Actor
from continuum.core.roles import Permission as P
from continuum.core.run_record import Run
from continuum.core.run_view import RunLink, add_run_link
from continuum.core.schemas import Created, Stored
from continuum.db import utcnow
from continuum.errors import ContinuumError
from continuum.mcs import service
from continuum.mcs.models import (
    IABP_RATIOS,
    IMPELLA_MODELS,
    KIND_LABELS,
    METHOD_LABELS,
    POSITION_RESULTS,
    RESULT_LABELS,
    SIDE_LABELS,
    TIMING_RESULTS,
    McsCheck,
    McsDevice,
)
from continuum.mcs.schemas import (
    CheckIn,
    CheckOut,
    ConfigurationOut,
    DeviceChangeIn,
    DeviceIn,
    DeviceOut,
    DeviceView,
    LevelRangeOut,
    ReadingIn,
    ReadingOut,
    RunDevicesOut,
)
from continuum.surveillance import impella_levels
from continuum.web.deps import CurrentActor, DbSession, get_actor, require
from continuum.web.form_post import attempt, posted_values
from continuum.web.pages import add_template_dir, form_dict, parse_form, redirect, render

add_template_dir(Path(__file__).parent / "templates")
add_run_link(RunLink("Circulatory support devices", "/runs/{run_id}/mcs", P.VIEW_CLINICAL, 45))

pages = APIRouter(include_in_schema=False, dependencies=[Depends(get_actor)])
api = APIRouter(prefix="/api/v1", dependencies=[Depends(get_actor)], tags=["mcs"])
routers = [pages, api]
TIMES = ("inserted_at", "removed_at", "at")


# -- shapes --------------------------------------------------------------------------------


def device_out(actor: Actor, d: McsDevice) -> DeviceOut:
    return DeviceOut(
        id=d.id,
        device_id=d.number,
        run_id=d.run_id,
        kind=d.kind,
        kind_label=KIND_LABELS[d.kind],
        model=d.model,
        name=d.name,
        side=d.side,
        group=d.group,
        site=d.site,
        inserted_at=d.inserted_at,
        removed_at=d.removed_at,
        removal_reason=free_text.for_api(actor, d.removal_reason),
        in_place=service.in_place(d),
        follows_id=d.follows_id,
        reason=free_text.for_api(actor, d.reason),
        recorded_by=d.recorded_by,
        recorded_at=d.recorded_at,
    )


def check_out(actor: Actor, c: McsCheck, corrected: set[int]) -> CheckOut:
    return CheckOut(
        id=c.id,
        device_id=c.device_id,
        kind=c.kind,
        at=c.at,
        method=c.method,
        result=c.result,
        result_label=RESULT_LABELS[c.result],
        note=free_text.for_api(actor, c.note),
        corrects_id=c.corrects_id,
        reason=free_text.for_api(actor, c.reason),
        corrected=c.id in corrected,
        recorded_by=c.recorded_by,
        recorded_at=c.recorded_at,
    )


def _level(r: impella_levels.LevelRange) -> LevelRangeOut:
    return LevelRangeOut(p_level=r.p_level, low=r.low, high=r.high, rpm=r.rpm)


def _view(db: Session, actor: Actor, device: McsDevice) -> DeviceView:
    run = db.get_one(Run, device.run_id)
    found = service.checks(db, device)
    corrected = {c.corrects_id for c in found if c.corrects_id is not None}
    table = impella_levels.table_for(device.model) if device.kind == "impella" else None
    return DeviceView(
        device=device_out(actor, device),
        configuration=ConfigurationOut(**service.configuration(run, device)),
        versions=[device_out(actor, v) for v in service.versions(db, device.number)],
        checks=[check_out(actor, c, corrected) for c in found],
        readings=[ReadingOut(**r) for r in service.readings(db, device)],
        expected_table=None
        if table is None
        else [
            LevelRangeOut(p_level=r.p_level, low=r.low, high=r.high, rpm=r.rpm)
            for r in table.ranges
        ],
        table_source=None if table is None else table.source,
        codes=service.READING_CODES[device.kind],
    )


# -- API -----------------------------------------------------------------------------------


@api.get(
    "/runs/{run_id}/mcs", response_model=RunDevicesOut, dependencies=[require(P.VIEW_CLINICAL)]
)
def list_devices(run_id: int, db: DbSession, actor: CurrentActor) -> RunDevicesOut:
    """The run's devices beside the circuit (IABP, Impella, VADs), each in its version in force."""
    run = run_service.get_run(db, actor, run_id)
    mode = run_service.current_mode(run) or run.support_type
    return RunDevicesOut(
        run_id=run.id,
        run_mode=mode,
        devices=[device_out(actor, d) for d in service.run_devices(db, run.id)],
    )


@api.post(
    "/runs/{run_id}/mcs",
    status_code=201,
    response_model=DeviceOut,
    dependencies=[require(P.MANAGE_RUN)],
)
def create_device(run_id: int, data: DeviceIn, db: DbSession, actor: CurrentActor) -> DeviceOut:
    """Record a device inserted beside the circuit; on the clinical timeline."""
    run = run_service.get_run(db, actor, run_id)
    return device_out(actor, service.create(db, actor, run, data))


@api.get("/mcs/{device_id}", response_model=DeviceView, dependencies=[require(P.VIEW_CLINICAL)])
def get_device(device_id: int, db: DbSession, actor: CurrentActor) -> DeviceView:
    """A device: version in force and history, combined configuration, checks, readings and
    (Impella) the expected flow per P-level."""
    return _view(db, actor, service.get_device(db, actor, device_id))


@api.post(
    "/mcs/{device_id}/versions",
    status_code=201,
    response_model=DeviceOut,
    dependencies=[require(P.MANAGE_RUN)],
)
def change_device(
    device_id: int, data: DeviceChangeIn, db: DbSession, actor: CurrentActor
) -> DeviceOut:
    """A new version: a correction with its reason, or the removal (append-only)."""
    return device_out(actor, service.change(db, actor, device_id, data))


@api.post(
    "/mcs/{device_id}/readings",
    status_code=201,
    response_model=Stored,
    dependencies=[require(P.ENTER_OBSERVATION)],
)
def post_reading(device_id: int, data: ReadingIn, db: DbSession, actor: CurrentActor) -> Stored:
    """One moment's readings, stored as observations (surveillance follows)."""
    return Stored(stored=service.add_reading(db, actor, device_id, data))


@api.post(
    "/mcs/{device_id}/checks",
    status_code=201,
    response_model=Created,
    dependencies=[require(P.ENTER_OBSERVATION)],
)
def post_check(device_id: int, data: CheckIn, db: DbSession, actor: CurrentActor) -> Created:
    """A position check (any device) or an IABP timing check."""
    return Created(id=service.add_check(db, actor, device_id, data).id)


# -- pages ---------------------------------------------------------------------------------


def _local_now(request: Request) -> str:
    return utcnow().astimezone(request.app.state.settings.zone).strftime("%Y-%m-%dT%H:%M")


def _run_page(
    request: Request,
    db: Session,
    actor: Actor,
    run: Run,
    error: ContinuumError | None = None,
    values: dict[str, Any] | None = None,
) -> Response:
    ident = patient_service.identities(db, actor, [run.patient_id], "circulatory support")
    devices = service.run_devices(db, run.id)
    return render(
        request,
        "mcs_run.html",
        actor,
        status_code=error.status_code if error else 200,
        run=run,
        identity=ident.get(run.patient_id),
        mode=run_service.current_mode(run),
        devices=devices,
        configurations={d.number: service.configuration(run, d) for d in devices},
        in_place={d.number: service.in_place(d) for d in devices},
        kinds=KIND_LABELS,
        sides=SIDE_LABELS,
        impella_models=IMPELLA_MODELS,
        can_record=actor.can(P.MANAGE_RUN) and run.status != "ended",
        now_local=_local_now(request),
        error=error,
        values=values or {},
    )


def _device_page(
    request: Request,
    db: Session,
    actor: Actor,
    device_id: int,
    error: ContinuumError | None = None,
    values: dict[str, Any] | None = None,
) -> Response:
    device = service.get_device(db, actor, device_id)
    view = _view(db, actor, device)
    run = db.get_one(Run, device.run_id)
    ident = patient_service.identities(db, actor, [run.patient_id], "circulatory support")
    return render(
        request,
        "mcs_device.html",
        actor,
        status_code=error.status_code if error else 200,
        run=run,
        identity=ident.get(run.patient_id),
        device=device,
        view=view,
        latest=view.readings[0] if view.readings else None,
        kinds=KIND_LABELS,
        sides=SIDE_LABELS,
        methods=METHOD_LABELS,
        results=RESULT_LABELS,
        position_results=POSITION_RESULTS,
        timing_results=TIMING_RESULTS,
        ratios=list(IABP_RATIOS),
        ratio_of={v: k for k, v in IABP_RATIOS.items()},
        label=vocabulary.label,
        unit=lambda code: vocabulary.CODES[code].unit,
        can_change=actor.can(P.MANAGE_RUN) and run.status != "ended",
        can_enter=actor.can(P.ENTER_OBSERVATION) and run.status != "ended",
        in_place=service.in_place(device),
        now_local=_local_now(request),
        error=error,
        values=values or {},
    )


@pages.get("/runs/{run_id}/mcs", dependencies=[require(P.VIEW_CLINICAL)])
def run_devices_page(request: Request, run_id: int, db: DbSession, actor: CurrentActor) -> Response:
    return _run_page(request, db, actor, run_service.get_run(db, actor, run_id))


@pages.post("/runs/{run_id}/mcs", dependencies=[require(P.MANAGE_RUN)])
def create_device_form(
    request: Request, run_id: int, db: DbSession, actor: CurrentActor
) -> Response:
    run = run_service.get_run(db, actor, run_id)
    values = posted_values(request)
    zone = request.app.state.settings.zone

    def save() -> McsDevice:
        data = {k: v for k, v in values.items() if v not in ("", None)}
        if data.get("kind") == "impella":
            data["model"] = data.pop("impella_model", data.get("model"))
        data.pop("impella_model", None)
        if data.get("inserted_at"):
            data = form_dict(_Multi(data), zone, TIMES)
        return service.create(db, actor, run, parse_form(DeviceIn, data))

    row, problem = attempt(db, save)
    if problem or row is None:
        return _run_page(request, db, actor, db.get_one(Run, run.id), problem, values)
    return redirect(f"/mcs/{row.number}")


@pages.get("/mcs/{device_id}", dependencies=[require(P.VIEW_CLINICAL)])
def device_page(request: Request, device_id: int, db: DbSession, actor: CurrentActor) -> Response:
    return _device_page(request, db, actor, device_id)


def _post(request: Request, db: Session, actor: Actor, device_id: int, what: str) -> Response:
    values = posted_values(request)
    zone = request.app.state.settings.zone

    def save() -> Any:
        data = form_dict(_Multi({k: v for k, v in values.items() if k != "form"}), zone, TIMES)
        if what == "reading":
            return service.add_reading(db, actor, device_id, parse_form(ReadingIn, data))
        if what == "check":
            return service.add_check(db, actor, device_id, parse_form(CheckIn, data))
        return service.change(db, actor, device_id, parse_form(DeviceChangeIn, data))

    _, problem = attempt(db, save)
    if problem:
        return _device_page(request, db, actor, device_id, problem, values | {"form": what})
    return redirect(f"/mcs/{device_id}#{what}s")


@pages.post("/mcs/{device_id}/readings", dependencies=[require(P.ENTER_OBSERVATION)])
def reading_form(request: Request, device_id: int, db: DbSession, actor: CurrentActor) -> Response:
    return _post(request, db, actor, device_id, "reading")


@pages.post("/mcs/{device_id}/checks", dependencies=[require(P.ENTER_OBSERVATION)])
def check_form(request: Request, device_id: int, db: DbSession, actor: CurrentActor) -> Response:
    return _post(request, db, actor, device_id, "check")


@pages.post("/mcs/{device_id}/versions", dependencies=[require(P.MANAGE_RUN)])
def change_form(request: Request, device_id: int, db: DbSession, actor: CurrentActor) -> Response:
    return _post(request, db, actor, device_id, "version")


class _Multi(dict):  # type: ignore[type-arg]
    """A plain dict read like a form (``multi_items``) for ``form_dict``."""

    def multi_items(self) -> list[tuple[str, Any]]:
        return list(self.items())
