"""Server-side sparklines: a polyline in a small SVG box (pure; no database, no web)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Sparkline:
    points: str  # SVG polyline "x,y x,y …"
    low: float
    high: float
    band: tuple[float, float] | None  # target band as y pixel range (top, bottom)
    last: float | None

    @property
    def empty(self) -> bool:
        return not self.points


def sparkline(
    samples: Sequence[tuple[float, float]],
    start: float,
    end: float,
    width: int = 120,
    height: int = 28,
    target: tuple[float | None, float | None] | None = None,
) -> Sparkline:
    """Scale (epoch seconds, value) samples into a ``width`` × ``height`` box."""
    if not samples:
        return Sparkline("", 0.0, 0.0, None, None)
    values = [v for _, v in samples]
    low, high = min(values), max(values)
    if target:
        low = min([low, *[t for t in target if t is not None]])
        high = max([high, *[t for t in target if t is not None]])
    span = (high - low) or 1.0
    scale_x = width / max(end - start, 1.0)

    def y(value: float) -> float:
        return round(height - 2 - (value - low) / span * (height - 4), 1)

    columns = _columns([((t - start) * scale_x, v) for t, v in samples], step=2.0)
    points = " ".join(f"{x:.0f},{y(v):.0f}" for x, v in columns)
    band = None
    if target and (target[0] is not None or target[1] is not None):
        top = y(target[1] if target[1] is not None else high)
        bottom = y(target[0] if target[0] is not None else low)
        band = (top, bottom)
    return Sparkline(points, min(values), max(values), band, values[-1])


def _columns(points: list[tuple[float, float]], step: float) -> list[tuple[float, float]]:
    """One point per ``step`` pixels (the mean of the samples falling there)."""
    out: list[tuple[float, float]] = []
    column, total, count = None, 0.0, 0
    for x, v in points:
        here = x // step
        if column is not None and here != column:
            out.append((column * step, total / count))
            total, count = 0.0, 0
        column, total, count = here, total + v, count + 1
    if column is not None:
        out.append((column * step, total / count))
    return out
