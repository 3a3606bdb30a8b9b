"""The case packet as a real PDF (reportlab): page one the SBAR summary, then the circuit
trends drawn with reportlab.graphics from the same chart geometry the page's SVG uses
(``core.trend_chart`` panels: their line paths, dots, target bands and event markers),
then the sections of the packet as tables."""

from __future__ import annotations

import io
import re
from xml.sax.saxutils import escape

from reportlab.graphics.shapes import Drawing, Line, PolyLine, Rect, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import (
    KeepTogether,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from continuum.core.trend_chart import PANEL_HEIGHT, X_UNITS, Chart, Panel
from continuum.quality.case_packet import Packet, Row, summary_lines

WIDTH = A4[0] - 30 * mm
MARKER_COLOURS = {
    "alert": colors.HexColor("#c0392b"),
    "cleared": colors.HexColor("#27ae60"),
    "component": colors.HexColor("#8e44ad"),
    "mode": colors.HexColor("#2c3e50"),
    "cannula": colors.HexColor("#7f8c8d"),
    "run": colors.HexColor("#34495e"),
}
_PAIR = re.compile(r"(-?[\d.]+)[ ,](-?[\d.]+)")


def _runs(path: str) -> list[list[tuple[float, float]]]:
    """The polylines of a chart path ("M x y x y …M x y h0"): x in viewBox units, y in px."""
    out = []
    for part in path.split("M")[1:]:
        pts = [(float(a), float(b)) for a, b in _PAIR.findall(part.replace("h0", ""))]
        if pts:
            out.append(pts)
    return out


def panel_drawing(chart: Chart, panel: Panel, width: float) -> Drawing:
    label_w = 34.0
    plot_w = width - label_w
    h = float(PANEL_HEIGHT) * 0.6
    scale_y = h / PANEL_HEIGHT
    d = Drawing(width, h + 14)

    def x(v: float) -> float:
        return label_w + v / X_UNITS * plot_w

    def y(v: float) -> float:
        return h - v * scale_y

    d.add(String(0, h + 4, f"{panel.label} ({panel.unit})", fontSize=7, fontName="Helvetica-Bold"))
    d.add(
        Rect(label_w, 0, plot_w, h, strokeColor=colors.lightgrey, fillColor=None, strokeWidth=0.4)
    )
    if panel.band:
        top, height = panel.band
        d.add(
            Rect(
                label_w,
                y(top + height),
                plot_w,
                height * scale_y,
                strokeColor=None,
                fillColor=colors.HexColor("#e8f4ea"),
            )
        )
    for ty, text in panel.y_ticks:
        d.add(
            Line(
                label_w,
                y(ty),
                label_w + plot_w,
                y(ty),
                strokeColor=colors.HexColor("#eeeeee"),
                strokeWidth=0.3,
            )
        )
        d.add(String(label_w - 2, y(ty) - 2, text, fontSize=5.5, textAnchor="end"))
    for m in chart.markers:
        c = MARKER_COLOURS.get(m.kind, colors.grey)
        d.add(Line(x(m.x), 0, x(m.x), h, strokeColor=c, strokeWidth=0.5, strokeDashArray=[2, 2]))
    for r in panel.references:
        d.add(
            Line(
                x(r.x0),
                y(r.y),
                label_w + plot_w,
                y(r.y),
                strokeColor=colors.orange,
                strokeWidth=0.6,
            )
        )
    for pts in _runs(panel.line):
        if len(pts) == 1:
            pts = [pts[0], (pts[0][0] + 1, pts[0][1])]
        flat: list[float] = []
        for px, py in pts:
            flat += [x(px), y(py)]
        d.add(PolyLine(flat, strokeColor=colors.HexColor("#1f5fa8"), strokeWidth=0.8))
    for dot in panel.dots:
        d.add(
            Rect(
                x(dot.x) - 1,
                y(dot.y) - 1,
                2,
                2,
                fillColor=colors.HexColor("#1f5fa8"),
                strokeColor=None,
            )
        )
    if panel.empty:
        d.add(String(label_w + 4, h / 2, "No values in this period.", fontSize=6))
    return d


def axis_drawing(chart: Chart, width: float) -> Drawing:
    label_w = 34.0
    plot_w = width - label_w
    d = Drawing(width, 10)
    for left, text in chart.x_ticks:
        anchor = "end" if left > 85 else "start" if left < 15 else "middle"
        d.add(String(label_w + left / 100 * plot_w, 2, text, fontSize=5.5, textAnchor=anchor))
    return d


def _table(rows: list[Row], head: tuple[str, ...], style: ParagraphStyle) -> Table | Paragraph:
    if not rows:
        return Paragraph("None recorded.", style)
    data = [[Paragraph(f"<b>{escape(h)}</b>", style) for h in head]]
    for r in rows:
        cells = [r.time, r.what, r.detail, r.who, r.extra][: len(head)]
        data.append([Paragraph(escape(c or ""), style) for c in cells])
    widths = {
        2: [0.25, 0.75],
        3: [0.2, 0.3, 0.5],
        4: [0.17, 0.2, 0.4, 0.23],
        5: [0.14, 0.16, 0.32, 0.18, 0.2],
    }[len(head)]
    t = Table(data, colWidths=[w * WIDTH for w in widths], repeatRows=1)
    t.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.25, colors.lightgrey),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#f0f0f0")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    return t


