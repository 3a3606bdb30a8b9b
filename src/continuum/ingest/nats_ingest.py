"""Ingest through NATS JetStream (docs/ingest.md, *Through the broker*).

Receivers (MLLP, MQTT) publish each message, as received, to a durable JetStream stream
and acknowledge the sender only after the broker's publish acknowledgement (the message
is on the broker's disk). Workers share one durable pull consumer (each message goes to
one of them, like a queue group), parse and store it through the direct path's writer
(``mllp_listener.BatchWriter``: the same statement, duplicate look-up and due marks), and
acknowledge to the broker only after the database commit. A failure is negatively
acknowledged with a growing delay; a message that fails ``poison_after`` deliveries is
logged as refused with the reason and terminated. Duplicates: the broker drops a
republished message within its duplicate window (``Nats-Msg-Id``), and the message log's
unique control id stores a redelivered or resent message once.

Several workers may store a feed's messages out of order (and a failed batch comes back
later than the ones after it). So that the outcome does not depend on the order, a
correction or withdrawal (OBX-11 ``C``, ``W``, ``D``) whose original value is not stored
yet is held on the broker (negatively acknowledged with a growing delay, nothing stored or
logged) and applied once the original is stored; only after ``amend_hold`` seconds since
it was received is it stored as the direct path stores it (a correction as a new value, a
withdrawal of nothing as a warning).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from functools import partial
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session, sessionmaker

from continuum.ingest.device_message import DeviceMessage, MessageRefused
from continuum.ingest.device_service import Outcome
from continuum.ingest.hl7_message import read_header
from continuum.ingest.mllp_listener import HEAD, LISTENER, BatchWriter, Oversized, parse_frame
from continuum.ingest.mqtt_bridge import SUBSCRIBER
from continuum.ingest.mqtt_message import read_mqtt

if TYPE_CHECKING:
    from nats.aio.client import Client as NatsClient
    from nats.aio.msg import Msg
    from nats.js import JetStreamContext

log = logging.getLogger("continuum.ingest.nats")
SOURCES = ("hl7", "mqtt")
ACTORS = {"hl7": LISTENER, "mqtt": SUBSCRIBER}
H_SOURCE, H_RECEIVED, H_PEER, H_TOPIC, H_OVERSIZED, H_KEY = (
    "Continuum-Source", "Continuum-Received-At", "Continuum-Peer", "Continuum-Topic",
    "Continuum-Oversized", "Continuum-Message-Id",
)  # fmt: skip
INTERNAL = "could not be stored (internal error)"


@dataclass(frozen=True)
class BrokerConfig:
    """Where and how: the stream, its subjects (``<subject>.hl7``, ``<subject>.mqtt``) and
    the workers' durable consumer. ``ack_wait``: seconds a worker may hold a message before
    the broker gives it to another (a worker that died); ``poison_after``: deliveries that
    fail before a message is logged as refused and dropped."""

    url: str = "nats://127.0.0.1:4222"
    stream: str = "CONTINUUM_INGEST"
    subject: str = "continuum.ingest"
    durable: str = "continuum-ingest-workers"
    duplicate_window: float = 120.0
    ack_wait: float = 30.0
    poison_after: int = 5
    max_backoff: float = 60.0
    publish_timeout: float = 10.0
    replicas: int = 1  # 3 on a three-server cluster (set when the stream is created)
    amend_hold: float = 600.0  # s a correction/withdrawal waits on the broker for its original

    @classmethod
    def from_settings(cls, **overrides: Any) -> BrokerConfig:
        from continuum.config import get_settings

        s = get_settings()
        given = {
            "url": s.nats_url,
            "stream": s.nats_stream,
            "subject": s.nats_subject,
            "ack_wait": s.nats_ack_wait_s,
            "replicas": s.nats_replicas,
        }
        given.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**given)

    def subject_for(self, source: str) -> str:
        return f"{self.subject}.{source}"

    @property
    def outcome_subject(self) -> str:
        """Core NATS (not the stream): workers tell MQTT receivers each message's outcome."""
        return f"{self.subject}_outcome.mqtt"

    @property
    def presence_subject(self) -> str:
        """Core NATS (not the stream): each running worker answers a request here with who
        it is and what it has done (the Operations page counts the connected workers)."""
        return f"{self.subject}_workers.ping"


