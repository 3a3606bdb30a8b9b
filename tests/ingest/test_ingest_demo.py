"""The ingest demo data go through the real path and show on the integration page."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

from sqlalchemy import func, select
from tests.conftest import Web
from tests.ingest.helpers import log_rows

from continuum.core.record import Observation
from continuum.db import make_engine, make_sessionmaker, unit_of_work
from continuum.ingest import demo


def test_demo_messages_are_stored_through_the_real_path_and_shown(web: Web) -> None:
    engine = make_engine(web.url)
    factory = make_sessionmaker(engine)
    with unit_of_work(factory) as db:
        demo.add_demo_data(db, {}, datetime.now(UTC))
    rows = log_rows(factory)
    with factory() as db:
        stored = dict(
            db.execute(
                select(Observation.code, func.count())
                .where(Observation.source == "hl7")
                .group_by(Observation.code)
            ).all()
        )
    engine.dispose()
    assert Counter(r.ack_code for r in rows) == {"AA": 11, "AE": 1, "AR": 1}
    assert stored == {"cvp": 9, "peep": 8, "resp_rate": 1}
    resent = [r for r in rows if r.detail and r.detail["duplicate"]]
    assert [r.message_id for r in resent] == ["GW0807-001001"]
    assert any(r.detail and r.detail["warnings"] and r.ack_code == "AA" for r in rows)
    refused = next(r for r in rows if r.ack_code == "AE")
    assert refused.detail and len(refused.detail["errors"]) == 1 and refused.stored == 0
    assert "cannot be converted" in refused.detail["warnings"][0]
    web.login("admin")
    page = web.client.get("/integration").text
    assert demo.CONSOLE in page and "99MAQUET" in page
    assert "GW0807-001102" in page and "cannot be converted" in page
    assert "not an HL7 v2 message" in page and "(resent)" in page
    assert "holds <b>13</b> rows" in page
