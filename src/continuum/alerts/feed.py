"""Feed health: a console that has gone quiet is a finding of its own.

Every active run that has had console data (blood flow or pump speed from any interface;
hand-entered and simulated values do not count) is checked against the programme's
``console_silence_min`` (docs/clinical/reference.md §4.7). Silent longer than that → a warning alert
``console_silent`` raised at the moment the limit was passed, with the last console value's
time as evidence; data arriving again → the alert clears at the first new value's time.

The check needs no new data to fire: the surveillance evaluator (web app or ``continuum alerts
worker``) runs :func:`check_feeds` about once a minute. All state is in the database (the
alert rows), so any number of processes may run it; on PostgreSQL each run is locked as
``evaluate_run`` locks it, so two checks of one run do not both raise.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from continuum.alerts import lifecycle, thresholds
from continuum.alerts.models import CircuitAlert
from continuum.core.alert_state import CONSOLE_SILENT
from continuum.core.record import Observation
from continuum.core.run_record import Run
from continuum.db import utcnow
from continuum.surveillance import Alert

CONSOLE_CODES = ("blood_flow", "pump_speed")
# Values that never came over a live connection: typed in, or generated (the demo's history).
NOT_A_FEED = ("manual", "simulator")
RETURNED = "console data returned"
CHECK_EVERY_S = 60.0


@dataclass(frozen=True)
class FeedCheck:
    checked: int = 0
    raised: int = 0
    cleared: int = 0

    def __str__(self) -> str:
        return (
            f"console feeds: {self.checked} runs checked, {self.raised} silent newly, "
            f"{self.cleared} back"
        )


def last_console_time(
    session: Session, run_id: int, after: datetime | None = None
) -> datetime | None:
    """The newest console value of the run (``after``: the first one after that time). One
    walk of the (run, code, time) index per code, stopping at the first device value."""
    times = []
    for code in CONSOLE_CODES:
        stmt = select(Observation.time).where(
            Observation.run_id == run_id,
            Observation.code == code,
            Observation.status == "final",
            Observation.source.not_in(NOT_A_FEED),
        )
        if after is None:
            stmt = stmt.order_by(Observation.time.desc())
        else:
            stmt = stmt.where(Observation.time > after).order_by(Observation.time)
        t = session.scalar(stmt.limit(1))
        if t is not None:
            times.append(t)
    if not times:
        return None
    return max(times) if after is None else min(times)


def _found(last: datetime, limit: timedelta) -> Alert:
    minutes = limit.total_seconds() / 60
    at = np.datetime64((last + limit).replace(tzinfo=None), "ms")
    return Alert(
        detector=CONSOLE_SILENT,
        severity="warning",
        raised_at=at,
        cleared_at=None,
        summary=(
            f"No console data for more than {minutes:g} min: values on screen are old and "
            "circuit surveillance is blind; check the console, its bridge and the interface"
        ),
        evidence={
            "last_console_at": last.isoformat().replace("+00:00", "Z"),
            "limit_min": minutes,
            "codes": list(CONSOLE_CODES),
            "rule": (
                f"no blood flow or pump speed value from a device for more than {minutes:g} "
                "min on an active run (docs/clinical/reference.md §4.7)"
            ),
        },
    )


def check_run(session: Session, run: Run, limit: timedelta, now: datetime) -> tuple[int, int]:
    """Raise, keep or clear the run's console-silence alert. Returns (raised, cleared)."""
    last = last_console_time(session, run.id)
    if last is None:
        return 0, 0
    open_, lingering = lifecycle.current(session, run.id)
    alert = open_.get(CONSOLE_SILENT)
    silent = now - last > limit
    if silent:
        if alert is not None and alert.cleared_at is None:
            return 0, 0
        earlier = lingering.get(CONSOLE_SILENT)
        if earlier is not None and _same_silence(earlier, last):
            return 0, 0  # resolved by a clinician during this silence: not raised again
        if alert is not None:  # silent again before anyone reviewed the last silence
            lifecycle.update_alert(session, run, alert, _found(last, limit))
            return 1, 0
        lifecycle.raise_alert(session, run, _found(last, limit))
        return 1, 0
    cleared = 0
    for old in (alert, lingering.get(CONSOLE_SILENT)):
        if old is not None and old.cleared_at is None:
            since = lifecycle_time(old)
            back = last_console_time(session, run.id, after=since) or last
            lifecycle.clear_alert(session, run, old, back, RETURNED)
            cleared += old.status != "resolved"
    return 0, cleared


def lifecycle_time(alert: CircuitAlert) -> datetime | None:
    text = (alert.evidence or {}).get("last_console_at")
    return datetime.fromisoformat(str(text).replace("Z", "+00:00")) if text else None


def _same_silence(alert: CircuitAlert, last: datetime) -> bool:
    return lifecycle_time(alert) == last


def _locked(session: Session, run_id: int) -> Run | None:
    stmt = select(Run).where(Run.id == run_id, Run.status != "ended")
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(key_share=True, skip_locked=True)
    return session.scalar(stmt)


def check_feeds(session: Session, now: datetime | None = None) -> FeedCheck:
    """Check every active run once, in the caller's unit of work (flushes, never commits)."""
    now = now or utcnow()
    minutes = thresholds.in_force(session).console_silence_min
    if minutes <= 0:
        return FeedCheck()
    limit = timedelta(minutes=minutes)
    run_ids = list(session.scalars(select(Run.id).where(Run.status != "ended")))
    checked = raised = cleared = 0
    for run_id in run_ids:
        run = _locked(session, run_id)
        if run is None:
            continue
        r, c = check_run(session, run, limit, now)
        checked, raised, cleared = checked + 1, raised + r, cleared + c
    session.flush()
    return FeedCheck(checked, raised, cleared)
