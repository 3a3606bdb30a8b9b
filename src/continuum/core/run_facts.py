"""Facts about a run that a domain holds and the research layer exports (the ELSO-shaped
registry record), without research importing the domain.

A domain puts a ``FactProvider`` in ``FACT_PROVIDERS`` (its ``hooks.install_hooks``): the
fields it fills (registry table, name, label, kind, unit, range, where to record it, and a
mapping note saying how the field relates to the registry) and a function answering, for
each run, each field's ``RunFact`` or the reason it has none ("no ambulation session
recorded"). ``research.registry_build`` adds the fields to every run's record.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


@dataclass(frozen=True)
class FactField:
    table: str  # the registry record's table ("run")
    name: str
    label: str
    kind: str  # number | time | code | flag | text
    unit: str = ""
    low: float | None = None
    high: float | None = None
    where: str = "/runs/{run}"  # where to record it ({run}: the run id)
    mapping: str = ""  # how the field relates to the registry (shown with its source)
    whole: bool = False  # a whole number (exported as an integer column)


@dataclass(frozen=True)
class RunFact:
    value: Any
    source: str  # the record it came from, in words
    source_id: str | None = None
    at: datetime | None = None
    note: str | None = None


# run id → field name → the fact, or why there is none
FactValues = Callable[["Session", Sequence[int]], dict[int, dict[str, "RunFact | str"]]]


@dataclass(frozen=True)
class FactProvider:
    fields: tuple[FactField, ...]
    values: FactValues


FACT_PROVIDERS: list[FactProvider] = []


def facts_for(
    session: Session, run_ids: Sequence[int]
) -> list[tuple[FactField, dict[int, RunFact | str]]]:
    """Every provided field with each run's fact (or the reason it has none)."""
    out: list[tuple[FactField, dict[int, RunFact | str]]] = []
    for provider in FACT_PROVIDERS:
        answers = provider.values(session, run_ids)
        for f in provider.fields:
            out.append((f, {rid: answers.get(rid, {}).get(f.name, "not known") for rid in run_ids}))
    return out
