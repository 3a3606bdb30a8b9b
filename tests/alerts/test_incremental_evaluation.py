"""Incremental surveillance (``alerts.samples``): what is carried between evaluator passes
in the database gives exactly the alerts a full read gives.

* Pure: the per-step samples of a dense signal (first and last observation of each grid
  step) give every detector what the raw observations give it — whole-run replay of a
  simulated run with several observations a minute, ties and values on the grid points.
* Stored: passes of the deferred evaluator interleaved with arriving batches (in order,
  late and out of order, a manual correction, a device correction and a withdrawal): after
  every pass the alerts equal those of a full re-read of the same run evaluated from the
  same state, and the samples equal samples rebuilt from the raw rows; in-order batches
  are read alone, a late value or a correction is re-read from its own time.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from continuum import simulator, vocabulary
from continuum.alerts import due, inputs, samples, watch
from continuum.alerts.hooks import watched_codes
from continuum.alerts.models import SurveillanceDue, SurveillanceProgress, SurveillanceSample
from continuum.core import observation_service
from continuum.core.record import Observation
from continuum.core.roles import CLI_ACTOR
from continuum.core.run_record import Run
from continuum.core.schemas import AmendmentIn, ObservationIn
from continuum.db import unit_of_work
from continuum.ingest.device_service import store_messages
from continuum.ingest.hl7_message import read_oru_fast
from continuum.ingest.mllp_client import oru
from continuum.surveillance import DEFAULT_SETTINGS, ComponentChange, RunSeries, run_all_detectors
from tests.alerts.conftest import PHYSICIAN, alerts
from tests.seed import SECRET_MRNS

DENSE = {c for c, s in vocabulary.CODES.items() if s.group in inputs.DENSE_GROUPS}
# dense rows an hour of _minutes stores: flow, pressures and derived ΔP 3 times a minute,
# sweep and FiO2 every 10 minutes
PER_HOUR = 3 * 4 * 60 + 2 * 6
STEP = 3 * 4 + 2  # the most rows of one grid step (the rest of a step a batch starts in)


# -- pure: samples are exact ------------------------------------------------------------------


def _denser(sim: simulator.SimulatedRun, rng: np.random.Generator) -> dict[str, Any]:
    """The simulated minute values of dense codes, plus extra readings inside each minute
    (some exactly on the minute, some tied with another reading of other value)."""
    base = sim.times.astype("datetime64[ms]")
    out: dict[str, Any] = {}
    for code, v in sim.signals.items():
        t = base
        if code in DENSE:
            offsets = rng.integers(1, 59_999, size=len(base)).astype("timedelta64[ms]")
            extra_t = base + offsets
            extra_v = v + rng.normal(0, 0.05 * np.nanstd(v) + 1e-3, len(v))
            tie_t = extra_t[::7]
            tie_v = extra_v[::7] * 1.1
            t = np.concatenate([base, extra_t, tie_t])
            v = np.concatenate([v, extra_v, tie_v])
            order = np.argsort(t, kind="stable")
            t, v = t[order], v[order]
        out[code] = (t, v)
    return out


@pytest.mark.parametrize(
    ("scenario", "mode"), [("oxygenator_failure", "VV"), ("access_insufficiency", "VA")]
)
def test_per_step_samples_replay_exactly_like_the_raw_observations(
    scenario: str, mode: str
) -> None:
    sim = simulator.simulate(scenario, mode, 20, 7)
    signals = _denser(sim, np.random.default_rng(11))
    change = (ComponentChange(sim.times[600].astype("datetime64[ms]"), "oxygenator"),)
    raw = RunSeries(mode, signals, change)
    kept = {}
    for code, (t, v) in raw.signals.items():
        kept[code] = samples.expand(samples.compact(t, v, 60_000)) if code in DENSE else (t, v)
        if code in DENSE:
            assert len(kept[code][0]) < len(t)  # fewer rows than observations
    compacted = RunSeries(mode, kept, change)
    replay = run_all_detectors(raw)
    assert replay  # the scenario alerts
    assert run_all_detectors(compacted) == replay  # every episode, evidence and all


def test_samples_keep_first_and_last_of_a_step_and_the_last_of_equal_times() -> None:
    t = np.array(
        ["2026-01-01T00:00:00", "2026-01-01T00:00:00", "2026-01-01T00:00:30",
         "2026-01-01T00:00:59.999", "2026-01-01T00:01:10"],
        dtype="datetime64[ms]",
    )  # fmt: skip
    v = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    c = samples.compact(t, v, 60_000)
    assert c["first_value"].tolist() == [2.0, 5.0]  # the later of the two at 00:00:00
    assert c["last_value"].tolist() == [4.0, 5.0]
    et, ev = samples.expand(c)
    assert ev.tolist() == [2.0, 4.0, 5.0] and et[0] == t[0]


# -- stored: passes interleaved with batches --------------------------------------------------


def _minutes(
    start: datetime, first: int, last: int, rise_from_h: float = 7.0
) -> list[ObservationIn]:
    """Console minutes ``first``..``last`` (several readings a minute): ΔP steady then
    rising after ``rise_from_h`` hours (a clotting membrane lung); gases hourly."""
    items = []
    for m in range(first, last):
        h = m / 60
        dp = 25 if h < rise_from_h else min(60, 25 + 25 * (h - rise_from_h))
        for s in (0, 20, 40):
            at = start + timedelta(minutes=m, seconds=s)
            items += [
                ObservationIn(code="blood_flow", value=4.5, time=at),
                ObservationIn(code="p_preoxy", value=250 + dp + s / 40, time=at),
                ObservationIn(code="p_postoxy", value=250.0, time=at),
            ]
        at = start + timedelta(minutes=m)
        if m % 10 == 0:
            items += [ObservationIn(code="sweep_flow", value=4.0, time=at),
                      ObservationIn(code="sweep_fio2", value=1.0, time=at)]  # fmt: skip
        if m % 60 == 0:
            po2 = 450 if h < 7 else max(150, 450 - 120 * (h - 6))
            items += [ObservationIn(code="post_oxy_po2", value=po2, time=at),
                      ObservationIn(code="post_oxy_pco2", value=38.0, time=at)]  # fmt: skip
    return items


def _deferred(sessions: sessionmaker[Session], run_id: int, items: list[ObservationIn]) -> None:
    with unit_of_work(sessions) as db:
        db.info["defer_surveillance"] = True
        observation_service.record_observations(db, PHYSICIAN, db.get_one(Run, run_id), items)


def _shown(db: Session, run_id: int) -> list[tuple[Any, ...]]:
    return [
        (a.detector, a.severity, a.peak_severity, a.status, a.raised_at, a.cleared_at,
         a.summary, a.evidence)
        for a in alerts(db, run_id)
    ]  # fmt: skip


def _reference(sessions: sessionmaker[Session], run_id: int) -> list[tuple[Any, ...]]:
    """What a full re-read gives from the state before the pass (rolled back after)."""
    with sessions() as db:
        mark = db.get(SurveillanceDue, run_id)
        codes = set(mark.codes.split(",")) if mark is not None and mark.codes else watched_codes()
        report = samples.Pass()
        watch.evaluate_run(db, run_id, codes=codes, changed_from=None, report=report)
        assert report.rebuilt
        got = _shown(db, run_id)
        db.rollback()
    return got


def _pass(
    sessions: sessionmaker[Session], run_id: int, monkeypatch: pytest.MonkeyPatch
) -> samples.Pass:
    """One evaluator pass, checked against the reference; returns what it read."""
    want = _reference(sessions, run_id)
    seen: list[samples.Pass] = []
    real = watch.evaluate_run

    def observed(session: Session, rid: int, **kw: Any) -> Any:
        kw["report"] = report = samples.Pass()
        seen.append(report)
        return real(session, rid, **kw)

    monkeypatch.setattr(watch, "evaluate_run", observed)
    try:
        assert due.evaluate_due(sessions) == 1
    finally:
        monkeypatch.setattr(watch, "evaluate_run", real)
    with sessions() as db:
        assert _shown(db, run_id) == want
        _samples_match_a_rebuild(db, run_id)
    return seen[0]


def _samples_match_a_rebuild(db: Session, run_id: int) -> None:
    progress = db.get_one(SurveillanceProgress, run_id)
    since = datetime.fromtimestamp(progress.covered_from_ms / 1000, UTC)
    raw = inputs._read_any(db, run_id, [(sorted(DENSE), since)])
    want = []
    for code, (t, v) in raw.items():
        c = samples.compact(t, v, progress.step_ms)
        keys = ("step_start_ms", "first_ms", "first_value", "last_ms", "last_value")
        want += [(code, *row) for row in zip(*(c[k].tolist() for k in keys), strict=True)]
    rows = db.execute(
        select(SurveillanceSample.code, SurveillanceSample.step_start_ms,
               SurveillanceSample.first_ms, SurveillanceSample.first_value,
               SurveillanceSample.last_ms, SurveillanceSample.last_value)
        .where(SurveillanceSample.run_id == run_id)
    ).all()  # fmt: skip
    assert sorted(tuple(r) for r in rows) == sorted(want)


def _hl7(sessions: sessionmaker[Session], control: str, status: str, at: datetime,
         *values: tuple[str, float, str]) -> None:  # fmt: skip
    text = oru(control, SECRET_MRNS[1], at, list(values)).replace("|||||R|||", f"|||||{status}|||")
    with unit_of_work(sessions) as db:
        db.info["defer_surveillance"] = True
        assert store_messages(db, CLI_ACTOR, [read_oru_fast(text)])[0].ack == "AA"


def _step_starts_between(a: datetime, b: datetime) -> bool:
    """Whether a surveillance grid step (whole steps since the epoch) starts in (a, b]."""
    step = DEFAULT_SETTINGS.grid_step_s
    return int(b.timestamp() // step) != int(a.timestamp() // step)


def test_passes_between_batches_give_what_a_full_read_gives(
    sessions: sessionmaker[Session], run_id: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    with sessions() as db:
        start = db.get_one(Run, run_id).started_at
    # the first pass has nothing carried: it reads the window and keeps its samples
    _deferred(sessions, run_id, _minutes(start, 5, 120))
    first = _pass(sessions, run_id, monkeypatch)
    assert first.rebuilt and first.raw_rows > 0
    # batches in time order: each pass reads only the new minutes
    for m in range(120, 600, 60):
        _deferred(sessions, run_id, _minutes(start, m, m + 60))
        done = _pass(sessions, run_id, monkeypatch)
        assert not done.rebuilt
        # this hour's dense rows (and the rest of the grid step it starts in), nothing before
        assert PER_HOUR <= done.raw_rows <= PER_HOUR + STEP
    # two batches before one pass: read from the earlier
    _deferred(sessions, run_id, _minutes(start, 600, 630))
    _deferred(sessions, run_id, _minutes(start, 630, 660))
    assert PER_HOUR <= _pass(sessions, run_id, monkeypatch).raw_rows <= PER_HOUR + STEP
    # a late batch (out of order, 1.5 h back, within the window): re-read from its time
    at = start + timedelta(hours=9.5)
    late = [
        ObservationIn(code="p_preoxy", value=400.0, time=at + timedelta(seconds=s))
        for s in (5, 25, 45)
    ]
    _deferred(sessions, run_id, late)
    with sessions() as db:
        mark = db.get(SurveillanceDue, run_id)
        before = (mark.changed_from, mark.codes) if mark is not None else None
        progress = db.get(SurveillanceProgress, run_id)
        covered = progress.covered_from_ms if progress is not None else None
    rows = _pass(sessions, run_id, monkeypatch).raw_rows
    # (on failure: the due mark's changed_from and codes, and what the samples covered)
    # The re-read starts at the grid step holding the late batch's first value (at + 5 s):
    # when a step boundary falls between ``at`` and that value (a run started in the last
    # seconds of a minute) the readings at ``at`` itself are before it, one step's rows fewer.
    low = 1.5 * PER_HOUR + 3 - (STEP if _step_starts_between(at, at + timedelta(seconds=5)) else 0)
    assert low <= rows <= 1.5 * PER_HOUR + 3 + STEP, (rows, before, covered, start)
    # later than the baselines' hours, the window is the last 2.5 h: a value from before it
    # is re-read from the window's start (all that is carried)
    late = [ObservationIn(code="blood_flow", value=2.0, time=start + timedelta(hours=4))]
    _deferred(sessions, run_id, late)
    assert 2.4 * PER_HOUR <= _pass(sessions, run_id, monkeypatch).raw_rows <= 2.6 * PER_HOUR
    # a manual correction (inline evaluation from its time) then a streamed batch
    with unit_of_work(sessions) as db:
        obs = db.scalar(select(Observation).where(
            Observation.run_id == run_id, Observation.code == "p_preoxy",
            Observation.time == start + timedelta(hours=10, minutes=30),
            Observation.status == "final"))  # fmt: skip
        assert obs is not None
        observation_service.amend(
            db, PHYSICIAN, obs.id, AmendmentIn(value=420.0, unit="mmHg", reason="transcription")
        )
    with sessions() as db:
        _samples_match_a_rebuild(db, run_id)  # the inline evaluation kept them up to date
    _deferred(sessions, run_id, _minutes(start, 660, 690))
    _pass(sessions, run_id, monkeypatch)
    # a streamed batch not evaluated yet, then one evaluated inline (manual entry): the
    # inline evaluation reads from the earlier batch's time, as a full read would
    _deferred(sessions, run_id, _minutes(start, 690, 700))
    with unit_of_work(sessions) as db:
        items = _minutes(start, 700, 702)
        observation_service.record_observations(db, PHYSICIAN, db.get_one(Run, run_id), items)
    with sessions() as db:
        _samples_match_a_rebuild(db, run_id)
        assert db.get(SurveillanceDue, run_id) is not None  # still due for its own pass
    _pass(sessions, run_id, monkeypatch)
    # device feed: a value, its correction (OBX-11 C) and a withdrawal (W) of another
    at = start + timedelta(hours=11, minutes=40)
    _hl7(sessions, "INC-1", "F", at, ("p_preoxy", 300, "mmHg"), ("p_postoxy", 250, "mmHg"),
         ("blood_flow", 4.4, "L/min"))  # fmt: skip
    _pass(sessions, run_id, monkeypatch)
    _hl7(sessions, "INC-2", "C", at, ("p_preoxy", 330, "mmHg"))
    _hl7(sessions, "INC-3", "W", at, ("blood_flow", 4.4, "L/min"))
    with sessions() as db:
        assert db.get_one(SurveillanceDue, run_id).changed_from == at
    corrected = _pass(sessions, run_id, monkeypatch)
    assert not corrected.rebuilt and corrected.raw_rows < 3 * 3 * 30
    # a path that does not say from when (a bulk load): rebuilt from the window
    with unit_of_work(sessions) as db:
        due.mark_due(db, run_id, {"blood_flow"}, None)
    assert _pass(sessions, run_id, monkeypatch).rebuilt
    with sessions() as db:
        found = {a.detector for a in alerts(db, run_id)}
    assert "transmembrane_gradient_rise" in found  # the run did alert along the way


def test_a_whole_run_evaluation_drops_the_carried_samples(
    sessions: sessionmaker[Session], run_id: int
) -> None:
    with unit_of_work(sessions) as db:
        start = db.get_one(Run, run_id).started_at
    _deferred(sessions, run_id, _minutes(start, 5, 65))
    assert due.evaluate_due(sessions) == 1
    with sessions() as db:
        assert db.get(SurveillanceProgress, run_id) is not None
    with unit_of_work(sessions) as db:
        watch.evaluate_run(db, run_id, full=True)
    with sessions() as db:
        assert db.get(SurveillanceProgress, run_id) is None
        assert db.scalar(select(SurveillanceSample.run_id).where(
            SurveillanceSample.run_id == run_id).limit(1)) is None  # fmt: skip
