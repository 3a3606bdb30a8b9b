"""The adverse-event taxonomy: our own codes, grouped by category, each mapped (where a
mapping is known) to the ELSO registry complication code and the ECLS-CDM (OMOP)
complication concept. Pure data: no database, no web.

The ELSO codes are an external, versioned code system: a registry release can renumber
them, so the mapping names the code set it was taken from (``ELSO_CODE_SET``). A code of
ours with no ELSO equivalent maps to ``None`` and exports report it as unmapped; nothing
is guessed. Sources and provenance: docs/clinical/reference.md, "Adverse events".
"""

from __future__ import annotations

from dataclasses import dataclass

ELSO_CODE_SET = "ELSO complication codes, partial list as published in a registry analysis"
ELSO_CODE_SET_VERSION = "elso-partial-1"
ECLS_CDM_VERSION = "ECLS-CDM complication concepts (OMOP extension)"

CATEGORY_LABELS: dict[str, str] = {
    "mechanical": "Mechanical / circuit",
    "haemorrhagic": "Haemorrhagic",
    "neurological": "Neurological",
    "renal": "Renal",
    "cardiovascular": "Cardiovascular",
    "pulmonary": "Pulmonary",
    "infectious": "Infectious",
    "metabolic": "Metabolic / haemolysis",
    "limb": "Limb",
    "other": "Other",
}
CATEGORIES: tuple[str, ...] = tuple(CATEGORY_LABELS)

# AHRQ Common Formats event classes.
EVENT_CLASS_LABELS: dict[str, str] = {
    "incident": "Incident (reached the patient)",
    "near_miss": "Near miss (did not reach the patient)",
    "unsafe_condition": "Unsafe condition",
}
EVENT_CLASSES: tuple[str, ...] = tuple(EVENT_CLASS_LABELS)

HARM_LABELS: dict[str, str] = {
    "none": "None",
    "mild": "Mild",
    "moderate": "Moderate",
    "severe": "Severe",
    "death": "Death",
    "insufficient_detail": "Insufficient detail to rate",
}
HARMS: tuple[str, ...] = tuple(HARM_LABELS)

PREVENTABILITY_LABELS: dict[str, str] = {
    "not_preventable": "Not preventable",
    "possibly": "Possibly preventable",
    "probably": "Probably preventable",
    "definitely": "Definitely preventable",
}
PREVENTABILITIES: tuple[str, ...] = tuple(PREVENTABILITY_LABELS)

DETECTION_LABELS: dict[str, str] = {
    "alert": "Surveillance alert",
    "circuit_check": "Circuit check",
    "round": "Rounds",
    "bedside": "At the bedside",
    "weaning": "Weaning trial",
    "retrospective": "Retrospective review",
}
DETECTIONS: tuple[str, ...] = tuple(DETECTION_LABELS)

# The records an event can be raised from ("record as adverse event" pre-filled).
SOURCE_LABELS: dict[str, str] = {
    "alert": "Alert",
    "circuit_check": "Circuit check",
    "component": "Component change",
    "weaning_trial": "Weaning trial",
    "transfusion": "Transfusion",
    "round": "Round",
}
SOURCES: tuple[str, ...] = tuple(SOURCE_LABELS)

# Circuit part involved (the component kinds of the core record, plus cannula and circuit).
PART_LABELS: dict[str, str] = {
    "membrane_lung": "Membrane lung",
    "pump": "Pump",
    "console": "Console",
    "heater": "Heater / heat exchanger",
    "tubing_set": "Tubing / circuit",
    "cannula": "Cannula",
    "haemofilter": "Haemofilter",
}


@dataclass(frozen=True)
class EventCode:
    code: str
    category: str
    label: str
    elso: int | None = None  # ELSO complication code (ELSO_CODE_SET), None = unmapped
    ecls_cdm: int | None = None  # OMOP concept id (ECLS-CDM), None = unmapped
    part: str | None = None  # circuit part the event concerns, when it is a circuit event


