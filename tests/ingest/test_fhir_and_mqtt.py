"""FHIR R4 bundles (API and CLI) and MQTT bridge messages: same mapping, validation and
no-duplicate guarantee as HL7."""

from __future__ import annotations

import json
import socket
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker
from tests.conftest import Web, need
from tests.ingest.helpers import count, values
from tests.seed import SECRET_MRNS

from continuum.core.roles import CLI_ACTOR
from continuum.db import unit_of_work
from continuum.ingest.fhir_bundle import ingest_bundle
from continuum.ingest.mqtt_bridge import MqttIngest

AT = (datetime.now(UTC) - timedelta(minutes=10)).replace(microsecond=0)


def observation(code: str, value: object, system: str = "http://loinc.org", **extra: object):  # type: ignore[no-untyped-def]
    return {
        "resource": {
            "resourceType": "Observation",
            "status": "final",
            "code": {"coding": [{"system": system, "code": code}]},
            "subject": {"identifier": {"value": extra.get("mrn", SECRET_MRNS[0])}},
            "effectiveDateTime": extra.get("at", AT.isoformat()),
            "valueQuantity": {
                "value": value,
                **({"unit": extra["unit"]} if "unit" in extra else {}),
            },
        }
    }


def bundle(bundle_id: str, *entries: dict) -> bytes:  # type: ignore[type-arg]
    body = {"resourceType": "Bundle", "type": "collection", "identifier": {"value": bundle_id},
            "entry": list(entries)}  # fmt: skip
    return json.dumps(body).encode()


def send(sessions: sessionmaker[Session], data: bytes):  # type: ignore[no-untyped-def]
    with unit_of_work(sessions) as db:
        return ingest_bundle(db, CLI_ACTOR, data)


def test_fhir_bundle_is_stored_once_and_mapped_by_loinc(sessions) -> None:  # type: ignore[no-untyped-def]
    data = bundle(
        "B-1",
        observation("8867-4", 88, unit="/min"),
        observation("blood_flow", 4.4, "https://ecmo-continuum.org/codes", unit="L/min"),
        observation("99999-9", 1),
    )
    first, again = send(sessions, data), send(sessions, data)
    assert first.status == 200 and again.status == 200
    assert "2 observations stored" in first.body["issue"][0]["diagnostics"]
    assert first.body["issue"][-1]["severity"] == "warning"
    assert "already stored" in again.body["issue"][0]["diagnostics"]
    assert count(sessions, "fhir:B-1") == 2
    assert values(sessions, 1)["hr"] == [88.0]


def test_fhir_refusals_are_operation_outcomes_and_store_nothing(sessions) -> None:  # type: ignore[no-untyped-def]
    cases = [
        b"not json",
        json.dumps({"resourceType": "Patient"}).encode(),
        bundle("B-2", observation("8867-4", 400, unit="/min")),  # out of range
        bundle("B-3", observation("8867-4", 80, unit="/min", mrn="NOBODY")),
        bundle("B-4", observation("8867-4", 80, at="2026-01-01")),  # no time of day
        bundle("B-5", {"resource": {"resourceType": "Observation", "status": "final"}}),
    ]
    for data in cases:
        result = send(sessions, data)
        assert result.status == 422, result.body
        assert result.body["resourceType"] == "OperationOutcome"
        assert result.body["issue"][0]["severity"] == "error"
    assert count(sessions, "fhir:%") == 0


def test_fhir_api_answers_422_with_an_operation_outcome(web: Web) -> None:
    web.login("integration")
    csrf = web.csrf("/runs")
    r = web.client.post(
        "/api/v1/fhir/Bundle",
        content=bundle("B-9", observation("8867-4", 999)),
        headers={"X-CSRF-Token": csrf, "content-type": "application/fhir+json"},
    )
    assert r.status_code == 422
    assert "outside" in r.json()["issue"][0]["diagnostics"]


def mqtt_payload(message_id: str, **values: object) -> bytes:
    return json.dumps({"message_id": message_id, "time": AT.isoformat(),
                       "mrn": SECRET_MRNS[0], "values": values}).encode()  # fmt: skip


def test_mqtt_messages_are_validated_and_stored_once(sessions) -> None:  # type: ignore[no-untyped-def]
    ingest = MqttIngest(sessions)
    topic = "continuum/console/CH-1"
    payload = mqtt_payload("M-1", blood_flow=4.1, p_access={"value": -8, "unit": "kPa"})
    assert ingest.handle(topic, payload).ack == "AA"
    assert ingest.handle(topic, payload).duplicate
    assert count(sessions, "mqtt:M-1") == 2
    assert ingest.handle(topic, mqtt_payload("M-2", blood_flow="x")).ack == "AE"
    assert ingest.handle(topic, b"{oops").ack == "AR"
    assert ingest.handle("other/topic", payload).ack == "AR"
    assert count(sessions, "mqtt:%") == 2


def _broker_up() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 1883), timeout=1).close()
        return True
    except OSError:
        return False


def test_mqtt_end_to_end_through_mosquitto(sessions) -> None:  # type: ignore[no-untyped-def]
    need(_broker_up(), "Mosquitto is not answering on 127.0.0.1:1883")
    import paho.mqtt.client as mqtt

    from continuum.ingest.mqtt_bridge import make_client

    tag = f"{time.time_ns()}"
    sub = make_client(MqttIngest(sessions), f"continuum/console/T{tag}", f"test-sub-{tag}")
    sub.connect("127.0.0.1", 1883)
    sub.loop_start()
    acks: list[dict] = []  # type: ignore[type-arg]
    pub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"test-pub-{tag}")
    pub.on_message = lambda _c, _u, m: acks.append(json.loads(m.payload))
    pub.connect("127.0.0.1", 1883)
    pub.subscribe(f"continuum/ack/T{tag}")
    pub.loop_start()
    time.sleep(0.5)
    for mid in ("Q-1", "Q-1", "Q-2"):
        pub.publish(
            f"continuum/console/T{tag}", mqtt_payload(mid, spo2=96), qos=1
        ).wait_for_publish()
    deadline = time.monotonic() + 10
    while len(acks) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    for client in (sub, pub):
        client.loop_stop()
        client.disconnect()
    assert [(a["message_id"], a["ack"], a["duplicate"]) for a in acks] == [
        ("Q-1", "AA", False), ("Q-1", "AA", True), ("Q-2", "AA", False)
    ]  # fmt: skip
    assert count(sessions, "mqtt:Q-%") == 2


@pytest.fixture(autouse=True)
def _no_threads_left() -> None:
    yield
    assert threading.active_count() < 50


def test_cli_loads_a_bundle_and_exits_2_on_refusal(db_url, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from typer.testing import CliRunner

    from continuum.cli import app
    from continuum.config import get_settings

    monkeypatch.setenv("CONTINUUM_DATABASE_URL", db_url)
    get_settings.cache_clear()
    good, bad = tmp_path / "good.json", tmp_path / "bad.json"
    good.write_bytes(bundle("CLI-1", observation("8867-4", 77, unit="/min")))
    bad.write_bytes(bundle("CLI-2", observation("8867-4", 77, mrn="NOBODY")))
    ok = CliRunner().invoke(app, ["ingest", "fhir", str(good)])
    assert ok.exit_code == 0 and "1 observations stored" in ok.output
    refused = CliRunner().invoke(app, ["ingest", "fhir", str(bad)])
    assert refused.exit_code == 2 and '"severity": "error"' in refused.output
    get_settings.cache_clear()
