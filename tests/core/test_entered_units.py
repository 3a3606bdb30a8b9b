"""A value entered in another unit keeps that value and unit beside the stored one, on every
write path, and is read "62 kPa (465 mmHg)" (issue #16); SQLite and PostgreSQL."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from continuum import display_names, vocabulary
from continuum.core.record import Observation
from continuum.core.roles import CLI_ACTOR
from continuum.db import unit_of_work
from continuum.ingest.csv_service import import_csv
from continuum.ingest.mllp_client import oru
from tests.conftest import Web
from tests.ingest.test_hl7_ingest import store
from tests.seed import RUN_START, SECRET_MRNS

SHOWN = "62 kPa (465 mmHg)"


def _rows(factory: sessionmaker[Session], code: str) -> list[Observation]:
    with factory() as db:
        stmt = select(Observation).where(Observation.code == code).order_by(Observation.id)
        return list(db.scalars(stmt))


def _csrf(web: Web) -> dict[str, str]:
    return {"X-CSRF-Token": web.csrf("/runs/1")}


def test_the_vocabulary_keeps_what_was_entered_only_in_another_unit() -> None:
    assert vocabulary.as_entered("post_oxy_po2", "62", "kpa") == (62.0, "kPa")
    assert vocabulary.as_entered("post_oxy_po2", 465, "mmHg") is None
    assert vocabulary.as_entered("post_oxy_po2", 465, None) is None
    assert vocabulary.as_entered("sweep_fio2", 60, None) == (60.0, "%")  # read as percent
    assert vocabulary.as_entered("sweep_fio2", 0.6, None) is None
    assert display_names.as_entered(465.04, "post_oxy_po2", "mmHg", 62.0, "kPa") == SHOWN
    assert display_names.as_entered(465.04, "post_oxy_po2", "mmHg") == "465 mmHg"
    assert display_names.as_entered(0.6, "sweep_fio2", "1", 60.0, "%") == "60 % (0.6)"
    assert display_names.as_entered(-60.0, "p_access", "mmHg", -8.0, "kPa") == "-8 kPa (-60 mmHg)"


def test_api_round_trip_keeps_the_entered_value(web_any: Web, sessions) -> None:  # type: ignore[no-untyped-def]
    web_any.login("nurse")
    at = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=3)
    batch = {"observations": [
        {"code": "post_oxy_po2", "value": 62, "unit": "kPa", "time": at.isoformat()},
        {"code": "post_oxy_pco2", "value": 38, "unit": "mmHg", "time": at.isoformat()},
    ]}  # fmt: skip
    posted = web_any.client.post("/api/v1/runs/1/observations", json=batch, headers=_csrf(web_any))
    assert posted.status_code == 201, posted.text
    po2 = _rows(sessions, "post_oxy_po2")[-1]
    assert (po2.entered_value, po2.entered_unit) == (62.0, "kPa")
    assert round(po2.value) == 465 and po2.unit == "mmHg"
    pco2 = _rows(sessions, "post_oxy_pco2")[-1]
    assert (pco2.entered_value, pco2.entered_unit) == (None, None)

    detail = web_any.client.get(f"/api/v1/observations/{po2.id}").json()
    assert (detail["entered_value"], detail["entered_unit"]) == (62.0, "kPa")
    latest = web_any.client.get("/api/v1/runs/1").json()["observations"]["post_oxy_po2"]
    assert (latest["latest"]["entered_value"], latest["latest"]["entered_unit"]) == (62.0, "kPa")
    assert (
        web_any.client.get("/api/v1/runs/1").json()["observations"]["post_oxy_pco2"]["latest"][
            "entered_unit"
        ]
        is None
    )

    # An amendment keeps its own entered value: in the stored unit, none; in kPa, its own.
    web_any.login("perfusionist")
    assert SHOWN in web_any.client.get(f"/observations/{po2.id}/amend").text
    amended = web_any.client.post(
        f"/api/v1/observations/{po2.id}/amendments",
        json={"value": 60, "unit": "kPa", "reason": "transcription"},
        headers=_csrf(web_any),
    )
    assert amended.status_code == 201, amended.text
    new = amended.json()
    assert (new["entered_value"], new["entered_unit"]) == (60.0, "kPa")
    again = web_any.client.post(
        f"/api/v1/observations/{new['id']}/amendments",
        json={"value": 450, "reason": "in mmHg"},
        headers=_csrf(web_any),
    ).json()
    assert (again["entered_value"], again["entered_unit"]) == (None, None)
    original = web_any.client.get(f"/api/v1/observations/{po2.id}").json()
    assert (original["entered_value"], original["status"]) == (62.0, "superseded")


def test_an_hl7_value_in_kpa_keeps_its_unit(sessions) -> None:  # type: ignore[no-untyped-def]
    at = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
    text = oru("ENT-1", SECRET_MRNS[0], at, [("blood_flow", 4.2, "L/min"),
                                             ("post_oxy_po2", 62, "kPa")])  # fmt: skip
    outcome = store(sessions, text)
    assert (outcome.ack, outcome.stored) == ("AA", 2)
    po2 = _rows(sessions, "post_oxy_po2")[-1]
    assert (po2.entered_value, po2.entered_unit, round(po2.value)) == (62.0, "kPa", 465)
    assert po2.source == "hl7"
    flow = _rows(sessions, "blood_flow")[-1]
    assert (flow.entered_value, flow.entered_unit) == (None, None)
    assert display_names.observed(po2) == SHOWN


def test_a_csv_column_in_kpa_keeps_its_values_as_entered(sessions) -> None:  # type: ignore[no-untyped-def]
    lines = ["time,blood_flow,post_oxy_po2 [kPa],sweep_fio2,p_preoxy [kPa],p_postoxy"]
    for i, fio2 in enumerate(["60", "0.5", "", "100"]):
        t = (RUN_START + timedelta(hours=1, minutes=i)).isoformat().replace("+00:00", "Z")
        lines.append(f"{t},4.{i},{62 + i},{fio2},33.3,{200 + i}")
    with unit_of_work(sessions) as db:
        result = import_csv(db, CLI_ACTOR, 1, io.StringIO("\n".join(lines) + "\n"), "e.csv")
    assert result.stored == 4 + 4 + 3 + 4 + 4 and result.derived == 4
    po2 = [o for o in _rows(sessions, "post_oxy_po2") if o.source == "csv"]
    assert [(o.entered_value, o.entered_unit) for o in po2] == [
        (62.0, "kPa"), (63.0, "kPa"), (64.0, "kPa"), (65.0, "kPa")
    ]  # fmt: skip
    assert display_names.observed(po2[0]) == SHOWN
    fio2 = sorted(
        (o.time, o.entered_value, o.entered_unit)
        for o in _rows(sessions, "sweep_fio2")
        if o.source == "csv"
    )
    assert [(v, u) for _, v, u in fio2] == [(60.0, "%"), (None, None), (100.0, "%")]
    derived = [o for o in _rows(sessions, "oxy_delta_p") if o.source == "csv"]
    assert derived and all(o.entered_unit is None for o in derived)  # ΔP is computed
    flow = [o for o in _rows(sessions, "blood_flow") if o.source == "csv"]
    assert all(o.entered_unit is None for o in flow)


def test_the_run_page_reads_the_entered_value_first(web: Web) -> None:
    web.login("nurse")
    posted = web.post_form(
        "/runs/1/observations", {"code": "post_oxy_po2", "value": "62", "unit": "kPa"}
    )
    assert posted.status_code == 303
    # a later value, so the result is not the chart's last instant (read back from SQLite's
    # julianday, the newest point can land a millisecond past the window's end)
    assert web.post_form("/runs/1/observations", {"code": "hr", "value": "80"}).status_code == 303
    page = web.client.get("/runs/1").text
    latest = page[page.index('id="latest"') :]
    assert "62 kPa</b>" in latest and "(465 mmHg)" in latest
    manual = page[page.index('id="manual"') :]
    both = '<span class="nowrap">62 kPa</span> <span class="nowrap muted">(465 mmHg)</span>'
    assert both in manual
    assert f"po2 {SHOWN}" in web.client.get("/runs/1/timeline").text  # the entry's event
    chart = page[page.index('class="tchart"') :]
    assert f": {SHOWN}</title>" in chart  # the result's dot
    assert '<td class="num">62 kPa (465)</td>' in chart  # the chart's table (unit in head)


def test_rounds_and_the_circuit_check_read_the_entered_value_first(web: Web) -> None:
    web.login("nurse")
    for code, value, unit in (("post_oxy_po2", "62", "kPa"), ("hb", "98", "g/l")):
        posted = web.post_form("/runs/1/observations", {"code": code, "value": value, "unit": unit})
        assert posted.status_code == 303
    sheet = web.client.get("/rounds/sheet?run_id=1").text
    assert '<span class="nowrap">62 kPa</span> <span class="nowrap">(465 mmHg)</span>' in sheet
    board = web.client.get("/rounds").text
    api_board = web.client.get("/api/v1/rounds/board").json()
    latest = next(r for r in api_board["runs"] if r["run_id"] == 1)["latest"]
    assert latest["hb"]["entered"] == "98 g/L" and latest["blood_flow"]["entered"] is None
    assert '<b class="nowrap">98 g/L</b> <span class="nowrap">(9.8 g/dL)</span>' in board
    assert '<span class="nowrap">62 kPa</span> <span class="nowrap">(465 mmHg)</span>' in board
    web.login("perfusionist")
    check = web.client.get("/runs/1/circuit-check").text
    assert f"entered as {SHOWN}" in check
    api = web.client.get("/api/v1/runs/1/circuit-checks").json()
    assert (api["prefill"]["post_oxy_po2"]["entered_unit"], api["prefill"]["post_oxy_po2"][
        "entered_value"]) == ("kPa", 62.0)  # fmt: skip


def test_the_csv_preview_reads_a_kpa_column_as_entered(web: Web) -> None:
    web.login("perfusionist")
    t = (RUN_START + timedelta(hours=3)).isoformat().replace("+00:00", "Z")
    text = f"time,post_oxy_po2 [kPa],blood_flow\n{t},62,4.1\n"
    page = web.post_form("/runs/1/ingest/preview", {"csv_text": text, "preset": "continuum"},
                         page="/runs/1/ingest")  # fmt: skip
    assert page.status_code == 200, page.text[:800]
    assert SHOWN in page.text and "4.1 L/min" in page.text


def test_fhir_and_mqtt_values_in_kpa_keep_their_unit(sessions) -> None:  # type: ignore[no-untyped-def]
    from continuum.ingest.mqtt_bridge import MqttIngest
    from tests.ingest.test_fhir_and_mqtt import bundle, mqtt_payload, observation, send

    po2 = observation("post_oxy_po2", 62, "https://ecmo-continuum.org/codes", unit="kPa")
    assert send(sessions, bundle("B-KPA", po2)).status == 200
    fhir = [o for o in _rows(sessions, "post_oxy_po2") if o.source == "fhir"]
    assert [(o.entered_value, o.entered_unit, round(o.value)) for o in fhir] == [
        (62.0, "kPa", 465)
    ]  # fmt: skip
    payload = mqtt_payload("M-KPA", p_access={"value": -8, "unit": "kPa"}, blood_flow=4.1)
    assert MqttIngest(sessions).handle("continuum/console/CH-1", payload).ack == "AA"
    mqtt = [o for o in _rows(sessions, "p_access") if o.source == "mqtt"]
    assert [(o.entered_value, o.entered_unit) for o in mqtt] == [(-8.0, "kPa")]
    flow = [o for o in _rows(sessions, "blood_flow") if o.source == "mqtt"]
    assert [(o.entered_value, o.entered_unit) for o in flow] == [(None, None)]
