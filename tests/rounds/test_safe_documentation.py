"""Safe documentation defaults in rounds (#16), on SQLite and PostgreSQL where the database
matters: a circuit check never copies a finding forward (the last grade is a hint beside the
site), grades "not present" only where a component may be absent, records pre-oxygenator
pCO2, shows the run's open alerts and defaults its shift from the clock; a round names a
disposition for every open alert (a note for a critical one) or saves nothing."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from continuum.core import run_view
from continuum.core.run_record import Run
from continuum.db import unit_of_work
from continuum.errors import ValidationFailed
from continuum.rounds import circuit_check, forms, round_record
from continuum.rounds.models import CircuitCheck, RoundRecord
from continuum.rounds.schemas import INSPECTION_SITES, CircuitCheckIn, RoundIn
from continuum.rounds.settings import shift_of
from tests.alerts.conftest import T0, alerts, new_run, store
from tests.conftest import Web
from tests.rounds.reviews import left_open_fields
from tests.rounds.test_rounds_service import PERFUSIONIST, PHYSICIAN

CLEAN = dict.fromkeys(INSPECTION_SITES, "none")


def _check(db: Session, **inspection: str) -> CircuitCheck:
    data = CircuitCheckIn.model_validate({"shift": "day", "inspection": {**CLEAN, **inspection}})
    return circuit_check.record_check(db, PERFUSIONIST, db.get_one(Run, 1), data)


def _problems(caught: pytest.ExceptionInfo[ValidationFailed]) -> dict[str, str]:
    return {p.field: p.message for p in caught.value.problems}


# -- circuit check: service ---------------------------------------------------------------------


def test_the_last_grade_is_a_hint_with_its_time_never_a_default(sessions) -> None:
    with unit_of_work(sessions) as db:
        row = _check(db, ml_inlet="large_clot")
        hints = circuit_check.last_inspection(row)
        assert hints["ml_inlet"] == {"grade": "large_clot", "at": row.checked_at, "shift": "day"}
        assert circuit_check.last_inspection(None) == {}


def test_not_present_only_where_a_component_may_be_absent(sessions) -> None:
    with unit_of_work(sessions) as db:
        row = _check(db, bridge="not_present", return_cannula_site="not_present")
        assert row.inspection["bridge"] == "not_present"
    for absent in ({"pump_head": "not_present"}, {"ml_outlet": "not_present"}):
        with pytest.raises(ValidationFailed) as caught, unit_of_work(sessions) as db:
            _check(db, **absent)
        [(field, message)] = _problems(caught).items()
        assert field == f"inspection.{next(iter(absent))}"
        assert "part of every circuit" in message
    both = {"drainage_cannula_site": "not_present", "return_cannula_site": "not_present"}
    with pytest.raises(ValidationFailed) as caught, unit_of_work(sessions) as db:
        _check(db, **both)
    assert "at least one cannula site" in _problems(caught)["inspection.drainage_cannula_site"]
    with unit_of_work(sessions) as db:
        assert len(circuit_check.checks_for_run(db, 1)) == 1  # the refused ones saved nothing


def test_pre_oxygenator_pco2_is_recorded_and_range_checked(sessions) -> None:
    assert "pre_oxy_pco2" in circuit_check.CHECK_CODES
    with unit_of_work(sessions) as db:
        data = CircuitCheckIn(inspection=CLEAN, readings={"pre_oxy_pco2": 52})  # type: ignore[arg-type]
        row = circuit_check.record_check(db, PERFUSIONIST, db.get_one(Run, 1), data)
        assert row.readings["pre_oxy_pco2"]["value"] == 52
        assert row.readings["pre_oxy_pco2"]["unit"] == "mmHg"
    with pytest.raises(ValidationFailed) as caught, unit_of_work(sessions) as db:
        data = CircuitCheckIn(inspection=CLEAN, readings={"pre_oxy_pco2": 250})  # type: ignore[arg-type]
        circuit_check.record_check(db, PERFUSIONIST, db.get_one(Run, 1), data)
    assert "250 mmHg is outside" in _problems(caught)["readings.pre_oxy_pco2"]


@pytest.mark.parametrize(
    ("hour", "day_starts", "night_starts", "shift"),
    [(6, 7, 19, "night"), (7, 7, 19, "day"), (18, 7, 19, "day"), (19, 7, 19, "night"),
     (23, 7, 19, "night"), (2, 20, 8, "day"), (9, 20, 8, "night"), (21, 20, 8, "day")],
)  # fmt: skip
def test_the_shift_follows_the_programme_hours(
    hour: int, day_starts: int, night_starts: int, shift: str
) -> None:
    at = datetime(2026, 12, 3, hour, 30, tzinfo=UTC)
    assert shift_of(at, day_starts, night_starts) == shift


# -- circuit check: page ------------------------------------------------------------------------


def _selected(html: str, name: str) -> str | None:
    block = html[html.index(f'name="{name}"') :]
    block = block[: block.index("</select>")]
    found = re.search(r'<option value="([^"]*)" selected', block)
    return found.group(1) if found else None


def test_the_check_page_shows_the_hint_alerts_pco2_and_the_clock_shift(web: Web) -> None:
    web.login("perfusionist")
    form = {
        "shift": "day",
        **{f"inspect.{s}": "none" for s in INSPECTION_SITES},
        "inspect.ml_inlet": "small_clot",
    }
    assert web.post_form("/runs/1/circuit-check", form).status_code == 303
    page = web.client.get("/runs/1/circuit-check").text
    assert _selected(page, "inspect.ml_inlet") is None  # nothing pre-selected
    hint = re.search(r'data-last-check="ml_inlet">([^<]*)<', page)
    assert hint is not None
    assert re.fullmatch(r"last check \d\d:\d\d: small clot at membrane lung inlet", hint.group(1))
    assert 'name="reading.pre_oxy_pco2"' in page and "Pre-oxygenator pCO2" in page
    alerts_card = page[page.index('id="check-alerts"') : page.index('id="check-form"')]
    assert "hemolysis" in alerts_card and "anticoagulation out of range" in alerts_card
    now = datetime.now(UTC)  # the test programme's zone is UTC
    assert _selected(page, "shift") == shift_of(now, 7, 19)
    assert 'value="not_present"' in page[page.index('name="inspect.bridge"') :][:900]
    pump = page[page.index('name="inspect.pump_head"') :]
    assert "not_present" not in pump[: pump.index("</select>")]


def test_a_refused_check_keeps_what_was_chosen_and_saves_nothing(web: Web) -> None:
    web.login("perfusionist")
    form = {f"inspect.{s}": "none" for s in INSPECTION_SITES} | {"inspect.pump_head": ""}
    form |= {"inspect.bridge": "not_present", "reading.pre_oxy_pco2": "400"}
    response = web.post_form("/runs/1/circuit-check", form, page="/runs/1/circuit-check")
    assert response.status_code == 422
    assert "Pump head not assessed" in response.text
    assert "400 mmHg is outside 0–200 mmHg" in response.text
    assert _selected(response.text, "inspect.bridge") == "not_present"
    assert web.client.get("/api/v1/runs/1/circuit-checks").json()["checks"] == []


# -- rounds: an explicit disposition per open alert ------------------------------------------------


def _today() -> date:
    return datetime.now(UTC).date()


def _save(db: Session, run_id: int, *reviews: dict[str, str]) -> RoundRecord:
    run = db.get_one(Run, run_id)
    data = RoundIn.model_validate({"problems": "x", "alerts_reviewed": list(reviews)})
    return round_record.record_round(db, PHYSICIAN, run, data, _today(), run.started_at.date())


@pytest.fixture
def critical_run(sessions: sessionmaker[Session]) -> int:
    """A fresh run with one open critical hemolysis alert."""
    run_id = new_run(sessions)
    with unit_of_work(sessions) as db:
        store(db, run_id, T0, pfhb=150)
        [alert] = alerts(db, run_id)
        assert (alert.status, alert.severity) == ("open", "critical")
    return run_id


def test_a_round_without_a_disposition_names_the_alert_and_saves_nothing(
    sessions: sessionmaker[Session], critical_run: int
) -> None:
    with pytest.raises(ValidationFailed) as caught, unit_of_work(sessions) as db:
        _save(db, critical_run)
    message = _problems(caught)["alerts_reviewed.hemolysis.disposition"]
    assert "critical hemolysis alert" in message and "leave open" in message
    with pytest.raises(ValidationFailed) as caught, unit_of_work(sessions) as db:
        _save(db, critical_run, {"detector": "hemolysis"})  # named but not decided
    assert "alerts_reviewed.hemolysis.disposition" in _problems(caught)
    with pytest.raises(ValidationFailed) as caught, unit_of_work(sessions) as db:
        _save(db, critical_run, {"detector": "hemolysis", "disposition": "acknowledged"})
    assert "is critical: write a note" in _problems(caught)["alerts_reviewed.hemolysis.note"]
    with unit_of_work(sessions) as db:
        assert alerts(db, critical_run)[0].status == "open"
        found = select(RoundRecord).where(RoundRecord.run_id == critical_run)
        assert db.scalar(found) is None


def test_leave_open_records_the_review_and_keeps_the_alert_open(
    sessions: sessionmaker[Session], critical_run: int
) -> None:
    review = {"detector": "hemolysis", "disposition": "left_open", "note": "recheck at 14:00"}
    with unit_of_work(sessions) as db:
        row = _save(db, critical_run, review)
        [stored] = row.alerts_reviewed
        assert stored["disposition"] == "left_open" and "alert_acknowledgement" not in stored
    with unit_of_work(sessions) as db:
        assert alerts(db, critical_run)[0].status == "open"
        assert run_view.open_alerts(db, critical_run)[0]["status"] == "open"


def test_a_noted_disposition_acknowledges_the_critical_alert(
    sessions: sessionmaker[Session], critical_run: int
) -> None:
    review = {"detector": "hemolysis", "disposition": "escalated", "note": "surgeon called"}
    with unit_of_work(sessions) as db:
        _save(db, critical_run, review)
    with unit_of_work(sessions) as db:
        [alert] = alerts(db, critical_run)
        assert alert.status == "acknowledged"
        assert alert.acknowledge_comment is not None
        assert alert.acknowledge_comment.endswith("escalated — surgeon called")


def test_the_round_form_asks_for_each_disposition_and_keeps_the_choices(web: Web) -> None:
    web.login("physician")
    page = web.client.get("/runs/1/rounds").text
    fields = left_open_fields(page)
    assert set(fields.values()) >= {"hemolysis", "anticoagulation_out_of_range"}
    assert _selected(page, "alert.0.disposition") is None  # nothing chosen for the clinician
    partial = {k: v for k, v in fields.items() if not k.startswith("alert.1.")}
    partial |= {"problems": "kept", "alert.1.detector": fields["alert.1.detector"]}
    response = web.post_form("/runs/1/rounds", partial, page="/runs/1/rounds")
    assert response.status_code == 422
    detector = fields["alert.1.detector"].replace("_", " ")
    assert f"choose what the round decided about the warning {detector} alert" in response.text
    assert _selected(response.text, "alert.0.disposition") == "left_open"
    assert ">kept</textarea>" in response.text
    assert "No rounds recorded for this run yet." in web.client.get("/runs/1/rounds").text
    assert web.post_form("/runs/1/rounds", {**fields, "problems": "kept"}).status_code == 303
    assert "→ left open: reviewed, left open" in web.client.get("/runs/1/rounds").text


def test_form_rows_carry_the_disposition_and_the_note() -> None:
    form = {"alert.0.detector": "hemolysis", "alert.0.disposition": "", "alert.0.note": "n"}
    data = forms.round_from(form, [], UTC)  # type: ignore[arg-type]
    assert data["alerts_reviewed"] == [{"detector": "hemolysis", "note": "n"}]
    assert RoundIn.model_validate(data).alerts_reviewed[0].disposition is None


def test_a_check_time_hint_older_than_today_names_the_day(web: Web) -> None:
    from continuum.db import make_engine, make_sessionmaker

    engine = make_engine(web.url)
    try:
        with unit_of_work(make_sessionmaker(engine)) as db:
            run = db.get_one(Run, 1)
            at = max(run.started_at, datetime.now(UTC) - timedelta(days=1, hours=1))
            data = CircuitCheckIn.model_validate(
                {"checked_at": at, "inspection": {**CLEAN, "connectors": "fibrin"}}
            )
            circuit_check.record_check(db, PERFUSIONIST, run, data)
    finally:
        engine.dispose()
    web.login("perfusionist")
    page = web.client.get("/runs/1/circuit-check").text
    hint = re.search(r'data-last-check="connectors">([^<]*)<', page)
    assert hint is not None and "fibrin at connectors" in hint.group(1)
    if at.date() != datetime.now(UTC).date():
        assert f"({at.strftime('%d %b')})" in hint.group(1)
