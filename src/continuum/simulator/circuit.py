"""The extracorporeal circuit: centrifugal pump, cannulae and membrane lung.

Hydraulics (all pressures mmHg, flow L/min):

* drainage cannula pressure drop  ΔP_d = m·(a_d·Q² + b_d·Q)   (m ≥ 1: vessel collapse)
* membrane lung                    ΔP_ml = R_ml·Q
* return cannula                   ΔP_r = a_r·Q² + b_r·Q
* centrifugal pump head            H = k·η·rpm² − c·Q²        (η ≤ 1: pump-head thrombus)

so that p_access = CVP − ΔP_d, p_postoxy = P_return + ΔP_r, p_preoxy = p_postoxy + ΔP_ml and
H = p_preoxy − p_access.  Cannula curves are quadratic fits of the kind digitised from
manufacturer ΔP–Q charts (docs/clinical/reference.md §2.7); the membrane lung is linear in flow.

Gas transfer of the membrane lung (docs/clinical/reference.md §3.3–3.4, §3.8):

* O2: post pO2 = pre pO2 + (P_sweep − pre pO2)·(1 − exp(−D·e·g/Q)),  P_sweep = FdO2·(760 − 47),
  and never more O2 than the membrane can move while haemoglobin is still loading:
  10·Q·(C_post − C_pre) ≤ Dm·e^0.15·g·(P_sweep − P_blood), so at high flow, low FdO2, a
  desaturated inlet or a failing membrane the blood leaves unsaturated.  ``g`` (0–1) is the
  sweep supply: g = 1 / (1 + Dm·e·P_sweep / (2·sweep·FdO2·1000)) — the gas loses O2 along the
  fibres when the sweep carries little more O2 than the blood takes up; g = 0 with the sweep
  off (no transfer), ≈ 0.95 at 5 L/min (weak, saturating).
* CO2: a counter-current exchanger between the blood (capacity 10·Q·0.3 mL/min/mmHg) and
  the sweep gas (capacity sweep·1000/713 mL/min/mmHg, inlet pCO2 0) through a membrane of
  conductance K·e_co2: removal = ε·C_min·pre pCO2 (effectiveness–NTU), so the sweep
  dominates CO2 removal until it exceeds the blood's capacity, then the blood flow and the
  membrane do.

with e the fraction of membrane surface still exchanging (1 new, falls with fibrin).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from continuum.simulator.blood import CO2_SLOPE, PBARO, PH2O

Array = NDArray[np.float64]


@dataclass(frozen=True)
class Circuit:
    drain_a: float = 3.2
    drain_b: float = 2.4
    return_a: float = 5.5
    return_b: float = 2.0
    ml_resistance: float = 4.5
    pump_k: float = 2.1e-5
    pump_c: float = 2.0
    o2_diffusion: float = 5.7  # D, L/min: pO2 equilibration along the fibres
    o2_capacity: float = 1.0  # Dm, mL O2/min/mmHg: O2 the membrane moves per mmHg gradient
    co2_conductance: float = 6.0  # K, mL CO2/min/mmHg: membrane CO2 conductance (new lung)
    max_rpm: float = 5000.0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def default_circuit(mode: str) -> Circuit:
    """Femoro-jugular VV (25 Fr drainage, 21 Fr return); femoro-femoral VA (25/19 Fr)."""
    if mode == "VA":
        return Circuit(return_a=8.0, return_b=5.0)
    return Circuit()


@dataclass
class Hydraulics:
    """Per-minute inputs to the pressure–flow solution (arrays of equal length)."""

    cvp: Array
    return_base: Array  # pressure at the return site at zero ECMO flow (CVP or MAP intercept)
    return_slope: Array  # rise of return-site pressure per L/min of ECMO flow (VA: MAP)
    drain_factor: Array  # ≥ 1: drainage resistance multiplier (hypovolaemic collapse)
    ml_factor: Array  # ≥ 1: membrane-lung resistance multiplier (fibrin)
    pump_efficiency: Array  # ≤ 1: pump-head thrombus


def _coefficients(c: Circuit, h: Hydraulics) -> tuple[Array, Array, Array]:
    a = c.pump_c + c.drain_a * h.drain_factor + c.return_a
    b = c.drain_b * h.drain_factor + c.return_b + c.ml_resistance * h.ml_factor + h.return_slope
    d = h.return_base - h.cvp
    return a, b, d


def required_rpm(c: Circuit, h: Hydraulics, flow: Array) -> Array:
    """Pump speed needed to drive ``flow`` through the circuit as it is at each minute."""
    a, b, d = _coefficients(c, h)
    head = a * flow**2 + b * flow + d
    rpm = np.sqrt(np.maximum(head, 1.0) / (c.pump_k * h.pump_efficiency))
    return np.minimum(rpm, c.max_rpm)


def flow_at_rpm(c: Circuit, h: Hydraulics, rpm: Array) -> Array:
    """Blood flow (L/min) the pump delivers at ``rpm``: positive root of the pressure balance."""
    a, b, d = _coefficients(c, h)
    cc = d - c.pump_k * h.pump_efficiency * rpm**2
    disc = np.maximum(b**2 - 4.0 * a * cc, 0.0)
    return np.maximum((-b + np.sqrt(disc)) / (2.0 * a), 0.0)


def pressures(c: Circuit, h: Hydraulics, flow: Array) -> tuple[Array, Array, Array]:
    """(p_access, p_preoxy, p_postoxy) in mmHg at ``flow``."""
    p_access = h.cvp - h.drain_factor * (c.drain_a * flow**2 + c.drain_b * flow)
    p_return = h.return_base + h.return_slope * flow
    p_post = p_return + c.return_a * flow**2 + c.return_b * flow
    p_pre = p_post + c.ml_resistance * h.ml_factor * flow
    return p_access, p_pre, p_post


def sweep_po2(fdo2: Array) -> Array:
    return fdo2 * (PBARO - PH2O)


def sweep_supply(c: Circuit, sweep: Array, fdo2: Array, efficiency: Array) -> Array:
    """Share (0–1) of the sweep's O2 tension left to drive transfer: 0 with the sweep off."""
    supply = np.maximum(sweep, 0.0) * np.maximum(fdo2, 0.01) * 1000.0  # mL O2/min in the gas
    demand = c.o2_capacity * efficiency * sweep_po2(fdo2)  # mL/min the membrane could take
    return supply / (supply + 0.5 * demand)


