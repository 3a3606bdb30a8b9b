"""From noiseless physiology to what a console, monitor and laboratory report.

Measurement noise, slow transducer drift (re-zeroed daily), device resolution, missing
samples, export gaps, sensor drop-outs, single-minute spikes (cough, line flush, motion),
and the flow oscillation of a chattering drainage line.  Brief intentional flow reductions
(line checks) are *physiological* events generated here but applied before the physiology.

Every artefact draws from its own random stream, independent of the scenario, so a
fault scenario and its control with the same seed carry identical artefacts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from continuum.vocabulary import CODES

Array = NDArray[np.float64]
IntArray = NDArray[np.int64]

# code -> (absolute sd, relative sd, decimals)
NOISE: dict[str, tuple[float, float, int]] = {
    "blood_flow": (0.03, 0.0, 2),
    "pump_speed": (4.0, 0.0, 0),
    "p_access": (2.0, 0.0, 0),
    "p_preoxy": (2.5, 0.0, 0),
    "p_postoxy": (2.5, 0.0, 0),
    "sweep_flow": (0.0, 0.0, 1),
    "sweep_fio2": (0.0, 0.0, 2),
    "blood_temp": (0.03, 0.0, 1),
    "hr": (2.0, 0.0, 0),
    "map": (2.0, 0.0, 0),
    "spo2": (0.8, 0.0, 0),
    "spo2_right": (0.8, 0.0, 0),
    "pre_oxy_po2": (0.5, 0.03, 0),
    "post_oxy_po2": (1.0, 0.03, 0),
    "pre_oxy_pco2": (0.8, 0.0, 1),
    "post_oxy_pco2": (0.8, 0.0, 1),
    "pre_oxy_so2": (0.6, 0.0, 1),
    "post_oxy_so2": (0.2, 0.0, 1),
    "sao2": (0.6, 0.0, 1),
    "pao2": (0.5, 0.03, 0),
    "pao2_right_radial": (0.5, 0.03, 0),
    "paco2": (0.8, 0.0, 1),
    "ph": (0.01, 0.0, 2),
    "svo2": (1.0, 0.0, 1),
    "lactate": (0.05, 0.05, 1),
    "hb": (0.1, 0.02, 1),
    "platelets": (2.0, 0.05, 0),
    "fibrinogen": (0.05, 0.05, 2),
    "d_dimer": (0.1, 0.07, 2),
    "pfhb": (0.5, 0.08, 1),
    "ldh": (5.0, 0.05, 0),
    "anti_xa": (0.01, 0.035, 2),
    "aptt": (1.5, 0.04, 1),
    "heparin": (0.0, 0.0, 1),
    "vent_fio2": (0.0, 0.0, 2),
    "peep": (0.0, 0.0, 0),
    "tidal_volume": (8.0, 0.02, 0),
    "plateau_pressure": (0.5, 0.0, 0),
    "resp_rate": (1.0, 0.0, 0),
}

# Transducer drift: random walk per minute (mmHg), about ±1 mmHg a day, re-zeroed daily.
DRIFT_SD = 0.025
PRESSURES = ("p_access", "p_preoxy", "p_postoxy")
CONTINUOUS_CONSOLE = ("blood_flow", "pump_speed", "p_access", "p_preoxy", "p_postoxy", "blood_temp")
MONITOR = ("hr", "map", "spo2", "spo2_right")
DROPOUT_CODES = ("spo2", "spo2_right", "p_access", "p_postoxy", "map", "hr", "blood_temp")
SPIKE_CODES = ("p_access", "p_preoxy", "p_postoxy", "map", "spo2", "hr", "blood_flow")

STREAMS: dict[str, int] = {
    "noise": 1,
    "drift": 2,
    "missing": 3,
    "dropout": 4,
    "spike": 5,
    "flow_check": 6,
    "chatter": 7,
    "schedule": 8,
    "background": 9,
    "pump_wobble": 10,
}


def stream(seed: int, name: str) -> np.random.Generator:
    """An independent, reproducible random stream for one purpose."""
    return np.random.default_rng([int(seed) & 0xFFFFFFFF, STREAMS[name]])


@dataclass(frozen=True)
class Artefact:
    kind: str
    code: str | None
    start: int
    end: int
    detail: str = ""

    def as_dict(self, times: list[str]) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "code": self.code,
            "start": times[self.start],
            "end": times[min(self.end, len(times) - 1)],
            "detail": self.detail,
        }


def _events(rng: np.random.Generator, n: int, per_day: float) -> IntArray:
    count = int(rng.poisson(per_day * n / 1440.0))
    return np.sort(rng.integers(0, max(n, 1), size=count)).astype(np.int64)


def flow_checks(seed: int, n: int) -> list[Artefact]:
    """Brief intentional flow reductions (3–10 min to 60–75 %), about one a day."""
    rng = stream(seed, "flow_check")
    out: list[Artefact] = []
    for start in _events(rng, n, 1.0):
        length = int(rng.integers(3, 11))
        factor = float(rng.uniform(0.6, 0.75))
        out.append(
            Artefact(
                "flow_check",
                "blood_flow",
                int(start),
                int(start) + length,
                f"flow reduced to {factor:.2f} of target",
            )
        )
    return out


def flow_check_factor(checks: list[Artefact], n: int) -> Array:
    f = np.ones(n)
    for a in checks:
        f[a.start : a.end] = float(a.detail.split()[3])
    return f


def _finish(code: str, values: Array) -> Array:
    spec = CODES[code]
    decimals = NOISE.get(code, (0.0, 0.0, 2))[2]
    out = np.asarray(np.round(np.clip(values, spec.low, spec.high), decimals), dtype=np.float64)
    out[out == 0.0] = 0.0  # no negative zero in the CSV
    return out


def observe(
    seed: int,
    clean: dict[str, Array],
    continuous: tuple[str, ...],
    sparse: dict[str, IntArray],
) -> tuple[dict[str, Array], list[Artefact]]:
    """Observed signals (NaN = no observation) and the artefacts injected into them."""
    n = next(iter(clean.values())).size
    noise = stream(seed, "noise")
    log: list[Artefact] = []
    signals: dict[str, Array] = {}
    # Chattering: drainage collapse makes flow and access pressure oscillate.
    chat = stream(seed, "chatter")
    u = chat.standard_normal(n)
    v = np.abs(chat.standard_normal(n))
    amp = np.clip((-clean["p_access"] - 80.0) / 80.0, 0.0, 1.0)
    for code in continuous:
        sd_abs, sd_rel, _ = NOISE[code]
        x = clean[code] + noise.standard_normal(n) * (sd_abs + sd_rel * np.abs(clean[code]))
        if code == "blood_flow":
            x = x + amp * 0.45 * u
        elif code == "p_access":
            x = x - amp * 35.0 * v + amp * 12.0 * u
        elif code in ("p_preoxy", "p_postoxy"):
            x = x + amp * 20.0 * u
        signals[code] = x
    # Transducer drift, re-zeroed every 24 h.
    drift = stream(seed, "drift")
    day_start = (np.arange(n) // 1440) * 1440
    for code in PRESSURES:
        if code in signals:
            walk = np.cumsum(drift.standard_normal(n) * DRIFT_SD)
            signals[code] = signals[code] + walk - walk[day_start]
    # Sparse values at their sampling minutes.
    for code, minutes in sparse.items():
        sd_abs, sd_rel, _ = NOISE[code]
        x = np.full(n, np.nan)
        vals = clean[code][minutes]
        x[minutes] = vals + noise.standard_normal(minutes.size) * (sd_abs + sd_rel * np.abs(vals))
        signals[code] = x
    _spikes(seed, signals, n, log)
    _missing(seed, signals, continuous, n, log)
    return {code: _finish(code, x) for code, x in signals.items()}, log


def _spikes(seed: int, signals: dict[str, Array], n: int, log: list[Artefact]) -> None:
    rng = stream(seed, "spike")
    for minute in _events(rng, n, 4.0):
        code = SPIKE_CODES[int(rng.integers(0, len(SPIKE_CODES)))]
        r = float(rng.uniform())
        if code not in signals:
            continue
        x = signals[code]
        if code == "p_access":
            x[minute] -= 60.0 + 60.0 * r
            what = "cough / suction"
        elif code == "map":
            x[minute] = 200.0 + 45.0 * r
            what = "arterial line flush"
        elif code == "spo2":
            x[minute] = 55.0 + 25.0 * r
            what = "motion artefact"
        elif code == "hr":
            x[minute] = 150.0 + 40.0 * r
            what = "ECG artefact"
        elif code == "blood_flow":
            x[minute] *= 0.5 + 0.2 * r
            what = "flow-probe artefact"
        else:
            x[minute] += 60.0 + 60.0 * r
            what = "transducer knock"
        log.append(Artefact("spike", code, int(minute), int(minute) + 1, what))


def _missing(
    seed: int, signals: dict[str, Array], continuous: tuple[str, ...], n: int, log: list[Artefact]
) -> None:
    rng = stream(seed, "missing")
    for code in continuous:
        rate = 0.005 if code in MONITOR else 0.002
        signals[code][rng.uniform(size=n) < rate] = np.nan
    for start in _events(rng, n, 1.0):
        length = int(rng.integers(2, 21))
        for code in continuous:
            if code not in MONITOR:
                signals[code][start : start + length] = np.nan
        log.append(
            Artefact("export_gap", None, int(start), int(start) + length, "console export gap")
        )
    drop = stream(seed, "dropout")
    for start in _events(drop, n, 2.0):
        code = DROPOUT_CODES[int(drop.integers(0, len(DROPOUT_CODES)))]
        length = int(drop.integers(5, 61))
        if code in signals:
            signals[code][start : start + length] = np.nan
            log.append(
                Artefact("dropout", code, int(start), int(start) + length, "sensor drop-out")
            )
