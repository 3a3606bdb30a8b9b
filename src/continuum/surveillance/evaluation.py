"""Score alert episodes against known faults (e.g. the simulator's ground truth), for the
trend-aware detectors and the static console-alarm set alike. Pure; no simulator import:
a fault is anything with ``kind`` (detector code), ``onset`` and ``obvious_at`` (datetime,
datetime64 or None) — ``continuum.simulator.FaultTruth`` fits.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

import numpy as np

from continuum.surveillance.alerts import Alert
from continuum.surveillance.engine import run_all_detectors
from continuum.surveillance.series import RunSeries, RunTargets, to_ms
from continuum.surveillance.settings import SurveillanceSettings
from continuum.surveillance.static import run_static_detectors

# Alerts that follow physiologically from a fault are "secondary", not false.
RELATED: Mapping[str, frozenset[str]] = {
    "pump_thrombosis": frozenset({"hemolysis"}),
    "access_insufficiency": frozenset({"hemolysis"}),
    "circuit_thrombosis": frozenset({"transmembrane_gradient_rise"}),
    "oxygenator_dysfunction": frozenset({"transmembrane_gradient_rise"}),
    "transmembrane_gradient_rise": frozenset({"oxygenator_dysfunction", "circuit_thrombosis"}),
}


class FaultLike(Protocol):
    kind: str
    onset: Any
    obvious_at: Any


@dataclass
class Score:
    """Per run: faults found/missed with delays (h, from obvious_at, else onset), and the
    alerts that match no fault: secondary (a related complication of a fault, ``RELATED``)
    or false (anything else, including an alert of a fault's kind closed before its onset)."""

    found: list[tuple[str, float]] = field(default_factory=list)
    missed: list[str] = field(default_factory=list)
    secondary: list[Alert] = field(default_factory=list)
    false: list[Alert] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "found": self.found,
            "missed": self.missed,
            "secondary": [a.detector for a in self.secondary],
            "false": [a.to_dict() for a in self.false],
        }


def _t(x: Any) -> np.datetime64:
    return to_ms(x)[0] if isinstance(x, datetime | str) else np.datetime64(x, "ms")


def score(alerts: Iterable[Alert], faults: Iterable[FaultLike]) -> Score:
    alerts, faults = list(alerts), list(faults)
    out, used = Score(), set()
    for f in faults:
        onset = _t(f.onset)
        hits = [
            i
            for i, a in enumerate(alerts)
            if a.detector == f.kind and (a.cleared_at is None or a.cleared_at > onset)
        ]
        if not hits:
            out.missed.append(f.kind)
            continue
        used.update(hits)
        ref = onset if f.obvious_at is None else _t(f.obvious_at)
        delay = (alerts[hits[0]].raised_at - ref) / np.timedelta64(1, "h")
        out.found.append((f.kind, round(float(delay), 2)))
    kinds = {f.kind for f in faults}
    related = set().union(*(RELATED.get(k, frozenset()) for k in kinds))
    for i, a in enumerate(alerts):
        if i not in used:
            (out.secondary if a.detector in related - kinds else out.false).append(a)
    return out


def compare(
    series: RunSeries,
    faults: Iterable[FaultLike],
    settings: SurveillanceSettings | None = None,
    targets: RunTargets | None = None,
) -> dict[str, Score]:
    """The trend-aware detectors and the static set, scored on the same run."""
    faults = list(faults)
    return {
        "trend": score(run_all_detectors(series, settings, targets), faults),
        "static": score(run_static_detectors(series, settings, targets), faults),
    }
