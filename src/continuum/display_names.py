"""What a person reads instead of a code: clinical names for observation codes, form and
calculator fields and record kinds, numbers at a sensible precision, and MRNs.

Pure: no database or web imports. The web layer registers these as Jinja filters
(``continuum.web.pages``); the stored codes and values never change.
"""

from __future__ import annotations

import math
import re

from continuum import vocabulary

# Decimals a person reads, by stored unit (docs/contracts.md §1 lists the units); a code
# named in DECIMALS overrides its unit's. A value is stored at full precision; only its
# display is rounded.
DECIMALS_BY_UNIT: dict[str, int] = {
    "mmHg": 0, "rpm": 0, "/min": 0, "%": 0, "cmH2O": 0, "mL": 0, "s": 0, "U/L": 0,
    "10^9/L": 0, "L/min": 2, "°C": 1, "g/dL": 1, "mmol/L": 1, "mg/dL": 1, "g/L": 1,
    "IU/mL": 2, "mg/L FEU": 2, "µg/kg/min": 2, "U/kg/h": 1, "cm": 1, "cm/s": 1, "1": 2,
}  # fmt: skip
DECIMALS: dict[str, int] = {
    "ph": 2, "inr": 1, "sweep_flow": 1, "creatinine": 2, "bilirubin": 1, "pfhb": 0,
    "vasopressin": 3, "impella_p_level": 0, "iabp_ratio": 2, "anti_xa": 2,
    "impella_purge_flow": 1, "vad_power": 1, "vad_pulsatility_index": 1, "vad_flow": 1,
    "impella_flow": 1,
}  # fmt: skip
DEFAULT_DECIMALS = 2
# Codes whose trailing zeros are part of how they are read (pH 7.40); others drop them
# (blood flow 4.6 L/min, FdO2 0.6).
KEEP_ZEROS = frozenset({"ph"})

# Abbreviations as clinicians write them, for field names built from codes and words.
_WORDS: dict[str, str] = {
    "hb": "haemoglobin", "hct": "haematocrit", "rbc": "red-cell", "pct": "%",
    "pao2": "PaO2", "paco2": "PaCO2", "pvo2": "PvO2", "po2": "pO2", "pco2": "pCO2",
    "so2": "SO2", "sao2": "SaO2", "svo2": "SvO2", "spo2": "SpO2", "fio2": "FiO2",
    "peep": "PEEP", "bmi": "BMI", "bp": "blood pressure", "cns": "CNS", "cxr": "chest X-ray",
    "sofa": "SOFA score", "ecmo": "ECMO", "ml": "mL", "oxy": "oxygenator", "iabp": "IABP",
    "mrn": "MRN", "id": "ID", "ecpr": "ECPR", "ufh": "UFH", "act": "ACT", "aptt": "aPTT",
    "ldh": "LDH", "inr": "INR", "vv": "VV", "va": "VA",
    "vad": "VAD",
}  # fmt: skip
# Unit suffixes of calculator field names (the unit is shown beside the label).
_UNIT_SUFFIXES = (
    "_g_dl", "_mmhg", "_cmh2o", "_l_min", "_ml_cmh2o", "_mmol_l", "_u_min", "_ml", "_kg",
    "_cm", "_pct", "_hours", "_days", "_years",
)  # fmt: skip
# Names of fields and record kinds that are not observation codes.
FIELD_NAMES: dict[str, str] = {
    "at": "time", "time": "time", "started_at": "start time", "ended_at": "end time",
    "due_at": "due time", "referred_at": "time of referral", "decided_at": "decision time",
    "decannulated_at": "decannulation time", "code": "measurement", "unit": "unit",
    "value": "value", "outcome": "outcome", "stop_reason": "reason", "reason": "reason",
    "owner_discipline": "owner", "mode": "mode", "support_type": "support type",
    "current_password": "current password", "new_password": "new password",
    "birth_date": "date of birth", "version": "version",
    "ims_level": "ICU Mobility Scale level", "safety_reason": "reason for starting anyway",
    "staff_ids": "staff present",
    **{f"safety_{k}": v for k, v in (
        ("flow_stable", "flow stable without chattering"),
        ("cannula_secured", "cannula securement and depth marks"),
        ("clamps_at_hand", "clamps at hand"),
        ("tubing_slack", "tubing slack"), ("roles_assigned", "staff roles assigned"),
        ("stop_criteria", "stop criteria agreed"))},
    **{f"event_{k}_{i}": f"event {i} {w}" for i in range(1, 21)
       for k, w in (("kind", "kind"), ("at", "time"), ("note", "note"))},
}  # fmt: skip
RECORD_NAMES: dict[str, str] = {
    "circuit_check": "circuit check", "round": "round", "decision": "decision",
    "referral": "referral", "trial": "weaning trial", "weaning_trial": "weaning trial",
    "decannulation": "decannulation", "observation": "observation", "run": "run",
    "alert": "alert", "action": "action", "readiness_review": "readiness review",
    "ambulation_session": "ambulation session",
}  # fmt: skip


