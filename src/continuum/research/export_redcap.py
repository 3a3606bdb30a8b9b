"""A cohort as a REDCap project: the data dictionary (one row per field, REDCap's 18
columns) and the import CSV, with ``ecmo_day`` as a repeating instrument.

The record is the run (``record_id`` = the run's key). The ``run`` form is not repeating
(``redcap_repeat_instrument`` and ``redcap_repeat_instance`` blank). Each ECMO day with
data is one instance of ``ecmo_day``, numbered by the ECMO day itself (day 1 = the first
24 hours of the run), never by its position in a file: the same day always gets the same
instance number, so importing a later export again updates that day and never overwrites
another day's values (docs/research-exports.md §5).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from continuum import vocabulary
from continuum.core.vocab import OUTCOME_LABELS, SEXES, SUPPORT_TYPES
from continuum.research.export import RunData

DICTIONARY_COLUMNS = (
    "Variable / Field Name", "Form Name", "Section Header", "Field Type", "Field Label",
    "Choices, Calculations, OR Slider Labels", "Field Note",
    "Text Validation Type OR Show Slider Number", "Text Validation Min", "Text Validation Max",
    "Identifier?", "Branching Logic (Show field only if...)", "Required Field?",
    "Custom Alignment", "Question Number (surveys only)", "Matrix Group Name",
    "Matrix Ranking?", "Field Annotation",
)  # fmt: skip
REPEATING = "ecmo_day"
DAY_CODES = tuple(vocabulary.CODES)


def _choices(values: Iterable[str], labels: dict[str, str] | None = None) -> str:
    """REDCap choices: "1, pulmonary | 2, cardiac" (codes are numbers, stable by order)."""
    return " | ".join(f"{i}, {(labels or {}).get(v, v)}" for i, v in enumerate(values, 1))


def _code_of(values: tuple[str, ...], value: str | None) -> str:
    return "" if value is None or value not in values else str(values.index(value) + 1)


OUTCOMES = tuple(OUTCOME_LABELS)
RUN_FIELDS: list[tuple[str, str, str, str, str]] = [
    # name, type, label, choices, validation
    ("record_id", "text", "Run (keyed pseudonym)", "", ""),
    ("patient_key", "text", "Patient (keyed pseudonym)", "", ""),
    ("sex", "radio", "Sex", _choices(SEXES), ""),
    ("age_years", "text", "Age at the run's start (years; 90+ grouped)", "", ""),
    ("support_type", "radio", "Support type", _choices(SUPPORT_TYPES), ""),
    ("first_mode", "text", "Mode at the start", "", ""),
    ("modes", "text", "Modes in order", "", ""),
    ("started_at", "text", "Start of flow (UTC, shifted when de-identified)", "",
     "datetime_seconds_ymd"),
    ("ended_at", "text", "Last cannula out (UTC, shifted when de-identified)", "",
     "datetime_seconds_ymd"),
    ("hours_on_ecmo", "text", "Hours on ECMO", "", "number"),
    ("outcome", "radio", "Outcome", _choices(OUTCOMES, OUTCOME_LABELS), ""),
    ("membrane_lungs", "text", "Membrane lungs used", "", "integer"),
    ("complications", "text", "Adverse events in the register", "", "integer"),
]  # fmt: skip


# An identified export (a role with export_identified, a stated purpose) adds these to the
# run form, each flagged "Identifier? = y" so REDCap's own de-identified exports drop them;
# dates stay as recorded (not shifted).
IDENTIFIER_FIELDS: list[tuple[str, str, str, str, str]] = [
    ("run_id", "text", "Run (database id)", "", "integer"),
    ("patient_id", "text", "Patient (database id)", "", "integer"),
    ("mrn", "text", "Medical record number", "", ""),
    ("name", "text", "Patient's name", "", ""),
    ("birth_date", "text", "Date of birth", "", "date_ymd"),
    ("referring_hospital", "text", "Referring hospital", "", ""),
    ("referring_clinician", "text", "Referring clinician", "", ""),
    ("referrer_contact", "text", "Referrer's telephone or contact", "", ""),
    ("indication", "notes", "Indication (free text)", "", ""),
    ("diagnosis", "notes", "Diagnosis (free text)", "", ""),
    ("stop_reason", "notes", "Why the run ended (free text)", "", ""),
    ("location", "text", "Bed or unit", "", ""),
]  # fmt: skip
IDENTIFIER_NAMES = tuple(f[0] for f in IDENTIFIER_FIELDS)


def run_fields(identified: bool = False) -> list[tuple[str, str, str, str, str]]:
    """The run form's fields: identifiers after ``patient_key`` when identified."""
    return RUN_FIELDS[:2] + IDENTIFIER_FIELDS + RUN_FIELDS[2:] if identified else RUN_FIELDS


