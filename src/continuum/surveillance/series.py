"""The detectors' input: one run's observations as per-code arrays, plus mode, targets and
component changes.  Times are numpy ``datetime64[ms]`` in UTC throughout.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np

from continuum import support_configuration
from continuum.support_configuration import SupportConfiguration

MODES = support_configuration.MODES  # any vocabulary mode; the detectors ask what it is
Signal = tuple[np.ndarray, np.ndarray]
TimeLike = datetime | np.datetime64 | str


def to_ms(t: TimeLike | Sequence[Any] | np.ndarray) -> np.ndarray:
    """Times (aware datetime, ISO text with offset, datetime64) as UTC ``datetime64[ms]``.

    Naive datetimes and offset-less text are taken as UTC.
    """
    if isinstance(t, datetime | str | np.datetime64):
        t = [t]
    return np.array([_one_ms(x) for x in t], dtype="datetime64[ms]")


def _one_ms(x: Any) -> np.datetime64:
    if isinstance(x, str):
        x = datetime.fromisoformat(x)
    if isinstance(x, datetime):
        if x.tzinfo is not None:
            x = x.astimezone(UTC).replace(tzinfo=None)
        return np.datetime64(x, "ms")
    return np.datetime64(x, "ms")


def as_ms_array(times: Any) -> np.ndarray:
    arr = np.asarray(times)
    if arr.dtype.kind == "M":
        return arr.astype("datetime64[ms]")
    return to_ms(list(arr))


@dataclass(frozen=True)
class ComponentChange:
    """A replaced component: baselines of the detectors that watch it restart here.

    ``component``: "circuit" (everything), "oxygenator" or "pump" (others restart nothing).
    """

    time: np.datetime64
    component: str = "circuit"


@dataclass(frozen=True)
class RunTargets:
    """The run's own goals: ranges are inclusive (low, high) in stored units.

    ``flow_goal`` is a number (L/min) or a list of (from_time, goal) steps (the day's goal).
    """

    anti_xa: tuple[float, float] | None = None
    aptt: tuple[float, float] | None = None
    act: tuple[float, float] | None = None
    flow_goal: float | Sequence[tuple[TimeLike, float]] | None = None


@dataclass
class RunSeries:
    """One run: ``signals[code] = (times datetime64[ms], values float64)``, sorted, no NaNs."""

    mode: str
    signals: dict[str, Signal]
    component_changes: tuple[ComponentChange, ...] = ()
    baselines: dict[str, float] = field(default_factory=dict)
    # Mechanical circulatory support devices in place beside the circuit: group → model,
    # e.g. {"impella": "CP", "iabp": "IABP"} (the device record; docs/clinical/mcs.md).
    devices: dict[str, str] = field(default_factory=dict)
    configuration: SupportConfiguration = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.configuration: SupportConfiguration = support_configuration.of(self.mode)
        self.mode = self.configuration.mode
        self.signals = {c: _clean(t, v) for c, (t, v) in self.signals.items()}
        self.signals = {c: s for c, s in self.signals.items() if len(s[0])}
        self.component_changes = tuple(sorted(self.component_changes, key=lambda c: c.time))

    @classmethod
    def from_grid(
        cls,
        times: Any,
        values: Mapping[str, Any],
        mode: str,
        component_changes: Iterable[ComponentChange] = (),
    ) -> RunSeries:
        """Common time axis + one array per code (NaN = no observation), e.g. a simulated run."""
        t = as_ms_array(times)
        signals = {code: (t, np.asarray(v, dtype=float)) for code, v in values.items()}
        return cls(mode, signals, tuple(component_changes))

    def applies(self, detector: str) -> bool:
        """Whether a detector applies to this run's support configuration."""
        return self.configuration.applies(detector)

    def has(self, code: str) -> bool:
        return code in self.signals

    def span(self) -> tuple[np.datetime64, np.datetime64] | None:
        if not self.signals:
            return None
        starts = [t[0] for t, _ in self.signals.values()]
        ends = [t[-1] for t, _ in self.signals.values()]
        return min(starts), max(ends)

    def latest(self, code: str, at: np.datetime64) -> tuple[np.datetime64, float] | None:
        """The last observation of ``code`` at or before ``at``."""
        if code not in self.signals:
            return None
        t, v = self.signals[code]
        i = int(np.searchsorted(t, at, side="right")) - 1
        return (t[i], float(v[i])) if i >= 0 else None


def _clean(times: Any, values: Any) -> Signal:
    t = as_ms_array(times)
    v = np.asarray(values, dtype=float)
    keep = np.isfinite(v) & ~np.isnat(t)
    t, v = t[keep], v[keep]
    if len(t) > 1 and np.any(t[1:] < t[:-1]):
        order = np.argsort(t, kind="stable")
        t, v = t[order], v[order]
    return t, v
