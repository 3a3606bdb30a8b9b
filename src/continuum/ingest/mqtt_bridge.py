"""MQTT subscriber for bedside bridges (paho-mqtt 2; docs/ingest.md).

QoS 1 with manual acknowledgement: PUBACK goes back only after the message's
observations are committed, so the broker redelivers anything not stored; a redelivered
(or resent) ``message_id`` is stored once. The outcome is published on
``continuum/ack/{console_id}`` as JSON (message_id, ack AA/AE/AR, errors, warnings).
Surveillance is deferred: a message only marks its run due (``continuum.alerts.due``).
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

import paho.mqtt.client as mqtt
from sqlalchemy.orm import Session, sessionmaker

from continuum.core.roles import Actor
from continuum.db import unit_of_work
from continuum.hooks import install_all_hooks
from continuum.ingest.device_message import DeviceMessage, MessageRefused
from continuum.ingest.device_service import Outcome, ReferenceCache, store_messages
from continuum.ingest.mqtt_message import TOPIC_PREFIX, read_mqtt

log = logging.getLogger("continuum.ingest.mqtt")
SUBSCRIBER = Actor(staff_id=None, name="MQTT subscriber", role="integration", client="mqtt")
ACK_PREFIX = "continuum/ack/"


class MqttIngest:
    """``defer_surveillance``: mark the runs due instead of evaluating each message's batch
    (``continuum.alerts.due``; ``continuum ingest mqtt`` runs the evaluator)."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        actor: Actor = SUBSCRIBER,
        defer_surveillance: bool = True,
    ) -> None:
        install_all_hooks()  # stored messages run every domain's after-store hooks
        self.sessions = sessions
        self.actor = actor
        self.cache = ReferenceCache()
        self.defer_surveillance = defer_surveillance

    def handle(self, topic: str, payload: bytes) -> Outcome:
        """Parse, store and commit one message; returns its outcome (never raises on input)."""
        received = datetime.now(UTC)
        try:
            msg = read_mqtt(topic, payload, received)
        except MessageRefused as exc:
            msg = DeviceMessage.refused("mqtt", exc, received, topic[:64])
        with unit_of_work(self.sessions) as db:
            db.info["defer_surveillance"] = self.defer_surveillance
            return store_messages(db, self.actor, [msg], self.cache)[0]


def _on_message(client: mqtt.Client, ingest: MqttIngest, message: Any) -> None:
    try:
        outcome = ingest.handle(message.topic, message.payload)
    except Exception:  # database down: no PUBACK, the broker redelivers
        log.exception("message on %s not stored; will be redelivered", message.topic)
        return
    client.ack(message.mid, message.qos)
    console = message.topic[len(TOPIC_PREFIX) :] if message.topic.startswith(TOPIC_PREFIX) else ""
    client.publish(ACK_PREFIX + (console or "unknown"), json.dumps(outcome.to_dict()), qos=0)
    log.info("%s %s stored %d", outcome.message_id, outcome.ack, outcome.stored)


def make_client(ingest: MqttIngest, topic: str, client_id: str = "continuum-ingest") -> mqtt.Client:
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=False)
    client.manual_ack_set(True)
    client.on_connect = lambda c, _u, _f, _rc, _p: c.subscribe(topic, qos=1)
    client.on_message = lambda c, _u, m: _on_message(c, ingest, m)
    return client


def run_subscriber(
    sessions: sessionmaker[Session],
    host: str,
    port: int,
    topic: str,
    client_id: str = "continuum-ingest",
) -> None:
    client = make_client(MqttIngest(sessions), topic, client_id)
    client.connect(host, port, keepalive=30)
    client.loop_forever()
