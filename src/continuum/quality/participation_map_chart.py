"""Inline SVG for the participation map (no script, no CDN; it prints as drawn), in the way
of ``metrics_chart``: the server lays everything out.

* ``pathway``: the care pathway as a flowchart, one box per step, top to bottom with arrows.
  The "current" panel shades each box by the measured share (k of n written in it); the
  "target" panel marks the steps the policy says need perfusion input.
* ``trend_grid``: steps × local months, each cell shaded by that month's share with "k/n".
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from datetime import date
from html import escape

from continuum.quality import participation_map_calc as calc

FONT = 'font-family="system-ui, sans-serif"'
BOX_W, BOX_H, GAP, PAD = 340, 60, 16, 10
REQUIRED_FILL = "#0e6245"


def _box_y(i: int) -> int:
    return PAD + i * (BOX_H + GAP)


def _frame(title: str, height: int, width: int = BOX_W + 2 * PAD) -> list[str]:
    return [
        f'<svg class="pathway" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(title)}" preserveAspectRatio="xMidYMin meet" {FONT}>',
        f"<title>{escape(title)}</title>",
        '<defs><marker id="pm-arrow" viewBox="0 0 10 10" refX="5" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" '
        'fill="#667085"/></marker></defs>',
    ]


def _arrows(count: int) -> list[str]:
    x = PAD + BOX_W / 2
    return [
        f'<line x1="{x}" y1="{_box_y(i) + BOX_H}" x2="{x}" y2="{_box_y(i + 1) - 2}" '
        f'stroke="#667085" stroke-width="1.5" marker-end="url(#pm-arrow)"/>'
        for i in range(count - 1)
    ]


def _box(
    i: int,
    fill: str,
    ink: str,
    lines: tuple[str, str],
    dashed: bool,
    href: str | None,
    key: str,
    detail: str = "",
) -> str:
    y = _box_y(i)
    dash = ' stroke-dasharray="5 4"' if dashed else ""
    top = y + (20 if detail else 24)
    body = (
        f'<rect x="{PAD}" y="{y}" width="{BOX_W}" height="{BOX_H}" rx="8" fill="{fill}" '
        f'stroke="#475467" stroke-width="1"{dash}/>'
        f'<text x="{PAD + 12}" y="{top}" fill="{ink}" font-size="14" font-weight="600">'
        f"{escape(lines[0])}</text>"
        f'<text x="{PAD + 12}" y="{top + 18}" fill="{ink}" font-size="12">{escape(lines[1])}</text>'
    )
    if detail:
        body += (
            f'<text x="{PAD + 12}" y="{top + 34}" fill="{ink}" font-size="11">'
            f"{escape(detail)}</text>"
        )
    if href:
        return (
            f'<a href="{escape(href)}" class="pm-step" data-step="{key}" '
            f'aria-label="{escape(lines[0])}: {escape(lines[1])}">{body}</a>'
        )
    return f'<g class="pm-step" data-step="{key}">{body}</g>'


def _short(share: calc.StepShare, min_n: int) -> str:
    p = share.share
    if p.n == 0:
        return "no records"
    if p.n < min_n:
        return f"{p.k} of {p.n} (CI {100 * (p.low or 0):.0f}–{100 * (p.high or 0):.0f} %)"
    return f"{p.k} of {p.n} · {p.percent:.0f} % (CI {100 * (p.low or 0):.0f}–{100 * (p.high or 0):.0f})"  # noqa: E501


def _kinds_line(kinds: list[tuple[str, int, int]]) -> str:
    """'rounds 40 of 94 · circuit checks 674 of 674' when a step has several kinds."""
    if len(kinds) < 2:
        return ""
    return " · ".join(f"{kind}s {k} of {n}" for kind, k, n in kinds)


def current_panel(
    shares: Sequence[calc.StepShare],
    discipline_label: str,
    min_n: int,
    link: Callable[[str], str] | None,
    unrecorded_notes: dict[str, str],
    kinds: dict[str, list[tuple[str, int, int]]] | None = None,
) -> str:
    height = _box_y(len(shares)) + PAD - GAP
    parts = _frame(f"Current: {discipline_label} involvement by step", height)
    parts += _arrows(len(shares))
    for i, s in enumerate(shares):
        if not s.recorded:
            note = "no records yet" if "yet" in unrecorded_notes.get(s.step.key, "") else ""
            text = note or "no records"
            parts.append(
                _box(i, calc.NO_RECORDS, "#475467", (s.step.label, text), True, None, s.step.key)
            )
            continue
        href = link(s.step.key) if link and s.n else None
        parts.append(
            _box(
                i,
                calc.shade(s.share),
                calc.ink(s.share),
                (s.step.label, _short(s, min_n)),
                s.n == 0,
                href,
                s.step.key,
                _kinds_line((kinds or {}).get(s.step.key, [])),
            )
        )
    parts.append("</svg>")
    return "".join(parts)


def target_panel(
    perfusion: Sequence[calc.StepShare],
    required: dict[str, bool],
    target_pct: float,
    tags: dict[str, str],
) -> str:
    height = _box_y(len(perfusion)) + PAD - GAP
    parts = _frame("Target: steps where the policy requires perfusion input", height)
    parts += _arrows(len(perfusion))
    for i, s in enumerate(perfusion):
        key = s.step.key
        tag = tags.get(key, "")
        if required.get(key):
            met = calc.meets(s.share, target_pct)
            now = (
                "no records to measure"
                if met is None
                else ("meets the target" if met else "below the target")
            )
            line = f"required ≥ {target_pct:g} % {tag} · now {now}"
            parts.append(_box(i, REQUIRED_FILL, "#ffffff", (s.step.label, line), False, None, key))
        else:
            line = f"not required by the policy {tag}"
            parts.append(_box(i, "#ffffff", "#344054", (s.step.label, line), True, None, key))
    parts.append("</svg>")
    return "".join(parts)


def _month_label(month: str) -> tuple[str, str]:
    d = date.fromisoformat(f"{month}-01")
    return d.strftime("%b"), d.strftime("%Y")


def trend_grid(points: Sequence[calc.TrendPoint], months: Sequence[str], title: str) -> str:
    """Steps (rows) × months (columns), each cell shaded by its share and labelled k/n."""
    label_w, cell_w, cell_h, top = 200, 46, 30, 44
    width = label_w + cell_w * max(1, len(months)) + 10
    height = top + cell_h * len(calc.STEPS) + 32
    by = {(p.step, p.month): p.share for p in points}
    parts = [
        f'<svg class="trend" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="{escape(title)}" {FONT} '
        f'font-size="11">',
        f"<title>{escape(title)}</title>",
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>',
        f'<text x="4" y="14" font-size="12" fill="#344054">{escape(title)}</text>',
    ]
    for j, month in enumerate(months):
        x = label_w + j * cell_w + cell_w / 2
        mon, year = _month_label(month)
        parts.append(
            f'<text x="{x:.0f}" y="{top - 16}" text-anchor="middle" fill="#475467">{mon}</text>'
            f'<text x="{x:.0f}" y="{top - 4}" text-anchor="middle" fill="#98a2b3" '
            f'font-size="9">{year}</text>'
        )
    for i, step in enumerate(calc.STEPS):
        y = top + i * cell_h
        parts.append(
            f'<text x="{label_w - 8}" y="{y + cell_h / 2 + 4:.0f}" text-anchor="end" '
            f'fill="#101828">{escape(step.label)}</text>'
        )
        for j, month in enumerate(months):
            share = by.get((step.key, month))
            x = label_w + j * cell_w
            if share is None or share.n == 0:
                parts.append(
                    f'<rect x="{x + 1}" y="{y + 1}" width="{cell_w - 2}" height="{cell_h - 2}" '
                    f'fill="{calc.NO_RECORDS}"/>'
                )
                continue
            parts.append(
                f'<rect x="{x + 1}" y="{y + 1}" width="{cell_w - 2}" height="{cell_h - 2}" '
                f'fill="{calc.shade(share)}"><title>{escape(step.label)}, {month}: '
                f"{share.k} of {share.n}</title></rect>"
                f'<text x="{x + cell_w / 2:.0f}" y="{y + cell_h / 2 + 4:.0f}" '
                f'text-anchor="middle" fill="{calc.ink(share)}">{share.k}/{share.n}</text>'
            )
    legend_y = top + cell_h * len(calc.STEPS) + 12
    parts.append(
        f'<text x="{label_w - 8}" y="{legend_y + 10}" text-anchor="end" fill="#475467">'
        f"share (k/n):</text>"
    )
    for i, colour in enumerate(calc.SHADES):
        x = label_w + i * 66
        parts.append(
            f'<rect x="{x}" y="{legend_y}" width="14" height="12" fill="{colour}" '
            f'stroke="#98a2b3"/><text x="{x + 18}" y="{legend_y + 10}" fill="#475467">'
            f"{i * 20}–{(i + 1) * 20} %</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def trend_png(points: Sequence[calc.TrendPoint], months: Sequence[str], title: str) -> bytes:
    """The same grid as ``trend_grid``, as a PNG for a report (matplotlib, Agg backend;
    imported here only: the web app starts without it)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure
    from matplotlib.patches import Rectangle

    by = {(p.step, p.month): p.share for p in points}
    cols = max(1, len(months))
    rows = len(calc.STEPS)
    fig = Figure(figsize=(2.6 + 0.55 * cols, 0.9 + 0.38 * rows), dpi=150)
    ax = fig.add_axes((2.4 / (2.6 + 0.55 * cols), 0.06, 1 - 2.5 / (2.6 + 0.55 * cols), 0.8))
    ax.set_xlim(0, cols)
    ax.set_ylim(rows, 0)
    for i, step in enumerate(calc.STEPS):
        for j, month in enumerate(months):
            share = by.get((step.key, month))
            if share is None or share.n == 0:
                ax.add_patch(Rectangle((j + 0.03, i + 0.05), 0.94, 0.9, color=calc.NO_RECORDS))
                continue
            ax.add_patch(Rectangle((j + 0.03, i + 0.05), 0.94, 0.9, color=calc.shade(share)))
            ax.text(
                j + 0.5, i + 0.55, f"{share.k}/{share.n}", ha="center", va="center",
                fontsize=6.5, color=calc.ink(share),
            )  # fmt: skip
    ax.set_yticks([i + 0.5 for i in range(rows)], [s.label for s in calc.STEPS], fontsize=7)
    ax.set_xticks(
        [j + 0.5 for j in range(len(months))],
        [" ".join(_month_label(m)) for m in months],
        fontsize=6,
        rotation=90,
    )
    ax.xaxis.tick_top()
    ax.tick_params(length=0)
    for side in ax.spines.values():
        side.set_visible(False)
    fig.suptitle(title, fontsize=8, x=0.01, ha="left")
    out = io.BytesIO()
    fig.savefig(out, format="png")
    return out.getvalue()
