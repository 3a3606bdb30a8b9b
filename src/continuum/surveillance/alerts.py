"""The detectors' output: alert episodes in the docs/contracts.md §3 JSON shape, and the
hysteresis that turns a per-point level into episodes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from continuum.surveillance.grid import persistent

SEVERITIES = ("info", "warning", "critical")
UNKNOWN, NORMAL, INFO, WARNING, CRITICAL = -1, 0, 1, 2, 3


def severity_name(level: int) -> str:
    return SEVERITIES[level - 1]


def iso(t: np.datetime64 | None) -> str | None:
    """UTC ISO 8601 text with a ``Z``."""
    if t is None:
        return None
    return str(np.asarray(t).astype("datetime64[s]")) + "Z"


@dataclass
class Alert:
    detector: str
    severity: str
    raised_at: np.datetime64
    cleared_at: np.datetime64 | None
    summary: str
    evidence: dict[str, Any] = field(default_factory=dict)

    @property
    def is_open(self) -> bool:
        return self.cleared_at is None

    def to_dict(self) -> dict[str, Any]:
        return {
            "detector": self.detector,
            "severity": self.severity,
            "raised_at": iso(self.raised_at),
            "cleared_at": iso(self.cleared_at),
            "summary": self.summary,
            "evidence": self.evidence,
        }


@dataclass(frozen=True)
class Episode:
    """Grid indices: raised at ``start``, cleared at ``end`` (None: still open)."""

    start: int
    end: int | None
    level: int
    escalations: dict[int, int]
    ended_by: str | None = None


def episodes(level: np.ndarray, on: int, off: int, boundaries: np.ndarray) -> list[Episode]:
    """Hysteresis: raise when a level ≥ info has held ``on`` points; clear when the level has
    been normal for ``off`` points (unknown points hold the state); a baseline boundary
    (component change) clears an open episode. Severity is the highest level that held
    ``on`` points within the episode."""
    held = {s: persistent(level >= s, on) for s in (INFO, WARNING, CRITICAL)}
    raise_idx = np.flatnonzero(held[INFO])
    calm_idx = np.flatnonzero(persistent(level == NORMAL, off))
    cuts = np.asarray(boundaries[boundaries > 0], dtype=np.int64)
    out: list[Episode] = []
    pos = 0
    while True:
        k = np.searchsorted(raise_idx, pos)
        if k >= len(raise_idx):
            return out
        start = int(raise_idx[k])
        end, why = _episode_end(start, calm_idx, cuts)
        out.append(_episode(held, start, end, why))
        if end is None:
            return out
        pos = end if why == "component changed" else end + 1


def _episode_end(start: int, calm: np.ndarray, cuts: np.ndarray) -> tuple[int | None, str | None]:
    k = np.searchsorted(calm, start, side="right")
    c = int(calm[k]) if k < len(calm) else None
    j = np.searchsorted(cuts, start, side="right")
    cut = int(cuts[j]) if j < len(cuts) else None
    if cut is not None and (c is None or cut <= c):
        return cut, "component changed"
    return c, ("back to normal" if c is not None else None)


def _episode(held: dict[int, np.ndarray], start: int, end: int | None, why: str | None) -> Episode:
    stop = end if end is not None else len(held[INFO])
    esc: dict[int, int] = {}
    for s in (INFO, WARNING, CRITICAL):
        hits = np.flatnonzero(held[s][start:stop])
        if len(hits):
            esc[s] = start + int(hits[0])
    return Episode(start, end, max(esc), esc, why)
