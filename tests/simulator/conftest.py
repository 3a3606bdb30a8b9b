"""Shared, cached simulator runs: each (scenario, mode, hours, seed) is simulated once."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

import pytest

from continuum.simulator import SimulatedRun, simulate

HOURS = 72.0
SEED = 11


@lru_cache(maxsize=64)
def _run(scenario: str, mode: str, hours: float, seed: int) -> SimulatedRun:
    return simulate(scenario, mode, hours, seed)


@pytest.fixture(scope="session")
def sim() -> Callable[..., SimulatedRun]:
    def get(scenario: str, mode: str, hours: float = HOURS, seed: int = SEED) -> SimulatedRun:
        return _run(scenario, mode, hours, seed)

    return get
