"""When sparse values are sampled: blood gases every 4–6 h, labs every 6–12 h.

Circuit gases (pre- and post-oxygenator, drawn together) go with the arterial blood gas
round; venous saturation (VV, a central venous sample away from the return jet) too.
Anticoagulation (anti-Xa, aPTT) is checked every 6 h; the full set (Hb, platelets,
fibrinogen, D-dimer, LDH, free Hb) every 8–12 h.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from continuum import support_configuration

IntArray = NDArray[np.int64]

BLOOD_GAS_CODES: tuple[str, ...] = (
    "pre_oxy_po2",
    "pre_oxy_pco2",
    "pre_oxy_so2",
    "post_oxy_po2",
    "post_oxy_pco2",
    "post_oxy_so2",
    "sao2",
    "pao2",
    "paco2",
    "ph",
    "lactate",
)
BLOOD_GAS_VA_ONLY: tuple[str, ...] = ("pao2_right_radial",)
BLOOD_GAS_VV_ONLY: tuple[str, ...] = ("svo2",)
COAG_CODES: tuple[str, ...] = ("anti_xa", "aptt")
FULL_LAB_CODES: tuple[str, ...] = ("hb", "platelets", "fibrinogen", "d_dimer", "ldh", "pfhb")


def sample_minutes(
    rng: np.random.Generator, n: int, low_h: float, high_h: float, first_h: float = 1.0
) -> IntArray:
    """Minute indices with gaps drawn uniformly between ``low_h`` and ``high_h`` hours."""
    times: list[int] = []
    t = float(rng.uniform(0.25, first_h)) * 60.0
    while t < n:
        times.append(int(t))
        t += float(rng.uniform(low_h, high_h)) * 60.0
    return np.asarray(times, dtype=np.int64)


def schedule(rng: np.random.Generator, n: int, mode: str) -> dict[str, IntArray]:
    """Sampling minutes for every sparse code in ``mode``."""
    gases = sample_minutes(rng, n, 4.0, 6.0)
    coag = sample_minutes(rng, n, 6.0, 6.0 + 1.0, first_h=2.0)
    full = sample_minutes(rng, n, 8.0, 12.0, first_h=3.0)
    out: dict[str, IntArray] = {}
    for code in BLOOD_GAS_CODES:
        out[code] = gases
    upper_body = support_configuration.of(mode).differential_hypoxia_applies
    for code in BLOOD_GAS_VA_ONLY if upper_body else BLOOD_GAS_VV_ONLY:
        out[code] = gases
    for code in COAG_CODES:
        out[code] = coag
    for code in FULL_LAB_CODES:
        out[code] = full
    return out
