"""Coding systems, default code mappings and unit spellings for device feeds. Pure.

OBX-3 (or an MQTT/FHIR code) is looked up as (system, identifier). ``CONTINUUM`` maps
directly to the vocabulary; every other system goes through the site's mapping table,
which starts from the defaults below (editable on the integration page). Nothing is
guessed: an identifier that is not in the table is reported, never stored.
"""

from __future__ import annotations

from continuum.vocabulary import CODES

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

# IEEE 11073 MDC metrics from docs/contracts.md §2c that correspond to a vocabulary code.
# Keyed on the REFID (partition-relative numbers differ between senders); the numeric code
# is accepted too. Systolic/diastolic pressures, QT and perfusion index have no code here.
MDC_DEFAULTS = {
    "MDC_PRESS_BLD_NONINV_MEAN": "map",
    "150023": "map",
    "MDC_PRESS_BLD_ART_MEAN": "map",
    "150035": "map",
    "MDC_ECG_CARD_BEAT_RATE": "hr",
    "MDC_ECG_HEART_RATE": "hr",
    "147842": "hr",
    "MDC_PULS_OXIM_SAT_O2": "spo2",
    "150456": "spo2",
    "MDC_RESP_RATE": "resp_rate",
    "151562": "resp_rate",
}


def _loinc_defaults() -> dict[str, str]:
    """LOINC codes from the vocabulary, except codes shared by two vocabulary codes
    (e.g. pre- and post-oxygenator pO2 share 11556-8): those need a site decision."""
    seen: dict[str, list[str]] = {}
    for spec in CODES.values():
        if spec.loinc:
            seen.setdefault(spec.loinc, []).append(spec.code)
    return {loinc: codes[0] for loinc, codes in seen.items() if len(codes) == 1}


DEFAULT_MAPPINGS: dict[tuple[str, str], str] = {
    **{("MDC", k): v for k, v in MDC_DEFAULTS.items()},
    **{("LOINC", k): v for k, v in _loinc_defaults().items()},
}

# Unit spellings seen on device feeds (UCUM, MDC REFIDs and their numeric codes) → the
# spelling the vocabulary converts from.
UNIT_ALIASES = {
    "mm[hg]": "mmHg",
    "mdc_dim_mmhg": "mmHg",
    "266016": "mmHg",
    "mdc_dim_kilo_pa": "kPa",
    "kpa": "kPa",
    "mdc_dim_percent": "%",
    "262688": "%",
    "{beat}/min": "/min",
    "{beats}/min": "/min",
    "{breath}/min": "/min",
    "{breaths}/min": "/min",
    "mdc_dim_beat_per_min": "/min",
    "264864": "/min",
    "mdc_dim_resp_per_min": "/min",
    "264928": "/min",
    "mdc_dim_dimless": "1",
    "262656": "1",
    "cel": "°C",
    "mdc_dim_degc": "°C",
    "l/min": "L/min",
    "mdc_dim_l_per_min": "L/min",
    "{rpm}": "rpm",
    "mdc_dim_rpm": "rpm",
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
