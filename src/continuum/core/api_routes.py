"""JSON API of the core record (/api/v1). Authenticated by default; roles checked in services."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from continuum.core import (
    accounts,
    free_text,
    observation_service,
    participation_service,
    patient_service,
    run_service,
    run_view,
)
from continuum.core.record import AuditEntry, Observation
from continuum.core.roles import Permission
from continuum.core.roles import Permission as P
from continuum.core.schemas import (
    AmendmentIn,
    AuditOut,
    CannulaCreate,
    ComponentCreate,
    Created,
    MeOut,
    ModeChange,
    ObservationBatch,
    ObservationDetail,
    ObservationOut,
    ParticipantIn,
    PatientCreate,
    PatientOut,
    RecordKind,
    RunCreate,
    RunEnd,
    RunEnded,
    RunListItem,
    RunSummaryOut,
    SeriesPoint,
    StaffOut,
    Stored,
)
from continuum.errors import NotFound
from continuum.web.deps import CurrentActor, DbSession, get_actor, require

router = APIRouter(prefix="/api/v1", dependencies=[Depends(get_actor)], tags=["core record"])
routers = [router]


class TokenRequest(BaseModel):
    # Omitted or your own id: a token for yourself. Another id: a service account's token,
    # issued by an administrator (a person's tokens are issued only by that person).
    staff_id: int | None = None
    label: str = Field(default="API token", max_length=200)


class TokenIssued(BaseModel):
    model_config = ConfigDict(extra="forbid")

    token: str = Field(description="the bearer token (only its hash is stored)")
    note: str = "Shown once: store it now. Send it as 'Authorization: Bearer <token>'."


@router.get("/me", response_model=MeOut)
def me(actor: CurrentActor) -> dict[str, Any]:
    """Who the token or session is: name, role, discipline and every permission held."""
    return {
        "staff_id": actor.staff_id,
        "name": actor.name,
        "role": actor.role,
        "discipline": actor.discipline,
        "permissions": sorted(p.value for p in Permission if actor.can(p)),
    }


@router.get("/patients", dependencies=[require(P.VIEW_CLINICAL)])
def list_patients(db: DbSession, actor: CurrentActor) -> list[PatientOut]:
    patients = patient_service.list_patients(db, actor)
    ids = patient_service.identities(db, actor, [p.id for p in patients], "patient list")
    return [patient_service.patient_out(p, ids.get(p.id)) for p in patients]


@router.post("/patients", status_code=201, dependencies=[require(P.CREATE_PATIENT)])
def create_patient(data: PatientCreate, db: DbSession, actor: CurrentActor) -> Created:
    return Created(id=patient_service.create_patient(db, actor, data).id)


@router.get("/patients/{patient_id}", dependencies=[require(P.VIEW_CLINICAL)])
def get_patient(patient_id: int, db: DbSession, actor: CurrentActor) -> PatientOut:
    patient = patient_service.get_patient(db, actor, patient_id)
    ids = patient_service.identities(db, actor, [patient.id], "patient record")
    return patient_service.patient_out(patient, ids.get(patient.id))


@router.get("/runs", response_model=list[RunListItem], dependencies=[require(P.VIEW_CLINICAL)])
def list_runs(db: DbSession, actor: CurrentActor) -> list[dict[str, Any]]:
    runs = run_service.list_runs(db, actor)
    return [
        {
            "id": r.id,
            "patient_id": r.patient_id,
            "support": r.support_type,
            "mode": run_service.current_mode(r),
            "status": r.status,
            "started_at": r.started_at.isoformat(),
            "ecmo_day": run_view.ecmo_day(r),
            "ended_at": r.ended_at.isoformat() if r.ended_at else None,
            "outcome": r.outcome,
        }
        for r in runs
    ]


@router.post("/runs", status_code=201, dependencies=[require(P.MANAGE_RUN)])
def start_run(data: RunCreate, db: DbSession, actor: CurrentActor) -> Created:
    return Created(id=run_service.start_run(db, actor, data).id)


@router.get("/runs/{run_id}", response_model=RunSummaryOut, dependencies=[require(P.VIEW_CLINICAL)])
def get_run(run_id: int, db: DbSession, actor: CurrentActor) -> dict[str, Any]:
    return run_view.summary(db, actor, run_service.get_run(db, actor, run_id))


@router.post("/runs/{run_id}/modes", status_code=201, dependencies=[require(P.MANAGE_RUN)])
def change_mode(run_id: int, data: ModeChange, db: DbSession, actor: CurrentActor) -> Created:
    run = run_service.get_run(db, actor, run_id)
    return Created(id=run_service.change_mode(db, actor, run, data).id)


@router.post("/runs/{run_id}/cannulas", status_code=201, dependencies=[require(P.MANAGE_RUN)])
def add_cannula(run_id: int, data: CannulaCreate, db: DbSession, actor: CurrentActor) -> Created:
    run = run_service.get_run(db, actor, run_id)
    return Created(id=run_service.add_cannula(db, actor, run, data).id)


@router.post("/runs/{run_id}/components", status_code=201, dependencies=[require(P.MANAGE_CIRCUIT)])
def add_component(
    run_id: int, data: ComponentCreate, db: DbSession, actor: CurrentActor
) -> Created:
    run = run_service.get_run(db, actor, run_id)
    return Created(id=run_service.add_component(db, actor, run, data).id)


@router.post("/runs/{run_id}/end", response_model=RunEnded, dependencies=[require(P.END_RUN)])
def end_run(run_id: int, data: RunEnd, db: DbSession, actor: CurrentActor) -> dict[str, Any]:
    run = run_service.end_run(db, actor, run_service.get_run(db, actor, run_id), data)
    return {"id": run.id, "status": run.status, "outcome": run.outcome}


@router.get(
    "/runs/{run_id}/observations",
    response_model=dict[str, list[SeriesPoint]],
    dependencies=[require(P.VIEW_CLINICAL)],
)
def get_observations(
    run_id: int,
    db: DbSession,
    actor: CurrentActor,
    code: Annotated[list[str], Query()],
    since: datetime | None = None,
    until: datetime | None = None,
) -> dict[str, list[list[Any]]]:
    """Each code asked for → its final values in the window as [time, value] pairs,
    oldest first, in the code's unit (docs/contracts.md §1)."""
    run_service.get_run(db, actor, run_id)
    return {
        c: [[t.isoformat(), v] for t, v in observation_service.series(db, run_id, c, since, until)]
        for c in code
    }