def msg_id(source: str, key: str, body: bytes) -> str:
    """The broker's duplicate key: source, control id and the bytes. A byte-identical
    resend within the window is dropped by the broker; a different message that reuses a
    control id still reaches a worker (the message log decides, as on the direct path)."""
    digest = hashlib.sha256(f"{source}\x00{key}\x00".encode() + body).hexdigest()
    return f"{source}-{digest[:40]}"


async def connect(config: BrokerConfig, **options: Any) -> tuple[NatsClient, JetStreamContext]:
    """A client (reconnecting for ever) and its JetStream context; the stream is created
    when missing: file storage, work-queue retention (a message leaves the broker once a
    worker acknowledged it), the duplicate window."""
    import nats
    from nats.js.api import RetentionPolicy, StorageType, StreamConfig
    from nats.js.errors import NotFoundError

    options.setdefault("max_reconnect_attempts", -1)
    options.setdefault("reconnect_time_wait", 0.5)
    options.setdefault("connect_timeout", 3)
    nc = await nats.connect(config.url, **options)
    js = nc.jetstream(timeout=config.publish_timeout)
    try:
        await js.stream_info(config.stream)
    except NotFoundError:
        await js.add_stream(
            StreamConfig(
                name=config.stream,
                subjects=[f"{config.subject}.>"],
                storage=StorageType.FILE,
                retention=RetentionPolicy.WORK_QUEUE,
                duplicate_window=config.duplicate_window,
                num_replicas=config.replicas,
            )
        )
    return nc, js


class Publisher:
    """A receiver's side: publish, and resolve once the broker has stored the message."""

    def __init__(self, config: BrokerConfig) -> None:
        self.config = config
        self.js: JetStreamContext | None = None
        self.nc: NatsClient | None = None
        self.published = 0
        self.duplicates = 0

    async def start(self) -> Publisher:
        self.nc, self.js = await connect(self.config)
        return self

    async def close(self) -> None:
        if self.nc is not None:
            await self.nc.close()

    async def publish(
        self, source: str, key: str, body: bytes, received: datetime, **headers: str
    ) -> None:
        assert self.js is not None, "Publisher.start() first"
        hdr = {
            "Nats-Msg-Id": msg_id(source, key, body),
            H_SOURCE: source,
            H_RECEIVED: received.isoformat(),
            **{k: v for k, v in headers.items() if v},
        }
        ack = await self.js.publish(
            self.config.subject_for(source), body, stream=self.config.stream, headers=hdr
        )
        self.published += 1
        self.duplicates += bool(ack.duplicate)


class BrokerMllpSubmitter:
    """The MLLP listener's ``submit`` in broker mode: AR/AE for what the receiver can judge
    without the database, AA for the rest — each only after the broker stored the frame."""

    def __init__(self, publisher: Publisher) -> None:
        self.publisher = publisher

    def submit(self, msg: DeviceMessage, frame: bytes | Oversized) -> asyncio.Future[Outcome]:
        return asyncio.ensure_future(self._publish(msg, frame))

    async def _publish(self, msg: DeviceMessage, frame: bytes | Oversized) -> Outcome:
        limit = self.publisher.nc.max_payload if self.publisher.nc else 1024 * 1024
        oversized = isinstance(frame, Oversized) or len(frame) > limit - 4096
        body = frame.head if isinstance(frame, Oversized) else frame
        size = frame.size if isinstance(frame, Oversized) else len(frame)
        if oversized:  # the worker logs the refusal; the frame itself is not kept
            body = body[:4096]
            if msg.refusal is None:
                msg = DeviceMessage(
                    "hl7", msg.message_id, None, [], msg.received_at,
                    [f"frame of {size:,} bytes is larger than the broker takes ({limit:,})"],
                    msg.peer, "AR", msg.sender_application, msg.sender_facility,
                )  # fmt: skip
        await self.publisher.publish(
            "hl7",
            msg.message_id or hashlib.sha256(body).hexdigest(),
            body,
            msg.received_at,
            **{H_PEER: msg.peer or "", H_OVERSIZED: "; ".join(msg.problems) if oversized else ""},
        )
        return receiver_outcome(msg)