def post_oxygenator_po2(
    c: Circuit,
    pre_po2: Array,
    fdo2: Array,
    flow: Array,
    efficiency: Array,
    supply: Array | float = 1.0,
) -> Array:
    """Post-membrane pO2: equilibration towards the sweep O2 tension, limited by D·e·g/Q."""
    q = np.maximum(flow, 0.2)
    frac = 1.0 - np.exp(-c.o2_diffusion * efficiency * supply / q)
    return pre_po2 + (sweep_po2(fdo2) - pre_po2) * frac


def o2_transfer_limit(
    c: Circuit, pre_po2: Array, fdo2: Array, efficiency: Array, supply: Array
) -> Array:
    """Most O2 (mL/min) the membrane moves while haemoglobin is loading (blood pO2 ≈ halfway
    between the inlet and 100 mmHg): Dm·e^0.15·g·(P_sweep − P_blood).

    Fibrin (e < 1) is taken to cut pO2 equilibration (e) much sooner than the loading capacity
    (e^0.15) [U, calibration], so a failing membrane first loses outlet pO2 (Lubnow's sign, §4.1)
    and leaves the blood unsaturated only late or on a low FdO2."""
    p_blood = 0.5 * (pre_po2 + 100.0)
    capacity = c.o2_capacity * efficiency**0.15
    return capacity * supply * np.maximum(sweep_po2(fdo2) - p_blood, 0.0)


def co2_fraction_kept(c: Circuit, sweep: Array, flow: Array, efficiency: Array) -> Array:
    """Share of pre-membrane pCO2 still present after the membrane lung (ε-NTU, counter-flow)."""
    blood = 10.0 * np.maximum(flow, 0.2) * CO2_SLOPE
    gas = np.maximum(sweep, 0.0) * 1000.0 / (PBARO - PH2O)
    c_min = np.minimum(blood, gas)
    ratio = c_min / np.maximum(blood, gas)
    ntu = c.co2_conductance * efficiency / np.maximum(c_min, 1e-9)
    x = np.exp(-ntu * (1.0 - ratio))
    near_one = np.abs(1.0 - ratio) < 1e-6
    eff = np.where(
        near_one, ntu / (1.0 + ntu), (1.0 - x) / np.where(near_one, 1.0, 1.0 - ratio * x)
    )
    return 1.0 - eff * c_min / blood
