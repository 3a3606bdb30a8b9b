"""Steady-state O2 and CO2 mass balance of patient + circuit, every minute, vectorised.

VV (docs/clinical/reference.md §3.5–3.6): the drainage cannula takes ``Q`` of which a fraction
``R`` is
recirculated return blood; ``(1 − R)·Q`` of oxygenated blood reaches the right heart and
mixes with the rest of the venous return; the native lung (shunt ``s``) arterialises the mix;
the body consumes VO2.  VA (§3.7): the circuit drains venous blood and returns it
retrogradely into the femoral artery; native output crosses the native lung; the upper
body is perfused mainly by native output when it is large (mixing zone).

Contents are mixed, never saturations (dissolved O2 loads haemoglobin on mixing).
Mass balance at the fixed point: VO2 = membrane-lung O2 transfer + native-lung uptake.
CO2 (§3.8): the membrane lung removes CO2 as a sweep-limited exchanger
(:func:`continuum.simulator.circuit.co2_fraction_kept`); the native lung clears what its
alveolar ventilation can (:mod:`continuum.simulator.ventilation`), the perfused share of
the pulmonary blood equilibrating with alveolar gas.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from continuum import support_configuration
from continuum.simulator.blood import (
    CO2_SLOPE,
    RQ,
    alveolar_po2,
    content,
    membrane_o2_transfer,
    po2_from_content,
    saturation_from_po2,
)
from continuum.simulator.circuit import (
    Circuit,
    co2_fraction_kept,
    o2_transfer_limit,
    post_oxygenator_po2,
    sweep_supply,
)
from continuum.simulator.ventilation import RR_MAX, RR_MIN, Ventilation

Array = NDArray[np.float64]

_MAX_ITER = 60
_TOL = 1e-10


@dataclass
class GasInputs:
    mode: str
    flow: Array  # ECMO blood flow L/min
    cardiac_output: Array  # VV: total cardiac output; VA: native (transpulmonary) output
    recirculation: Array  # VV fraction 0–1 (VA: zeros)
    shunt: Array  # native-lung shunt fraction 0–1
    hb: Array
    vo2: Array  # mL/min
    fdo2: Array
    sweep: Array
    o2_efficiency: Array  # membrane-lung surface still exchanging O2 (0–1)
    co2_efficiency: Array
    vent_fio2: float
    ventilation: Ventilation


def _sigmoid(x: Array) -> Array:
    return 1.0 / (1.0 + np.exp(-x))


def upper_body_ecmo_share(flow: Array, native_output: Array) -> Array:
    """Share of ECMO blood reaching the right arm in femoral VA (mixing-zone position)."""
    return _sigmoid((0.5 * flow - native_output) / 0.5)


def lower_body_ecmo_share(flow: Array, native_output: Array) -> Array:
    return _sigmoid((1.5 * flow - native_output) / 0.6)


def native_co2_share(shunt: Array, co: Array, conductance: Array) -> Array:
    """Share h of the pulmonary-artery pCO2 the native lung removes in one pass.

    The perfused share (1 − s) of the pulmonary blood (CO2 capacity 10·CO·slope) equilibrates
    with alveolar gas cleared by ventilation of conductance G: end-capillary
    pCO2 = Ppa·(1 − s)·Cb / ((1 − s)·Cb + G), so h = (1 − s)·G / ((1 − s)·Cb + G).
    """
    perfused = (1.0 - shunt) * 10.0 * co * CO2_SLOPE
    return (1.0 - shunt) * conductance / np.maximum(perfused + conductance, 1e-9)


def _co2(g: GasInputs, q: Array, co: Array, r: Array, keep: Array, h: Array) -> dict[str, Array]:
    """CO2 balance, linear in pCO2 for a given native-lung share ``h``, solved in closed form.

    VV: drainage pCO2 = R·post + (1 − R)·Pv and post = keep·pre give post = κ·Pv; the
    pulmonary artery receives λ·Pv, the native lung removes a share h, and venous blood
    carries VCO2 back: Pv = Pa + VCO2/(10·CO·slope).  VA: Pv = μ·Pv + VCO2/(10·total·slope).
    """
    vco2 = RQ * g.vo2
    if support_configuration.of(g.mode).venous_return:
        kappa = keep * (1.0 - r) / (1.0 - r * keep)
        qe = np.minimum((1.0 - r) * q, co)
        lam = (qe * kappa + co - qe) / co
        pv = vco2 / (10.0 * co * CO2_SLOPE) / (1.0 - (1.0 - h) * lam)
        pre = (1.0 - r) * pv / (1.0 - r * keep)
        pa = (1.0 - h) * lam * pv
        return {"pv": pv, "pre": pre, "post": keep * pre, "pa": pa, "native": h * lam * pv}
    total = q + co
    mu = (q * keep + co * (1.0 - h)) / total
    pv = vco2 / (10.0 * total * CO2_SLOPE) / (1.0 - mu)
    return {"pv": pv, "pre": pv, "post": keep * pv, "pa": mu * pv, "native": (1.0 - h) * pv}


def _native_paco2(co2: dict[str, Array], is_vv: bool) -> Array:
    """pCO2 of blood leaving the native lung (what drives breathing): VV = arterial."""
    return co2["pa"] if is_vv else co2["native"]


def _co2_balance(
    g: GasInputs, q: Array, co: Array, r: Array, keep: Array, is_vv: bool
) -> tuple[dict[str, Array], Array, Array]:
    """CO2 balance with the native lung's ventilation; (pCO2s, share h, respiratory rate).

    Controlled ventilation: one closed-form solve.  Spontaneous breathing: the rate rises
    with PaCO2, so bisect on PaCO2 until the drive and the balance agree (monotone).
    """
    vent = g.ventilation
    if not vent.spontaneous:
        rate = vent.set_rate
        h = native_co2_share(g.shunt, co, vent.conductance(rate))
        return _co2(g, q, co, r, keep, h), h, rate
    lo = np.full(q.size, 5.0)
    hi = np.full(q.size, 200.0)
    for _ in range(30):
        mid = 0.5 * (lo + hi)
        h = native_co2_share(g.shunt, co, vent.conductance(vent.rate(mid)))
        too_high = _native_paco2(_co2(g, q, co, r, keep, h), is_vv) < mid
        hi = np.where(too_high, mid, hi)
        lo = np.where(too_high, lo, mid)
    rate = np.clip(vent.rate(0.5 * (lo + hi)), RR_MIN, RR_MAX)
    h = native_co2_share(g.shunt, co, vent.conductance(rate))
    return _co2(g, q, co, r, keep, h), h, rate


def solve(g: GasInputs, c: Circuit) -> dict[str, Array]:
    """Solve the O2 balance for the drainage-limb content by a vectorised secant method.

    Unknown x = drainage (pre-oxygenator) O2 content.  From x follow the membrane lung to
    the return-limb content, back out the venous content from the drainage mix, send the
    blood round the native lung and the body, and require the venous content to agree.
    """
    n = g.flow.size
    q = np.maximum(g.flow, 0.05)
    co = np.maximum(g.cardiac_output, 0.1)
    is_vv = support_configuration.of(g.mode).venous_return  # returned blood meets drainage
    r = np.clip(g.recirculation, 0.0, 0.95) if is_vv else np.zeros(n)
    keep = co2_fraction_kept(c, g.sweep, q, g.co2_efficiency)
    co2, h, rate = _co2_balance(g, q, co, r, keep, is_vv)
    supply = sweep_supply(c, g.sweep, g.fdo2, g.o2_efficiency)
    c_cap = content(g.hb, np.maximum(alveolar_po2(g.vent_fio2, co2["pa"]), 60.0))
    upper_content = content(g.hb, np.full(n, 700.0))
    state: dict[str, Array] = {"pre_po2": np.full(n, 38.0), "lim_po2": np.full(n, 100.0)}

    def residual(x: Array) -> Array:
        pre_po2 = po2_from_content(x, g.hb, state["pre_po2"])
        state["pre_po2"] = pre_po2
        post_po2 = post_oxygenator_po2(c, pre_po2, g.fdo2, q, g.o2_efficiency, supply)
        c_post = content(g.hb, post_po2)
        # Haemoglobin-loading limit: past it the blood leaves the membrane unsaturated.
        c_lim = x + o2_transfer_limit(c, pre_po2, g.fdo2, g.o2_efficiency, supply) / (10.0 * q)
        idx = np.flatnonzero(c_lim < c_post)
        if idx.size:
            guess = state["lim_po2"]
            guess[idx] = po2_from_content(c_lim[idx], g.hb[idx], guess[idx])
            post_po2 = post_po2.copy()
            post_po2[idx] = guess[idx]
            c_post = c_post.copy()
            c_post[idx] = content(g.hb[idx], post_po2[idx])
        cv = (x - r * c_post) / (1.0 - r)
        if is_vv:
            qe = np.minimum((1.0 - r) * q, co)
            c_pa = (qe * c_post + (co - qe) * cv) / co
            c_art = g.shunt * c_pa + (1.0 - g.shunt) * c_cap
            implied = c_art - g.vo2 / (10.0 * co)
        else:
            total = q + co
            c_nat = g.shunt * cv + (1.0 - g.shunt) * c_cap
            implied = (q * c_post + co * c_nat) / total - g.vo2 / (10.0 * total)
        state.update(post_po2=post_po2, c_post=c_post, cv=cv)
        return cv - implied

    x0 = content(g.hb, np.full(n, 30.0))
    x1 = content(g.hb, np.full(n, 40.0))
    f0 = residual(x0)
    for _ in range(_MAX_ITER):
        f1 = residual(x1)
        denom = f1 - f0
        safe = np.abs(denom) > 1e-300
        step = np.where(safe, f1 * (x1 - x0) / np.where(safe, denom, 1.0), 0.0)
        x0, f0 = x1, f1
        x1 = np.clip(x1 - step, 0.2, upper_content)
        if float(np.max(np.abs(step))) < _TOL:
            break
    residual(x1)
    pre_po2, post_po2 = state["pre_po2"], state["post_po2"]
    c_post, cv = state["c_post"], state["cv"]
    pre_so2 = saturation_from_po2(pre_po2)
    post_so2 = saturation_from_po2(post_po2)
    v_po2 = po2_from_content(cv, g.hb)
    out: dict[str, Array] = {
        "pre_oxy_po2": pre_po2,
        "pre_oxy_so2": pre_so2,
        "pre_oxy_pco2": co2["pre"],
        "post_oxy_po2": post_po2,
        "post_oxy_so2": post_so2,
        "post_oxy_pco2": co2["post"],
        "svo2": saturation_from_po2(v_po2),
        "venous_po2": v_po2,
        "venous_pco2": co2["pv"],
        "resp_rate": rate,
    }
    out["ml_o2_transfer"] = membrane_o2_transfer(g.flow, g.hb, pre_so2, pre_po2, post_so2, post_po2)
    out["ml_co2_removal"] = q * 10.0 * CO2_SLOPE * (co2["pre"] - co2["post"])
    if is_vv:
        qe = np.minimum((1.0 - r) * q, co)
        c_pa = (qe * c_post + (co - qe) * cv) / co
        c_art = g.shunt * c_pa + (1.0 - g.shunt) * c_cap
        pao2 = po2_from_content(c_art, g.hb)
        out["pao2"] = pao2
        out["sao2"] = saturation_from_po2(pao2)
        out["paco2"] = co2["pa"]
        out["native_o2_transfer"] = 10.0 * co * (1.0 - g.shunt) * (c_cap - c_pa)
        out["native_co2_removal"] = 10.0 * co * CO2_SLOPE * co2["native"]
        out["upper_po2"] = pao2
        out["upper_so2"] = out["sao2"]
    else:
        c_nat = g.shunt * cv + (1.0 - g.shunt) * c_cap
        low = lower_body_ecmo_share(q, co)
        up = upper_body_ecmo_share(q, co)
        pao2 = po2_from_content(low * c_post + (1.0 - low) * c_nat, g.hb)
        upper_po2 = po2_from_content(up * c_post + (1.0 - up) * c_nat, g.hb)
        out["pao2"] = pao2
        out["sao2"] = saturation_from_po2(pao2)
        out["paco2"] = low * co2["post"] + (1.0 - low) * co2["native"]
        out["native_o2_transfer"] = 10.0 * co * (1.0 - g.shunt) * (c_cap - cv)
        out["native_co2_removal"] = 10.0 * co * CO2_SLOPE * h * co2["pv"]
        out["upper_po2"] = upper_po2
        out["upper_so2"] = saturation_from_po2(upper_po2)
    return out
