"""The signals behind an alert, around its time, for the alert page's chart."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from continuum import vocabulary
from continuum.alerts.models import CircuitAlert
from continuum.core import observation_service

BEFORE = timedelta(hours=8)
AFTER = timedelta(hours=2)
MAX_POINTS = 1500


def signals_of(alert: CircuitAlert) -> list[str]:
    """The observation codes the detector looked at (its evidence), in vocabulary order."""
    codes = {o["code"] for o in alert.evidence.get("observations", []) if "code" in o}
    return [c for c in vocabulary.CODES if c in codes]


def chart_data(session: Session, alert: CircuitAlert, now: datetime) -> dict[str, Any]:
    start = alert.raised_at - BEFORE
    end = min((alert.cleared_at or now) + AFTER, now)
    panels = []
    for code in signals_of(alert):
        points = observation_service.series(session, alert.run_id, code, start, end)
        step = max(len(points) // MAX_POINTS, 1)
        points = points[::step]
        spec = vocabulary.CODES[code]
        panels.append(
            {
                "code": code,
                "label": f"{spec.meaning} ({spec.unit})",
                "t": [t.isoformat() for t, _ in points],
                "v": [v for _, v in points],
            }
        )
    return {
        "raised_at": alert.raised_at.isoformat(),
        "cleared_at": alert.cleared_at.isoformat() if alert.cleared_at else None,
        "panels": panels,
    }
