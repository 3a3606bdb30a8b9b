"""Closed lists of an M&M review (pure data: no database, no web).

Contributory factors follow the London Protocol's groups (Vincent and Taylor-Adams; revised
edition 2025) with the ECMO additions a programme review needs (a console or component
fault, alarm configuration, the anticoagulation protocol, transport equipment, perfusion
coverage). Cause classes are those used with anonymous electronic voting at a surgical M&M
(patient's disease, management, technical, misadventure). Sources and provenance:
docs/clinical/reference.md §7.9.
"""

from __future__ import annotations

# London Protocol contributory-factor groups, then the ECMO additions (marked "ECMO: ").
FACTOR_GROUP_LABELS: dict[str, str] = {
    "patient": "Patient (condition, communication, social)",
    "individual_staff": "Individual staff (knowledge, skills, competence, health)",
    "task_technology": "Task and technology (task design, protocols, test results, decision aids)",
    "team": "Team (communication, supervision and help, structure)",
    "work_environment": "Work environment (staffing, workload, equipment, physical environment)",
    "organisation_management": "Organisation and management (resources, policy, safety culture)",
    "institutional_context": "Institutional context",
    "ecmo_component_fault": "ECMO: console or component fault (serial, lot, UDI)",
    "ecmo_alarm_configuration": "ECMO: alarm configuration",
    "ecmo_anticoagulation_protocol": "ECMO: anticoagulation protocol",
    "ecmo_transport_equipment": "ECMO: transport equipment",
    "ecmo_perfusion_coverage": "ECMO: perfusion coverage",
}
FACTOR_GROUPS: tuple[str, ...] = tuple(FACTOR_GROUP_LABELS)
LONDON_PROTOCOL_GROUPS: tuple[str, ...] = FACTOR_GROUPS[:7]
ECMO_GROUPS: tuple[str, ...] = FACTOR_GROUPS[7:]

CAUSE_CLASS_LABELS: dict[str, str] = {
    "disease": "Patient's disease",
    "management": "Management",
    "technical": "Technical",
    "misadventure": "Misadventure",
}
CAUSE_CLASSES: tuple[str, ...] = tuple(CAUSE_CLASS_LABELS)

ACTION_STATUS_LABELS: dict[str, str] = {"open": "Open", "done": "Done"}
ACTION_STATUSES: tuple[str, ...] = tuple(ACTION_STATUS_LABELS)

REVIEW_STATUSES: tuple[str, ...] = ("draft", "signed")

# Fields of a signed review that an amendment may change (a signed review is not edited).
AMENDABLE_FIELDS: tuple[str, ...] = ("summary", "cause_class", "lessons")

MAX_TEXT = 4000


def factor_label(group: str) -> str:
    return FACTOR_GROUP_LABELS.get(group, group.replace("_", " "))


def cause_label(cause: str | None) -> str:
    if cause is None:
        return "not agreed"
    return CAUSE_CLASS_LABELS.get(cause, cause)


def tally_leader(tally: dict[str, int]) -> str | None:
    """The cause class with most votes, or None when there are none or a tie at the top."""
    if not tally or max(tally.values()) == 0:
        return None
    top = max(tally.values())
    leaders = [c for c, n in tally.items() if n == top]
    return leaders[0] if len(leaders) == 1 else None