def _clean(text: str) -> str:
    """A header value: no line breaks, at most 128 characters (the message log's length)."""
    return text.replace("\r", " ").replace("\n", " ")[:128]


def receiver_outcome(msg: DeviceMessage) -> Outcome:
    """What a receiver answers once the broker holds the message: the refusal it can see
    without the database (AR: not readable; AE: a problem the parser found with the whole
    message), else AA — held for storage; what a worker then refuses is in the message log."""
    if msg.refusal:
        return Outcome(msg.message_id, msg.refusal, errors=list(msg.problems))
    if msg.problems:
        return Outcome(msg.message_id, "AE", errors=list(msg.problems))
    return Outcome(msg.message_id, "AA", warnings=list(msg.left_out))


def header(m: Msg, name: str) -> str:
    return (m.headers or {}).get(name, "")


def parse_broker_message(m: Msg, zone: tzinfo) -> DeviceMessage:
    """The device message a worker stores, read from the broker's copy as received."""
    source = header(m, H_SOURCE) or m.subject.rsplit(".", 1)[-1]
    received = _time(header(m, H_RECEIVED))
    peer = header(m, H_PEER) or None
    if source == "mqtt":
        topic = header(m, H_TOPIC)
        if header(m, H_OVERSIZED):
            return DeviceMessage(
                "mqtt", header(m, H_KEY), None, [], received,
                [header(m, H_OVERSIZED)], topic[:64], "AR",
            )  # fmt: skip
        try:
            return read_mqtt(topic, m.data, received)
        except MessageRefused as exc:
            return DeviceMessage.refused("mqtt", exc, received, topic[:64])
    oversized = header(m, H_OVERSIZED)
    if oversized:
        msg = parse_frame(Oversized(m.data, len(m.data)), peer or "", zone)
        msg.problems = [oversized]
    else:
        msg = parse_frame(m.data, peer or "", zone)
    msg.received_at, msg.peer = received, peer
    return msg