_C = EventCode
CODES: tuple[EventCode, ...] = (
    # Mechanical / circuit, by part
    _C(
        "mech_ml_failure",
        "mechanical",
        "Membrane lung failure (gas exchange)",
        101,
        36717820,
        "membrane_lung",
    ),
    _C("mech_ml_clot", "mechanical", "Clot in the membrane lung", 116, 36717836, "membrane_lung"),
    _C(
        "mech_ml_rising_gradient",
        "mechanical",
        "Rising membrane-lung pressure drop",
        None,
        36717815,
        "membrane_lung",
    ),
    _C("mech_pump_failure", "mechanical", "Pump failure", 104, 36717839, "pump"),
    _C("mech_pump_clot", "mechanical", "Pump-head thrombosis", 116, 36717833, "pump"),
    _C("mech_console_failure", "mechanical", "Console failure", None, 36717843, "console"),
    _C("mech_heater_failure", "mechanical", "Heat exchanger malfunction", 105, 36717840, "heater"),
    _C("mech_raceway_rupture", "mechanical", "Raceway rupture", 102, 36717846, "tubing_set"),
    _C("mech_tubing_rupture", "mechanical", "Other tubing rupture", 103, 36717845, "tubing_set"),
    _C(
        "mech_circuit_clot",
        "mechanical",
        "Clot in a circuit component",
        116,
        36717834,
        "tubing_set",
    ),
    _C(
        "mech_connector_crack",
        "mechanical",
        "Crack in a pigtail connector",
        122,
        36717844,
        "tubing_set",
    ),
    _C("mech_haemofilter_clot", "mechanical", "Clot in the haemofilter", 114, None, "haemofilter"),
    _C("mech_air", "mechanical", "Air in the circuit", 121, 36717816, "tubing_set"),
    _C(
        "mech_access_obstruction",
        "mechanical",
        "Access insufficiency / acute obstruction to flow",
        None,
        36717814,
        "cannula",
    ),
    _C("mech_cannula_problem", "mechanical", "Cannula problem", 131, None, "cannula"),
    _C("mech_cannula_misplacement", "mechanical", "Cannula misplacement", 131, 36717818, "cannula"),
    _C("mech_cannula_dislodgement", "mechanical", "Cannula dislodgement", 131, 740912, "cannula"),
    _C(
        "mech_recirculation",
        "mechanical",
        "Recirculation needing a change",
        None,
        36717821,
        "cannula",
    ),
    _C("mech_circuit_change", "mechanical", "Circuit change", 132, None, "tubing_set"),
    # Haemorrhagic
    _C("haem_gi", "haemorrhagic", "Gastrointestinal haemorrhage", 201),
    _C("haem_surgical_site", "haemorrhagic", "Surgical site bleeding", 203),
    _C(
        "haem_peripheral_cannula_site",
        "haemorrhagic",
        "Peripheral cannulation site bleeding",
        222,
        36717817,
        "cannula",
    ),
    _C(
        "haem_mediastinal_cannula_site",
        "haemorrhagic",
        "Mediastinal cannulation site bleeding",
        223,
        36717817,
        "cannula",
    ),
    _C("haem_major_other", "haemorrhagic", "Major bleeding, other site (> 2 units transfused)"),
    # Neurological
    _C("neuro_brain_death", "neurological", "Brain death", 301),
    _C("neuro_seizure_clinical", "neurological", "Seizures, clinically determined", 311),
    _C("neuro_seizure_eeg", "neurological", "Seizures confirmed by EEG", 312),
    _C("neuro_infarction", "neurological", "CNS infarction (ultrasound/CT/MRI)", 321),
    _C("neuro_ivh", "neurological", "Intraventricular CNS haemorrhage", 323),
    _C(
        "neuro_parenchymal_haemorrhage",
        "neurological",
        "Intra/extra-parenchymal CNS haemorrhage",
        324,
    ),
    _C("neuro_diffuse_ischaemia", "neurological", "Diffuse CNS ischaemia", 325),
    _C("neuro_neurosurgery", "neurological", "Neurosurgical intervention", 326),
    # Renal
    _C("renal_creatinine_1_5_to_3", "renal", "Creatinine 1.5–3.0 mg/dL", 401),
    _C("renal_creatinine_over_3", "renal", "Creatinine > 3.0 mg/dL", 402),
    _C("renal_rrt", "renal", "Renal replacement therapy required", 415),
    # Cardiovascular
    _C("cv_cpr", "cardiovascular", "CPR required", 502),
    _C("cv_arrhythmia", "cardiovascular", "Cardiac arrhythmia", 504),
    _C("cv_tamponade_blood", "cardiovascular", "Tamponade (blood)", 541),
    _C("cv_tamponade_other", "cardiovascular", "Tamponade (not blood)", 544),
    _C("cv_lv_distension", "cardiovascular", "Left ventricular overload / distension"),
    # Pulmonary
    _C("pulm_pneumothorax", "pulmonary", "Pneumothorax requiring treatment", 601),
    _C("pulm_haemorrhage", "pulmonary", "Pulmonary haemorrhage", 602),
    # Infectious
    _C("inf_wbc_low", "infectious", "White cell count < 1,500/µL", 711),
    _C("inf_cannula_site", "infectious", "Cannula-site infection", None, 4018050, "cannula"),
    _C("inf_bloodstream", "infectious", "Bloodstream infection"),
    _C("inf_vap", "infectious", "Ventilator-associated pneumonia"),
    # Metabolic / haemolysis
    _C("metab_hyperbilirubinaemia", "metabolic", "Hyperbilirubinaemia", 821),
    _C("metab_haemolysis_moderate", "metabolic", "Moderate haemolysis", 822, 36717827),
    _C("metab_haemolysis_severe", "metabolic", "Severe haemolysis", 823, 36717827),
    # Limb
    _C("limb_ischaemia", "limb", "Limb ischaemia", 901),
    _C("limb_compartment", "limb", "Compartment syndrome", 902),
    _C("limb_fasciotomy", "limb", "Fasciotomy", 903),
    _C("limb_amputation", "limb", "Amputation", 904),
    # Other
    _C("other", "other", "Other adverse event (describe)"),
)
BY_CODE: dict[str, EventCode] = {c.code: c for c in CODES}
CODE_NAMES: tuple[str, ...] = tuple(BY_CODE)


def code(name: str) -> EventCode:
    """The code's entry; ``KeyError`` names the code when it is not in the taxonomy."""
    return BY_CODE[name]


def codes_in(category: str) -> tuple[EventCode, ...]:
    return tuple(c for c in CODES if c.category == category)


def unmapped_elso() -> tuple[EventCode, ...]:
    """Codes of ours with no ELSO equivalent in the code set: exports report these."""
    return tuple(c for c in CODES if c.elso is None)
