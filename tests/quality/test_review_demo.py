"""The demo's M&M: two past meetings (one with a perfusionist present, one without), signed
reviews of ended runs held after those runs ended, and an open PDSA action with measurements
that sits on the later meeting's agenda."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session

from continuum.core.roles import Actor
from continuum.core.run_record import Run
from continuum.db import make_engine, make_sessionmaker, utcnow
from continuum.quality import review_service as svc

QA = Actor(staff_id=None, name="test", role="qa_lead")


@pytest.fixture(scope="module")
def db(demo_url: str) -> Iterator[Session]:
    engine = make_engine(demo_url)
    with make_sessionmaker(engine)() as session:
        yield session
    engine.dispose()


def test_the_demo_has_two_meetings_with_and_without_perfusion(db: Session) -> None:
    meetings = sorted(svc.meetings(db, QA), key=lambda m: m.held_on)
    assert len(meetings) == 2
    assert [svc.perfusion_present(db, m.id) for m in meetings] == [True, False]
    today = utcnow().date()
    for m in meetings:
        reviews = svc.reviews_of(db, m.id)
        assert reviews and all(r.status == "signed" and r.cause_class for r in reviews)
        for r in reviews:
            run = db.get_one(Run, r.run_id)
            assert run.ended_at is not None and run.ended_at.date() <= m.held_on <= today
    pdsa = [a for a in svc.open_actions(db, QA, today) if a.measure_name is not None]
    assert len(pdsa) == 1 and len(svc.measurements(db, pdsa[0].id)) == 3
    assert pdsa[0].id in {a.id for a in svc.carried_actions(db, meetings[1])}
