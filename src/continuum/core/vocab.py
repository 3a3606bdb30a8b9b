"""Closed lists of the core record (stored as text; checked in the database too)."""

from __future__ import annotations

from continuum import support_configuration

ROLES = (
    "perfusionist",
    "physician",
    "nurse",
    "coordinator",
    "qa_lead",
    "researcher",
    "admin",
    "integration",
    "physician_lead",  # last: the seeded test staff keep their ids
)
DISCIPLINES = (
    "perfusion",
    "intensive_care",
    "cardiac_surgery",
    "cardiology",
    "anaesthesia",
    "nursing",
    "physiotherapy",
    "pharmacy",
    "other",
)
DISCIPLINE_LABELS = {
    "perfusion": "Perfusion",
    "intensive_care": "Intensive care",
    "cardiac_surgery": "Cardiac surgery",
    "cardiology": "Cardiology",
    "anaesthesia": "Anaesthesia",
    "nursing": "Nursing",
    "physiotherapy": "Physiotherapy",
    "pharmacy": "Pharmacy",
    "other": "Other",
}
SEXES = ("female", "male", "other", "unknown")
SUPPORT_TYPES = ("pulmonary", "cardiac", "ecpr")
MODES = support_configuration.MODES  # the one list, with what each mode is
RUN_STATUSES = ("active", "weaning", "ended")
OUTCOMES = (
    "weaned_recovered",
    "died_on_ecmo",
    "bridged_to_vad",
    "bridged_to_transplant",
    "transferred",
    "withdrawn",
)
CANNULA_ROLES = ("drainage", "return", "drainage_and_return", "distal_perfusion")
SIDES = ("left", "right", "midline")
COMPONENT_KINDS = ("console", "pump", "membrane_lung", "heater", "tubing_set")
COMPONENT_STOP_REASONS = (
    "end_of_run",
    "oxygenator_failure",
    "rising_transmembrane_gradient",
    "thrombus",
    "haemolysis",
    "device_malfunction",
    "air",
    "rupture",
    "end_of_product_life",
    "treatment_changed",
    "protocol",
    "other",
)
OBSERVATION_SOURCES = ("console", "hl7", "lab", "manual", "csv", "mqtt", "fhir", "simulator")
OBSERVATION_STATUSES = ("final", "superseded", "entered_in_error")
PARTICIPATION_HOW = ("present", "consulted", "signed")

OUTCOME_LABELS = {
    "weaned_recovered": "weaned / recovered",
    "died_on_ecmo": "died on ECMO",
    "bridged_to_vad": "bridged to VAD",
    "bridged_to_transplant": "bridged to transplant",
    "transferred": "transferred",
    "withdrawn": "support withdrawn",
}


def sql_in(column: str, values: tuple[str, ...]) -> str:
    """A CHECK constraint text: column IN (...)."""
    quoted = ", ".join("'" + v.replace("'", "''") + "'" for v in values)
    return f"{column} IN ({quoted})"