def _capital(text: str) -> str:
    """First letter upper-cased unless the word is an abbreviation (aPTT, pH, pO2)."""
    if len(text) > 1 and text[0].islower() and text[1].isupper():
        return text
    return text[:1].upper() + text[1:]


def decimals(code: str) -> int:
    spec = vocabulary.CODES.get(code)
    if code in DECIMALS:
        return DECIMALS[code]
    return DECIMALS_BY_UNIT.get(spec.unit, DEFAULT_DECIMALS) if spec else DEFAULT_DECIMALS


def unit_shown(unit: str | None) -> str:
    """The unit as printed after a value: none for a dimensionless '1' (FdO2, pH, INR)."""
    return "" if unit in (None, "", "1", "fraction") else str(unit)


def number(value: object, code: str | None = None, places: int | None = None) -> str:
    """A value as people read it: the code's decimals (or ``places``), never float noise
    such as 10.100000000000001; '—' for no value, and non-numbers as they are."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if not math.isfinite(value):
        return "—"
    if isinstance(value, int) and places is None and code is None:
        return str(value)
    if places is None:
        if code is None:
            return f"{value:.6g}" if abs(value) < 1e6 else f"{value:.0f}"
        places = decimals(code)
    text = f"{value:.{places}f}"
    if "." in text and code not in KEEP_ZEROS:
        text = text.rstrip("0").rstrip(".")
    return "0" if text.strip("-0.") == "" else text


def quantity(value: object, code: str, unit: str | None = None) -> str:
    """'465 mmHg', 'FdO2 0.60' reads '0.60' (no '1'): value with its code's unit."""
    spec = vocabulary.CODES.get(code)
    shown = unit_shown(unit if unit is not None else (spec.unit if spec else ""))
    text = number(value, code)
    return f"{text} {shown}" if shown and text != "—" else text


# Decimals of a value as entered in a unit the vocabulary does not store (62 kPa, 98.6 °F);
# a unit not named here shows the value as entered (up to six significant digits).
ENTERED_DECIMALS: dict[str, int] = {
    "kPa": 2, "hPa": 0, "mL/min": 0, "°F": 1, "µmol/L": 0, "mg/L": 1, "mmol/L": 2,
    "g/L": 0, "mg/dL": 1, "%": 0, "1": 2,
}  # fmt: skip


def entered_parts(
    value: object,
    code: str,
    unit: str | None = None,
    entered_value: float | None = None,
    entered_unit: str | None = None,
) -> tuple[str, str | None]:
    """(what is read first, the stored value in brackets or None): ('62 kPa', '465 mmHg')
    for a value entered in another unit, ('465 mmHg', None) otherwise."""
    stored = quantity(value, code, unit)
    if entered_value is None or entered_unit is None or stored == "—":
        return stored, None
    text = number(entered_value, None, ENTERED_DECIMALS.get(entered_unit))
    shown = unit_shown(entered_unit)
    return (f"{text} {shown}" if shown else text), stored


