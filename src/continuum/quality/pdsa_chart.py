"""A PDSA action's measure over time, drawn with core.trend_chart (server-side SVG): one
panel, the follow-up measurements joined in date order, the first as the baseline."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from continuum.core.trend_chart import Chart, Reference, Trace, build
from continuum.quality.review_record import PdsaMeasurement, ReviewAction


def day_ticks(
    start: datetime, end: datetime, zone: ZoneInfo, labels: int = 6
) -> list[tuple[float, str]]:
    """Local midnights every N days (about ``labels`` of them) for windows of many days
    (the shared chart labels hours, which crowd a window of a week or more)."""
    span = (end - start).total_seconds() or 1.0
    days = max(1, math.ceil(span / 86400 / labels))
    t = start.astimezone(zone).replace(hour=0, minute=0, second=0, microsecond=0)
    t += timedelta(days=1)
    ticks = []
    i = 0
    while t <= end:
        pct = round((t - start).total_seconds() / span * 100, 2)
        if 3 <= pct <= 97 and i % days == 0:
            ticks.append((pct, t.strftime("%d %b")))
        t = (t + timedelta(days=1, hours=2)).replace(hour=0)  # DST-safe next midnight
        i += 1
    return ticks


def _noon(d: date) -> datetime:
    return datetime.combine(d, time(12), tzinfo=UTC)


def pdsa_chart(action: ReviewAction, rows: list[PdsaMeasurement], zone: ZoneInfo) -> Chart | None:
    if action.measure_name is None or not rows:
        return None
    points = [(_noon(r.measured_on).timestamp(), r.value) for r in rows]
    start = _noon(rows[0].measured_on) - timedelta(days=2)
    end = max(_noon(rows[-1].measured_on) + timedelta(days=2), start + timedelta(days=14))
    trace = Trace(
        "pdsa",
        action.measure_name,
        action.measure_unit or "",
        points,
        references=(Reference(rows[0].value, "baseline (first measurement)"),),
        as_points=len(rows) < 2,  # one measurement: a dot; more: joined in date order
        max_gap=timedelta(days=3660),
        note=f"{len(rows)} measurement{'s' if len(rows) != 1 else ''}",
    )
    chart = build([trace], start, end, zone, title=f"PDSA measure: {action.measure_name}")
    return replace(chart, x_ticks=day_ticks(start, end, zone, 5))
