"""Inline SVG charts for the metrics page (no script, no CDN; they print as drawn).

* ``rate_bars``: one horizontal bar per category (events per 1,000 ECMO h) with its 95 %
  interval as a whisker and the count written beside it.
* ``km_curve``: a Kaplan–Meier step curve with its 95 % band, censoring ticks omitted
  (the counts are in the caption), a dashed line at 50 %.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from continuum.quality.metrics_calc import KaplanMeier

FONT = 'font-family="system-ui, sans-serif" font-size="12"'


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    for step in (1, 2, 2.5, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000):
        if value <= step:
            return float(step)
    return float(int(value) + 1)


def rate_bars(
    rows: Sequence[tuple[str, int, float | None, float | None, float | None]],
    unit: str = "per 1,000 ECMO h",
    title: str = "",
) -> str:
    """rows: (label, events, rate, low, high)."""
    label_w, bar_w, row_h, top = 170, 300, 26, 28
    width = label_w + bar_w + 90
    height = top + row_h * len(rows) + 30
    top_value = _nice_max(max((r[4] or r[2] or 0) for r in rows) if rows else 1)

    def x(v: float) -> float:
        return label_w + bar_w * min(v, top_value) / top_value

    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(title)}" preserveAspectRatio="xMinYMin meet" {FONT}>',
        f"<title>{escape(title)}</title>",
    ]
    for i in range(6):
        v = top_value * i / 5
        gx = x(v)
        parts.append(
            f'<line x1="{gx:.1f}" y1="{top - 6}" x2="{gx:.1f}" y2="{height - 26}" '
            f'stroke="#d0d5dd" stroke-width="1"/>'
            f'<text x="{gx:.1f}" y="{height - 10}" text-anchor="middle" fill="#475467">'
            f"{v:g}</text>"
        )
    parts.append(
        f'<text x="{label_w}" y="14" fill="#344054">{escape(unit)} '
        f"(bar) with 95 % interval (whisker)</text>"
    )
    for i, (label, events, rate, low, high) in enumerate(rows):
        y = top + i * row_h
        parts.append(
            f'<text x="{label_w - 8}" y="{y + 15}" text-anchor="end" fill="#101828">'
            f"{escape(label)}</text>"
        )
        if rate is not None:
            parts.append(
                f'<rect x="{label_w}" y="{y + 4}" width="{max(0.0, x(rate) - label_w):.1f}" '
                f'height="{row_h - 10}" fill="#3e7cb1"/>'
            )
        if low is not None and high is not None:
            y_mid = y + row_h / 2 - 1
            parts.append(
                f'<line x1="{x(low):.1f}" y1="{y_mid:.1f}" x2="{x(high):.1f}" y2="{y_mid:.1f}" '
                f'stroke="#101828" stroke-width="1.5"/>'
                f'<line x1="{x(low):.1f}" y1="{y_mid - 5:.1f}" x2="{x(low):.1f}" '
                f'y2="{y_mid + 5:.1f}" stroke="#101828" stroke-width="1.5"/>'
                f'<line x1="{x(high):.1f}" y1="{y_mid - 5:.1f}" x2="{x(high):.1f}" '
                f'y2="{y_mid + 5:.1f}" stroke="#101828" stroke-width="1.5"/>'
            )
        shown = "—" if rate is None else f"{rate:.1f}"
        end = x(high) if high is not None else label_w
        parts.append(
            f'<text x="{end + 6:.1f}" y="{y + 15}" fill="#344054">{shown} (n={events})</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def km_curve(km: KaplanMeier, title: str = "Membrane-lung life") -> str:
    left, right, top, bottom = 48, 20, 16, 40
    width, height = 520, 260
    plot_w, plot_h = width - left - right, height - top - bottom
    t_max = _nice_max(max((p.t for p in km.points), default=1.0))

    def x(t: float) -> float:
        return left + plot_w * t / t_max

    def y(s: float) -> float:
        return top + plot_h * (1 - s)

    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(title)}" preserveAspectRatio="xMinYMin meet" {FONT}>',
        f"<title>{escape(title)}</title>",
    ]
    for s in (0, 0.25, 0.5, 0.75, 1):
        dash = ' stroke-dasharray="4 3"' if s == 0.5 else ""
        parts.append(
            f'<line x1="{left}" y1="{y(s):.1f}" x2="{width - right}" y2="{y(s):.1f}" '
            f'stroke="{"#98a2b3" if s == 0.5 else "#e4e7ec"}"{dash}/>'
            f'<text x="{left - 6}" y="{y(s) + 4:.1f}" text-anchor="end" fill="#475467">'
            f"{int(s * 100)} %</text>"
        )
    for i in range(5):
        t = t_max * i / 4
        parts.append(
            f'<text x="{x(t):.1f}" y="{height - 22}" text-anchor="middle" fill="#475467">'
            f"{t:g}</text>"
        )
    parts.append(
        f'<text x="{left + plot_w / 2:.1f}" y="{height - 6}" text-anchor="middle" '
        f'fill="#344054">hours in use</text>'
    )
    if km.points:
        band_top, band_bottom, line = [], [], []
        prev = km.points[0]
        line.append(f"M{x(prev.t):.1f},{y(prev.survival):.1f}")
        for p in km.points[1:]:
            line.append(f"H{x(p.t):.1f}V{y(p.survival):.1f}")
        for a, b in zip(km.points, [*km.points[1:], None], strict=True):
            end_t = b.t if b is not None else a.t
            band_top += [(x(a.t), y(a.high)), (x(end_t), y(a.high))]
            band_bottom += [(x(a.t), y(a.low)), (x(end_t), y(a.low))]
        poly = band_top + list(reversed(band_bottom))
        points = " ".join(f"{px:.1f},{py:.1f}" for px, py in poly)
        parts.append(f'<polygon points="{points}" fill="#3e7cb1" fill-opacity="0.18"/>')
        parts.append(f'<path d="{"".join(line)}" fill="none" stroke="#1d4f7a" stroke-width="2"/>')
    else:
        parts.append(
            f'<text x="{left + plot_w / 2:.1f}" y="{top + plot_h / 2:.1f}" '
            f'text-anchor="middle" fill="#475467">no membrane lungs in this selection</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
