"""The run page lists the newest 30 contributions, says how many there are in all and
links to every one (?participants=all): a long run gathers hundreds, which the page read
and drew on every view."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from continuum.core import participation_service
from continuum.core.page_routes import PARTICIPANTS_SHOWN
from continuum.core.record import Participation
from continuum.core.roles import Actor
from continuum.core.schemas import ParticipantIn
from continuum.db import make_engine, make_sessionmaker, unit_of_work
from tests.conftest import Web

PERFUSIONIST = Actor(staff_id=1, name="test", role="perfusionist")


def _rows(html: str) -> list[str]:
    part = html[html.index('id="participants"') :]
    part = part[: part.index("</table>")]
    return re.findall(r"<tr><td>", part)


def test_the_newest_contributions_and_a_link_to_all(web: Web) -> None:
    sessions = make_sessionmaker(make_engine(web.url))
    with unit_of_work(sessions) as db:
        for i in range(36):
            participation_service.add_participant(
                db,
                PERFUSIONIST,
                "run",
                1,
                ParticipantIn(staff_id=2, how="consulted", contribution=f"note {i:02d}"),
                run_id=1,
            )
    with sessions() as db:
        total = db.scalar(select(func.count()).where(Participation.run_id == 1))
    web.login("perfusionist")
    page = web.client.get("/runs/1").text
    assert len(_rows(page)) == PARTICIPANTS_SHOWN == 30
    assert f"The newest 30 of {total} contributions" in page
    assert "note 35" in page and "note 05" not in page  # newest first
    assert 'href="/runs/1?participants=all#participants"' in page
    every = web.client.get("/runs/1?participants=all").text
    assert len(_rows(every)) == total and "note 05" in every
    assert "participants-more" not in every
    wrong = web.client.get("/runs/1?participants=some")
    assert wrong.status_code == 422 and "participants" in wrong.text and "all" in wrong.text
