"""De-identification of research exports (pure: no database, no web).

What a de-identified export leaves out and changes (docs/research-exports.md):

- identifiers removed: MRN, name, date of birth, and the referrer's name, contact (phone)
  and hospital;
- free text removed (indication, diagnosis, stop reason, clinical picture, bed) unless a
  reviewer released that field (``Policy.released``);
- dates shifted per patient by a keyed, stable offset: HMAC-SHA256 of the patient's id with
  the programme's export key, mapped to a whole number of days in ±``max_shift_days``
  (never 0). The same patient moves by the same number of days in every export, so runs of
  one patient keep their order and spacing; the time of day is kept;
- patients and runs named by keyed pseudonyms (``S-…``, ``R-…``), not database ids;
- ages over 89 grouped as "90+";
- cells (groups of patients) smaller than ``small_cell`` flagged in the manifest.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

# Direct identifiers: never in a de-identified export.
IDENTIFIER_FIELDS: tuple[str, ...] = (
    "mrn",
    "name",
    "birth_date",
    "referring_hospital",
    "referring_clinician",
    "referrer_contact",
)
# Typed prose can name people, hospitals and telephone numbers: out unless released.
FREE_TEXT_FIELDS: tuple[str, ...] = (
    "indication",
    "diagnosis",
    "stop_reason",
    "clinical_picture",
    "location",
)
OLDEST_SHOWN_AGE = 89  # ages above are grouped (HIPAA Safe Harbor)
OLDEST_GROUP = "90+"


@dataclass(frozen=True)
class Policy:
    """How one export treats identifiers. ``identified`` exports keep everything."""

    key: bytes
    max_shift_days: int = 180
    small_cell: int = 5
    identified: bool = False
    released: frozenset[str] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        if not 1 <= self.max_shift_days <= 3650:
            raise ValueError(f"max_shift_days {self.max_shift_days} is outside 1–3650 days")
        if len(self.key) < 16:
            raise ValueError("the export key must be at least 16 bytes")

    def describe(self) -> dict[str, Any]:
        """What the manifest says was applied (never the key)."""
        if self.identified:
            return {
                "identified": True,
                "applied": [],
                "kept": [
                    "identifiers kept: " + ", ".join(IDENTIFIER_FIELDS),
                    "free text kept: " + ", ".join(FREE_TEXT_FIELDS),
                    "dates as recorded: not shifted",
                    "database ids of patients and runs kept beside the keyed pseudonyms",
                    "ages in whole years (over 89 not grouped)",
                ],
                "identifiers_kept": list(IDENTIFIER_FIELDS),
                "dates_shifted": False,
            }
        return {
            "identified": False,
            "dates_shifted": True,
            "applied": [
                "identifiers removed: " + ", ".join(IDENTIFIER_FIELDS),
                "free text removed: "
                + ", ".join(f for f in FREE_TEXT_FIELDS if f not in self.released),
                f"dates shifted per patient by a keyed stable offset within ±{self.max_shift_days}"
                " days (whole days, never 0; time of day kept)",
                "patients and runs named by keyed pseudonyms",
                f"ages over {OLDEST_SHOWN_AGE} grouped as '{OLDEST_GROUP}'",
                f"cells with fewer than {self.small_cell} patients flagged",
            ],
            "free_text_released": sorted(self.released),
            "max_shift_days": self.max_shift_days,
            "small_cell_threshold": self.small_cell,
        }


def _digest(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode(), hashlib.sha256).digest()


def shift_days(key: bytes, patient_id: int, max_days: int) -> int:
    """The patient's date shift in whole days: in [-max_days, -1] ∪ [1, max_days], the same
    for the same key and patient every time."""
    n = int.from_bytes(_digest(key, f"date-shift:{patient_id}")[:8], "big") % (2 * max_days)
    return n - max_days if n < max_days else n - max_days + 1


def pseudonym(key: bytes, kind: str, ident: int) -> str:
    """A keyed pseudonym (``S-3f9a…`` for a patient, ``R-…`` for a run): stable per key,
    not reversible without it."""
    prefix = {"patient": "S", "run": "R"}[kind]
    return f"{prefix}-{_digest(key, f'{kind}:{ident}').hex()[:12]}"


def age_years(birth: date | None, at: date) -> int | None:
    if birth is None:
        return None
    return at.year - birth.year - ((at.month, at.day) < (birth.month, birth.day))


def age_shown(years: int | None) -> int | str | None:
    """An age as exported: whole years, or "90+" above 89."""
    if years is None:
        return None
    return OLDEST_GROUP if years > OLDEST_SHOWN_AGE else years


class Shifter:
    """Shifts one patient's dates (or none, for an identified export)."""

    def __init__(self, policy: Policy, patient_id: int) -> None:
        self.days = (
            0 if policy.identified else shift_days(policy.key, patient_id, policy.max_shift_days)
        )
        self.delta = timedelta(days=self.days)

    def __call__(self, value: datetime | None) -> datetime | None:
        return None if value is None else value + self.delta


def run_row(policy: Policy, row: Mapping[str, Any]) -> dict[str, Any]:
    """One run's export row from its identified record (``patient_id``, ``run_id``,
    ``birth_date``, times …): identifiers and unreleased free text removed, dates shifted,
    keyed pseudonyms, age in years grouped above 89. Identified: the row with its keys."""
    out = dict(row)
    started: datetime = row["started_at"]
    years = age_years(row.get("birth_date"), started.date())
    out["patient_key"] = pseudonym(policy.key, "patient", row["patient_id"])
    out["run_key"] = pseudonym(policy.key, "run", row["run_id"])
    if policy.identified:
        out["age_years"] = years
        return out
    shift = Shifter(policy, row["patient_id"])
    for name in (*IDENTIFIER_FIELDS, "patient_id", "run_id"):
        out.pop(name, None)
    for name in FREE_TEXT_FIELDS:
        if name not in policy.released:
            out.pop(name, None)
    for name, value in list(out.items()):
        if isinstance(value, datetime):
            out[name] = shift(value)
    out["age_years"] = age_shown(years)
    return out


def small_cells(counts: Mapping[str, int], threshold: int) -> list[str]:
    """The groups with at least one and fewer than ``threshold`` patients."""
    return sorted(name for name, n in counts.items() if 0 < n < threshold)


def contains_any(text: str, needles: Iterable[str]) -> list[str]:
    """Which of ``needles`` occur in ``text`` (case-insensitive): the export check."""
    lowered = text.lower()
    return [n for n in needles if n and n.lower() in lowered]
