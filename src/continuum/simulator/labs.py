"""Laboratory values as slow physiological states (noiseless, every minute).

Each lab follows its driving level through a first-order lag (time constant in minutes):
plasma free Hb is cleared in about a day after a pump-head change (Mayo,
docs/clinical/reference.md §4.3),
LDH follows free Hb more slowly, the coagulation system moves over a day, heparin activity
over an hour or two.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]

_BLOCK_LOG_LIMIT = 30.0


def lag(target: Array, tau_min: float, start: float | None = None) -> Array:
    """First-order lag y' = (target − y)/tau, exact for piecewise-constant minutes, vectorised.

    Computed block by block so the geometric weights stay within floating-point range.
    """
    u = np.asarray(target, dtype=float)
    n = u.size
    out = np.empty(n)
    a = float(np.exp(-1.0 / tau_min))
    block = max(1, int(_BLOCK_LOG_LIMIT * tau_min))
    y_prev = float(u[0] if start is None else start)
    for lo in range(0, n, block):
        seg = u[lo : lo + block]
        k = np.arange(seg.size, dtype=float)
        w = a ** (-k)
        acc = np.cumsum(seg * w) * (1.0 - a)
        ak = a ** (k + 1.0)
        y = ak * y_prev + acc * (ak / a)
        out[lo : lo + seg.size] = y
        y_prev = float(y[-1])
    return out


@dataclass
class LabDrivers:
    """Fault progress arrays (0–1) that drive the labs; zeros when a fault is absent."""

    pump_thrombosis: Array
    hemolysis: Array
    access: Array
    circuit_thrombosis: Array
    oxygenator: Array
    heparin_sensitivity: Array  # multiplier on anti-Xa per U/kg/h
    heparin_rate: Array  # U/kg/h


# Anti-Xa per unit heparin rate at baseline: 15 U/kg/h → 0.40 IU/mL.
ANTI_XA_PER_UNIT = 0.40 / 15.0
ANTI_XA_TARGET = (0.3, 0.7)


def compute_labs(d: LabDrivers, hb_base: Array) -> dict[str, Array]:
    """Noiseless lab states: pfhb, ldh, hb, platelets, fibrinogen, d_dimer, anti_xa, aptt."""
    pfhb_level = (
        6.0
        + 190.0 * d.pump_thrombosis
        + 160.0 * d.hemolysis
        + 22.0 * d.access
        + 8.0 * d.circuit_thrombosis
    )
    pfhb = lag(pfhb_level, 8 * 60.0)
    ldh = lag(250.0 + 10.0 * pfhb, 18 * 60.0)
    hb = hb_base - lag(0.012 * (pfhb - 6.0), 24 * 60.0)
    consumption = 0.72 * d.circuit_thrombosis + 0.3 * d.pump_thrombosis + 0.2 * d.oxygenator
    platelets = lag(185.0 * (1.0 - np.clip(consumption, 0.0, 0.9)), 24 * 60.0)
    fibrinogen = lag(
        4.5 - 3.3 * d.circuit_thrombosis - 0.6 * d.oxygenator - 0.3 * d.pump_thrombosis,
        18 * 60.0,
    )
    d_dimer = lag(
        3.0 + 42.0 * d.circuit_thrombosis + 8.0 * d.oxygenator + 4.0 * d.pump_thrombosis,
        12 * 60.0,
    )
    anti_xa = lag(d.heparin_rate * ANTI_XA_PER_UNIT * d.heparin_sensitivity, 90.0)
    aptt = 28.0 + 150.0 * anti_xa + 12.0 * d.circuit_thrombosis
    return {
        "pfhb": pfhb,
        "ldh": ldh,
        "hb": hb,
        "platelets": platelets,
        "fibrinogen": np.maximum(fibrinogen, 0.4),
        "d_dimer": d_dimer,
        "anti_xa": anti_xa,
        "aptt": aptt,
    }


def lactate(svo2: Array, hypovolaemia: Array) -> Array:
    """Lactate (mmol/L) rising when venous saturation shows inadequate delivery."""
    deficit = np.clip((60.0 - svo2) / 20.0, 0.0, 2.0)
    return lag(1.2 + 5.0 * deficit**1.5 + 1.5 * hypovolaemia, 3 * 60.0)
