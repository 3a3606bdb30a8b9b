"""The signals behind an alert, around its time, for the alert page's chart (drawn on the
server: ``core.trend_chart``), with markers where it was raised and cleared and the run's
other events; for a ΔP alert also the membrane lung's ΔP per L/min against its baseline."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from continuum import vocabulary
from continuum.alerts.models import CircuitAlert
from continuum.core import run_trends, targets
from continuum.core.run_record import Run
from continuum.core.trend_chart import Chart, Marker, Trace, build

BEFORE = timedelta(hours=8)
AFTER = timedelta(hours=2)
BUCKETS = 120  # columns per panel: min and max of each, so spikes survive downsampling
# Charts on one page: the newest alerts (about 25 kB each); older ones keep their evidence.
MAX_CHARTS = 4
LUNG_DETECTORS = ("transmembrane_gradient_rise", "circuit_thrombosis")


def signals_of(alert: CircuitAlert) -> list[str]:
    """The observation codes the detector looked at (its evidence), in vocabulary order."""
    codes = {o["code"] for o in alert.evidence.get("observations", []) if "code" in o}
    return [c for c in vocabulary.CODES if c in codes]


def window(alert: CircuitAlert, now: datetime) -> tuple[datetime, datetime]:
    return alert.raised_at - BEFORE, min((alert.cleared_at or now) + AFTER, now)


def chart(
    session: Session,
    run: Run,
    alert: CircuitAlert,
    now: datetime,
    zone: ZoneInfo,
    readable: bool = True,
) -> Chart:
    start, end = window(alert, now)
    goals = targets.current_targets(session, alert.run_id)
    traces: list[Trace] = []
    if alert.detector in LUNG_DETECTORS:
        s = run_trends.surveillance_settings(session)
        lung = run_trends.lung_trend(session, run, start, end, s, at=alert.raised_at)
        if lung.points:
            traces.append(run_trends.lung_trace(lung, s))
    codes = signals_of(alert)
    found = run_trends.readings(session, alert.run_id, codes, start, end)
    typed = run_trends.entered_results(session, alert.run_id, codes, start, end)
    for code in codes:
        goal = goals.get(code)
        band = (goal.low, goal.high) if goal else None
        traces.append(run_trends.trace_of(code, found.get(code, []), band, typed.get(code)))
    found_marks = run_trends.markers(session, alert.run_id, start, end, readable)
    marks = [m for m in found_marks if not _own(m, alert)]
    marks.append(Marker(alert.raised_at, "alert", f"this alert raised ({alert.severity})"))
    if alert.cleared_at:
        marks.append(Marker(alert.cleared_at, "cleared", "this alert's condition cleared"))
    title = f"{alert.detector.replace('_', ' ')}: signals around the alert"
    return build(traces, start, end, zone, marks, title=title, buckets=BUCKETS, rows=12)


def _own(marker: Marker, alert: CircuitAlert) -> bool:
    """The clinical events of this alert itself (marked separately, as 'this alert')."""
    return marker.kind in ("alert", "cleared") and marker.at in (alert.raised_at, alert.cleared_at)


def charts(
    session: Session,
    run: Run,
    alerts: list[CircuitAlert],
    now: datetime,
    zone: ZoneInfo,
    readable: bool = True,
) -> dict[int, Chart]:
    """Charts of the newest ``MAX_CHARTS`` alerts, by alert id (``readable``: the event
    markers' typed words, ``run_trends.markers``)."""
    return {a.id: chart(session, run, a, now, zone, readable) for a in alerts[:MAX_CHARTS]}
