"""Trend charts drawn on the server: stacked panels of one signal each, as inline SVG.

No JavaScript and no chart library: a page carries the drawing itself (a few kB per panel),
prints as it shows, and its values stay readable without a pointer (a <title> on every
dot and marker, and a table of the same values behind a toggle).

Geometry only (no database): callers pass ``Trace``s and ``Marker``s; ``build`` returns a
``Chart`` that the template ``_trend_chart.html`` lays out. x runs over ``X_UNITS`` viewBox
units stretched to the page width; y is in CSS pixels (fixed panel height), so lines keep
their thickness and dots stay round (non-scaling strokes) at any width.

Line traces are downsampled to the minimum and maximum of each pixel column (in the order
they happened), so a one-minute spike survives on a 24-hour chart; labs and gases are dots,
one per result. Each signal has a fixed clinical display range (``DISPLAY_RANGE``) that
widens only when a value or target falls outside it, so transducer noise is not magnified
into a trend.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

X_UNITS = 1000  # viewBox width
MS = 0.0015  # two times this close (seconds) are the same instant, read two ways
PANEL_HEIGHT = 92  # px of plot per panel
PAD = 6  # px above and below the plotted range

# The range each signal is drawn over unless its values or target leave it: what a
# clinician reads at a glance (flows from 0, saturations from 70 %, pressures on a scale
# where a 10 mmHg wobble looks like one). Keys are vocabulary codes (or derived keys).
DISPLAY_RANGE: dict[str, tuple[float, float]] = {
    "blood_flow": (0, 7),
    "pump_speed": (0, 5000),
    "p_access": (-150, 0),
    "p_preoxy": (0, 400),
    "p_postoxy": (0, 400),
    "oxy_delta_p": (0, 60),
    "dp_per_flow": (0, 15),
    "sweep_flow": (0, 10),
    "sweep_fio2": (0.2, 1.0),
    "post_oxy_po2": (0, 600),
    "post_oxy_pco2": (20, 60),
    "pre_oxy_po2": (0, 100),
    "pre_oxy_pco2": (20, 80),
    "pre_oxy_so2": (40, 100),
    "post_oxy_so2": (80, 100),
    "blood_temp": (34, 39),
    "hr": (40, 160),
    "map": (40, 120),
    "cvp": (0, 20),
    "spo2": (70, 100),
    "spo2_right": (70, 100),
    "sao2": (70, 100),
    "svo2": (40, 100),
    "pao2": (0, 300),
    "pao2_right_radial": (0, 300),
    "paco2": (20, 80),
    "ph": (7.0, 7.6),
    "lactate": (0, 10),
    "hb": (5, 15),
    "hct": (15, 45),
    "platelets": (0, 300),
    "fibrinogen": (0, 6),
    "pfhb": (0, 100),
    "ldh": (0, 2000),
    "bilirubin": (0, 10),
    "act": (100, 300),
    "aptt": (20, 120),
    "anti_xa": (0, 1),
    "antithrombin": (0, 150),
    "d_dimer": (0, 20),
    "inr": (0.5, 3),
    "heparin": (0, 40),
}


@dataclass(frozen=True)
class Reference:
    """A horizontal line on a panel, e.g. the membrane lung's baseline ΔP per L/min."""

    value: float
    text: str
    since: datetime | None = None  # drawn from here (e.g. the lung's install) to the end
    kind: str = "baseline"  # baseline | threshold (CSS class)


