"""Patients: create, find and show — identifiers only to roles that need them, reads audited."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from continuum.core import audit
from continuum.core.people import TEMPORARY_MRN_PREFIX, Patient, PatientIdentity
from continuum.core.roles import Actor, Permission
from continuum.core.schemas import PatientCreate, PatientDetails, PatientOut
from continuum.errors import Conflict, NotFound, ValidationFailed


def create_patient(session: Session, actor: Actor, data: PatientCreate) -> Patient:
    actor.require(Permission.CREATE_PATIENT)
    if data.mrn.upper().startswith(TEMPORARY_MRN_PREFIX):
        raise ValidationFailed(
            f"MRN {data.mrn}: the prefix {TEMPORARY_MRN_PREFIX} is kept for temporary identifiers",
            "mrn",
        )
    if session.scalar(select(PatientIdentity).where(PatientIdentity.mrn == data.mrn)):
        raise Conflict(f"a patient with MRN {data.mrn} already exists")
    patient = Patient(sex=data.sex, height_cm=data.height_cm, weight_kg=data.weight_kg)
    session.add(patient)
    session.flush()
    session.add(
        PatientIdentity(
            patient_id=patient.id, mrn=data.mrn, name=data.name, birth_date=data.birth_date
        )
    )
    audit.record(session, actor, "create", "patient", patient.id, patient.id)
    return patient


def create_with_temporary_mrn(session: Session, actor: Actor, data: PatientDetails) -> Patient:
    """An outside patient without a local MRN: registered under ``TMP-<id>`` (unique; the
    prefix marks it temporary) until ``confirm_mrn`` replaces it with the hospital's MRN."""
    actor.require(Permission.CREATE_PATIENT)
    patient = Patient(sex=data.sex, height_cm=data.height_cm, weight_kg=data.weight_kg)
    session.add(patient)
    session.flush()
    temporary = f"{TEMPORARY_MRN_PREFIX}{patient.id:06d}"
    session.add(
        PatientIdentity(
            patient_id=patient.id, mrn=temporary, name=data.name, birth_date=data.birth_date
        )
    )
    audit.record(session, actor, "create", "patient", patient.id, patient.id, {"mrn": "temporary"})
    return patient


def confirm_mrn(
    session: Session, actor: Actor, patient_id: int, mrn: str, reason: str
) -> PatientIdentity:
    """Replace a patient's temporary identifier by the hospital MRN: an amendment, audited
    with both values and the reason (the audit log keeps the temporary one). Refused when
    the MRN is not temporary, or the new MRN belongs to another patient (two records are
    never silently combined)."""
    actor.require(Permission.CREATE_PATIENT)
    actor.require(Permission.VIEW_IDENTIFIERS)
    identity = session.get(PatientIdentity, patient_id)
    if identity is None:
        raise NotFound(f"patient {patient_id} not found")
    if not identity.mrn_is_temporary:
        raise Conflict(f"patient {patient_id} already has a hospital MRN; it is not temporary")
    if mrn.upper().startswith(TEMPORARY_MRN_PREFIX):
        raise ValidationFailed(f"{mrn} is a temporary identifier, not a hospital MRN", "mrn")
    other = session.scalar(select(PatientIdentity).where(PatientIdentity.mrn == mrn))
    if other is not None:
        raise Conflict(
            f"MRN {mrn} already belongs to another patient record (P-{other.patient_id:04d}); "
            "the two records are not combined automatically — ask the records office"
        )
    before = identity.mrn
    identity.mrn = mrn
    session.flush()
    audit.record(
        session,
        actor,
        "amend_identifier",
        "patient",
        patient_id,
        patient_id,
        {"from": before, "to": mrn, "reason": reason},
    )
    return identity


def get_patient(session: Session, actor: Actor, patient_id: int) -> Patient:
    actor.require(Permission.VIEW_CLINICAL)
    patient = session.get(Patient, patient_id)
    if patient is None:
        raise NotFound(f"patient {patient_id} not found")
    return patient


def find_by_mrn(session: Session, actor: Actor, mrn: str) -> Patient:
    if not actor.can(Permission.FIND_BY_MRN):
        actor.require(Permission.VIEW_IDENTIFIERS)
    identity = session.scalar(select(PatientIdentity).where(PatientIdentity.mrn == mrn))
    if identity is None:
        raise NotFound(f"no patient with MRN {mrn}")
    audit.record(
        session,
        actor,
        "read_identifiers",
        "patient",
        identity.patient_id,
        identity.patient_id,
        {"by": "mrn"},
    )
    return session.get_one(Patient, identity.patient_id)


def identities(
    session: Session, actor: Actor, patient_ids: list[int], purpose: str
) -> dict[int, PatientIdentity]:
    """Identifiers for these patients if the actor may see them (each read audited), else {}."""
    if not actor.sees_identifiers or not patient_ids:
        return {}
    rows = session.scalars(
        select(PatientIdentity).where(PatientIdentity.patient_id.in_(set(patient_ids)))
    ).all()
    for row in rows:
        audit.record(
            session,
            actor,
            "read_identifiers",
            "patient",
            row.patient_id,
            row.patient_id,
            {"purpose": purpose},
        )
    return {row.patient_id: row for row in rows}


def patient_out(patient: Patient, identity: PatientIdentity | None) -> PatientOut:
    return PatientOut(
        id=patient.id,
        label=patient.label,
        sex=patient.sex,
        height_cm=patient.height_cm,
        weight_kg=patient.weight_kg,
        mrn=identity.mrn if identity else None,
        name=identity.name if identity else None,
        birth_date=identity.birth_date if identity else None,
        identifiers_hidden=identity is None,
    )


def list_patients(session: Session, actor: Actor, limit: int = 500) -> list[Patient]:
    actor.require(Permission.VIEW_CLINICAL)
    return list(session.scalars(select(Patient).order_by(Patient.id.desc()).limit(limit)))


def count_patients(session: Session) -> int:
    return session.scalar(select(func.count(Patient.id))) or 0
