"""What each role may do. One table, checked on every page and endpoint."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from continuum.errors import Forbidden


class Permission(StrEnum):
    VIEW_CLINICAL = "view_clinical"
    VIEW_IDENTIFIERS = "view_identifiers"
    CREATE_PATIENT = "create_patient"
    MANAGE_RUN = "manage_run"
    # Ending a run (last cannula out, or death) is a clinical act: the two who sign
    # decisions and decannulation (perfusionist, physician, physician lead), not the
    # coordinator and not an interface. docs/extending.md "Governance".
    END_RUN = "end_run"
    MANAGE_CIRCUIT = "manage_circuit"
    ENTER_OBSERVATION = "enter_observation"
    AMEND_OBSERVATION = "amend_observation"
    RECORD_PARTICIPATION = "record_participation"
    VIEW_AUDIT = "view_audit"
    MANAGE_USERS = "manage_users"
    # Clinical thresholds (surveillance, weaning, ECPR cut-offs): clinical leads only.
    MANAGE_CLINICAL_SETTINGS = "manage_clinical_settings"
    MANAGE_SETTINGS = "manage_clinical_settings"  # former name, an alias of the above
    ACKNOWLEDGE_ALERT = "acknowledge_alert"
    # Closing a critical circuit alert is a clinical judgement: perfusionist or physician
    # (the signers), not the coordinator or a nurse alone; they acknowledge it and hand over.
    RESOLVE_CRITICAL_ALERT = "resolve_critical_alert"
    INGEST_DATA = "ingest_data"
    MANAGE_INTEGRATION = "manage_integration"
    MANAGE_REFERRAL = "manage_referral"
    SIGN_DECISION = "sign_decision"
    RECORD_ROUND = "record_round"
    CIRCUIT_CHECK = "circuit_check"
    RUN_WEANING = "run_weaning"
    SIGN_DECANNULATION = "sign_decannulation"
    # A person issues API tokens for themself only (service accounts get theirs from IT).
    ISSUE_OWN_TOKEN = "issue_own_token"
    # Find a patient by MRN without reading identifiers (what an interface needs).
    FIND_BY_MRN = "find_by_mrn"
    # Quality: any clinician (and the coordinator and quality lead) records an adverse event;
    # the quality lead, coordinator and physician lead run M&M reviews and audits and set
    # harm and preventability by consensus; programme-level aggregated figures (metrics,
    # control charts) are open to every clinical role and to researchers (no identifiers).
    RECORD_ADVERSE_EVENT = "record_adverse_event"
    REVIEW_CASES = "review_cases"
    VIEW_QUALITY = "view_quality"
    # Research: build cohorts and export them de-identified (researcher, quality lead,
    # coordinator, physician lead); identified exports only for the clinical leads who
    # govern the record (quality lead, physician lead), and only with a stated purpose.
    EXPORT_DEIDENTIFIED = "export_deidentified"
    EXPORT_IDENTIFIED = "export_identified"
    # Registry: the perfusionist, physician, coordinator and leads confirm or correct a run's
    # ELSO-shaped record and mark it ready for submission; researchers read it de-identified.
    REVIEW_REGISTRY = "review_registry"
    # Study register: researchers and the leads (quality, physician) register studies, their
    # data requests, publications and authorship; anyone who may export reads it.
    MANAGE_STUDIES = "manage_studies"
    # Ambulation: every bedside clinician (physiotherapists hold the bedside-clinician role)
    # records a mobilisation session on a run.
    RECORD_AMBULATION = "record_ambulation"
    # Transport: a retrieval or transfer mission (its timeline, pre-departure checklist, events
    # in transit and handover) is recorded by the ECMO team on the mission: perfusionist /
    # ECMO specialist, physician (and lead), bedside clinician (nurse) and the coordinator.
    MANAGE_TRANSPORT = "manage_transport"
    # Competencies: the coordinator and the physician lead (the programme's educators) record
    # staff training; every clinician reads their own. Simulation training: the same
    # instructors start a training run, inject faults and sign off from the debrief.
    MANAGE_COMPETENCIES = "manage_competencies"
    VIEW_OWN_COMPETENCIES = "view_own_competencies"
    RUN_TRAINING = "run_training"


P = Permission
_CLINICIAN = {
    P.VIEW_CLINICAL, P.VIEW_IDENTIFIERS, P.ENTER_OBSERVATION, P.AMEND_OBSERVATION,
    P.RECORD_PARTICIPATION, P.ACKNOWLEDGE_ALERT, P.RECORD_ROUND, P.ISSUE_OWN_TOKEN,
    P.RECORD_ADVERSE_EVENT, P.VIEW_QUALITY,
    P.RECORD_AMBULATION,
}  # fmt: skip
# Perfusionist and physician: the two who sign decisions, trials and decannulation.
_SIGNER = {
    P.CREATE_PATIENT, P.MANAGE_RUN, P.MANAGE_CIRCUIT, P.INGEST_DATA, P.MANAGE_REFERRAL,
    P.SIGN_DECISION, P.CIRCUIT_CHECK, P.RUN_WEANING, P.SIGN_DECANNULATION, P.END_RUN,
    P.RESOLVE_CRITICAL_ALERT, P.REVIEW_REGISTRY,
}  # fmt: skip
ROLE_PERMISSIONS: dict[str, frozenset[Permission]] = {
    "perfusionist": frozenset(_CLINICIAN | _SIGNER),
    "physician": frozenset(_CLINICIAN | _SIGNER),
    "nurse": frozenset(_CLINICIAN),
    "coordinator": frozenset({
        P.VIEW_CLINICAL, P.VIEW_IDENTIFIERS, P.CREATE_PATIENT, P.MANAGE_RUN,
        P.RECORD_PARTICIPATION, P.MANAGE_REFERRAL, P.RECORD_ROUND, P.ACKNOWLEDGE_ALERT,
        P.ISSUE_OWN_TOKEN, P.RECORD_ADVERSE_EVENT, P.REVIEW_CASES, P.VIEW_QUALITY,
        P.EXPORT_DEIDENTIFIED,
        P.REVIEW_REGISTRY,
    }),
    # The physician lead (ECMO medical director) signs like a physician and, with the quality
    # lead, governs the programme's clinical thresholds.
    "physician_lead": frozenset(
        _CLINICIAN | _SIGNER | {P.MANAGE_CLINICAL_SETTINGS, P.REVIEW_CASES}
        | {P.EXPORT_DEIDENTIFIED, P.EXPORT_IDENTIFIED}
        | {P.MANAGE_STUDIES}
    ),
    "qa_lead": frozenset({
        P.VIEW_CLINICAL, P.VIEW_IDENTIFIERS, P.VIEW_AUDIT, P.MANAGE_CLINICAL_SETTINGS,
        P.ISSUE_OWN_TOKEN, P.RECORD_ADVERSE_EVENT, P.REVIEW_CASES, P.VIEW_QUALITY,
        P.EXPORT_DEIDENTIFIED, P.EXPORT_IDENTIFIED, P.REVIEW_REGISTRY,
        P.MANAGE_STUDIES,
    }),
    "researcher": frozenset({
        P.VIEW_CLINICAL, P.ISSUE_OWN_TOKEN, P.VIEW_QUALITY, P.EXPORT_DEIDENTIFIED,
        P.MANAGE_STUDIES,
    }),
    # IT: users, service-account tokens and integration settings (message-log retention);
    # not clinical ones.
    "admin": frozenset({
        P.VIEW_AUDIT, P.MANAGE_USERS, P.MANAGE_INTEGRATION, P.ISSUE_OWN_TOKEN,
    }),
    # A service account: sends data and finds patients by MRN, never reads names or birth
    # dates, never signs, never issues its own tokens (IT issues them).
    "integration": frozenset({
        P.VIEW_CLINICAL, P.FIND_BY_MRN, P.CREATE_PATIENT, P.MANAGE_RUN,
        P.ENTER_OBSERVATION, P.INGEST_DATA,
    }),
}  # fmt: skip

# Transport missions (see MANAGE_TRANSPORT): added to the roles that go on them.
for _role in ("perfusionist", "physician", "physician_lead", "nurse", "coordinator"):
    ROLE_PERMISSIONS[_role] = ROLE_PERMISSIONS[_role] | {P.MANAGE_TRANSPORT}
# Competencies and simulation training (core.competencies, continuum.training).
_TRAINING_EXTRA: dict[str, set[Permission]] = {
    "perfusionist": {P.VIEW_OWN_COMPETENCIES},
    "physician": {P.VIEW_OWN_COMPETENCIES},
    "nurse": {P.VIEW_OWN_COMPETENCIES},
    "coordinator": {P.VIEW_OWN_COMPETENCIES, P.MANAGE_COMPETENCIES, P.RUN_TRAINING},
    "physician_lead": {P.VIEW_OWN_COMPETENCIES, P.MANAGE_COMPETENCIES, P.RUN_TRAINING},
    "qa_lead": {P.VIEW_OWN_COMPETENCIES},
}
ROLE_PERMISSIONS = {
    role: frozenset(perms | _TRAINING_EXTRA.get(role, set()))
    for role, perms in ROLE_PERMISSIONS.items()
}

ROLE_LABELS = {
    "perfusionist": "Perfusionist / ECMO specialist",
    "physician": "Physician (intensivist, surgeon, cardiologist)",
    "physician_lead": "Physician lead (ECMO medical director)",
    # Bedside clinicians of any discipline (nursing, pharmacy, physiotherapy): the
    # discipline says which; the role says what they may do.
    "nurse": "Bedside clinician (nurse, pharmacist, physiotherapist)",
    "coordinator": "ECMO coordinator",
    "qa_lead": "Quality lead",
    "researcher": "Researcher (de-identified)",
    "admin": "Administrator (IT)",
    "integration": "Integration (device / EHR interface)",
}


# Where each role lands after logging in (and at "/"): a page the role may open.
# An interface account has no clinical pages: its account (the tokens IT issued it) with the
# link to the API documentation. A researcher reads runs de-identified, never the live board.
START_PAGES = {
    "admin": "/admin/users",
    "integration": "/account",
    "researcher": "/runs",
}
CLINICAL_START = "/rounds"  # clinicians, coordinator and quality lead: the rounds board


def start_page(role: str) -> str:
    return START_PAGES.get(role, CLINICAL_START)


# What a refused permission reads as ("the admin role may not view clinical records").
PERMISSION_WORDS = {
    P.VIEW_CLINICAL: "view clinical records",
    P.VIEW_IDENTIFIERS: "see patient identifiers",
    P.CREATE_PATIENT: "add patients",
    P.MANAGE_RUN: "manage runs",
    P.END_RUN: "end a run",
    P.MANAGE_CIRCUIT: "change circuit components",
    P.ENTER_OBSERVATION: "enter values",
    P.AMEND_OBSERVATION: "amend values",
    P.VIEW_AUDIT: "read the audit log",
    P.MANAGE_USERS: "manage users",
    P.MANAGE_CLINICAL_SETTINGS: "change clinical thresholds",
    P.MANAGE_INTEGRATION: "manage integration settings",
    P.INGEST_DATA: "import device data",
    P.MANAGE_REFERRAL: "manage referrals",
    P.RUN_WEANING: "run weaning trials",
    P.ISSUE_OWN_TOKEN: "issue API tokens",
    P.FIND_BY_MRN: "find patients by MRN",
    P.EXPORT_DEIDENTIFIED: "build cohorts or export research data",
    P.EXPORT_IDENTIFIED: "export identified data",
    P.MANAGE_STUDIES: "register studies, publications or analyses",
    P.MANAGE_COMPETENCIES: "manage staff competencies",
    P.VIEW_OWN_COMPETENCIES: "hold ECMO competencies",
    P.RUN_TRAINING: "run simulation training",
    P.RECORD_ADVERSE_EVENT: "read or record adverse events one by one "
    "(the counts are at /quality/events/summary)",
    P.RECORD_AMBULATION: "record ambulation or physiotherapy sessions",
}


PERMISSION_WORDS[P.MANAGE_TRANSPORT] = "record transport missions"


def refusal(role: str, permission: Permission) -> str:
    words = PERMISSION_WORDS.get(permission, permission.value.replace("_", " "))
    return f"the {role} role may not {words}"


# A role that signs a two-person sign-off in another role's place (decision, decannulation).
SIGNS_AS = {"physician_lead": "physician"}


@dataclass(frozen=True)
class Actor:
    """Who is acting: a logged-in user, an API token, or the command line."""

    staff_id: int | None
    name: str
    role: str
    discipline: str = "other"
    client: str = "local"

    def can(self, permission: Permission) -> bool:
        return permission in ROLE_PERMISSIONS.get(self.role, frozenset())

    def require(self, permission: Permission) -> None:
        if not self.can(permission):
            raise Forbidden(refusal(self.role, permission))

    @property
    def signing_role(self) -> str:
        """The part this actor signs in a two-person sign-off (a physician lead: physician)."""
        return SIGNS_AS.get(self.role, self.role)

    @property
    def sees_identifiers(self) -> bool:
        return self.can(Permission.VIEW_IDENTIFIERS)


SYSTEM = Actor(staff_id=None, name="command line", role="admin", client="cli")
# The command line acts with full clinical rights: it runs on the server by an operator.
CLI_ACTOR = Actor(staff_id=None, name="command line", role="integration", client="cli")
