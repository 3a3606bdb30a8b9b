"""The per-code count of a run's final values (observation_count, kept by the triggers of
migration 0042) equals counting the rows: after values are stored, amended, withdrawn by
their feed, deleted, and written by several transactions at once."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import create_engine, func, select, text

from continuum.core import observation_service
from continuum.core.record import Observation
from continuum.core.run_record import Run
from continuum.core.schemas import AmendmentIn, ObservationIn
from continuum.db import unit_of_work, utcnow
from tests.core.concurrent_writers import CODES, write_at_once
from tests.core.test_record import PERFUSIONIST, obs
from tests.seed import RUN_START


def _counted(db, run_id: int) -> dict[str, int]:  # type: ignore[no-untyped-def]
    rows = db.execute(
        select(Observation.code, func.count())
        .where(Observation.run_id == run_id, Observation.status == "final")
        .group_by(Observation.code)
    )
    return dict(rows.all())


def test_counts_follow_values_stored_amended_withdrawn_and_deleted(sessions) -> None:  # type: ignore[no-untyped-def]
    with unit_of_work(sessions) as db:
        assert observation_service.code_counts(db, 1) == _counted(db, 1) != {}
        observation_service.record_observations(
            db,
            PERFUSIONIST,
            db.get_one(Run, 1),
            [obs("hb", 9.1, 300), obs("hb", 9.3, 301), obs("lactate", 1.4, 302)],
        )
    with unit_of_work(sessions) as db:
        assert observation_service.code_counts(db, 1) == _counted(db, 1)
        hb = db.scalars(select(Observation).where(Observation.code == "hb")).first()
        assert hb is not None
        before = observation_service.code_counts(db, 1)["hb"]
        observation_service.amend(
            db, PERFUSIONIST, hb.id, AmendmentIn(value=8.1, reason="transcription error")
        )
        # Corrected, not added: the superseded row no longer counts, its replacement does.
        assert observation_service.code_counts(db, 1)["hb"] == before
        assert observation_service.code_counts(db, 1) == _counted(db, 1)
    at = RUN_START + timedelta(minutes=400)
    with unit_of_work(sessions) as db:
        run = db.get_one(Run, 1)
        db.add(Observation(run_id=1, code="blood_flow", time=at, value=4.2, unit="L/min",
                           source="hl7", status="final"))  # fmt: skip
        db.flush()
        n = observation_service.code_counts(db, 1)["blood_flow"]
        observation_service.amend_from_device(db, PERFUSIONIST, run, "blood_flow", at, "hl7",
                                              None, "device withdrew the value")  # fmt: skip
        assert observation_service.code_counts(db, 1)["blood_flow"] == n - 1
        assert observation_service.code_counts(db, 1) == _counted(db, 1)
        spare = Observation(run_id=1, code="spo2", time=at, value=94, unit="%", source="hl7",
                            status="final")  # fmt: skip
        db.add(spare)
        db.flush()
        db.delete(spare)
        db.flush()
        assert observation_service.code_counts(db, 1) == _counted(db, 1)
    with unit_of_work(sessions) as db:  # a status put back by hand counts again
        db.execute(text("UPDATE observation SET status = 'final' WHERE status <> 'final'"))
        assert observation_service.code_counts(db, 1) == _counted(db, 1)


def test_concurrent_writers_keep_the_count(pg_url) -> None:  # type: ignore[no-untyped-def]
    """Eight writers at once, each transaction storing values of several codes of one run in
    one statement (as a device batch and a form are stored), codes in its own order, kept
    open a moment, some rolled back: none deadlocks (the trigger takes its count rows in key
    order; a writer waits for the one holding them) and the count is the rows'."""
    errors = write_at_once(pg_url, "now() - g * interval '1 ms'", "4.0")
    assert errors == []
    engine = create_engine(pg_url)
    with engine.connect() as conn:
        kept = dict(
            conn.execute(text("SELECT code, n FROM observation_count WHERE run_id = 1")).all()
        )
        rows = dict(conn.execute(text(
            "SELECT code, count(*) FROM observation WHERE run_id = 1 AND status = 'final' "
            "GROUP BY code")).all())  # fmt: skip
    engine.dispose()
    assert {c: n for c, n in kept.items() if n} == rows
    assert all(kept[c] >= 5 for c in CODES)


def test_the_run_page_counts_a_value_just_stored(sessions) -> None:  # type: ignore[no-untyped-def]
    with unit_of_work(sessions) as db:
        before = observation_service.latest_per_code(db, 1).get("lactate", (0, None))[0]
        observation_service.record_observations(
            db,
            PERFUSIONIST,
            db.get_one(Run, 1),
            [ObservationIn(code="lactate", value=2.2, time=utcnow() - timedelta(minutes=1))],
        )
        assert observation_service.latest_per_code(db, 1)["lactate"][0] == before + 1
