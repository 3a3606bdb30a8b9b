"""Coding systems, default code mappings and unit spellings for device feeds. Pure.

OBX-3 (or an MQTT/FHIR code) is looked up as (system, identifier). ``CONTINUUM`` maps
directly to the vocabulary; every other system goes through the site's mapping table,
which starts from the defaults below (editable on the integration page). Nothing is
guessed: an identifier that is not in the table is reported, never stored.
"""

from __future__ import annotations

from continuum.vocabulary import CODES, mdc_unit_spellings

CONTINUUM = "CONTINUUM"
SYSTEM_ALIASES = {
    "CONTINUUM": CONTINUUM,
    "LN": "LOINC",
    "LOINC": "LOINC",
    "HTTP://LOINC.ORG": "LOINC",
    "SCT": "SNOMED",
    "SNM": "SNOMED",
    "SNOMED": "SNOMED",
    "SNOMEDCT": "SNOMED",
    "HTTP://SNOMED.INFO/SCT": "SNOMED",
    "MDC": "MDC",
    "URN:ISO:STD:ISO:11073:10101": "MDC",
    "HTTPS://ECMO-CONTINUUM.ORG/CODES": CONTINUUM,
    "URN:CONTINUUM": CONTINUUM,
}

# The default mappings, each reviewed against what its code means (the reason beside it).
# MDC metrics are keyed on the reference id and on the context-free term code (numbers in
# a partition-relative form differ between senders). Nothing here maps by resemblance: a
# code whose meaning is not exactly a vocabulary code is left for the site to decide.
MDC_DEFAULTS: dict[str, tuple[str, str]] = {
    # An arterial line (invasive) mean pressure: the vocabulary's `map`.
    "MDC_PRESS_BLD_ART_MEAN": ("map", "arterial (invasive) mean pressure"),
    "150035": ("map", "MDC_PRESS_BLD_ART_MEAN: arterial (invasive) mean pressure"),
    "MDC_PRESS_BLD_ART_ABP_MEAN": ("map", "arterial blood pressure (ABP label) mean: invasive"),
    "150039": ("map", "MDC_PRESS_BLD_ART_ABP_MEAN: arterial (invasive) mean pressure"),
    # A cuff (oscillometric) mean pressure: kept apart as `map_nibp`; readers of `map` use
    # it only when the run has no arterial value (vocabulary.PREFERRED_SOURCES).
    "MDC_PRESS_BLD_NONINV_MEAN": ("map_nibp", "non-invasive (cuff) mean pressure"),
    "150023": ("map_nibp", "MDC_PRESS_BLD_NONINV_MEAN: non-invasive (cuff) mean pressure"),
    "MDC_PRESS_VEN_CENT_MEAN": ("cvp", "central venous mean pressure"),
    "150087": ("cvp", "MDC_PRESS_VEN_CENT_MEAN: central venous mean pressure"),
    "MDC_PRESS_VEN_CENT": ("cvp", "central venous pressure (the term vital-sign profiles use)"),
    "150084": ("cvp", "MDC_PRESS_VEN_CENT: central venous pressure"),
    "MDC_ECG_CARD_BEAT_RATE": ("hr", "heart rate from the ECG"),
    "MDC_ECG_HEART_RATE": ("hr", "heart rate from the ECG (older reference id, same term)"),
    "147842": ("hr", "MDC_ECG_CARD_BEAT_RATE: heart rate from the ECG"),
    "MDC_PULS_OXIM_SAT_O2": ("spo2", "pulse-oximetry saturation"),
    "150456": ("spo2", "MDC_PULS_OXIM_SAT_O2: pulse-oximetry saturation"),
    "MDC_RESP_RATE": ("resp_rate", "measured respiratory rate"),
    "151562": ("resp_rate", "MDC_RESP_RATE: measured respiratory rate"),
    # Arterial-line systolic and diastolic pressures (the pulse pressure the LV-unloading
    # context reads; docs/clinical/mcs.md §4): invasive only, like `map`.
    "MDC_PRESS_BLD_ART_SYS": ("sbp", "arterial (invasive) systolic pressure"),
    "150033": ("sbp", "MDC_PRESS_BLD_ART_SYS: arterial (invasive) systolic pressure"),
    "MDC_PRESS_BLD_ART_DIA": ("dbp", "arterial (invasive) diastolic pressure"),
    "150034": ("dbp", "MDC_PRESS_BLD_ART_DIA: arterial (invasive) diastolic pressure"),
    "MDC_PRESS_BLD_ART_ABP_SYS": ("sbp", "arterial blood pressure (ABP label) systolic"),
    "150037": ("sbp", "MDC_PRESS_BLD_ART_ABP_SYS: arterial (invasive) systolic pressure"),
    "MDC_PRESS_BLD_ART_ABP_DIA": ("dbp", "arterial blood pressure (ABP label) diastolic"),
    "150038": ("dbp", "MDC_PRESS_BLD_ART_ABP_DIA: arterial (invasive) diastolic pressure"),
}
# Deliberately not mapped by default: MDC_PULS_RATE_NON_INV / MDC_PLETH_PULS_RATE (a pulse
# rate is not the ECG heart rate), cuff systolic and diastolic pressures (`sbp`/`dbp` are
# the arterial line's),
# MDC_TEMP_BLD (the patient's blood temperature, not the circuit's `blood_temp`).

