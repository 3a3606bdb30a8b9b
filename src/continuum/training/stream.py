"""What a training session shows minute by minute: a fault-free simulated run with the
injected faults laid over it. Uses only the simulator's public API (``simulate``, the
scenario library); no database here.

* The *base* is a fault-free scenario (``control_vv`` / ``control_va``) simulated for the
  whole session: it gives every minute's noise, artefacts and sampling schedule.
* A fault injected at simulated minute ``m`` is the fault scenario simulated so that its
  fault develops over ``ramp`` minutes; from ``m`` on, each value is the base value plus the
  fault's effect (fault scenario minus its fault-free control, same seed, noiseless),
  so the picture is continuous at onset and
  keeps the base's noise and blood-gas/lab schedule. The scenario's own remedy (e.g. its
  oxygenator change) is never played: the fault holds at its last state until the trainees
  put it right, then fades over ``RECOVERY_MIN`` minutes.
* Time: the first ``lead_in`` minutes are history written at once (ending when the session
  starts), so surveillance has its baselines; after that, simulated minute ``k`` is shown
  at ``start + (k − lead_in) / acceleration`` minutes of wall-clock time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

import numpy as np
from numpy.typing import NDArray

from continuum.errors import FieldProblem, ValidationFailed
from continuum.simulator import SimulatedRun, list_scenarios, simulate
from continuum.simulator.faults import RESOLVES, minute_of
from continuum.simulator.scenarios import get_scenario

Array = NDArray[np.float64]
RECOVERY_MIN = 10.0  # simulated minutes for a put-right fault to fade [U]
PERCENT_CODES = ("spo2", "spo2_right", "sao2", "svo2", "pre_oxy_so2", "post_oxy_so2")
SIGNED_CODES = ("p_access", "p_preoxy", "p_postoxy", "ph")


def base_scenarios(mode: str | None = None) -> list[str]:
    """Fault-free scenarios a session can start from (one per mode)."""
    return [s.name for s in list_scenarios() if not s.faults and (mode is None or mode in s.modes)]


def fault_scenarios(mode: str | None = None) -> list[str]:
    """Scenarios of the library an instructor can inject (those with a fault)."""
    return [s.name for s in list_scenarios() if s.faults and (mode is None or mode in s.modes)]


def check_base(scenario: str) -> str:
    """The scenario's default mode; 422 when it is unknown or has faults of its own."""
    allowed = base_scenarios()
    if scenario not in allowed:
        raise ValidationFailed(
            [
                FieldProblem(
                    "scenario",
                    f"'{scenario}' is not a fault-free scenario to start from; allowed: "
                    f"{', '.join(allowed)} (faults are injected live)",
                    scenario,
                )
            ]
        )
    return get_scenario(scenario).default_mode


def check_fault(scenario: str, mode: str) -> str:
    """The simulator fault the scenario injects (its first); 422 when unknown or not for
    ``mode``."""
    allowed = fault_scenarios(mode)
    if scenario not in allowed:
        raise ValidationFailed(
            [
                FieldProblem(
                    "scenario",
                    f"'{scenario}' is not a fault scenario for {mode}; allowed: "
                    f"{', '.join(allowed)}",
                    scenario,
                )
            ]
        )
    return get_scenario(scenario).faults[0].kind


@lru_cache(maxsize=8)
def base_run(scenario: str, mode: str, minutes: int, seed: int) -> SimulatedRun:
    return simulate(scenario, mode, minutes / 60.0, seed)


@dataclass(frozen=True)
class FaultTrace:
    run: SimulatedRun
    control: SimulatedRun  # the mode's fault-free control, same length and seed
    onset: int  # minute of the fault scenario at which its first fault starts
    last: int  # last minute before the scenario's own remedy


@lru_cache(maxsize=32)
def fault_trace(scenario: str, mode: str, ramp_minutes: int, seed: int) -> FaultTrace:
    sc = get_scenario(scenario)
    first = min(sc.faults, key=lambda f: f.onset_fraction)
    n = max(math.ceil(ramp_minutes / max(first.ramp_fraction, 0.05)), 30)
    end = max(f.onset_fraction + f.ramp_fraction for f in sc.faults)
    n = max(n, math.ceil((ramp_minutes + 5) / max(end - first.onset_fraction, 0.05)))
    run = simulate(scenario, mode, n / 60.0, seed)
    onset = minute_of(first.onset_fraction, n)
    kinds = {f.kind for f in sc.faults}
    remedies = [
        minute_of(iv.at_fraction, n)
        for iv in sc.interventions
        if kinds & set(RESOLVES.get(iv.kind, ()))
    ]
    last = min(remedies) - 1 if remedies else n - 1
    control = simulate(base_scenarios(mode)[0], mode, n / 60.0, seed)
    return FaultTrace(run, control, onset, max(last, onset))


@dataclass(frozen=True)
class ActiveFault:
    scenario: str
    onset_minute: int
    resolved_minute: int | None


def values(
    scenario: str,
    mode: str,
    total: int,
    seed: int,
    ramp: int,
    faults: list[ActiveFault],
    first: int,
    last: int,
) -> dict[str, Array]:
    """Observed values of every code for simulated minutes ``first..last`` (NaN: none)."""
    base = base_run(scenario, mode, total, seed)
    ks = np.arange(first, last + 1)
    out = {code: base.signals[code][first : last + 1].astype(float).copy() for code in base.codes}
    for f in faults:
        if f.onset_minute > last:
            continue
        tr = fault_trace(f.scenario, mode, ramp, seed)
        j = np.clip(tr.onset + (ks - f.onset_minute), tr.onset, tr.last)
        weight = (ks >= f.onset_minute).astype(float)
        if f.resolved_minute is not None:
            after = ks >= f.resolved_minute
            weight[after] = np.exp(-(ks[after] - f.resolved_minute) / RECOVERY_MIN)
            # the fault stays where it was when it was put right, then fades
            j = np.where(
                after, np.clip(tr.onset + f.resolved_minute - f.onset_minute, tr.onset, tr.last), j
            )
        for code in out:
            clean, control = tr.run.clean.get(code), tr.control.clean.get(code)
            if clean is None or control is None:
                continue
            out[code] = out[code] + weight * (clean[j] - control[j])
    for code, arr in out.items():
        if code in PERCENT_CODES:
            np.clip(arr, 0.0, 100.0, out=arr)
        elif code not in SIGNED_CODES:
            np.maximum(arr, 0.0, out=arr)
    return out


def wall_time(started_at: datetime, lead_in: int, acceleration: float, minute: int) -> datetime:
    """When simulated ``minute`` is shown: history before the start, then accelerated."""
    if minute < lead_in:
        return started_at - timedelta(minutes=lead_in - minute)
    return started_at + timedelta(minutes=(minute - lead_in) / acceleration)


def minute_at(started_at: datetime, lead_in: int, acceleration: float, at: datetime) -> int:
    """The simulated minute shown at wall-clock time ``at`` (the inverse of wall_time)."""
    elapsed = (at - started_at).total_seconds() / 60.0
    if elapsed < 0:
        return max(lead_in + math.floor(elapsed), 0)
    return lead_in + math.floor(elapsed * acceleration + 1e-9)
