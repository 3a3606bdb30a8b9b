"""Signal shapes for the detector spec tests, in the words a clinician would use.

Time is in hours from the start of the run; console signals are per minute.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from continuum.surveillance import (
    ComponentChange,
    RunSeries,
    RunTargets,
    SurveillanceSettings,
    run_all_detectors,
)

T0 = np.datetime64("2026-03-01T00:00", "ms")
HOURS = 48


def at(hours: float) -> np.datetime64:
    return T0 + np.timedelta64(round(hours * 60), "m")


def minute_times(hours: float = HOURS) -> np.ndarray:
    return T0 + np.arange(int(hours * 60)) * np.timedelta64(1, "m")


def _h() -> np.ndarray:
    return np.arange(HOURS * 60) / 60.0


def steady(value: float) -> np.ndarray:
    return np.full(HOURS * 60, float(value))


def step(before: float, after: float, at_h: float = 24) -> np.ndarray:
    return np.where(_h() >= at_h, float(after), float(before))


def ramp(start: float, end: float, from_h: float = 24, to_h: float = 36) -> np.ndarray:
    return np.interp(_h(), [from_h, to_h], [start, end])


def brief(base: float, value: float, at_h: float = 24, minutes: int = 1) -> np.ndarray:
    """A spike or brief deliberate change: ``value`` for ``minutes`` at ``at_h``."""
    x = steady(base)
    i = int(at_h * 60)
    x[i : i + minutes] = value
    return x


def hourly_spikes(base: float, value: float) -> np.ndarray:
    """A one-minute spike (cough, line flush) to ``value`` every hour."""
    x = steady(base)
    x[30::60] = value
    return x


def dropout(x: np.ndarray, from_h: float = 24, to_h: float = 27) -> np.ndarray:
    x = x.copy()
    x[int(from_h * 60) : int(to_h * 60)] = np.nan
    return x


def alternating(a: float, b: float, from_h: float = 24) -> np.ndarray:
    """Flow 'chattering' every minute between a and b from ``from_h``."""
    x = steady(a)
    i = int(from_h * 60)
    x[i::2] = b
    return x


def labs(values: Mapping[float, float] | Sequence[float], every_h: float = 6) -> tuple:
    """Lab results: {hour: value}, or a list taken every ``every_h`` hours from hour 1."""
    if not isinstance(values, Mapping):
        values = {1 + k * every_h: v for k, v in enumerate(values)}
    return (
        np.array([at(h) for h in values], dtype="datetime64[ms]"),
        np.array(list(values.values()), dtype=float),
    )


HEALTHY_CONSOLE = {
    "blood_flow": 4.5,
    "pump_speed": 3500.0,
    "p_access": -40.0,
    "p_preoxy": 250.0,
    "p_postoxy": 230.0,
    "sweep_flow": 4.0,
    "sweep_fio2": 1.0,
}


def run(
    mode: str = "VV",
    console: Mapping[str, np.ndarray | float] | None = None,
    sparse: Mapping[str, tuple] | None = None,
    changes: Sequence[tuple[float, str]] = (),
) -> RunSeries:
    """A run: the healthy console signals overridden by ``console``, plus sparse results."""
    times = minute_times()
    signals = {}
    for code, v in {**HEALTHY_CONSOLE, **(console or {})}.items():
        arr = steady(v) if np.isscalar(v) else np.asarray(v, dtype=float)
        signals[code] = (times, arr)
    signals.update(sparse or {})
    return RunSeries(mode, signals, tuple(ComponentChange(at(h), c) for h, c in changes))


def alerts_of(
    detector: str,
    series: RunSeries,
    targets: RunTargets | None = None,
    settings: SurveillanceSettings | None = None,
) -> list:
    return run_all_detectors(series, settings, targets, only=[detector])


def outcome(detector: str, series: RunSeries, targets: RunTargets | None = None) -> list[str]:
    """The severities of the detector's episodes, in order ([] = silence)."""
    return [a.severity for a in alerts_of(detector, series, targets)]
