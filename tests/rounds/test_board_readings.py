"""The rounds board's patient readings: goals that fit the run's support (VA and VA-ECPR get
VA goals, VV gets VV goals, the run's own targets win), values off goal or stale marked with
their age, VIS and driving pressure derived, membrane-lung and circuit age, bed, weaning, and
"next patient" while recording rounds."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from continuum.core import observation_service, run_service
from continuum.core.roles import Actor
from continuum.core.run_record import Run
from continuum.core.schemas import ObservationIn, RunCreate
from continuum.core.targets import Target
from continuum.db import unit_of_work, utcnow
from continuum.rounds import board_readings as br
from tests.conftest import Web

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
PHYSICIAN = Actor(staff_id=2, name="Test physician", role="physician", discipline="intensive_care")


def by_code(groups: list[tuple[str, list[br.Reading]]]) -> dict[str, br.Reading]:
    return {r.code: r for _, rs in groups for r in rs}


def test_goals_fit_the_support_configuration() -> None:
    va_ecpr = br.default_goals("VA", "ecpr")
    vv = br.default_goals("VV", "pulmonary")
    assert va_ecpr["map"].low == 65 and va_ecpr["map"].high == 80 and va_ecpr["hb"].low == 8
    assert "map" not in vv and vv["hb"].low == 7
    assert br.family(None, "ecpr") == "VA" and br.family("VAV", "cardiac") == "VA"
    assert br.family("VV+IABP", "pulmonary") == "VV"  # an adjunct device carries no return
    for goals in (va_ecpr, vv):
        assert goals["platelets"].low == 50 and goals["driving_pressure"].high == 15


def test_readings_are_off_goal_stale_or_on_goal_with_their_age() -> None:
    latest = {
        "hb": (NOW - timedelta(minutes=20), 7.5),  # on a VA run: below 8 → off
        "platelets": (NOW - timedelta(hours=30), 120.0),  # a day-old count: stale
        "plateau_pressure": (NOW - timedelta(minutes=30), 30.0),
        "peep": (NOW - timedelta(minutes=30), 10.0),  # driving pressure 20 → off
        "norepinephrine": (NOW - timedelta(hours=1), 0.1),
        "epinephrine": (NOW - timedelta(hours=1), 0.05),  # VIS 10 + 5 = 15
        "fluid_balance_24h": (NOW - timedelta(hours=2), 800.0),
    }
    own = {"platelets": Target("platelets", 100, None, "10^9/L", "round")}
    fluid = Target(br.FLUID_BALANCE_CODE, -1000, 0, "mL", "round of 2026-12-02")
    readings = by_code(br.readings(latest, {**br.default_goals("VA", "ecpr"), **own}, NOW, fluid))
    assert readings["hb"].state == "off" and readings["hb"].age == "20 min"
    assert readings["platelets"].state == "stale" and readings["platelets"].age == "30 h"
    assert readings["platelets"].goal_text == "≥ 100 ×10⁹/L"  # the run's own target wins
    dp = readings["driving_pressure"]
    assert (dp.value, dp.state, dp.goal_text) == (20.0, "off", "≤ 15 cmH2O")
    assert readings["vis"].value == 15 and readings["vis"].note == "band 6–15"
    assert readings["fluid_balance_24h"].state == "off"
    assert readings["fluid_balance_24h"].goal_text == "-1000–0 mL/24 h"
    assert readings["lactate"].state == "none" and readings["lactate"].text == "—"
    assert readings["map"].goal is not None and readings["map"].state == "none"


def _seed_values(sessions) -> None:  # type: ignore[no-untyped-def]
    now = utcnow()
    values = {
        "hb": (6.4, 10),
        "platelets": (180.0, 60 * 30),
        "plateau_pressure": (31.0, 20),
        "peep": (12.0, 20),
        "fluid_balance_24h": (-300.0, 60),
    }
    with unit_of_work(sessions) as db:
        run = db.get_one(Run, 1)
        run.location = "ICU 7"
        observation_service.record_observations(
            db,
            PHYSICIAN,
            run,
            [
                ObservationIn(code=c, value=v, time=now - timedelta(minutes=m), source="manual")
                for c, (v, m) in values.items()
            ],
        )


def chip(html: str, code: str) -> str:
    match = re.search(rf'<span class="rd st-(\w+)" data-code="{code}"', html)
    assert match, f"no reading {code} on the board"
    return match.group(1)


def test_the_board_shows_the_readings_their_state_the_ages_and_the_bed(web: Web) -> None:
    from continuum.db import make_engine, make_sessionmaker

    engine = make_engine(web.url)
    _seed_values(make_sessionmaker(engine))
    engine.dispose()
    web.login("nurse")
    html = web.client.get("/rounds/rows").text
    assert chip(html, "hb") == "off"  # 6.4 g/dL on a VV run (goal ≥ 7)
    assert chip(html, "platelets") == "stale"  # 30 h old
    assert chip(html, "driving_pressure") == "off"  # 31 − 12 = 19 cmH2O
    assert chip(html, "vent_fio2") == "none"
    assert "ICU 7" in html and "VV goals" in html and "not weaning" in html
    assert re.search(r'Membrane lung <b class="ml-age">[\d.]+ d</b>', html)
    assert re.search(r'Circuit <b class="circuit-age">[\d.]+ d</b>', html)
    board = web.client.get("/api/v1/rounds/board").json()
    row = next(r for r in board["runs"] if r["run_id"] == 1)
    assert row["readings"]["hb"]["state"] == "off" and row["bed"] == "ICU 7"

    # the goals are programme settings: a VV Hb goal of 6 g/dL makes 6.4 g/dL on goal
    from continuum.core import settings_service
    from continuum.core.roles import Actor as A

    engine = make_engine(web.url)
    lead = A(staff_id=None, name="QA lead", role="qa_lead")
    with unit_of_work(make_sessionmaker(engine)) as db:
        settings_service.save(db, lead, "rounds", {"hb_min_vv": 6, "stale_labs_h": 48}, "audit")
    engine.dispose()
    html = web.client.get("/rounds/rows").text
    assert chip(html, "hb") == "ok" and chip(html, "platelets") == "ok"


def test_next_patient_while_recording_rounds(web: Web) -> None:
    from continuum.db import make_engine, make_sessionmaker

    engine = make_engine(web.url)
    with unit_of_work(make_sessionmaker(engine)) as db:
        db.get_one(Run, 1).location = "ICU 1"
        second = run_service.start_run(
            db,
            PHYSICIAN,
            RunCreate(patient_id=2, support_type="ecpr", mode="VA", location="ICU 2"),
        )
        second_id = second.id
    engine.dispose()
    web.login("physician")
    first = web.client.get("/runs/1/rounds").text
    assert f'id="next-patient" href="/runs/{second_id}/rounds"' in first
    back = web.client.get(f"/runs/{second_id}/rounds").text
    assert 'id="next-patient" href="/runs/1/rounds"' in back  # wraps round to the first bed
    rows = web.client.get("/rounds/rows").text
    assert "VA goals" in rows  # the VA-ECPR run gets VA goals


def test_map_prefers_the_arterial_line_and_names_a_cuff_reading() -> None:
    goals = br.default_goals("VA", "cardiac")
    cuff_only = by_code(br.readings({"map_nibp": (NOW, 62.0)}, goals, NOW))["map"]
    assert (cuff_only.value, cuff_only.note, cuff_only.off) == (62.0, "cuff (non-invasive)", True)
    both = {"map": (NOW - timedelta(minutes=30), 70.0), "map_nibp": (NOW, 62.0)}
    arterial = by_code(br.readings(both, goals, NOW))["map"]
    assert (arterial.value, arterial.note) == (70.0, "")
