"""Daily housekeeping: jobs a programme would otherwise have to schedule by hand.

Each module named in ``domains.HOUSEKEEPING_MODULES`` exposes
``housekeeping(db: Session) -> str``: one job, run in a unit of work of its own, that
returns a line for the log (e.g. the ingest message log pruned to the programme's
retention). :class:`Housekeeper` runs every job shortly after the web app starts and then
every ``interval`` hours on a daemon thread (``CONTINUUM_HOUSEKEEPING_INTERVAL_H``, default
24, 0 = none in this process). A failing job is logged and the others still run; the jobs
are idempotent, so several app processes may each run them.
"""

from __future__ import annotations

import importlib
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from continuum.db import unit_of_work

log = logging.getLogger("continuum.housekeeping")

Job = Callable[[Session], str]
FIRST_RUN_DELAY_S = 30.0  # let the app finish starting before the first pass


@dataclass(frozen=True)
class JobResult:
    module: str
    ok: bool
    text: str


def registered_jobs() -> list[tuple[str, Job]]:
    from continuum.domains import HOUSEKEEPING_MODULES

    return [(m, importlib.import_module(m).housekeeping) for m in HOUSEKEEPING_MODULES]


def run_jobs(
    sessions: sessionmaker[Session], jobs: list[tuple[str, Job]] | None = None
) -> list[JobResult]:
    """Run every job once, each in its own unit of work; failures are logged, not raised."""
    results = []
    for module, job in registered_jobs() if jobs is None else jobs:
        try:
            with unit_of_work(sessions) as db:
                text = job(db)
            log.info("housekeeping %s: %s", module, text)
            results.append(JobResult(module, True, text))
        except Exception as exc:
            log.exception("housekeeping job %s failed; the others go on", module)
            results.append(JobResult(module, False, f"{type(exc).__name__}: {exc}"))
    return results


class Housekeeper:
    """Runs :func:`run_jobs` after ``first_delay_s`` and then every ``interval_h`` hours on
    a daemon thread (:meth:`start` / :meth:`stop`)."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        interval_h: float = 24.0,
        first_delay_s: float = FIRST_RUN_DELAY_S,
        jobs: list[tuple[str, Job]] | None = None,
    ) -> None:
        if interval_h <= 0:
            raise ValueError(f"interval {interval_h} h must be more than 0 h")
        self.sessions = sessions
        self.interval_s = interval_h * 3600
        self.first_delay_s = first_delay_s
        self.jobs = jobs
        self.passes = 0
        self.last: list[JobResult] = []
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def run(self) -> None:
        delay = self.first_delay_s
        while not self._stopping.wait(delay):
            self.last = run_jobs(self.sessions, self.jobs)
            self.passes += 1
            delay = self.interval_s

    def start(self) -> Housekeeper:
        if self._thread is None or not self._thread.is_alive():
            self._stopping.clear()
            self._thread = threading.Thread(target=self.run, name="housekeeping", daemon=True)
            self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
