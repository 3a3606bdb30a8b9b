"""The native lung as a ventilated gas exchanger: mechanics, dead space, CO2 clearance.

Native CO2 removal is limited by alveolar ventilation (alveolar ventilation equation,
PaCO2 = 0.863·VCO2 / VA; docs/clinical/reference.md §3.8):

* compliance (mL/cmH2O) = 10 + 50 × native lung function            [U, calibration]
* tidal volume = compliance × driving pressure, capped at 6 mL/kg predicted body weight
  (ARDSNet male formula; the simulated patient has no sex)
* dead-space fraction VD/VT = 0.3 + 0.4 × (1 − native lung function)  (about 0.3 in health,
  0.6–0.7 in severe ARDS) [S]
* alveolar ventilation VA = RR × VT × (1 − VD/VT); its CO2 conductance G = VA / 863
  (mL CO2/min per mmHg, VA in mL/min)

Controlled ("rest") ventilation keeps the set rate.  A spontaneously breathing patient
(awake ECMO, weaning) raises the rate with PaCO2: RR = set rate + 1.2/min per mmHg above
40, between 8 and 40/min [U]; :func:`continuum.simulator.oxygenation.solve` finds the
PaCO2 at which that drive and the CO2 balance agree.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]

VT_CAP_ML_KG = 6.0
RR_GAIN = 1.2  # breaths/min per mmHg PaCO2 above RR_SET_POINT (spontaneous breathing) [U]
RR_SET_POINT = 40.0
RR_MIN, RR_MAX = 8.0, 40.0


def predicted_body_weight(height_cm: float) -> float:
    """ARDSNet (Devine) predicted body weight, male formula (kg)."""
    return max(50.0 + 0.91 * (height_cm - 152.4), 30.0)


@dataclass
class Ventilation:
    """Per-minute lung mechanics and ventilator settings."""

    compliance: Array  # mL/cmH2O
    tidal_volume: Array  # mL
    dead_space: Array  # VD/VT
    peep: Array  # cmH2O
    plateau: Array  # cmH2O
    set_rate: Array  # /min
    spontaneous: bool

    def rate(self, paco2: Array) -> Array:
        """Respiratory rate: the set rate, or the CO2-driven rate when breathing spontaneously."""
        if not self.spontaneous:
            return self.set_rate
        return np.clip(self.set_rate + RR_GAIN * (paco2 - RR_SET_POINT), RR_MIN, RR_MAX)

    def conductance(self, rate: Array) -> Array:
        """CO2 conductance of alveolar ventilation, mL/min per mmHg."""
        return rate * self.tidal_volume * (1.0 - self.dead_space) / 863.0


def mechanics(
    lung: Array,
    height_cm: float,
    peep: float,
    driving_pressure: float,
    rate: float,
    spontaneous: bool,
) -> Ventilation:
    n = lung.size
    compliance = 10.0 + 50.0 * np.clip(lung, 0.0, 1.0)
    vt = np.minimum(compliance * driving_pressure, VT_CAP_ML_KG * predicted_body_weight(height_cm))
    return Ventilation(
        compliance=compliance,
        tidal_volume=vt,
        dead_space=0.3 + 0.4 * (1.0 - np.clip(lung, 0.0, 1.0)),
        peep=np.full(n, peep),
        plateau=peep + vt / compliance,
        set_rate=np.full(n, rate),
        spontaneous=spontaneous,
    )
