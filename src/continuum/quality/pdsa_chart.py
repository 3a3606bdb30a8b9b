"""A PDSA action's measure over time, drawn with core.trend_chart (server-side SVG): one
panel, the follow-up measurements joined in date order, the first as the baseline."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from continuum.core.trend_chart import Chart, Reference, Trace, build
from continuum.quality.review_record import PdsaMeasurement, ReviewAction


def _noon(d: date) -> datetime:
    return datetime.combine(d, time(12), tzinfo=UTC)


def pdsa_chart(action: ReviewAction, rows: list[PdsaMeasurement], zone: ZoneInfo) -> Chart | None:
    if action.measure_name is None or not rows:
        return None
    points = [(_noon(r.measured_on).timestamp(), r.value) for r in rows]
    start = _noon(rows[0].measured_on) - timedelta(days=2)
    end = max(_noon(rows[-1].measured_on) + timedelta(days=2), start + timedelta(days=7))
    trace = Trace(
        "pdsa",
        action.measure_name,
        action.measure_unit or "",
        points,
        references=(Reference(rows[0].value, "baseline (first measurement)"),),
        max_gap=timedelta(days=3660),
        note=f"{len(rows)} measurement{'s' if len(rows) != 1 else ''}",
    )
    return build([trace], start, end, zone, title=f"PDSA measure: {action.measure_name}")