def render_pdf(p: Packet) -> bytes:
    buf = io.BytesIO()
    styles = getSampleStyleSheet()
    body = ParagraphStyle("body", parent=styles["BodyText"], fontSize=8.5, leading=10.5)
    small = ParagraphStyle("small", parent=body, fontSize=7, leading=8.5)
    h1, h2 = styles["Title"], styles["Heading2"]
    h2 = ParagraphStyle("h2", parent=h2, fontSize=12, spaceBefore=8, spaceAfter=4)
    footer = (
        "De-identified teaching copy: patient label only, times from the start of the run"
        if p.deidentified
        else "Confidential: identified clinical record for M&M review"
    )

    def on_page(canvas, doc) -> None:  # type: ignore[no-untyped-def]
        canvas.saveState()
        canvas.setFont("Helvetica", 7)
        canvas.drawString(15 * mm, 10 * mm, f"{footer} · run {p.run_id} · page {doc.page}")
        canvas.restoreState()

    doc = SimpleDocTemplate(
        buf,
        pagesize=A4,
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=14 * mm,
        bottomMargin=16 * mm,
        title=p.title,
        author="ECMO Continuum",
    )
    story: list = [Paragraph(escape(p.title), h1)]  # type: ignore[type-arg]
    if p.deidentified:
        story.append(Paragraph("<b>De-identified teaching variant</b>", body))
    for heading, lines in summary_lines(p).items():
        story.append(Paragraph(heading, h2))
        for line in lines:
            story.append(Paragraph(escape(line).replace("  ", "&nbsp;&nbsp;&nbsp;"), body))
    story.append(PageBreak())
    story.append(Paragraph("Circuit trends with alerts", h2))
    if p.chart is None or p.chart.empty:
        story.append(Paragraph("No circuit data recorded in this period.", body))
    else:
        story.append(Paragraph(escape(p.chart.title), small))
        for panel in p.chart.panels:
            story.append(panel_drawing(p.chart, panel, WIDTH))
        story.append(axis_drawing(p.chart, WIDTH))
        legend = " · ".join(f"{w}" for _, _, w in p.chart.legend)
        if legend:
            story.append(
                Paragraph("Dashed lines: " + escape(legend) + " (red: alert raised)", small)
            )
    sections = [
        (
            "Adverse events",
            p.adverse_events,
            ("Time", "Event", "Class, harm, preventability", "Description"),
        ),
        (
            "Alerts and acknowledgements",
            p.acknowledgements,
            ("Raised", "Alert", "Acknowledged", "By"),
        ),
        (
            "Component changes",
            p.components,
            ("Started", "Part", "Make / model", "Stopped / reason", "Note"),
        ),
        ("Mode changes", p.mode_changes, ("From", "Mode", "Reason", "By", "Until")),
        (
            "Decisions and who took part",
            p.decisions,
            ("Time", "Event", "Summary", "By", "Participation"),
        ),
        (
            "Rounds and circuit checks",
            p.rounds,
            ("Time", "Event", "Summary", "By", "Participation"),
        ),
        (
            "Weaning and decannulation",
            p.weaning,
            ("Time", "Event", "Summary", "By", "Participation"),
        ),
        ("Reviews", p.reviews, ("Signed", "Review", "Cause class", "Perfusion")),
        (
            "Care delivery problems and contributory factors",
            p.findings,
            ("Review", "Problem", "Contributory factors"),
        ),
        ("Open actions", p.open_actions, ("Due", "Action", "What", "Owner")),
    ]
    for title, rows, head in sections:
        story.append(KeepTogether([Paragraph(title, h2), Spacer(1, 2)]))
        story.append(_table(rows, head, small))
    story.append(Paragraph("Outcome", h2))
    story.append(Paragraph(escape(f"{p.outcome} · run {p.started} to {p.ended}"), body))
    story.append(PageBreak())
    story.append(Paragraph("Clinical timeline", h2))
    story.append(_table(p.timeline, ("Time", "Event", "Summary", "By"), small))
    doc.build(story, onFirstPage=on_page, onLaterPages=on_page)
    return buf.getvalue()
