"""Mechanical circulatory support beside the circuit: an Impella's controller readings and
the arterial pulse pressure that tells whether the left ventricle ejects.

Added only to scenarios that name a device or a device fault, from a random stream of its
own, so every other scenario's signals are unchanged. Values follow
docs/clinical/reference.md §8.4 (P-levels, purge window) and docs/clinical/mcs.md:

* Impella at a fixed P-level: flow ``flow`` L/min (the model's range at that level);
  ``impella_suction`` (hypovolaemia, malposition) lowers it by up to 75 %; repositioning
  (``impella_reposition``) ends the fault.
* Purge pressure ``purge`` mmHg inside the 300–1,100 mmHg window; ``impella_purge_obstruction``
  (dextrose, a kink, a failing cassette) raises it by up to 800 mmHg while the purge flow
  falls; a purge change (``purge_change``: lower dextrose, new cassette) ends it.
* Pulse pressure ``pulse_pressure`` mmHg around the mean arterial pressure
  (systolic = MAP + 2/3 PP, diastolic = MAP − 1/3 PP); ``lv_distension`` (a failing LV that
  no longer opens the aortic valve against retrograde flow) narrows it to 3 mmHg.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]

DEVICE_FAULTS: dict[str, tuple[str, ...]] = {
    "impella_suction": ("impella_flow_low",),
    "impella_purge_obstruction": ("impella_purge_pressure",),
    "lv_distension": ("lv_unloading_context",),
}
DEVICE_RESOLVES: dict[str, tuple[str, ...]] = {
    "impella_reposition": ("impella_suction",),
    "purge_change": ("impella_purge_obstruction",),
}
# The readings a console CSV carries for a device run (after the circuit's own columns).
DEVICE_COLUMNS: tuple[str, ...] = (
    "impella_p_level",
    "impella_flow",
    "impella_purge_pressure",
    "impella_purge_flow",
    "sbp",
    "dbp",
)
IMPELLA_DEFAULTS: dict[str, dict[str, float]] = {
    # P-level, flow at that level (L/min), purge pressure (mmHg), purge flow (mL/h)
    "CP": {"p_level": 8, "flow": 3.2, "purge": 560.0, "purge_flow": 12.0},
    "2.5": {"p_level": 8, "flow": 2.25, "purge": 600.0, "purge_flow": 10.0},
    "5.5": {"p_level": 8, "flow": 4.6, "purge": 520.0, "purge_flow": 14.0},
}
PULSE_PRESSURE = {"baseline": 24.0, "distended": 3.0}
STREAM = 0x5EED_0036


def applies(devices: Mapping[str, str], faults: Mapping[str, Array]) -> bool:
    return bool(devices) or any(k in DEVICE_FAULTS for k in faults)


def device_signals(
    devices: Mapping[str, str],
    faults: Mapping[str, Array],
    n: int,
    seed: int,
    arterial_pressure: Array,
) -> tuple[dict[str, Array], dict[str, Array]]:
    """(noiseless, observed) device signals per minute; observed adds controller noise."""
    rng = np.random.default_rng([int(seed) & 0xFFFFFFFF, STREAM])

    def fault(kind: str) -> Array:
        return np.clip(faults.get(kind, np.zeros(n)), 0.0, 1.0)

    clean: dict[str, Array] = {}
    observed: dict[str, Array] = {}
    model = devices.get("impella")
    if model is not None:
        d = IMPELLA_DEFAULTS.get(model, IMPELLA_DEFAULTS["CP"])
        suction, purge = fault("impella_suction"), fault("impella_purge_obstruction")
        clean["impella_p_level"] = np.full(n, float(d["p_level"]))
        clean["impella_flow"] = d["flow"] * (1.0 - 0.75 * suction)
        clean["impella_purge_pressure"] = d["purge"] + 800.0 * purge
        clean["impella_purge_flow"] = d["purge_flow"] * (1.0 - 0.7 * purge)
        observed["impella_p_level"] = clean["impella_p_level"].copy()
        observed["impella_flow"] = np.clip(
            clean["impella_flow"] + rng.normal(0.0, 0.08, n), 0.0, None
        )
        observed["impella_purge_pressure"] = clean["impella_purge_pressure"] + rng.normal(
            0.0, 12.0, n
        )
        observed["impella_purge_flow"] = np.clip(
            clean["impella_purge_flow"] + rng.normal(0.0, 0.4, n), 0.0, None
        )
    pp = PULSE_PRESSURE["baseline"] - (
        PULSE_PRESSURE["baseline"] - PULSE_PRESSURE["distended"]
    ) * fault("lv_distension")
    clean["sbp"] = arterial_pressure + 2.0 * pp / 3.0
    clean["dbp"] = arterial_pressure - pp / 3.0
    wobble = rng.normal(0.0, 1.5, n)
    observed["sbp"] = clean["sbp"] + wobble + rng.normal(0.0, 1.0, n)
    observed["dbp"] = clean["dbp"] + wobble + rng.normal(0.0, 1.0, n)
    return clean, observed