def as_entered(
    value: object,
    code: str,
    unit: str | None = None,
    entered_value: float | None = None,
    entered_unit: str | None = None,
) -> str:
    """A stored value as a person reads it: '465 mmHg', or — when it was entered in another
    unit — that value and unit first and the stored one in brackets: '62 kPa (465 mmHg)'.
    Both with the code's display rules (``quantity``)."""
    first, stored = entered_parts(value, code, unit, entered_value, entered_unit)
    return f"{first} ({stored})" if stored else first


def observation_parts(obs: object) -> tuple[str, str | None]:
    """``entered_parts`` for an observation row or its JSON (``value``, ``code``, ``unit``,
    ``entered_value``, ``entered_unit``)."""

    def get(name: str) -> object:
        return obs.get(name) if isinstance(obs, dict) else getattr(obs, name, None)

    ev, eu, unit = get("entered_value"), get("entered_unit"), get("unit")
    return entered_parts(
        get("value"),
        str(get("code") or ""),
        unit if isinstance(unit, str) else None,
        ev if isinstance(ev, int | float) else None,
        eu if isinstance(eu, str) else None,
    )


def observed(obs: object) -> str:
    """'62 kPa (465 mmHg)' or '465 mmHg' for an observation row or its JSON."""
    first, stored = observation_parts(obs)
    return f"{first} ({stored})" if stored else first


def field_label(name: object) -> str:
    """A field or code as a clinician calls it: 'hb' → 'Haemoglobin', 'hb_g_dl' →
    'Haemoglobin', 'action.0.due_at' → 'Due time', 'sweep_fio2' → 'Sweep gas FiO2 (FdO2)'."""
    text = str(name or "")
    last = text.rsplit(".", 1)[-1] if "." in text else text
    if last.isdigit():  # a list item: name the list
        last = text.split(".", 1)[0]
    if last in vocabulary.CODES:
        return _capital(vocabulary.CODES[last].meaning)
    if last in FIELD_NAMES:
        return _capital(FIELD_NAMES[last])
    base = last
    for suffix in sorted(_UNIT_SUFFIXES, key=len, reverse=True):
        if base.endswith(suffix) and len(base) > len(suffix):
            base = base[: -len(suffix)]
            break
    if base in vocabulary.CODES:
        return _capital(vocabulary.CODES[base].meaning)
    words = [_WORDS.get(w, w) for w in base.split("_") if w]
    return _capital(" ".join(words)) if words else text


def record_name(kind: object, ident: object = None) -> str:
    """'circuit_check', 6 → 'Circuit check #6'."""
    words = RECORD_NAMES.get(str(kind), str(kind).replace("_", " "))
    return _capital(words) + (f" #{ident}" if ident not in (None, "") else "")


_MRN_LABELLED = re.compile(r"^\s*MRN", re.IGNORECASE)


def mrn(value: object) -> str:
    """'100262' → 'MRN 100262'; an MRN that already starts with 'MRN' ('MRN100262') is
    shown alone, never 'MRN MRN100262'. The identifier's own text is never altered (it is
    copied into other systems)."""
    text = str(value or "").strip()
    if not text:
        return ""
    return text if _MRN_LABELLED.match(text) else f"MRN {text}"


# HL7 v2 OBX-11 result statuses a device feed may send with a value that is stored. F and R
# show nothing: R ("not verified") is how gateways send every device value (IHE PCD-01), so
# naming it would mark every reading. W, D and X are never stored as values in force.
RESULT_STATUS_WORDS = {
    "P": "preliminary",
    "S": "partial",
    "C": "corrected by the device",
}


def result_status(status: object) -> str:
    """'P' → 'preliminary (device status P)'; final or none → ''."""
    words = RESULT_STATUS_WORDS.get(str(status or "").upper())
    return f"{words} (device status {str(status).upper()})" if words else ""


# Support types as people say them (the stored codes are lower case: core.vocab.SUPPORT_TYPES).
SUPPORT_WORDS = {"ecpr": "ECPR", "pulmonary": "pulmonary", "cardiac": "cardiac"}


def support_type(value: object) -> str:
    """'ecpr' → 'ECPR'; 'pulmonary' stays 'pulmonary'."""
    text = str(value or "")
    return SUPPORT_WORDS.get(text, text.replace("_", " "))
