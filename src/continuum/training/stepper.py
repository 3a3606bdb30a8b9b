"""The background stepper: every few seconds, each running training session writes the
simulated minutes due by now (``service.step_all``) in a unit of work of its own.

All state is in the database (``training_session.last_minute`` and its faults), so a
restarted server, or a second app process, goes on where the last step stopped; a step
claims its minutes with a compare-and-set, so two processes never write the same minute.
Tests call ``service.step`` / ``step_all`` with their own clock instead.
"""

from __future__ import annotations

import logging
import threading

from sqlalchemy.orm import Session, sessionmaker

from continuum.db import unit_of_work

log = logging.getLogger("continuum.training")


def step_once(sessions: sessionmaker[Session]) -> int:
    from continuum.training.service import step_all

    with unit_of_work(sessions) as db:
        return step_all(db)


class Stepper:
    """Runs :func:`step_once` every ``interval_s`` seconds on a daemon thread."""

    def __init__(self, sessions: sessionmaker[Session], interval_s: float) -> None:
        if interval_s <= 0:
            raise ValueError(f"interval {interval_s} s must be more than 0 s")
        self.sessions = sessions
        self.interval_s = interval_s
        self.passes = 0
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def run(self) -> None:
        while not self._stopping.wait(self.interval_s):
            try:
                step_once(self.sessions)
            except Exception:
                log.exception("training stepper pass failed; the next pass tries again")
            self.passes += 1

    def start(self) -> Stepper:
        if self._thread is None or not self._thread.is_alive():
            self._stopping.clear()
            self._thread = threading.Thread(target=self.run, name="training", daemon=True)
            self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
