"""Injected faults and bedside interventions, each with an onset in the run.

A fault's *progress* is 0 before its onset, rises along a smooth S-curve to ``severity``
over ``ramp_fraction`` of the run, and falls back to 0 when an intervention that fixes it
(``resolved_by``) is carried out.  Times are fractions of the run length, so one scenario
serves a 12-hour demo and a 30-day run alike.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from continuum.support_configuration import of

SIMULATED = ("VV", "VA")  # = patient.MODES

Array = NDArray[np.float64]

# Fault kinds the simulator can inject -> detector codes (docs/contracts.md §3) in the truth.
FAULT_DETECTORS: dict[str, tuple[str, ...]] = {
    "oxygenator_failure": ("oxygenator_dysfunction", "transmembrane_gradient_rise"),
    "pump_thrombosis": ("pump_thrombosis",),
    "hemolysis": ("hemolysis",),
    "recirculation": ("recirculation",),
    "access_insufficiency": ("access_insufficiency",),
    "circuit_thrombosis": ("circuit_thrombosis", "transmembrane_gradient_rise"),
    "anticoagulation_drift": ("anticoagulation_out_of_range",),
    "differential_hypoxia": ("differential_hypoxia",),
    # mechanical circulatory support beside the circuit (simulator/devices.py)
    "impella_suction": ("impella_flow_low",),
    "impella_purge_obstruction": ("impella_purge_pressure",),
    "lv_distension": ("lv_unloading_context",),
    # the pump stops (training: air protection, power failure); flow falls below the goal
    "air_entrainment": ("flow_below_target",),
    "power_failure": ("flow_below_target",),
}

# Faults that only a support configuration with the right return can have (of the two
# simulated modes VV and VA; continuum.support_configuration decides).
FAULT_MODES: dict[str, tuple[str, ...]] = {
    "recirculation": tuple(m for m in SIMULATED if of(m).recirculation_applies),
    "differential_hypoxia": tuple(m for m in SIMULATED if of(m).differential_hypoxia_applies),
}

INTERVENTIONS: tuple[str, ...] = (
    "oxygenator_change",
    "fluid_bolus",
    "sweep_change",
    "flow_change",
    "heparin_change",
    "fdo2_change",
    "impella_reposition",
    "purge_change",
)

# Which intervention ends which fault.
RESOLVES: dict[str, tuple[str, ...]] = {
    "oxygenator_change": ("oxygenator_failure", "circuit_thrombosis"),
    "fluid_bolus": ("access_insufficiency",),
    "heparin_change": ("anticoagulation_drift",),
    "impella_reposition": ("impella_suction",),
    "purge_change": ("impella_purge_obstruction",),
}

# After a fluid bolus the volume deficit clears with this time constant (minutes).
BOLUS_TAU_MIN = 20.0


@dataclass(frozen=True)
class Fault:
    kind: str
    onset_fraction: float
    ramp_fraction: float
    severity: float = 1.0
    params: dict[str, Any] = field(default_factory=dict)

    def describe(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "onset_fraction": self.onset_fraction,
            "ramp_fraction": self.ramp_fraction,
            "severity": self.severity,
            "params": dict(self.params),
        }


@dataclass(frozen=True)
class Intervention:
    kind: str
    at_fraction: float
    params: dict[str, Any] = field(default_factory=dict)


def minute_of(fraction: float, n: int) -> int:
    return min(max(round(fraction * n), 0), n - 1)


def smoothstep(x: Array) -> Array:
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


def progress(fault: Fault, n: int, interventions: list[Intervention]) -> tuple[Array, int | None]:
    """Per-minute progress (0…severity) of ``fault`` and the minute it was ended, if any."""
    t = np.arange(n, dtype=float)
    onset = minute_of(fault.onset_fraction, n)
    ramp = max(fault.ramp_fraction * n, 1.0)
    p = fault.severity * smoothstep((t - onset) / ramp)
    p[:onset] = 0.0
    ended: int | None = None
    for iv in interventions:
        if fault.kind not in RESOLVES.get(iv.kind, ()):
            continue
        at = minute_of(iv.at_fraction, n)
        if at <= onset or (ended is not None and at >= ended):
            continue
        ended = at
    if ended is not None:
        if fault.kind == "access_insufficiency":
            p[ended:] = p[ended] * np.exp(-(t[ended:] - ended) / BOLUS_TAU_MIN)
        else:
            p[ended:] = 0.0
    return p, ended


def setting_profile(
    n: int, base: float, interventions: list[Intervention], kind: str, key: str
) -> Array:
    """A bedside setting (sweep, flow target, heparin rate) as changed by interventions."""
    out = np.full(n, base, dtype=float)
    for iv in sorted(interventions, key=lambda i: i.at_fraction):
        if iv.kind == kind:
            at = minute_of(iv.at_fraction, n)
            if "factor" in iv.params:
                out[at:] = out[at] * float(iv.params["factor"])
            else:
                out[at:] = float(iv.params[key])
    return out


def oxygenator_changes(n: int, interventions: list[Intervention]) -> list[int]:
    return sorted(
        minute_of(i.at_fraction, n) for i in interventions if i.kind == "oxygenator_change"
    )