@dataclass(frozen=True)
class Trace:
    key: str  # vocabulary code or derived key (DISPLAY_RANGE)
    label: str  # clinical name
    unit: str
    points: Sequence[tuple[float, float]]  # (seconds since 1970 UTC, value), time order
    as_points: bool = False  # labs and gases: one dot per result
    band: tuple[float | None, float | None] | None = None  # the run's target
    references: tuple[Reference, ...] = ()
    max_gap: timedelta = timedelta(minutes=15)  # a longer gap breaks the line
    note: str = ""
    # Values entered in another unit: their time (as in ``points``) → that value and unit
    # ("62 kPa"), read first with the stored value in brackets (dot titles, the table, a
    # line's hover strips and the latest value in the panel's head).
    entered: Mapping[float, str] | None = None

    def shown(self, t: float, v: float, unit: bool = True) -> str:
        """A result as read: '62 kPa (465 mmHg)', or '465 mmHg' (no unit: '465')."""
        stored = f"{number(v)} {self.unit}" if unit else number(v)
        typed = self.typed_at(t)
        return f"{typed} ({stored})" if typed else stored

    def typed_at(self, t: float) -> str | None:
        """The value as entered at time ``t`` (to the millisecond: the times of ``points``
        and of ``entered`` are read by different statements), or None."""
        if not self.entered:
            return None
        found = self.entered.get(t)
        if found is None:
            found = next((w for k, w in self.entered.items() if abs(k - t) <= MS), None)
        return found

    def entered_points(self, s0: float, s1: float) -> list[tuple[float, float]]:
        """The (time, stored value) of each value in [s0, s1] entered in another unit."""
        out: list[tuple[float, float]] = []
        for t in sorted(self.entered or ()):
            if not s0 - MS <= t <= s1 + MS:
                continue
            k = bisect_left(self.points, (t - MS, -math.inf))
            if k < len(self.points) and abs(self.points[k][0] - t) <= MS:
                out.append(self.points[k])
        return out

    def entered_among(self, points: Sequence[tuple[float, float]], zone: ZoneInfo) -> str:
        """Values entered in another unit (``entered_points``), as read with their times:
        '62 kPa (465 mmHg) at 03:10' (the first three, then how many more; '' if none)."""
        said = [f"{self.shown(t, v)} at {_local(_at(t), zone, '%H:%M')}" for t, v in points[:3]]
        more = f" and {len(points) - 3} more" if len(points) > 3 else ""
        return ", ".join(said) + more


@dataclass(frozen=True)
class Marker:
    at: datetime
    kind: str  # alert | cleared | component | mode | cannula | run | trial | step
    text: str


@dataclass(frozen=True)
class Dot:
    x: float
    y: float
    title: str


@dataclass(frozen=True)
class Line:
    y: float
    x0: float
    text: str
    kind: str


@dataclass(frozen=True)
class Panel:
    key: str
    label: str
    unit: str
    note: str
    height: int
    line: str  # SVG path (empty: none)
    dots: list[Dot]
    band: tuple[float, float] | None  # (top y, height) of the target band
    band_text: str
    references: list[Line]
    y_ticks: list[tuple[float, str]]
    grid: str  # SVG path of the horizontal grid lines
    latest: str
    empty: bool
    hovers: list[Hover] = field(default_factory=list)


@dataclass(frozen=True)
class Hover:
    """A period's strip of a line panel: pointing at it shows the period's values."""

    x: float
    width: float
    title: str


@dataclass(frozen=True)
class PlacedMarker:
    x: float  # viewBox units
    left: float  # percent of the plot width
    kind: str
    glyph: str
    title: str


@dataclass
class Chart:
    title: str
    start: datetime
    end: datetime
    panels: list[Panel]
    x_ticks: list[tuple[float, str]]  # (percent, text)
    markers: list[PlacedMarker]
    marker_paths: dict[str, str]  # kind → SVG path of its vertical lines (panel height)
    table_head: list[str]
    table_rows: list[list[str]]
    events: list[tuple[str, str, str]] = field(default_factory=list)  # time, kind, text

    @property
    def empty(self) -> bool:
        return all(p.empty for p in self.panels)

    @property
    def legend(self) -> list[tuple[str, str, str]]:
        """(kind, glyph, words) of each marker kind on the chart."""
        kinds = {m.kind for m in self.markers}
        return [(k, GLYPHS[k], MARKER_WORDS[k]) for k in GLYPHS if k in kinds]


