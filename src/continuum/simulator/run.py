"""A simulated run: per-minute times, observed signals, noiseless signals and ground truth."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from continuum.simulator.artefacts import NOISE
from continuum.simulator.truth import FaultTruth

Array = NDArray[np.float64]

# Column order of the console CSV: console signals, monitoring, gases, labs, drugs.
COLUMN_ORDER: tuple[str, ...] = (
    "blood_flow",
    "pump_speed",
    "p_access",
    "p_preoxy",
    "p_postoxy",
    "sweep_flow",
    "sweep_fio2",
    "blood_temp",
    "hr",
    "map",
    "spo2",
    "spo2_right",
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
    "pao2_right_radial",
    "svo2",
    "lactate",
    "hb",
    "platelets",
    "fibrinogen",
    "pfhb",
    "ldh",
    "anti_xa",
    "aptt",
    "d_dimer",
    "heparin",
    "vent_fio2",
    "peep",
    "tidal_volume",
    "plateau_pressure",
    "resp_rate",
    # mechanical circulatory support (simulator/devices.py DEVICE_COLUMNS)
    "impella_p_level",
    "impella_flow",
    "impella_purge_pressure",
    "impella_purge_flow",
    "sbp",
    "dbp",
)


def iso_minutes(start: datetime, n: int) -> list[str]:
    """ISO 8601 'Z' strings for ``n`` minutes from ``start`` (UTC)."""
    base = np.datetime64(start.replace(tzinfo=None), "m")
    stamps = np.datetime_as_string(base + np.arange(n), unit="s")
    return [s + "Z" for s in stamps.tolist()]


def _format_column(values: Array, decimals: int) -> list[str]:
    out = [""] * values.size
    idx = np.flatnonzero(~np.isnan(values))
    fmt = f"{{:.{decimals}f}}"
    for i, v in zip(idx.tolist(), values[idx].tolist(), strict=True):
        out[i] = fmt.format(v)
    return out


@dataclass
class SimulatedRun:
    """Result of :func:`continuum.simulator.simulate`.

    ``signals`` holds what a console/monitor/lab would report (NaN = no observation);
    ``clean`` the same codes noiseless at every minute; ``derived`` internal quantities
    (cardiac output, recirculation, O2 transfers, VO2) for checks and teaching.
    """

    scenario: str
    mode: str
    seed: int
    hours: float
    start: datetime
    times: NDArray[np.datetime64]
    signals: dict[str, Array]
    clean: dict[str, Array]
    derived: dict[str, Array]
    truth: list[FaultTruth]
    interventions: list[dict[str, Any]] = field(default_factory=list)
    artefacts: list[dict[str, Any]] = field(default_factory=list)
    patient: dict[str, Any] = field(default_factory=dict)

    @property
    def codes(self) -> list[str]:
        return [c for c in COLUMN_ORDER if c in self.signals]

    def to_csv(self, path: str | Path) -> Path:
        """Write the wide console CSV (docs/contracts.md §2); only rows with at least one value."""
        path = Path(path)
        codes = self.codes
        n = self.times.size
        stamps = iso_minutes(self.start, n)
        present = np.zeros(n, dtype=bool)
        columns: list[list[str]] = []
        for code in codes:
            values = self.signals[code]
            present |= ~np.isnan(values)
            columns.append(_format_column(values, NOISE.get(code, (0, 0, 2))[2]))
        lines = ["time," + ",".join(codes)]
        for i in np.flatnonzero(present).tolist():
            lines.append(stamps[i] + "," + ",".join(col[i] for col in columns))
        path.write_text("\n".join(lines) + "\n", encoding="utf-8", newline="\n")
        return path

    def truth_json(self) -> dict[str, Any]:
        """Ground truth: injected faults, interventions and artefacts, as JSON-ready data."""
        return {
            "scenario": self.scenario,
            "mode": self.mode,
            "seed": self.seed,
            "hours": self.hours,
            "start": self.start.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "patient": self.patient,
            "faults": [t.as_dict() for t in self.truth],
            "interventions": self.interventions,
            "artefacts": self.artefacts,
        }

    def write_truth(self, path: str | Path) -> Path:
        path = Path(path)
        path.write_text(
            json.dumps(self.truth_json(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
        return path
