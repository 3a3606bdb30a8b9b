"""Adverse events counted, not listed: the de-identified, aggregated view of the register.

Researchers (and every role with VIEW_QUALITY) read how many events there were per month or
quarter, by category, by class and by harm, with the values in force (after corrections
and review). No run, patient, time, code or free text leaves this module, and a cell of 1
to 4 events is shown as "<5" (small cells could point at one patient). Per-event rows, case
packets and reviews stay with the roles that record and review events.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from continuum.core.roles import Actor, Permission
from continuum.db import utcnow
from continuum.quality import adverse_events
from continuum.quality.taxonomy import CATEGORY_LABELS, EVENT_CLASS_LABELS, HARM_LABELS

SMALL_CELL = 5  # counts from 1 to SMALL_CELL - 1 are shown as "<5"
GROUPS = {"month": "Month", "quarter": "Quarter"}
DIMENSIONS: dict[str, tuple[str, dict[str, str]]] = {
    "category": ("Category", CATEGORY_LABELS),
    "event_class": ("Class", EVENT_CLASS_LABELS),
    "harm": ("Harm", HARM_LABELS),
}


@dataclass(frozen=True)
class Cell:
    count: int

    @property
    def suppressed(self) -> bool:
        return 0 < self.count < SMALL_CELL

    @property
    def shown(self) -> str:
        return f"<{SMALL_CELL}" if self.suppressed else str(self.count)

    @property
    def value(self) -> int | None:
        """The count as an answer may carry it: None for a small cell."""
        return None if self.suppressed else self.count


@dataclass(frozen=True)
class Line:
    value: str
    label: str
    cells: list[Cell]
    total: Cell


@dataclass(frozen=True)
class Table:
    dimension: str
    label: str
    lines: list[Line]


@dataclass(frozen=True)
class Summary:
    group: str
    periods: list[str]
    totals: list[Cell]
    total: Cell
    tables: list[Table]


def _period(day: date, group: str) -> str:
    if group == "quarter":
        return f"{day.year} Q{(day.month - 1) // 3 + 1}"
    return f"{day.year}-{day.month:02d}"


def _periods(today: date, count: int, group: str) -> list[str]:
    step = 3 if group == "quarter" else 1
    year, month = today.year, today.month
    out: list[str] = []
    for _ in range(count):
        out.append(_period(date(year, month, 1), group))
        month -= step
        while month < 1:
            month += 12
            year -= 1
    return list(reversed(out))


def summarise(
    session: Session,
    actor: Actor,
    zone: ZoneInfo,
    periods: int = 12,
    group: str = "month",
    now: datetime | None = None,
) -> Summary:
    """Events per period (the last ``periods`` months or quarters, local clinical time) by
    category, class and harm in force."""
    actor.require(Permission.VIEW_QUALITY)
    labels = _periods((now or utcnow()).astimezone(zone).date(), periods, group)
    index = {p: i for i, p in enumerate(labels)}
    counts: dict[str, dict[str, list[int]]] = {
        d: {v: [0] * len(labels) for v in names} for d, (_, names) in DIMENSIONS.items()
    }
    totals = [0] * len(labels)
    for _event, force in adverse_events.events_in_force(session):
        v = force.values
        i = index.get(_period(v["occurred_at"].astimezone(zone).date(), group))
        if i is None:
            continue
        totals[i] += 1
        for d in DIMENSIONS:
            row = counts[d].get(v[d])
            if row is not None:
                row[i] += 1
    tables = []
    for d, (label, names) in DIMENSIONS.items():
        lines = [
            Line(value, names[value], [Cell(c) for c in row], Cell(sum(row)))
            for value, row in counts[d].items()
        ]
        tables.append(Table(d, label, lines))
    return Summary(group, labels, [Cell(c) for c in totals], Cell(sum(totals)), tables)
