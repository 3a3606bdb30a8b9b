"""Blood oxygen and carbon dioxide carriage used by the simulator.

Oxygen content comes from :mod:`continuum.physiology.gas_exchange` (Hüfner 1.34,
solubility 0.003 mL/dL/mmHg); this module adds what the simulator needs on top:
the oxyhaemoglobin dissociation curve (Severinghaus 1979) and its inverse, so that
blood streams can be mixed by *content* and turned back into pO2 and saturation.
All functions take and return numpy arrays (or floats).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import numpy as np
from numpy.typing import NDArray

from continuum.physiology import gas_exchange

Array = NDArray[np.float64]

# Water vapour pressure at 37 °C and sea-level barometric pressure (mmHg).
PH2O = 47.0
PBARO = 760.0
# Effective slope of the CO2 dissociation curve (mL CO2/dL/mmHg), Haldane effect included.
CO2_SLOPE = 0.3
# Respiratory quotient: VCO2 = RQ × VO2.
RQ = 0.8


# The physiology functions are written for floats; their formulas are plain arithmetic,
# so they broadcast over numpy arrays unchanged.
_oxygen_content = cast(Callable[..., Any], gas_exchange.oxygen_content)
_o2_transfer = cast(Callable[..., Any], gas_exchange.oxygenator_o2_transfer)


def saturation_from_po2(po2: Array | float) -> Array:
    """Oxyhaemoglobin saturation (%) for a pO2 (mmHg): Severinghaus 1979."""
    p = np.maximum(np.asarray(po2, dtype=float), 0.1)
    return 100.0 / (23400.0 / (p**3 + 150.0 * p) + 1.0)


def _dsat_dpo2(po2: Array) -> Array:
    """Derivative of :func:`saturation_from_po2` in %/mmHg."""
    p = np.maximum(po2, 0.1)
    g = p**3 + 150.0 * p
    inner = 23400.0 / g + 1.0
    return 100.0 * 23400.0 * (3.0 * p**2 + 150.0) / (g**2 * inner**2)


def content(hb: Array | float, po2: Array) -> Array:
    """O2 content (mL/dL) of blood at ``po2`` via physiology.gas_exchange.oxygen_content."""
    return np.asarray(_oxygen_content(hb, saturation_from_po2(po2), po2), dtype=np.float64)


def membrane_o2_transfer(
    flow: Array, hb: Array, pre_so2: Array, pre_po2: Array, post_so2: Array, post_po2: Array
) -> Array:
    """Membrane-lung O2 transfer (mL/min) via physiology.gas_exchange.oxygenator_o2_transfer."""
    return np.asarray(
        _o2_transfer(flow, hb, pre_so2, pre_po2, post_so2, post_po2), dtype=np.float64
    )


def po2_from_content(c: Array, hb: Array | float, guess: Array | None = None) -> Array:
    """Invert :func:`content`: the pO2 (mmHg) at which blood of haemoglobin ``hb`` holds ``c``.

    Newton's method on log pO2 (content is monotonic in pO2), warm-started from ``guess``.
    """
    c = np.asarray(c, dtype=float)
    hb_arr = np.broadcast_to(np.asarray(hb, dtype=float), c.shape)
    lp = np.log(np.full(c.shape, 40.0) if guess is None else np.clip(guess, 1.0, 2000.0))
    for _ in range(40):
        p = np.exp(lp)
        s = saturation_from_po2(p)
        f = 0.0134 * hb_arr * s + 0.003 * p - c
        dfdp = 0.0134 * hb_arr * _dsat_dpo2(p) + 0.003
        step = f / (dfdp * p)
        lp = np.clip(lp - np.clip(step, -1.0, 1.0), 0.0, np.log(2000.0))
        if float(np.max(np.abs(step))) < 1e-10:
            break
    return np.exp(lp)


def alveolar_po2(fio2: Array | float, paco2: Array | float) -> Array:
    """Alveolar gas equation (mmHg), RQ 0.8."""
    return np.asarray(fio2, dtype=float) * (PBARO - PH2O) - np.asarray(paco2, dtype=float) / RQ


def ph_from(paco2: Array, bicarbonate: Array) -> Array:
    """Henderson–Hasselbalch: pH = 6.1 + log10(HCO3 / (0.03 × pCO2))."""
    return 6.1 + np.log10(bicarbonate / (0.03 * np.maximum(paco2, 1.0)))
