"""Runs that arrived on ECMO from another centre (ELSO's transfer workflow): the transport
domain registers a provider here, so the run page, the registry record and exports read the
fact without importing that domain.

A provider: (session, run ids) → {run id: Arrival}.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session


@dataclass(frozen=True)
class Arrival:
    run_id: int
    centre: str  # the referring hospital (free text: hide it from roles without identifiers)
    mission_id: int
    href: str


ArrivalProvider = Callable[[Session, list[int]], dict[int, Arrival]]
ARRIVAL_PROVIDERS: list[ArrivalProvider] = []


def arrived_on_ecmo(session: Session, run_ids: list[int]) -> dict[int, Arrival]:
    """The runs of ``run_ids`` that arrived on ECMO from another centre."""
    found: dict[int, Arrival] = {}
    for provider in ARRIVAL_PROVIDERS:
        for run_id, arrival in provider(session, run_ids).items():
            found.setdefault(run_id, arrival)
    return found