GLYPHS = {
    "alert": "▲",
    "cleared": "✓",
    "component": "◆",
    "mode": "M",
    "cannula": "C",
    "run": "●",
    "trial": "T",
    "step": "▾",
    "forecast": "◇",
}
MARKER_WORDS = {
    "alert": "alert raised",
    "cleared": "alert cleared",
    "component": "component change",
    "mode": "mode change",
    "cannula": "cannula",
    "run": "run start / end",
    "trial": "weaning trial start / end",
    "step": "weaning trial step",
    "forecast": "forecast: now · likely crossing · interval ends",
}


def number(value: float) -> str:
    """A value as a chart shows it: 3 significant figures, no trailing zeros."""
    if value == 0 or not math.isfinite(value):
        return "0" if value == 0 else "—"
    digits = max(0, 2 - math.floor(math.log10(abs(value))))
    return f"{value:.{digits}f}".rstrip("0").rstrip(".") if digits else f"{value:.0f}"


def nice_step(span: float, count: int = 4) -> float:
    raw = span / max(count, 1)
    power = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1.0
    for m in (1, 2, 2.5, 5, 10):
        if m * power >= raw:
            return m * power
    return 10 * power


def value_range(trace: Trace) -> tuple[float, float]:
    """The fixed display range, widened (to a round step) to hold every value and target."""
    values = [v for _, v in trace.points if math.isfinite(v)]
    extra = [b for b in trace.band or () if b is not None]
    extra += [r.value for r in trace.references]
    low, high = DISPLAY_RANGE.get(trace.key, (math.inf, -math.inf))
    seen = values + extra
    if seen:
        low, high = min(low, *seen), max(high, *seen)
    if not math.isfinite(low):
        low, high = 0.0, 1.0
    if high - low < 1e-9:
        pad = abs(high) * 0.1 or 1.0
        low, high = low - pad, high + pad
    fixed = DISPLAY_RANGE.get(trace.key)
    if fixed is None or low < fixed[0] or high > fixed[1]:
        step = nice_step(high - low)
        low, high = math.floor(low / step) * step, math.ceil(high / step) * step
    return low, high


def _columns(
    points: Sequence[tuple[float, float]] | np.ndarray,
    start: float,
    end: float,
    buckets: int,
    max_gap: timedelta,
) -> list[list[tuple[int, float]]]:
    """Runs of (column, value): per column the min and max in time order; a gap longer than
    ``max_gap`` starts a new run (the line breaks rather than inventing values).

    On arrays (a 24-hour panel of 1-minute values is ~1,500 points, and a point-by-point
    loop was the run page's largest Python cost): the column of a point is computed by the
    same float operations as ``int((t - start) * scale)``, and each column's min and max
    are its first minimum and first maximum in time, as a scan keeping the strictly lower
    and strictly higher value finds them."""
    if len(points) == 0:
        return []
    arr = np.asarray(points, dtype=float).reshape(-1, 2)
    t, v = arr[:, 0], arr[:, 1]
    keep = np.isfinite(v) & (t >= start) & (t <= end)
    t, v = t[keep], v[keep]
    n = len(t)
    if n == 0:
        return []
    scale = buckets / ((end - start) or 1.0)
    col = np.minimum(((t - start) * scale).astype(np.int64), buckets - 1)
    breaks = np.zeros(n, dtype=bool)
    breaks[1:] = np.diff(t) > max_gap.total_seconds()
    first = breaks.copy()
    first[0] = True
    first[1:] |= col[1:] != col[:-1]
    group = np.cumsum(first) - 1
    starts = np.flatnonzero(first)
    extremes = _first_extremes(group, v)  # per group: its first lowest, then first highest
    lo, hi = extremes[: len(starts)], extremes[len(starts) :]
    t_lo, v_lo, t_hi, v_hi = t[lo].tolist(), v[lo].tolist(), t[hi].tolist(), v[hi].tolist()
    cols = col[starts].tolist()
    run_break = breaks[starts].tolist()
    runs: list[list[tuple[int, float]]] = []
    run: list[tuple[int, float]] = []
    for g, c in enumerate(cols):
        if run_break[g] and run:
            runs.append(run)
            run = []
        pair = sorted({(t_lo[g], v_lo[g]), (t_hi[g], v_hi[g])})
        run.extend((c, value) for _, value in pair)
    if run:
        runs.append(run)
    return runs