def _time(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return datetime.now(UTC)


class IngestWorker:
    """One worker: fetch a batch from the shared durable consumer, store it (per source,
    through ``BatchWriter.commit`` on a thread), acknowledge what is committed."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        config: BrokerConfig,
        zone: tzinfo = UTC,
        batch: int = 500,
        parse: Callable[[Msg, tzinfo], DeviceMessage] = parse_broker_message,
    ) -> None:
        self.sessions = sessions
        self.config = config
        self.zone = zone
        self.batch = batch
        self.parse = parse
        self.writers = {s: BatchWriter(sessions, ACTORS[s], hold_amendments=True) for s in SOURCES}
        self.executor = ThreadPoolExecutor(1, thread_name_prefix="nats-worker-commit")
        self.nc: NatsClient | None = None
        self.acked = 0
        self.refused = 0
        self.held = 0  # deliveries of amendments held for their original
        self._failures = 0
        self.started_at = datetime.now(UTC)
        self.last_ack_at: datetime | None = None

    async def run(self, stop: asyncio.Event | None = None) -> None:
        from nats.errors import TimeoutError as NatsTimeout
        from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

        stop = stop or asyncio.Event()
        self.nc, js = await connect(self.config)
        config = ConsumerConfig(
            durable_name=self.config.durable,
            ack_policy=AckPolicy.EXPLICIT,
            deliver_policy=DeliverPolicy.ALL,
            ack_wait=self.config.ack_wait,
            max_deliver=-1,  # the poison threshold is ours: a database outage is no poison
            max_ack_pending=10_000,
        )
        sub = await js.pull_subscribe(
            f"{self.config.subject}.>",
            durable=self.config.durable,
            stream=self.config.stream,
            config=config,
        )
        await self.nc.subscribe(self.config.presence_subject, cb=self._answer_presence)
        log.info("worker on %s (stream %s)", self.config.url, self.config.stream)
        storing: asyncio.Task[None] | None = None
        try:
            while not stop.is_set():
                try:
                    msgs = await sub.fetch(self.batch, timeout=1)
                except (NatsTimeout, TimeoutError):  # nothing to do for a second
                    continue
                except Exception as exc:  # connection lost: the client reconnects
                    log.warning("fetch failed: %r", exc)
                    await asyncio.sleep(0.5)
                    continue
                # The next batch is fetched and parsed while this one commits (one commit
                # at a time, in order; each batch acknowledged after its own commit).
                groups = await self.prepare(msgs)
                if storing is not None:
                    await storing
                storing = asyncio.create_task(self.store(groups))
            if storing is not None:
                await storing
        finally:
            await self.nc.close()

    def presence(self) -> dict[str, Any]:
        """Who this worker is and what it has done (``presence_subject``)."""
        import os
        import socket

        return {
            "name": f"{socket.gethostname()}:{os.getpid()}",
            "started_at": self.started_at.isoformat(),
            "acked": self.acked,
            "refused": self.refused,
            "last_ack_at": self.last_ack_at.isoformat() if self.last_ack_at else None,
            "batch": self.batch,
        }

    async def _answer_presence(self, m: Msg) -> None:
        import json

        if m.reply:
            await _quietly(m.respond(json.dumps(self.presence()).encode()))

    async def process(self, msgs: list[Msg]) -> None:
        await self.store(await self.prepare(msgs))

    async def prepare(self, msgs: list[Msg]) -> dict[str, list[tuple[Msg, DeviceMessage]]]:
        """Parse a fetched batch, grouped by source (one writer per source)."""
        groups: dict[str, list[tuple[Msg, DeviceMessage]]] = {}
        for m in msgs:
            try:
                dm = self.parse(m, self.zone)
            except Exception as exc:
                log.exception("could not read broker message %s", m.subject)
                await self._failed(m, None, f"could not be read: {exc}")
                continue
            groups.setdefault(dm.channel, []).append((m, dm))
        return groups

    async def store(self, groups: dict[str, list[tuple[Msg, DeviceMessage]]]) -> None:
        """Commit each group, then acknowledge its messages to the broker."""
        loop = asyncio.get_running_loop()
        for source, items in groups.items():
            writer = self.writers.get(source, self.writers["hl7"])
            try:
                outcomes = await loop.run_in_executor(
                    self.executor, writer.commit, [dm for _, dm in items]
                )
            except Exception as exc:  # database unreachable: all back, later
                self._failures += 1
                delay = min(self.config.max_backoff, 0.5 * 2 ** min(self._failures, 8))
                log.error("commit failed, %d messages back to the broker: %s", len(items), exc)
                for m, _ in items:
                    await _quietly(m.nak(delay=delay))
                continue
            self._failures = 0
            for (m, dm), outcome in zip(items, outcomes, strict=True):
                if outcome.held:
                    outcome = await self._hold(m, dm, writer)
                    if outcome is None:
                        continue
                if outcome.errors == [INTERNAL]:
                    await self._failed(m, dm, INTERNAL)
                else:
                    await _quietly(m.ack())  # after the commit, never before
                    self.acked += 1
                    self.last_ack_at = datetime.now(UTC)
                    if source == "mqtt":
                        await self._tell(m, outcome)

    async def _hold(self, m: Msg, dm: DeviceMessage, writer: BatchWriter) -> Outcome | None:
        """A correction or withdrawal whose original is not stored yet: back to the broker
        with a growing delay (None), or — ``amend_hold`` seconds after it was received —
        stored as the direct path would store it (its outcome)."""
        waited = (datetime.now(UTC) - dm.received_at).total_seconds()
        if waited < self.config.amend_hold:
            n = m.metadata.num_delivered or 1
            delay = min(self.config.max_backoff, 0.5 * 2**n, self.config.amend_hold - waited)
            self.held += 1
            await _quietly(m.nak(delay=max(delay, 0.1)))
            return None
        loop = asyncio.get_running_loop()
        try:
            alone = partial(writer.commit, [dm], hold=False)
            done = await loop.run_in_executor(self.executor, alone)
        except Exception as exc:  # database unreachable: back, later
            log.error("held message %s not stored: %s", dm.message_id, exc)
            await _quietly(m.nak(delay=self.config.max_backoff))
            return None
        return done[0]

    async def _tell(self, m: Msg, outcome: Outcome) -> None:
        """The outcome, for the MQTT receivers to publish on ``continuum/ack/{console}``."""
        import json

        if self.nc is not None:
            body = {**outcome.to_dict(), "topic": header(m, H_TOPIC)}
            await _quietly(self.nc.publish(self.config.outcome_subject, json.dumps(body).encode()))

    async def _failed(self, m: Msg, dm: DeviceMessage | None, reason: str) -> None:
        """Back to the broker with a growing delay, or — past the poison threshold — logged
        as refused (AR, with the reason) and terminated."""
        n = m.metadata.num_delivered or 1
        if n < self.config.poison_after:
            await _quietly(m.nak(delay=min(self.config.max_backoff, 0.5 * 2**n)))
            return
        source = header(m, H_SOURCE) or "hl7"
        key = dm.message_id if dm is not None else _key_of(source, m.data)
        refused = DeviceMessage(
            source if source in SOURCES else "hl7", key, None, [],
            dm.received_at if dm is not None else _time(header(m, H_RECEIVED)),
            [f"not processed after {n} deliveries: {reason}"],
            header(m, H_PEER) or None, "AR",
        )  # fmt: skip
        loop = asyncio.get_running_loop()
        writer = self.writers[refused.channel]
        try:
            await loop.run_in_executor(self.executor, _log_refused, writer, refused)
        except Exception as exc:  # not even the log row: keep it on the broker
            log.error("refused message %s could not be logged: %s", key, exc)
            await _quietly(m.nak(delay=self.config.max_backoff))
            return
        log.error("message %s refused after %d deliveries: %s", key, n, reason)
        await _quietly(m.term())
        self.refused += 1


def _key_of(source: str, body: bytes) -> str:
    """The control id / message_id of a message that could not be read, when it shows."""
    try:
        if source == "mqtt":
            import json

            return str(json.loads(body).get("message_id", ""))[:128]
        return read_header(body[:HEAD])[0]
    except Exception:
        return ""


def _log_refused(writer: BatchWriter, msg: DeviceMessage) -> None:
    from continuum.ingest.device_service import store_messages

    with writer.unit_of_work() as db:
        store_messages(db, writer.actor, [msg], writer.cache)


async def _quietly(step: Any) -> None:
    """An ack/nak/term that cannot reach the broker is not retried: the broker redelivers
    after ``ack_wait``, and the message log stores a redelivered message once."""
    try:
        await step
    except Exception as exc:
        log.warning("broker acknowledgement not sent: %s", exc)


async def delete_stream(config: BrokerConfig) -> None:
    import nats

    nc = await nats.connect(config.url, connect_timeout=3)
    try:
        await nc.jetstream().delete_stream(config.stream)
    finally:
        await nc.close()


class BrokerMqtt:
    """The MQTT subscriber in broker mode: each message is published to JetStream from
    paho's thread (the broker client lives on an event loop of its own), and PUBACK goes
    back to Mosquitto only after the JetStream publish acknowledgement. On
    ``continuum/ack/{console}`` go the receiver's outcome (``"queued": true``) and then the
    worker's, after the commit (``on_outcome``; one receiver of a queue group forwards it)."""

    def __init__(self, config: BrokerConfig) -> None:
        import threading

        self.config = config
        self.on_outcome: Callable[[dict[str, Any]], None] | None = None
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.publisher = self._wait(Publisher(config).start())
        self._wait(self._listen())

    async def _listen(self) -> None:
        import json

        async def got(m: Msg) -> None:
            if self.on_outcome is not None:
                try:
                    self.on_outcome(json.loads(m.data))
                except Exception:
                    log.exception("outcome not forwarded")

        assert self.publisher.nc is not None
        await self.publisher.nc.subscribe(
            self.config.outcome_subject, queue="continuum-mqtt-outcomes", cb=got
        )

    def _wait(self, coro: Any, timeout: float = 30.0) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def handle(self, topic: str, payload: bytes) -> Outcome:
        """Publish one message; raises when the broker did not confirm it (no PUBACK)."""
        received = datetime.now(UTC)
        try:
            msg = read_mqtt(topic, payload, received)
        except MessageRefused as exc:
            msg = DeviceMessage.refused("mqtt", exc, received, topic[:64])
        key = msg.message_id or hashlib.sha256(payload).hexdigest()
        nc = self.publisher.nc
        limit = nc.max_payload if nc is not None else 1024 * 1024
        extra = {H_TOPIC: topic}
        if len(payload) > limit - 4096:  # refused, logged by a worker: not redelivered for ever
            reason = f"payload of {len(payload):,} bytes: larger than the broker takes ({limit:,})"
            msg = DeviceMessage("mqtt", msg.message_id, None, [], received, [reason],
                                topic[:64], "AR")  # fmt: skip
            payload, extra[H_OVERSIZED], extra[H_KEY] = payload[:4096], reason, _clean(key)
        self._wait(self.publisher.publish("mqtt", key, payload, received, **extra))
        return receiver_outcome(msg)

    def close(self) -> None:
        self._wait(self.publisher.close())
        self.loop.call_soon_threadsafe(self.loop.stop)


def make_broker_mqtt_client(
    bridge: BrokerMqtt, topic: str, client_id: str = "continuum-ingest"
) -> Any:
    import json

    import paho.mqtt.client as mqtt

    from continuum.ingest.mqtt_bridge import ACK_PREFIX
    from continuum.ingest.mqtt_message import TOPIC_PREFIX

    def ack_topic(topic: str) -> str:
        console = topic[len(TOPIC_PREFIX) :] if topic.startswith(TOPIC_PREFIX) else ""
        return ACK_PREFIX + (console or "unknown")

    def on_message(client: mqtt.Client, _u: Any, message: Any) -> None:
        try:
            outcome = bridge.handle(message.topic, message.payload)
        except Exception:  # broker unreachable: no PUBACK, Mosquitto redelivers
            log.exception("message on %s not published; will be redelivered", message.topic)
            return
        client.ack(message.mid, message.qos)
        body = {**outcome.to_dict(), "queued": True}
        client.publish(ack_topic(message.topic), json.dumps(body), qos=0)

    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=False)

    def forward(outcome: dict[str, Any]) -> None:  # the worker's, after its commit
        topic = str(outcome.pop("topic", ""))
        client.publish(ack_topic(topic), json.dumps(outcome), qos=0)

    bridge.on_outcome = forward
    client.manual_ack_set(True)
    client.on_connect = lambda c, _u, _f, _rc, _p: c.subscribe(topic, qos=1)
    client.on_message = on_message
    return client


def run_broker_subscriber(
    config: BrokerConfig, host: str, port: int, topic: str, client_id: str = "continuum-ingest"
) -> None:
    bridge = BrokerMqtt(config)
    client = make_broker_mqtt_client(bridge, topic, client_id)
    client.connect(host, port, keepalive=30)
    try:
        client.loop_forever()
    finally:
        bridge.close()