LOINC_DEFAULTS: dict[str, tuple[str, str]] = {
    "8867-4": ("hr", "Heart rate"),
    "8478-0": (
        "map",
        "Mean blood pressure (method unspecified): read as the arterial MAP; "
        "a feed that sends cuff readings under it is remapped to map_nibp by the site",
    ),
    "76536-2": ("map_nibp", "Mean blood pressure by noninvasive"),
    "60985-9": ("cvp", "Central venous pressure"),
    "59408-5": ("spo2", "Oxygen saturation in arterial blood by pulse oximetry"),
    "2708-6": ("sao2", "Oxygen saturation in arterial blood"),
    "2703-7": ("pao2", "Oxygen [partial pressure] in arterial blood"),
    "2019-8": ("paco2", "Carbon dioxide [partial pressure] in arterial blood"),
    "2744-1": ("ph", "pH of arterial blood"),
    "2711-0": ("svo2", "Oxygen saturation in venous blood"),
    "32693-4": ("lactate", "Lactate [moles/volume] in blood"),
    "718-7": ("hb", "Hemoglobin [mass/volume] in blood"),
    "777-3": ("platelets", "Platelets [#/volume] in blood"),
    "3255-7": ("fibrinogen", "Fibrinogen [mass/volume] in platelet-poor plasma"),
    "721-1": ("pfhb", "Free hemoglobin [mass/volume] in plasma"),
    "2532-0": ("ldh", "Lactate dehydrogenase [enzymatic activity/volume] in serum or plasma"),
    "1975-2": ("bilirubin", "Total bilirubin [mass/volume] in serum or plasma"),
    "14979-9": ("aptt", "aPTT in platelet-poor plasma"),
    "66483-9": ("anti_xa", "Heparin anti-Xa activity in platelet-poor plasma"),
    "27811-9": ("antithrombin", "Antithrombin activity in platelet-poor plasma"),
    "48065-7": ("d_dimer", "D-dimer FEU [mass/volume] in platelet-poor plasma"),
    "6301-6": ("inr", "INR in platelet-poor plasma"),
    "2160-0": ("creatinine", "Creatinine [mass/volume] in serum or plasma"),
}
# Deliberately not mapped by default: 8480-6 / 8462-4 (systolic / diastolic blood pressure,
# method unspecified): a vital-signs blood-pressure panel is usually a cuff reading, and
# `sbp`/`dbp` are the arterial line's (the pulse pressure the LV-unloading context reads);
# a site whose feed sends arterial-line values under them adds the mapping.
# Mechanical circulatory support devices (Impella, IABP, VADs) have no IEEE 11073 MDC or LOINC
# term for their own metrics (P-level, purge pressure and flow, augmentation, VAD speed,
# power, pulsatility index): a gateway sends them under the platform's own system
# (`CONTINUUM`, e.g. OBX-3 `impella_flow^Impella flow^CONTINUUM`), which maps directly, and
# a vendor's local codes are added per site. DEVICE_CODES lists them (docs/contracts.md §2c).
DEVICE_CODES: tuple[str, ...] = tuple(c for c, code in CODES.items() if code.group == "mcs")
# Deliberately not mapped by default: 19941-4 "Oxygen gas flow Oxygen delivery system" is
# the O2 flow of a delivery device (nasal cannula, mask), not the ECMO sweep gas flow; a
# site whose gateway sends the sweep under it (some national ECMO profiles do) adds the
# mapping. 11556-8 (pO2), 11557-6 (pCO2) and 20564-1 (saturation) do not say which side
# of the oxygenator the blood came from: pre or post needs the site's decision.

DEFAULT_MAPPINGS: dict[tuple[str, str], str] = {
    **{("MDC", k): code for k, (code, _) in MDC_DEFAULTS.items()},
    **{("LOINC", k): code for k, (code, _) in LOINC_DEFAULTS.items()},
}
DEFAULT_REASONS: dict[tuple[str, str], str] = {
    **{("MDC", k): why for k, (_, why) in MDC_DEFAULTS.items()},
    **{("LOINC", k): why for k, (_, why) in LOINC_DEFAULTS.items()},
}

# Unit spellings seen on device feeds (UCUM; MDC unit reference ids and term codes come from
# vocabulary.MDC_UNITS, the one unit table) → the spelling the vocabulary converts from.
UNIT_ALIASES = {
    "mm[hg]": "mmHg",
    "kpa": "kPa",
    "{beat}/min": "/min",
    "{beats}/min": "/min",
    "{breath}/min": "/min",
    "{breaths}/min": "/min",
    "cel": "°C",
    "[degf]": "°F",
    "l/min": "L/min",
    "ml/min": "mL/min",
    "{rpm}": "rpm",
    "cm[h2o]": "cmH2O",
    **mdc_unit_spellings(),
}


def system_of(raw: str) -> str:
    """The normalised name of a coding system; unknown (local) systems keep their name."""
    text = raw.strip()
    return SYSTEM_ALIASES.get(text.upper(), text) if text else "LOCAL"


def unit_of(*spellings: str) -> str:
    """The first unit spelling we know; else the first non-blank one (converted or refused
    by the vocabulary, never guessed)."""
    for s in spellings:
        alias = UNIT_ALIASES.get(s.strip().lower())
        if alias:
            return alias
    return next((s.strip() for s in spellings if s.strip()), "")


def lookup_first(
    table: dict[tuple[str, str], str], *coded: tuple[str, tuple[str, ...]]
) -> str | None:
    """The vocabulary code of the first (system, identifiers) that maps: e.g. HL7 OBX-3's
    identifier and text, then its alternate identifier and text (components 4–6)."""
    for system, identifiers in coded:
        code = lookup(table, system, *identifiers)
        if code is not None:
            return code
    return None


def lookup(table: dict[tuple[str, str], str], system: str, *identifiers: str) -> str | None:
    """The vocabulary code for an identifier: CONTINUUM directly, else the table."""
    for ident in identifiers:
        ident = ident.strip()
        if not ident:
            continue
        if system == CONTINUUM:
            if ident in CODES:
                return ident
            continue
        code = table.get((system, ident))
        if code:
            return code
    return None