def essential(
    t: np.ndarray,
    v: np.ndarray,
    start: datetime,
    end: datetime,
    max_gap: timedelta = Trace.max_gap,
    near: Sequence[float] = (),
    buckets: int = 240,
    rows: int = 24,
) -> np.ndarray:
    """Which values of a line trace (times ``t`` in seconds, time order; values ``v``) a
    chart built over [start, end] with ``buckets`` columns and ``rows`` table periods draws
    and says, as a mask: of each column's run its first and last value and its first lowest
    and first highest (``_columns``), each period's lowest and highest (``_line_ranges``),
    the lowest and highest of all (``value_range``), any value at a time in ``near`` (values
    entered in another unit: ``Trace.entered_points``) and every value that is not a finite
    number (never drawn). The chart of the kept values is the chart of all of them, computed
    by the same float operations; a device feed sending several values a second then costs
    the page at most a few per column instead of tens of thousands.

    Kept whole when a column is wider than ``max_gap``: dropping values inside a column
    could then open a gap the line does not have."""
    keep = ~np.isfinite(v)
    s0, s1 = start.timestamp(), end.timestamp()
    if len(t) == 0 or (s1 - s0) / buckets > max_gap.total_seconds():
        return np.ones(len(t), dtype=bool)
    finite = np.flatnonzero(~keep)
    if len(finite):
        keep[finite[np.argmin(v[finite])]] = keep[finite[np.argmax(v[finite])]] = True
    w = np.flatnonzero(np.isfinite(v) & (t >= s0) & (t <= s1))
    if len(w):
        tw, vw = t[w], v[w]
        scale = buckets / ((s1 - s0) or 1.0)
        col = np.minimum(((tw - s0) * scale).astype(np.int64), buckets - 1)
        first = np.zeros(len(w), dtype=bool)
        first[1:] = np.diff(tw) > max_gap.total_seconds()
        first[0] = True
        first[1:] |= col[1:] != col[:-1]
        keep[w[first]] = True  # each column run's first value …
        keep[w[np.r_[first[1:], True]]] = True  # … and its last
        keep[w[_first_extremes(np.cumsum(first) - 1, vw)]] = True
        period = max((s1 - s0) / max(rows, 1), 1.0)
        row = np.minimum(((tw - s0) // period).astype(np.int64), rows - 1)
        keep[w[_first_extremes(row, vw)]] = True
    for x in near:
        keep[np.searchsorted(t, x - MS) : np.searchsorted(t, x + MS, side="right")] = True
    return keep


def _first_extremes(group: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Per group (labels in runs, as a column or period follows the previous one) the index
    of its first lowest and of its first highest value, as ``_columns`` picks them."""
    new = np.r_[True, group[1:] != group[:-1]]
    starts = np.flatnonzero(new)
    label = np.cumsum(new) - 1
    found = []
    for extreme in (np.minimum, np.maximum):
        hits = np.flatnonzero(v == extreme.reduceat(v, starts)[label])
        found.append(hits[np.r_[True, label[hits][1:] != label[hits][:-1]]])
    return np.concatenate(found)


def build(
    traces: Sequence[Trace],
    start: datetime,
    end: datetime,
    zone: ZoneInfo,
    markers: Sequence[Marker] = (),
    title: str = "",
    buckets: int = 240,
    rows: int = 24,
) -> Chart:
    """Lay out ``traces`` (one panel each) over [start, end] with event ``markers``."""

    def x_of(t: datetime) -> float:
        return _x(t, start, end)

    panels = [_panel(tr, start, end, zone, buckets) for tr in traces]
    placed = [
        PlacedMarker(
            x_of(m.at),
            round(x_of(m.at) / X_UNITS * 100, 2),
            m.kind,
            GLYPHS.get(m.kind, "•"),
            f"{_local(m.at, zone, '%d %b %H:%M')} · {m.text}",
        )
        for m in sorted(markers, key=lambda m: m.at)
        if start <= m.at <= end
    ]
    paths: dict[str, str] = {}
    for m in placed:
        paths[m.kind] = paths.get(m.kind, "") + f"M{m.x:g} 0V{PANEL_HEIGHT}"
    head, body, hovers = _table(traces, start, end, zone, rows)
    panels = [
        replace(p, hovers=h) if not t.as_points else p
        for p, t, h in zip(panels, traces, hovers, strict=True)
    ]
    events = [
        (_local(m.at, zone, "%d %b %H:%M"), MARKER_WORDS.get(m.kind, m.kind), m.text)
        for m in sorted(markers, key=lambda m: m.at)
        if start <= m.at <= end
    ]
    return Chart(
        title, start, end, panels, _x_ticks(start, end, zone), placed, paths, head, body, events
    )


def _x(t: datetime, start: datetime, end: datetime) -> float:
    span = max((end - start).total_seconds(), 1.0)
    return round(min(max((t - start).total_seconds() / span, 0.0), 1.0) * X_UNITS, 1)


@lru_cache(maxsize=8)
def _column_xs(buckets: int) -> tuple[str, ...]:
    """Each column's x as a line's path writes it (its middle, whole units)."""
    step = X_UNITS / buckets
    return tuple(f"{(c + 0.5) * step:.0f}" for c in range(buckets))


def _panel(tr: Trace, start: datetime, end: datetime, zone: ZoneInfo, buckets: int) -> Panel:
    low, high = value_range(tr)
    h = PANEL_HEIGHT

    def y_of(v: float) -> float:
        return round(PAD + (high - v) / (high - low) * (h - 2 * PAD), 1)

    line = ""
    dots: list[Dot] = []
    s0, s1 = start.timestamp(), end.timestamp()
    window = tr.points[
        bisect_left(tr.points, (s0, -math.inf)) : bisect_right(tr.points, (s1, math.inf))
    ]
    arr = np.asarray(window, dtype=float).reshape(-1, 2)
    inside_arr = arr[np.isfinite(arr[:, 1])]  # the values drawn (as arrays: _columns)
    if tr.as_points:
        dots = [
            Dot(
                _x(_at(t), start, end),
                y_of(v),
                f"{_local(_at(t), zone, '%d %b %H:%M')}: {tr.shown(t, v)}",
            )
            for t, v in inside_arr.tolist()
        ]
    else:
        xs = _column_xs(buckets)
        ys: dict[float, str] = {}  # a value's height, written once (device values repeat)
        parts = []
        for run in _columns(inside_arr, s0, s1, buckets, tr.max_gap):
            coords = []
            for c, v in run:
                y = ys.get(v)
                if y is None:
                    y = ys[v] = f"{y_of(v):g}"
                coords.append(f"{xs[c]} {y}")
            parts.append("M" + " ".join(coords) + ("h0" if len(coords) == 1 else ""))
        line = "".join(parts)
    band = None
    band_text = ""
    if tr.band and (tr.band[0] is not None or tr.band[1] is not None):
        b_lo = tr.band[0] if tr.band[0] is not None else low
        b_hi = tr.band[1] if tr.band[1] is not None else high
        top, bottom = y_of(b_hi), y_of(b_lo)
        band = (top, round(bottom - top, 1))
        band_text = "target " + _band_words(tr.band, tr.unit)
    step = nice_step(high - low, 3)
    ticks = []
    v = math.ceil(low / step - 1e-9) * step
    while v <= high + 1e-9:
        ticks.append((y_of(v), number(v)))
        v += step
    grid = "".join(f"M0 {y:g}H{X_UNITS}" for y, _ in ticks)
    refs = [
        Line(
            y_of(r.value),
            _x(r.since, start, end) if r.since else 0.0,
            f"{r.text} {number(r.value)}",
            r.kind,
        )
        for r in tr.references
    ]
    latest = ""
    if len(inside_arr):
        t, v = inside_arr[-1].tolist()
        latest = f"{tr.shown(t, v)} at {_local(_at(t), zone, '%H:%M')}"
    return Panel(
        tr.key,
        tr.label,
        tr.unit,
        tr.note,
        h,
        line,
        dots,
        band,
        band_text,
        refs,
        ticks,
        grid,
        latest,
        not len(inside_arr),
    )


def _band_words(band: tuple[float | None, float | None], unit: str) -> str:
    lo, hi = band
    if lo is not None and hi is not None:
        return f"{number(lo)}–{number(hi)} {unit}"
    if lo is not None:
        return f"≥ {number(lo)} {unit}"
    return f"≤ {number(hi or 0)} {unit}"


def _at(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def _local(t: datetime, zone: ZoneInfo, fmt: str) -> str:
    return t.astimezone(zone).strftime(fmt)


def _x_ticks(start: datetime, end: datetime, zone: ZoneInfo) -> list[tuple[float, str]]:
    """Round local hours across the window (every 2, 3, 4, 6 or 12 h: about six labels);
    on a window of a few hours (a weaning trial), every 10, 15 or 30 minutes."""
    hours = (end - start).total_seconds() / 3600
    if hours <= 3:
        return _minute_ticks(start, end, zone, next(m for m in (10, 15, 30) if hours * 60 / m <= 7))
    if hours > 7 * 24:
        return _day_ticks(start, end, zone)
    every = next(h for h in (1, 2, 3, 4, 6, 12, 24) if hours / h <= 7)
    local = start.astimezone(zone).replace(minute=0, second=0, microsecond=0)
    ticks = []
    t = local + timedelta(hours=1)
    span = (end - start).total_seconds() or 1.0
    while t <= end:
        if t.hour % every == 0:
            pct = round((t - start).total_seconds() / span * 100, 2)
            if 3 <= pct <= 97:
                ticks.append((pct, t.strftime("%d %b" if t.hour == 0 else "%H:%M")))
        t += timedelta(hours=1)
    return ticks


def _day_ticks(start: datetime, end: datetime, zone: ZoneInfo) -> list[tuple[float, str]]:
    """Local midnights every 2, 7, 14 or 28 days (about six labels) on a window of weeks."""
    days = (end - start).total_seconds() / 86400
    every = next((d for d in (2, 7, 14, 28) if days / d <= 7), 56)
    local = start.astimezone(zone)
    first = datetime(local.year, local.month, local.day, tzinfo=zone) + timedelta(days=1)
    span = (end - start).total_seconds() or 1.0
    ticks = []
    n = 0
    while True:
        d = first + timedelta(days=n)
        t = datetime(d.year, d.month, d.day, tzinfo=zone)  # local midnight, also across DST
        if t > end:
            return ticks
        if n % every == 0:
            pct = round((t - start).total_seconds() / span * 100, 2)
            if 3 <= pct <= 97:
                ticks.append((pct, t.strftime("%d %b")))
        n += 1


def _minute_ticks(
    start: datetime, end: datetime, zone: ZoneInfo, every: int
) -> list[tuple[float, str]]:
    local = start.astimezone(zone).replace(second=0, microsecond=0)
    t = local + timedelta(minutes=every - local.minute % every)
    span = (end - start).total_seconds() or 1.0
    ticks = []
    while t <= end:
        pct = round((t - start).total_seconds() / span * 100, 2)
        if 3 <= pct <= 97:
            ticks.append((pct, t.strftime("%d %b" if t.hour == 0 and t.minute == 0 else "%H:%M")))
        t += timedelta(minutes=every)
    return ticks


def _table(
    traces: Sequence[Trace], start: datetime, end: datetime, zone: ZoneInfo, rows: int
) -> tuple[list[str], list[list[str]], list[list[Hover]]]:
    """The values behind the chart: per period the range of each line signal (min–max) and
    every lab/gas result, newest period first; and per trace its periods as hover strips."""
    head = ["Time"] + [f"{t.label} ({t.unit})" for t in traces]
    period = max((end - start).total_seconds() / max(rows, 1), 1.0)
    s0, s1 = start.timestamp(), end.timestamp()
    # A result's cell: its (time, value) pairs; a line's: (lowest, highest) of the period.
    cells: list[list[Any]] = [[[] for _ in traces] for _ in range(rows)]
    for j, tr in enumerate(traces):
        if not tr.as_points:
            for i, low, high in _line_ranges(tr.points, s0, s1, period, rows):
                cells[i][j] = (low, high)
            continue
        for t, v in tr.points:
            if s0 <= t <= s1 and math.isfinite(v):
                i = min(int((t - s0) // period), rows - 1)
                cells[i][j].append((t, v))
    # A line's values entered in another unit, by period (said under the pointer).
    typed_rows: list[dict[int, list[tuple[float, float]]]] = [{} for _ in traces]
    for j, tr in enumerate(traces):
        if not tr.as_points:
            for t, v in tr.entered_points(s0, s1):
                i = min(max(int((t - s0) // period), 0), rows - 1)
                typed_rows[j].setdefault(i, []).append((t, v))
    body = []
    hovers: list[list[Hover]] = [[] for _ in traces]
    width = X_UNITS / max(rows, 1)
    for i, row in enumerate(cells):
        if not any(row):
            continue
        texts = [_cell(vs, tr) for vs, tr in zip(row, traces, strict=True)]
        a = start + timedelta(seconds=period * i)
        b = a + timedelta(seconds=period)
        when = f"{_local(a, zone, '%d %b %H:%M')}–{_local(b, zone, '%H:%M')}"
        for j, (text, tr) in enumerate(zip(texts, traces, strict=True)):
            if text:
                said = (", ".join(tr.shown(t, v) for t, v in row[j]) if tr.as_points
                        else f"{text} {tr.unit}")  # fmt: skip
                typed = tr.entered_among(typed_rows[j].get(i, []), zone)
                if typed:
                    said += f"; entered as {typed}"
                hovers[j].append(Hover(round(width * i, 1), round(width, 1), f"{when}: {said}"))
        body.append([_local(a, zone, "%d %b %H:%M"), *texts])
    return head, body[::-1], hovers


def _line_ranges(
    points: Sequence[tuple[float, float]], s0: float, s1: float, period: float, rows: int
) -> list[tuple[int, float, float]]:
    """(row, lowest, highest) of a line's values in each period that has any, on arrays:
    the row of a point by the same float operations as ``int((t - s0) // period)``."""
    if not points:
        return []
    arr = np.asarray(points, dtype=float).reshape(-1, 2)
    t, v = arr[:, 0], arr[:, 1]
    keep = (t >= s0) & (t <= s1) & np.isfinite(v)
    t, v = t[keep], v[keep]
    if len(t) == 0:
        return []
    row = np.minimum(((t - s0) // period).astype(np.int64), rows - 1)
    low = np.full(rows, np.inf)
    high = np.full(rows, -np.inf)
    np.minimum.at(low, row, v)
    np.maximum.at(high, row, v)
    found = np.flatnonzero(np.bincount(row, minlength=rows)).tolist()
    return [(i, float(low[i]), float(high[i])) for i in found]


def _cell(points: Any, tr: Trace) -> str:
    """A result cell's values as entered; a line cell's (lowest, highest) as "lo–hi"."""
    if not points:
        return ""
    if tr.as_points:
        return ", ".join(tr.shown(t, v, unit=False) for t, v in points)
    lo, hi = number(points[0]), number(points[1])
    return lo if lo == hi else f"{lo}–{hi}"