def dictionary_rows(identified: bool = False) -> list[dict[str, str]]:
    rows = []
    for name, kind, label, choices, validation in run_fields(identified):
        rows.append({"Variable / Field Name": name, "Form Name": "run", "Field Type": kind,
                     "Field Label": label, "Choices, Calculations, OR Slider Labels": choices,
                     "Text Validation Type OR Show Slider Number": validation,
                     "Identifier?": "y" if name in IDENTIFIER_NAMES else ""})  # fmt: skip
    rows.append({"Variable / Field Name": "ecmo_day", "Form Name": REPEATING,
                 "Field Type": "text", "Field Label": "ECMO day (1 = first 24 h of the run)",
                 "Text Validation Type OR Show Slider Number": "integer",
                 "Text Validation Min": "1"})  # fmt: skip
    for code, c in vocabulary.CODES.items():
        rows.append({
            "Variable / Field Name": code, "Form Name": REPEATING, "Field Type": "text",
            "Field Label": f"{c.meaning}, mean of the day", "Field Note": c.unit,
            "Text Validation Type OR Show Slider Number": "number",
        })  # fmt: skip
    return [{col: r.get(col, "") for col in DICTIONARY_COLUMNS} for r in rows]


def import_columns(identified: bool = False) -> list[str]:
    return ["record_id", "redcap_repeat_instrument", "redcap_repeat_instance",
            *(f[0] for f in run_fields(identified)[1:]), "ecmo_day", *DAY_CODES]  # fmt: skip


def _value(v: Any) -> str:
    if v is None:
        return ""
    if hasattr(v, "strftime"):
        return v.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(v, float):
        return f"{v:.6g}"
    return str(v)


def run_record(data: RunData, identified: bool = False) -> dict[str, str]:
    r = data.row
    ident = {n: _value(r.get(n)) for n in IDENTIFIER_NAMES} if identified else {}
    return {
        **ident,
        "record_id": r["run_key"],
        "redcap_repeat_instrument": "",
        "redcap_repeat_instance": "",
        "patient_key": r["patient_key"],
        "sex": _code_of(SEXES, r.get("sex")),
        "age_years": _value(r.get("age_years")),
        "support_type": _code_of(SUPPORT_TYPES, r.get("support_type")),
        "first_mode": _value(r.get("first_mode")),
        "modes": _value(r.get("modes")),
        "started_at": _value(r.get("started_at")),
        "ended_at": _value(r.get("ended_at")),
        "hours_on_ecmo": _value(r.get("hours_on_ecmo")),
        "outcome": _code_of(OUTCOMES, r.get("outcome")),
        "membrane_lungs": _value(r.get("membrane_lungs")),
        "complications": _value(r.get("complications")),
    }


def day_records(data: RunData) -> Iterable[dict[str, str]]:
    """One ``ecmo_day`` instance per day with data; instance = ECMO day (deterministic)."""
    index = {c: i for i, c in enumerate(DAY_CODES)}
    day: int | None = None
    sums = [0.0] * len(DAY_CODES)
    counts = [0] * len(DAY_CODES)

    def emit() -> dict[str, str]:
        out = {"record_id": data.row["run_key"], "redcap_repeat_instrument": REPEATING,
               "redcap_repeat_instance": str(day), "ecmo_day": str(day)}  # fmt: skip
        for c, i in index.items():
            out[c] = _value(sums[i] / counts[i]) if counts[i] else ""
        return out

    for code, at, value, _unit, _source in data.observations:
        d = int((at - data.keys.started).total_seconds() // 86400) + 1
        if d != day:
            if day is not None:
                yield emit()
            day, sums, counts = d, [0.0] * len(DAY_CODES), [0] * len(DAY_CODES)
        i = index.get(code)
        if i is not None:
            sums[i] += value
            counts[i] += 1
    if day is not None:
        yield emit()


def write(
    runs: Iterable[RunData], out_dir: Path, identified: bool = False
) -> list[tuple[str, str, int]]:
    """Write the dictionary and the import file; (file, table, rows) of each. Identified:
    the run form carries the identifiers (``IDENTIFIER_FIELDS``) and dates as recorded."""
    out_dir.mkdir(parents=True, exist_ok=True)
    dictionary = dictionary_rows(identified)
    with (out_dir / "redcap_data_dictionary.csv").open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, DICTIONARY_COLUMNS)
        w.writeheader()
        w.writerows(dictionary)
    n = 0
    with (out_dir / "redcap_import.csv").open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, import_columns(identified), restval="")
        w.writeheader()
        for data in runs:
            w.writerow(run_record(data, identified))
            n += 1
            for rec in day_records(data):
                w.writerow(rec)
                n += 1
    return [
        ("redcap_data_dictionary.csv", "REDCap data dictionary", len(dictionary)),
        ("redcap_import.csv", "REDCap import (run + repeating ecmo_day by ECMO day)", n),
    ]
