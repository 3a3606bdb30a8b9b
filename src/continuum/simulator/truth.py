"""Ground truth for injected faults: detector code, onset, and when it became obvious.

``obvious_at`` is the first minute at or after onset at which the *noiseless* signals cross
the published threshold for that complication (docs/clinical/reference.md §3–5):

* oxygenator_dysfunction — post-oxygenator pO2 < 200 mmHg at FdO2 1.0 (scaled by FdO2 below
  1.0) or pre − post pCO2 < 5 mmHg (Lubnow 2014, table 6)
* transmembrane_gradient_rise — ΔP/Qb ≥ 1.3 × its value at onset (Lubnow: 30–50 % rise)
* pump_thrombosis, hemolysis — plasma free Hb > 50 mg/dL (0.05 g/dL; Perfusion 2020, Omar 2015)
* recirculation — recirculation fraction ≥ 0.20 (ELSO/Abrams; "likely clinically significant")
* access_insufficiency — drainage pressure < −100 mmHg (Robak; Zakhary 2020)
* circuit_thrombosis — D-dimer > 25 mg/L or fibrinogen < 2.0 g/L (Lubnow table 6)
* anticoagulation_out_of_range — anti-Xa outside the run's target (0.3–0.7 IU/mL)
* differential_hypoxia — right-hand SpO2 < 90 % while the return limb is ≥ 95 % saturated
* flow_below_target (air entrainment, power failure: the pump stopped) — blood flow < 50 %
  of its value the minute before onset (the programme's own criterion [U]: a stopped pump
  has no published threshold, it is obvious at the console)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
from numpy.typing import NDArray

from continuum.physiology.gas_exchange import recirculation_fraction
from continuum.simulator.labs import ANTI_XA_TARGET
from continuum.surveillance.impella_levels import low_bounds
from continuum.vocabulary import delta_p_series

Array = NDArray[np.float64]
BoolArray = NDArray[np.bool_]


@dataclass(frozen=True)
class FaultTruth:
    """One injected fault as a detector should find it."""

    kind: str  # detector code (docs/contracts.md §3)
    fault: str  # simulator fault name
    onset: datetime
    obvious_at: datetime | None
    ended_at: datetime | None
    severity: float
    ramp_hours: float
    criterion: str

    def as_dict(self) -> dict[str, Any]:
        def iso(t: datetime | None) -> str | None:
            return None if t is None else t.strftime("%Y-%m-%dT%H:%M:%SZ")

        return {
            "kind": self.kind,
            "fault": self.fault,
            "onset": iso(self.onset),
            "obvious_at": iso(self.obvious_at),
            "ended_at": iso(self.ended_at),
            "severity": self.severity,
            "ramp_hours": round(self.ramp_hours, 3),
            "criterion": self.criterion,
        }


Criterion = Callable[[dict[str, Array], int], BoolArray]


def _oxygenator(c: dict[str, Array], onset: int) -> BoolArray:
    low_po2 = c["post_oxy_po2"] < 200.0 * c["sweep_fio2"]
    poor_co2 = (c["pre_oxy_pco2"] - c["post_oxy_pco2"]) < 5.0
    return low_po2 | poor_co2


def _gradient(c: dict[str, Array], onset: int) -> BoolArray:
    ratio = delta_p_series(c["p_preoxy"], c["p_postoxy"]) / np.maximum(c["blood_flow"], 0.1)
    base = ratio[max(onset - 1, 0)]
    return ratio >= 1.3 * base


def _pfhb(c: dict[str, Array], onset: int) -> BoolArray:
    return c["pfhb"] > 50.0


def _recirculation(c: dict[str, Array], onset: int) -> BoolArray:
    return recirculation(c) >= 0.20


def recirculation(c: dict[str, Array]) -> Array:
    """Recirculation fraction each minute via physiology.gas_exchange (NaN if undefined)."""
    pre, post, sv = c["pre_oxy_so2"], c["post_oxy_so2"], c["svo2"]
    out = np.full(pre.size, np.nan)
    ok = np.abs(post - sv) > 1e-9
    out[ok] = _recirc_vector(pre[ok], post[ok], sv[ok])
    return out


_recirc_vector = np.vectorize(recirculation_fraction, otypes=[float])


def _access(c: dict[str, Array], onset: int) -> BoolArray:
    return c["p_access"] < -100.0


def _consumption(c: dict[str, Array], onset: int) -> BoolArray:
    return (c["d_dimer"] > 25.0) | (c["fibrinogen"] < 2.0)


def _anti_xa(c: dict[str, Array], onset: int) -> BoolArray:
    low, high = ANTI_XA_TARGET
    return (c["anti_xa"] < low) | (c["anti_xa"] > high)


def _harlequin(c: dict[str, Array], onset: int) -> BoolArray:
    return (c["spo2_right"] < 90.0) & (c["post_oxy_so2"] >= 95.0)


CRITERIA: dict[str, tuple[Criterion, str]] = {
    "oxygenator_dysfunction": (
        _oxygenator,
        "post-oxygenator pO2 < 200 mmHg at FdO2 1.0 (× FdO2 below 1.0) or pre−post pCO2 < 5 mmHg",
    ),
    "transmembrane_gradient_rise": (_gradient, "ΔP/Qb ≥ 1.3 × value at onset"),
    "pump_thrombosis": (_pfhb, "plasma free Hb > 50 mg/dL"),
    "hemolysis": (_pfhb, "plasma free Hb > 50 mg/dL"),
    "recirculation": (_recirculation, "recirculation fraction ≥ 0.20"),
    "access_insufficiency": (_access, "p_access < −100 mmHg"),
    "circuit_thrombosis": (_consumption, "D-dimer > 25 mg/L or fibrinogen < 2.0 g/L"),
    "anticoagulation_out_of_range": (
        _anti_xa,
        f"anti-Xa outside {ANTI_XA_TARGET[0]}–{ANTI_XA_TARGET[1]} IU/mL",
    ),
    "differential_hypoxia": (
        _harlequin,
        "right-hand SpO2 < 90 % with return-limb saturation ≥ 95 %",
    ),
}


def _impella_flow(c: dict[str, Array], onset: int) -> BoolArray:
    low = np.array(low_bounds(None))  # the smallest pump's (Impella 2.5) table
    level = np.clip(np.round(c["impella_p_level"]), 0, 9).astype(int)
    return (c["impella_p_level"] >= 2) & (c["impella_flow"] < 0.9 * low[level])


def _purge(c: dict[str, Array], onset: int) -> BoolArray:
    p = c["impella_purge_pressure"]
    return (p > 1100.0) | (p < 300.0)


def _pulse_pressure(c: dict[str, Array], onset: int) -> BoolArray:
    return (c["sbp"] - c["dbp"]) < 10.0


CRITERIA.update(
    {
        "impella_flow_low": (
            _impella_flow,
            "Impella flow < 90 % of the lower bound of its P-level range (Impella 2.5 table)",
        ),
        "impella_purge_pressure": (_purge, "purge pressure outside 300–1,100 mmHg"),
        "lv_unloading_context": (_pulse_pressure, "arterial pulse pressure < 10 mmHg"),
    }
)


def _flow_lost(c: dict[str, Array], onset: int) -> BoolArray:
    return c["blood_flow"] < 0.5 * c["blood_flow"][max(onset - 1, 0)]


CRITERIA["flow_below_target"] = (_flow_lost, "blood flow < 50 % of its value before onset")


def obvious_minute(kind: str, clean: dict[str, Array], onset: int, ended: int | None) -> int | None:
    """First minute in [onset, ended) at which ``kind`` meets its criterion, else None."""
    test, _ = CRITERIA[kind]
    hit = test(clean, onset)
    stop = hit.size if ended is None else ended
    idx = np.flatnonzero(hit[onset:stop])
    return None if idx.size == 0 else onset + int(idx[0])


def criterion_text(kind: str) -> str:
    return CRITERIA[kind][1]