@router.post(
    "/runs/{run_id}/observations", status_code=201, dependencies=[require(P.ENTER_OBSERVATION)]
)
def add_observations(
    run_id: int, data: ObservationBatch, db: DbSession, actor: CurrentActor
) -> Stored:
    run = run_service.get_run(db, actor, run_id)
    return Stored(stored=observation_service.record_observations(db, actor, run, data.observations))


@router.post(
    "/observations/{observation_id}/amendments",
    status_code=201,
    dependencies=[require(P.AMEND_OBSERVATION)],
)
def amend_observation(
    observation_id: int, data: AmendmentIn, db: DbSession, actor: CurrentActor
) -> ObservationOut:
    new = observation_service.amend(db, actor, observation_id, data)
    return ObservationOut.model_validate(new, from_attributes=True)


@router.get(
    "/observations/{observation_id}",
    response_model=ObservationDetail,
    response_model_exclude_unset=True,  # "amendment" only when amended
    dependencies=[require(P.VIEW_CLINICAL)],
)
def get_observation(observation_id: int, db: DbSession, actor: CurrentActor) -> dict[str, Any]:
    actor.require(Permission.VIEW_CLINICAL)
    obs = db.get(Observation, observation_id)
    if obs is None:
        raise NotFound(f"observation {observation_id} not found")
    amendment = observation_service.amendments_for(db, [obs.id]).get(obs.id)
    out = ObservationOut.model_validate(obs, from_attributes=True).model_dump(mode="json")
    if amendment is not None:
        out["amendment"] = {
            "reason": free_text.for_api(actor, amendment.reason),
            "replacement_id": amendment.replacement_id,
            "amended_at": amendment.amended_at.isoformat(),
            "amended_by": amendment.amended_by,
        }
    return out


@router.post(
    "/runs/{run_id}/participants", status_code=201, dependencies=[require(P.RECORD_PARTICIPATION)]
)
def add_participant(
    run_id: int,
    data: ParticipantIn,
    db: DbSession,
    actor: CurrentActor,
    record_type: RecordKind = "run",
    record_id: int | None = None,
) -> Created:
    """Someone was present or consulted: entered by you, for anyone. Signatures are not
    entered here; they come from signing the record itself."""
    run = run_service.get_run(db, actor, run_id)
    row = participation_service.add_participant(
        db, actor, record_type, record_id or run.id, data, run_id=run.id
    )
    return Created(id=row.id)


@router.get("/staff", response_model=list[StaffOut])
def list_staff(db: DbSession, actor: CurrentActor) -> list[dict[str, Any]]:
    if not (actor.can(Permission.VIEW_CLINICAL) or actor.can(Permission.MANAGE_USERS)):
        actor.require(Permission.VIEW_CLINICAL)
    return [
        {"id": s.id, "name": s.name, "discipline": s.discipline, "role": s.role}
        for s in accounts.list_staff(db)
        if s.active
    ]


@router.post("/tokens", status_code=201)
def issue_token(data: TokenRequest, db: DbSession, actor: CurrentActor) -> TokenIssued:
    return TokenIssued(token=accounts.issue_token(db, actor, data.staff_id, data.label))


@router.get("/audit", response_model=list[AuditOut], dependencies=[require(P.VIEW_AUDIT)])
def audit_log(
    db: DbSession,
    actor: CurrentActor,
    limit: int = Query(100, ge=1, le=1000),
    patient_id: int | None = None,
) -> list[dict[str, Any]]:
    actor.require(Permission.VIEW_AUDIT)
    stmt = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if patient_id is not None:
        stmt = stmt.where(AuditEntry.patient_id == patient_id)
    return [
        {
            "id": a.id,
            "at": a.at.isoformat(),
            "actor": a.actor,
            "action": a.action,
            "entity": a.entity,
            "entity_id": a.entity_id,
            "patient_id": a.patient_id,
            "detail": a.detail,
            "client": a.client,
        }
        for a in db.scalars(stmt)
    ]
