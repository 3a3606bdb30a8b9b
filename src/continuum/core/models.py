"""Every core ORM model in one import (Alembic and other domains use this)."""

from continuum.core.clinical_event import ClinicalEvent
from continuum.core.people import ApiToken, LoginAttempt, Patient, PatientIdentity, Staff
from continuum.core.record import (
    AuditEntry,
    Observation,
    ObservationAmendment,
    Participation,
    ProgrammeSetting,
    RunTarget,
)
from continuum.core.run_record import Cannula, Circuit, Component, ModeSegment, Run

__all__ = [
    "ApiToken",
    "AuditEntry",
    "Cannula",
    "Circuit",
    "ClinicalEvent",
    "Component",
    "LoginAttempt",
    "ModeSegment",
    "Observation",
    "ObservationAmendment",
    "Participation",
    "Patient",
    "PatientIdentity",
    "ProgrammeSetting",
    "Run",
    "RunTarget",
    "Staff",
]
