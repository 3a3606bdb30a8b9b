"""Deferred surveillance: streaming ingest marks a run due, an evaluator evaluates it soon.

Interactive paths (manual entry, CSV, FHIR) evaluate a batch in its own transaction. The
MLLP listener and the MQTT subscriber store hundreds of small batches a second; their unit
of work sets ``session.info["defer_surveillance"]`` and the after-store hook only upserts
one ``surveillance_due`` row per run (:func:`mark_due`). :func:`evaluate_due` (run every
second by :class:`DueEvaluator`, in the ingest process or as ``continuum alerts worker``)
then evaluates each marked run with ``evaluate_run``:

* **Nothing lost.** Each mark carries a ``version`` bumped by every batch. The mark is
  deleted with a compare on the version read before the evaluation, in the transaction
  that stores the alerts: a batch committed meanwhile leaves the run due again; a crash
  before the commit leaves the mark in place.
* **One evaluator per run at a time.** On PostgreSQL the evaluator locks the run row
  ``FOR NO KEY UPDATE SKIP LOCKED`` (the lock ``evaluate_run`` takes): a run that another
  evaluator (or an inline evaluation) holds is skipped until the next pass, so any number
  of evaluator processes can share one database. Ingest never waits for an evaluation: it
  only upserts the due row, which the evaluator touches just before it commits. On SQLite
  an evaluation takes the database's write lock first, so evaluations run one at a time.
* **Busy runs are paced.** A run marked again during its evaluation (data still streaming
  in) is due again after ``PACE`` times that evaluation's duration, so a slow evaluation
  cannot take a whole core from the ingest beside it.
* **Silent consoles are found.** About once a minute the loop also checks every active run's
  console feed (``continuum.alerts.feed``): no console data for longer than the programme's
  limit raises a ``console_silent`` alert, which clears when data return.
* **Failures back off.** A run whose evaluation raises is logged, its ``attempts`` count
  goes up and it waits ``next_try_at`` (2 s, 4 s, … at most a minute) while the other runs
  are evaluated.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, delete, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from continuum.alerts import feed, watch
from continuum.alerts.hooks import watched_codes
from continuum.alerts.models import SurveillanceDue
from continuum.core import observation_service
from continuum.core.run_record import Run
from continuum.db import UTCDateTime, unit_of_work, utcnow
from continuum.hooks import install_all_hooks

log = logging.getLogger("continuum.alerts.due")

# A run marked again while it was being evaluated (a streaming feed) is due again after
# PACE × the time that evaluation took: a run whose evaluation is slow (a long window while
# its baseline forms) takes at most 1 / (1 + PACE) of an evaluator's time, and of the CPU
# the ingest beside it needs.
PACE = 3.0
BACKOFF_FIRST_S = 2.0
BACKOFF_MAX_S = 60.0
ERROR_CHARS = 2000


# One upsert, the same text on PostgreSQL and SQLite, compiled once (a streaming listener
# runs it for every message, so building it with the expression language each time cost
# more than the round trip).
# ``changed_from`` keeps the earliest time any marked batch stored or changed (NULL as
# soon as one of them did not say: the evaluator then re-reads the run's window).
_UPSERT = (
    "INSERT INTO surveillance_due (run_id, version, codes, marked_at, next_try_at, attempts, "
    "changed_from) VALUES ({run_id}, 1, {codes}, {now}, {now}, 0, {since}) "
    "ON CONFLICT (run_id) DO UPDATE SET version = surveillance_due.version + 1, "
    "codes = CASE WHEN surveillance_due.codes = excluded.codes THEN excluded.codes END, "
    "changed_from = CASE WHEN excluded.changed_from < surveillance_due.changed_from "
    "THEN excluded.changed_from WHEN excluded.changed_from IS NULL THEN NULL "
    "ELSE surveillance_due.changed_from END"
)
_MARK = text(
    _UPSERT.format(run_id=":run_id", codes=":codes", now=":now", since=":since")
).bindparams(bindparam("now", type_=UTCDateTime()), bindparam("since", type_=UTCDateTime()))
# The same upsert as a part of a batch's single statement (observation_service.contribute).
_MARK_PART = _UPSERT.format(
    run_id="%({p}run_id)s::integer",
    codes="%({p}codes)s::text",
    now="%({p}now)s::timestamptz",
    since="%({p}since)s::timestamptz",
)


def mark_due(session: Session, run_id: int, codes: set[str], since: datetime | None = None) -> None:
    """Mark ``run_id`` due for evaluation, in the caller's transaction (one upsert).

    A mark already there gets its version bumped; its codes are kept if this batch had the
    same ones, else cleared (NULL: evaluate up to the newest watched value); its
    ``changed_from`` becomes the earlier of the two (NULL if ``since`` is not known). Its
    back-off stays as it is, so a run whose evaluation keeps failing is not retried per
    batch. A batch written as one statement takes the upsert into that statement."""
    now = utcnow()
    params = {"run_id": run_id, "codes": ",".join(sorted(codes)) or None, "now": now}
    params["since"] = since
    if not observation_service.contribute(session, _MARK_PART, params):
        session.execute(_MARK, params)


@dataclass(frozen=True)
class Due:
    run_id: int
    version: int
    codes: str | None
    attempts: int
    next_try_at: datetime
    changed_from: datetime | None


def due_runs(session: Session, limit: int, now: datetime | None = None) -> list[int]:
    """Marked runs whose turn has come, longest waiting first."""
    stmt = (
        select(SurveillanceDue.run_id)
        .where(SurveillanceDue.next_try_at <= (now or utcnow()))
        .order_by(SurveillanceDue.next_try_at, SurveillanceDue.run_id)
        .limit(limit)
    )
    return list(session.scalars(stmt))


def evaluate_due(sessions: sessionmaker[Session], limit: int = 100) -> int:
    """Evaluate up to ``limit`` due runs, each in its own transaction; returns how many were
    evaluated (runs busy in another evaluator, or failing, are not counted)."""
    with sessions() as session:
        run_ids = due_runs(session, limit)
    done = 0
    for run_id in run_ids:
        try:
            done += _evaluate_one(sessions, run_id)
        except Exception as exc:
            log.exception("surveillance evaluation of run %s failed", run_id)
            _back_off(sessions, run_id, exc)
    return done


def _evaluate_one(sessions: sessionmaker[Session], run_id: int) -> bool:
    """Evaluate one marked run and remove its mark (unless a batch came in meanwhile), all
    in one transaction. False: nothing to do, or another evaluator has the run."""
    with sessions() as session:
        if not _claim(session, run_id):
            return False
        due = _read(session, run_id)
        if due is None or due.next_try_at > utcnow():
            session.rollback()
            return False
        codes = set(due.codes.split(",")) if due.codes else watched_codes()
        started = time.monotonic()
        watch.evaluate_run(session, run_id, codes=codes, changed_from=due.changed_from)
        pause = timedelta(seconds=PACE * (time.monotonic() - started))
        gone = session.execute(
            delete(SurveillanceDue)
            .where(SurveillanceDue.run_id == run_id, SurveillanceDue.version == due.version)
            .execution_options(synchronize_session=False)
        )
        if gone.rowcount == 0 and (due.attempts or pause):  # marked again meanwhile: due
            session.execute(  # again, after a pause in proportion to this evaluation
                update(SurveillanceDue)
                .where(SurveillanceDue.run_id == run_id)
                .values(attempts=0, next_try_at=utcnow() + pause, last_error=None)
                .execution_options(synchronize_session=False)
            )
        session.commit()
        return True


def _claim(session: Session, run_id: int) -> bool:
    """PostgreSQL: lock the run as evaluate_run does, skipping it if another evaluation has
    it. SQLite: take the write lock now, so that evaluations never interleave."""
    if session.get_bind().dialect.name == "postgresql":
        stmt = (
            select(Run.id).where(Run.id == run_id).with_for_update(key_share=True, skip_locked=True)
        )
        return session.scalar(stmt) is not None
    touched = session.execute(
        update(SurveillanceDue)
        .where(SurveillanceDue.run_id == run_id)
        .values(version=SurveillanceDue.version)
        .execution_options(synchronize_session=False)
    )
    return bool(touched.rowcount)


def _read(session: Session, run_id: int) -> Due | None:
    row = session.execute(
        select(
            SurveillanceDue.run_id,
            SurveillanceDue.version,
            SurveillanceDue.codes,
            SurveillanceDue.attempts,
            SurveillanceDue.next_try_at,
            SurveillanceDue.changed_from,
        ).where(SurveillanceDue.run_id == run_id)
    ).one_or_none()
    return None if row is None else Due(*row)


def backoff_s(attempts: int) -> float:
    """Seconds to wait after the ``attempts``-th failure in a row."""
    return min(BACKOFF_MAX_S, BACKOFF_FIRST_S * 2 ** max(attempts - 1, 0))


def _back_off(sessions: sessionmaker[Session], run_id: int, exc: Exception) -> None:
    try:
        with sessions() as session:
            attempts = session.scalar(
                select(SurveillanceDue.attempts).where(SurveillanceDue.run_id == run_id)
            )
            if attempts is None:
                return
            session.execute(
                update(SurveillanceDue)
                .where(SurveillanceDue.run_id == run_id)
                .values(
                    attempts=SurveillanceDue.attempts + 1,
                    next_try_at=utcnow() + timedelta(seconds=backoff_s(attempts + 1)),
                    last_error=f"{type(exc).__name__}: {exc}"[:ERROR_CHARS],
                )
                .execution_options(synchronize_session=False)
            )
            session.commit()
    except Exception:
        log.exception("could not record the failed evaluation of run %s", run_id)


class DueEvaluator:
    """Runs :func:`evaluate_due` every ``interval`` seconds (at once after :meth:`poke`) on
    a daemon thread (:meth:`start`/:meth:`stop`) or in the foreground (:meth:`run`).
    Failures are logged; the loop goes on."""

    def __init__(
        self, sessions: sessionmaker[Session], interval: float = 1.0, limit: int = 100
    ) -> None:
        if interval <= 0:
            raise ValueError(f"interval {interval} s must be more than 0 s")
        install_all_hooks()  # what it evaluates may store observations (after-store hooks)
        self.sessions = sessions
        self.interval = interval
        self.limit = limit
        self.evaluated = 0
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._feeds_due = 0.0  # monotonic time of the next console-feed check

    def check_feeds(self, force: bool = False) -> feed.FeedCheck | None:
        """The console-feed check (``alerts.feed``), about once a minute: a silent console
        raises its alert without any new data arriving. None: not due yet."""
        now = time.monotonic()
        if not force and now < self._feeds_due:
            return None
        self._feeds_due = now + feed.CHECK_EVERY_S
        with unit_of_work(self.sessions) as db:
            return feed.check_feeds(db)

    def drain(self) -> int:
        """Evaluate what is due now (several passes while a pass is full)."""
        total = 0
        while not self._stopping.is_set():
            done = evaluate_due(self.sessions, self.limit)
            total += done
            if done < self.limit:
                break
        self.evaluated += total
        return total

    def run(self) -> None:
        """Loop until :meth:`stop`."""
        while not self._stopping.is_set():
            self._wake.clear()
            try:
                done = self.drain()
                if done:
                    log.debug("evaluated %d due runs", done)
            except Exception:
                log.exception("deferred surveillance pass failed; retrying")
            try:
                checked = self.check_feeds()
                if checked is not None and (checked.raised or checked.cleared):
                    log.info("%s", checked)
            except Exception:
                log.exception("console-feed check failed; retrying in a minute")
            self._wake.wait(self.interval)

    def poke(self) -> None:
        self._wake.set()

    def start(self) -> DueEvaluator:
        if self._thread is None or not self._thread.is_alive():
            self._stopping.clear()
            self._thread = threading.Thread(target=self.run, name="surveillance-due", daemon=True)
            self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
