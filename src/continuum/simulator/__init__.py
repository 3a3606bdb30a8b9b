"""Deterministic, seedable patient + circuit simulator (VV and femoral VA ECMO).

Pure: no database or web imports.  ``simulate(...)`` returns a :class:`SimulatedRun`
with per-minute console and monitoring signals, sparse blood gases and labs, and the
ground truth of every injected fault.
"""

from continuum.simulator.engine import DEFAULT_START, MAX_HOURS, simulate
from continuum.simulator.patient import Patient, default_patient
from continuum.simulator.run import SimulatedRun
from continuum.simulator.scenarios import ScenarioInfo, list_scenarios
from continuum.simulator.truth import FaultTruth

__all__ = [
    "DEFAULT_START",
    "MAX_HOURS",
    "FaultTruth",
    "Patient",
    "ScenarioInfo",
    "SimulatedRun",
    "default_patient",
    "list_scenarios",
    "simulate",
]
