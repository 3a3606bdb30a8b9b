"""Geometry of the control-chart drawings (inline SVG, no library): one line over the run
numbers, with the control limit, the zero line and a marker at each signal."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

WIDTH = 1000
HEIGHT = 200
LEFT, RIGHT, TOP, BOTTOM = 48, 12, 10, 26


@dataclass(frozen=True)
class Marker:
    x: float
    y: float
    title: str


@dataclass(frozen=True)
class Plot:
    points: str
    zero_y: float
    limit_y: float | None
    limit_label: str
    markers: list[Marker] = field(default_factory=list)
    y_ticks: list[tuple[float, str]] = field(default_factory=list)
    x_ticks: list[tuple[float, str]] = field(default_factory=list)
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    right_edge: int = WIDTH - RIGHT
    bottom_edge: int = HEIGHT - BOTTOM


def nice_step(span: float, count: int = 4) -> float:
    raw = span / count if span > 0 else 1.0
    power = 10 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)


def line_plot(
    values: Sequence[float],
    limit: float | None = None,
    signals: Sequence[int] = (),
    title_of: Callable[[int], str] = lambda i: f"run {i + 1}",
) -> Plot:
    """The line starts at 0 before the first run; point k is the value after run k."""
    series = [0.0, *values]
    low = min(0.0, *series)
    high = max(0.0, *series, limit or 0.0)
    if high - low < 1e-9:
        high = low + 1
    pad = (high - low) * 0.05
    low, high = low - (pad if low < 0 else 0), high + pad
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = HEIGHT - TOP - BOTTOM
    n = max(len(values), 1)

    def x(k: float) -> float:
        return round(LEFT + k / n * plot_w, 1)

    def y(v: float) -> float:
        return round(TOP + (high - v) / (high - low) * plot_h, 1)

    step = nice_step(high - low)
    first = math.ceil(low / step) * step
    y_ticks = []
    tick = first
    while tick <= high + 1e-9:
        y_ticks.append((y(tick), f"{tick:g}"))
        tick += step
    x_step = max(1, int(nice_step(n, 6)))
    x_ticks = [(x(k), str(k)) for k in range(0, n + 1, x_step)]
    markers = [Marker(x(i + 1), y(values[i]), title_of(i)) for i in signals]
    return Plot(
        points=" ".join(f"{x(k)},{y(v)}" for k, v in enumerate(series)),
        zero_y=y(0.0),
        limit_y=y(limit) if limit is not None else None,
        limit_label=f"h = {limit:g}" if limit is not None else "",
        markers=markers,
        y_ticks=y_ticks,
        x_ticks=x_ticks,
    )
