"""Ingest through NATS JetStream on PostgreSQL (docs/ingest.md, *Through the broker*).

Real processes (`continuum ingest mllp --via nats`, `continuum ingest worker`) on the
machine's NATS server, each test on a stream and subject of its own (deleted after):
SIGKILL the receiver mid-stream, SIGKILL a worker mid-stream, cut every broker connection
mid-stream — nothing acknowledged is lost, nothing is stored twice. In-process: the
broker's duplicate window, and a poison message logged as refused after its deliveries.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from tests.conftest import need
from tests.ingest.helpers import per_message
from tests.ingest.test_mllp_reliability import CONTINUUM, _free_port, message

from continuum.db import make_engine, make_sessionmaker
from continuum.ingest.device_message import DeviceMessage
from continuum.ingest.mllp_client import MllpSender, msa
from continuum.ingest.models import IngestMessage
from continuum.ingest.nats_ingest import (
    BrokerConfig,
    IngestWorker,
    Publisher,
    delete_stream,
    parse_broker_message,
)


def run_async(coro):  # type: ignore[no-untyped-def]
    """Run a coroutine to completion on a thread of its own: in the whole suite a browser
    test's Playwright may keep an event loop running on this worker's main thread, where
    asyncio.run() refuses to start another."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


NATS = ("127.0.0.1", 4222)
TOTAL = 300


def nats_up() -> bool:
    try:
        socket.create_connection(NATS, timeout=1).close()
        return True
    except OSError:
        return False


@pytest.fixture
def config() -> Iterator[BrokerConfig]:
    need(nats_up(), "NATS (JetStream) is not answering on 127.0.0.1:4222")
    tag = uuid.uuid4().hex[:10]
    cfg = BrokerConfig(stream=f"CT_{tag}", subject=f"ct{tag}.ingest", ack_wait=2.0)
    yield cfg
    with contextlib.suppress(Exception):  # never created (a test that failed early)
        run_async(delete_stream(cfg))


@pytest.fixture
def pg_sessions(pg_url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(pg_url)
    yield make_sessionmaker(engine)
    engine.dispose()


@dataclass
class Cluster:
    """Receiver and worker processes on one database and one stream."""

    url: str
    config: BrokerConfig
    nats_url: str
    port: int = field(default_factory=_free_port)
    receivers: list[subprocess.Popen[bytes]] = field(default_factory=list)
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def env(self) -> dict[str, str]:
        return dict(
            os.environ,
            CONTINUUM_DATABASE_URL=self.url,
            CONTINUUM_NATS_URL=self.nats_url,
            CONTINUUM_NATS_STREAM=self.config.stream,
            CONTINUUM_NATS_SUBJECT=self.config.subject,
            CONTINUUM_NATS_ACK_WAIT_S=str(self.config.ack_wait),
        )

    def receiver(self) -> subprocess.Popen[bytes]:
        cmd = [CONTINUUM, "ingest", "mllp", "--via", "nats", "--port", str(self.port)]
        proc = subprocess.Popen(cmd, env=self.env(), stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)  # fmt: skip
        self.receivers.append(proc)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return proc
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("receiver did not start")

    def worker(self) -> subprocess.Popen[bytes]:
        cmd = [CONTINUUM, "ingest", "worker", "--batch", "50", "--no-evaluate"]
        proc = subprocess.Popen(cmd, env=self.env(), stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)  # fmt: skip
        self.workers.append(proc)
        return proc

    def stop(self) -> None:
        for p in self.receivers + self.workers:
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    p.kill()


@pytest.fixture
def cluster(pg_url: str, config: BrokerConfig) -> Iterator[Cluster]:
    c = Cluster(pg_url, config, config.url)
    yield c
    c.stop()


def send_round(port: int, todo: list[int], on_ack: Callable[[set[int]], None]) -> set[int]:
    """Pipeline the messages (window 40) on one connection; the indexes acknowledged AA
    until the receiver answered them all or the connection broke."""
    acked: set[int] = set()
    try:
        sender = MllpSender("127.0.0.1", port, timeout=20)
    except OSError:
        return acked
    sent = 0
    try:
        while len(acked) < len(todo):
            while sent < len(todo) and sent - len(acked) < 40:
                sender.send(message(todo[sent]))
                sent += 1
            code, control, _ = msa(sender.read_ack())
            assert code == "AA", control
            acked.add(int(control[1:]))
            on_ack(acked)
    except (ConnectionError, OSError):
        pass
    finally:
        sender.close()
    return acked


def _with(on_ack: Callable[[set[int]], None], before: set[int], got: set[int]) -> None:
    on_ack(before | got)


def send_all(
    port: int, total: int, on_ack: Callable[[set[int]], None], after_round: Callable[[], None]
) -> set[int]:
    """Resend what was not acknowledged until every message was (a sender's duty)."""
    acked: set[int] = set()
    deadline = time.monotonic() + 120
    while len(acked) < total and time.monotonic() < deadline:
        todo = [i for i in range(total) if i not in acked]
        acked |= send_round(port, todo, partial(_with, on_ack, set(acked)))
        after_round()
    return acked


def wait_stored(sessions: sessionmaker[Session], total: int, timeout: float = 90) -> dict[str, int]:
    deadline = time.monotonic() + timeout
    stored = per_message(sessions, "hl7:K%")
    while len(stored) < total and time.monotonic() < deadline:
        time.sleep(0.3)
        stored = per_message(sessions, "hl7:K%")
    time.sleep(1.0)  # anything stored twice would show by now
    return per_message(sessions, "hl7:K%")


async def _stream_state(config: BrokerConfig) -> tuple[int, int]:
    import nats

    nc = await nats.connect(config.url)
    try:
        js = nc.jetstream()
        info = await js.consumer_info(config.stream, config.durable)
        return info.num_pending, info.num_ack_pending
    finally:
        await nc.close()


def wait_drained(config: BrokerConfig, timeout: float = 30) -> tuple[int, int]:
    deadline = time.monotonic() + timeout
    state = run_async(_stream_state(config))
    while state != (0, 0) and time.monotonic() < deadline:
        time.sleep(0.3)
        state = run_async(_stream_state(config))
    return state


def assert_all_once(sessions: sessionmaker[Session], config: BrokerConfig) -> None:
    stored = wait_stored(sessions, TOTAL)
    assert len(stored) == TOTAL, f"{TOTAL - len(stored)} acknowledged messages lost"
    assert set(stored.values()) == {20}, "a message stored twice (or in part)"
    assert wait_drained(config) == (0, 0), "messages left unacknowledged on the broker"


def test_sigkill_receiver_mid_stream(cluster: Cluster, pg_sessions) -> None:  # type: ignore[no-untyped-def]
    cluster.receiver()
    cluster.worker()
    killed: list[int] = []

    def on_ack(acked: set[int]) -> None:
        if len(acked) >= 120 and not killed:
            os.kill(cluster.receivers[0].pid, signal.SIGKILL)
            cluster.receivers[0].wait()
            killed.append(len(acked))

    def after_round() -> None:
        if killed and cluster.receivers[-1].poll() is not None:
            cluster.receiver()

    acked = send_all(cluster.port, TOTAL, on_ack, after_round)
    assert killed and killed[0] < TOTAL, "the kill must land mid-stream"
    assert len(acked) == TOTAL
    sender = MllpSender("127.0.0.1", cluster.port, timeout=20)
    for i in range(10):  # a sender unsure of its ACKs resends: still stored once
        assert msa(sender.exchange(message(i)))[0] == "AA"
    sender.close()
    assert_all_once(pg_sessions, cluster.config)


def test_sigkill_worker_mid_stream(cluster: Cluster, pg_sessions) -> None:  # type: ignore[no-untyped-def]
    cluster.receiver()
    victim = cluster.worker()
    cluster.worker()
    killed: list[int] = []

    def on_ack(acked: set[int]) -> None:
        if killed or len(acked) < 150:
            return
        deadline = time.monotonic() + 30  # the workers are busy: kill one mid-batch
        while len(per_message(pg_sessions, "hl7:K%")) < 40 and time.monotonic() < deadline:
            time.sleep(0.05)
        os.kill(victim.pid, signal.SIGKILL)
        victim.wait()
        killed.append(len(per_message(pg_sessions, "hl7:K%")))

    acked = send_all(cluster.port, TOTAL, on_ack, lambda: None)
    assert len(acked) == TOTAL
    assert killed and killed[0] < TOTAL, "the kill must land mid-stream"
    assert_all_once(pg_sessions, cluster.config)


class Proxy:
    """A TCP relay to NATS whose connections the test cuts (a broken network path)."""

    def __init__(self, target: tuple[str, int] = NATS) -> None:
        self.target = target
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.server.getsockname()[1])
        self.lock = threading.Lock()
        self.conns: list[socket.socket] = []
        self.drops = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.server.accept()
                upstream = socket.create_connection(self.target)
            except OSError:
                return
            with self.lock:
                self.conns += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(a: socket.socket, b: socket.socket) -> None:
        try:
            while data := a.recv(65536):
                b.sendall(data)
        except OSError:
            pass
        for s in (a, b):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)

    def drop(self) -> None:
        with self.lock:
            conns, self.conns = self.conns, []
        for s in conns:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()
        self.drops += 1

    def close(self) -> None:
        self.server.close()
        self.drop()


def test_broker_connections_cut_mid_stream(cluster: Cluster, pg_sessions) -> None:  # type: ignore[no-untyped-def]
    proxy = Proxy()
    cluster.nats_url = f"nats://127.0.0.1:{proxy.port}"
    try:
        cluster.receiver()
        cluster.worker()
        sender = MllpSender("127.0.0.1", cluster.port, timeout=20)
        assert msa(sender.exchange(b"\xff\xfe not hl7"))[0] == "AR"
        bad = message(0).replace("|4.2|", "|fast|", 1).replace("K00000", "BAD0001")
        assert msa(sender.exchange(bad))[:2] == ("AA", "BAD0001")  # queued: a worker judges
        sender.close()

        def on_ack(acked: set[int]) -> None:
            if len(acked) in (100, 200) and proxy.drops < len(acked) // 100:
                proxy.drop()  # receiver's and worker's connections, publishes in flight

        acked = send_all(cluster.port, TOTAL, on_ack, lambda: None)
        assert proxy.drops == 2 and len(acked) == TOTAL
        deadline = time.monotonic() + 30  # and once more while the worker is storing
        while len(per_message(pg_sessions, "hl7:K%")) < 20 and time.monotonic() < deadline:
            time.sleep(0.05)
        proxy.drop()
        assert_all_once(pg_sessions, cluster.config)
        with pg_sessions() as db:
            codes = {r.message_id: r.ack_code for r in db.scalars(select(IngestMessage))}
        assert codes["BAD0001"] == "AE"  # refused by the worker, in the message log
    finally:
        proxy.close()


def test_duplicate_window_and_poison_message(config: BrokerConfig, pg_sessions) -> None:  # type: ignore[no-untyped-def]
    """The broker drops a republished copy; a message whose handling fails every time is
    logged as refused (AR, with the reason) after ``poison_after`` deliveries and dropped,
    while the messages around it are stored."""
    config = BrokerConfig(**{**config.__dict__, "poison_after": 2})

    def parse(m, zone) -> DeviceMessage:  # type: ignore[no-untyped-def]
        msg = parse_broker_message(m, zone)
        if msg.message_id == "K00001":
            raise RuntimeError("simulated crash while reading")
        return msg

    async def scenario() -> tuple[list[bool], IngestWorker]:
        publisher = await Publisher(config).start()
        dup = []
        now = datetime.now(UTC)
        for i in (0, 1, 2, 0):
            body = message(i).encode()
            before = publisher.duplicates
            await publisher.publish("hl7", f"K{i:05d}", body if i else first, now)
            dup.append(publisher.duplicates > before)
        await publisher.close()
        worker = IngestWorker(pg_sessions, config, batch=10, parse=parse)
        stop = asyncio.Event()
        task = asyncio.create_task(worker.run(stop))
        deadline = time.monotonic() + 20
        while (worker.acked < 2 or worker.refused < 1) and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        stop.set()
        await task
        return dup, worker

    first = message(0).encode()
    dup, worker = run_async(scenario())
    assert dup == [False, False, False, True]
    assert (worker.acked, worker.refused) == (2, 1)
    stored = per_message(pg_sessions, "hl7:K%")
    assert stored == {"hl7:K00000": 20, "hl7:K00002": 20}
    with pg_sessions() as db:
        rows = {r.message_id: r for r in db.scalars(select(IngestMessage))}
    refused = rows["K00001"]
    assert refused.ack_code == "AR" and refused.stored == 0
    # At least poison_after deliveries: on a loaded machine a delivery can also be lost in
    # transit (a pull that timed out on the client as the broker sent it counts as delivered
    # and comes back after ack_wait), so the refusal may name a later one.
    counted = re.search(r"not processed after (\d+) deliveries", refused.detail["errors"][0])
    assert counted and int(counted.group(1)) >= 2, refused.detail["errors"]
    assert wait_drained(config) == (0, 0)


class WorkerThread:
    """An ``IngestWorker`` on an event loop of its own (a thread), stopped on exit."""

    def __init__(self, sessions: sessionmaker[Session], config: BrokerConfig) -> None:
        self.worker = IngestWorker(sessions, config, batch=20)
        self.loop = asyncio.new_event_loop()
        self.stop = asyncio.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        self.loop.run_until_complete(self.worker.run(self.stop))

    def __enter__(self) -> IngestWorker:
        self.thread.start()
        return self.worker

    def __exit__(self, *_: object) -> None:
        self.loop.call_soon_threadsafe(self.stop.set)
        self.thread.join(timeout=10)


def test_mqtt_through_jetstream(config: BrokerConfig, pg_sessions) -> None:  # type: ignore[no-untyped-def]
    """Mosquitto → the broker-mode subscriber (PUBACK after the JetStream acknowledgement)
    → a worker: stored once (the republished copy is dropped by the broker's window), the
    receiver's "queued" outcome and then the worker's are published on continuum/ack/…"""
    from tests.ingest.test_fhir_and_mqtt import _broker_up, mqtt_payload

    need(_broker_up(), "Mosquitto is not answering on 127.0.0.1:1883")
    import json

    import paho.mqtt.client as mqtt

    from continuum.ingest.nats_ingest import BrokerMqtt, make_broker_mqtt_client

    tag = uuid.uuid4().hex[:8]
    bridge = BrokerMqtt(config)
    sub = make_broker_mqtt_client(bridge, f"continuum/console/N{tag}", f"test-nsub-{tag}")
    sub.connect("127.0.0.1", 1883)
    sub.loop_start()
    acks: list[dict] = []  # type: ignore[type-arg]
    pub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"test-npub-{tag}")
    pub.on_message = lambda _c, _u, m: acks.append(json.loads(m.payload))
    pub.connect("127.0.0.1", 1883)
    pub.subscribe(f"continuum/ack/N{tag}")
    pub.loop_start()
    try:
        with WorkerThread(pg_sessions, config):
            time.sleep(0.5)
            q1 = mqtt_payload("Q-1", spo2=96)
            big = mqtt_payload("Q-4", spo2=95, note="x" * 1_100_000)  # more than NATS takes
            for body in (q1, q1, mqtt_payload("Q-2", spo2="x"), mqtt_payload("Q-3", spo2=95), big):
                pub.publish(f"continuum/console/N{tag}", body, qos=1).wait_for_publish()
            deadline = time.monotonic() + 20
            while len(acks) < 9 and time.monotonic() < deadline:
                time.sleep(0.05)
    finally:
        for client in (sub, pub):
            client.loop_stop()
            client.disconnect()
        bridge.close()
    queued = [(a["message_id"], a["ack"]) for a in acks if a.get("queued")]
    final = sorted((a["message_id"], a["ack"]) for a in acks if not a.get("queued"))
    assert queued == [("Q-1", "AA"), ("Q-1", "AA"), ("Q-2", "AA"), ("Q-3", "AA"), ("Q-4", "AR")]
    assert final == [("Q-1", "AA"), ("Q-2", "AE"), ("Q-3", "AA"), ("Q-4", "AR")]
    assert per_message(pg_sessions, "mqtt:%") == {"mqtt:Q-1": 1, "mqtt:Q-3": 1}
    with pg_sessions() as db:
        rows = {r.message_id: r for r in db.scalars(select(IngestMessage))}
    assert "larger than the broker takes" in rows["Q-4"].detail["errors"][0]


def test_frame_larger_than_the_broker_takes_is_refused_and_logged(  # type: ignore[no-untyped-def]
    config: BrokerConfig, pg_sessions
) -> None:
    """A frame the listener reads (≤ 4 MB) but the broker would not take (1 MB by default):
    AR at once with the reason, its first bytes published so that a worker logs it; the
    next message on the connection is served as usual."""
    from continuum.ingest.mllp_listener import MllpListener
    from continuum.ingest.nats_ingest import BrokerMllpSubmitter

    big = message(1) + "NTE|1||" + "x" * 1_500_000 + "\r"

    def exchange(port: int) -> list[tuple[str, str, str]]:
        sender = MllpSender("127.0.0.1", port, timeout=20)
        try:
            return [msa(sender.exchange(m)) for m in (big, message(2))]
        finally:
            sender.close()

    async def scenario() -> list[tuple[str, str, str]]:
        publisher = await Publisher(config).start()
        listener = MllpListener(None, submit=BrokerMllpSubmitter(publisher).submit)
        port = _free_port()
        server = await listener.serve("127.0.0.1", port)
        acks = await asyncio.to_thread(exchange, port)
        server.close()
        await publisher.close()
        worker = IngestWorker(pg_sessions, config, batch=10)
        stop = asyncio.Event()
        task = asyncio.create_task(worker.run(stop))
        deadline = time.monotonic() + 20
        while worker.acked < 2 and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        stop.set()
        await task
        return acks

    (code1, id1, text1), (code2, id2, _) = run_async(scenario())
    assert (code1, id1, code2, id2) == ("AR", "K00001", "AA", "K00002")
    assert "larger than the broker takes" in text1
    assert per_message(pg_sessions, "hl7:K%") == {"hl7:K00002": 20}
    with pg_sessions() as db:
        rows = {r.message_id: r for r in db.scalars(select(IngestMessage))}
    assert rows["K00001"].ack_code == "AR"
    assert "larger than the broker takes" in rows["K00001"].detail["errors"][0]


def test_database_outage_sends_the_batch_back_until_it_commits(  # type: ignore[no-untyped-def]
    config: BrokerConfig, pg_sessions, monkeypatch
) -> None:
    """A commit that fails (the database unreachable) is no poison: the batch goes back to
    the broker with a growing delay, is not acknowledged, and is stored once when the
    database answers again — here after two failed deliveries, past ``poison_after``."""
    from sqlalchemy.exc import OperationalError

    from continuum.ingest.mllp_listener import BatchWriter

    config = BrokerConfig(**{**config.__dict__, "poison_after": 2, "max_backoff": 1.0})
    real = BatchWriter.commit
    failures: list[int] = []

    def commit(self, messages, fast=True):  # type: ignore[no-untyped-def]
        if len(failures) < 3:
            failures.append(len(messages))
            raise OperationalError("SELECT 1", {}, Exception("connection refused"))
        return real(self, messages, fast)

    monkeypatch.setattr(BatchWriter, "commit", commit)

    async def scenario() -> IngestWorker:
        publisher = await Publisher(config).start()
        now = datetime.now(UTC)
        for i in range(5):
            await publisher.publish("hl7", f"K{i:05d}", message(i).encode(), now)
        await publisher.close()
        worker = IngestWorker(pg_sessions, config, batch=10)
        stop = asyncio.Event()
        task = asyncio.create_task(worker.run(stop))
        deadline = time.monotonic() + 30
        while worker.acked < 5 and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        stop.set()
        await task
        return worker

    worker = run_async(scenario())
    assert len(failures) == 3 and (worker.acked, worker.refused) == (5, 0)
    assert per_message(pg_sessions, "hl7:K%") == {f"hl7:K{i:05d}": 20 for i in range(5)}
    assert wait_drained(config) == (0, 0)


def test_sigkill_mqtt_receiver_mid_stream(cluster: Cluster, pg_sessions) -> None:  # type: ignore[no-untyped-def]
    """`continuum ingest mqtt --via nats` killed mid-stream: what it had not PUBACKed stays
    in its Mosquitto session and comes again when it restarts; each message stored once."""
    from tests.ingest.test_fhir_and_mqtt import _broker_up, mqtt_payload

    need(_broker_up(), "Mosquitto is not answering on 127.0.0.1:1883")
    import json

    import paho.mqtt.client as mqtt

    tag = uuid.uuid4().hex[:8]
    topic = f"continuum/console/K{tag}"
    cmd = [CONTINUUM, "ingest", "mqtt", "--via", "nats", "--topic", topic,
           "--client-id", f"test-kill-{tag}"]  # fmt: skip

    def receiver() -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(cmd, env=cluster.env(), stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)  # fmt: skip
        cluster.receivers.append(proc)
        return proc

    queued: list[str] = []
    killed: list[int] = []
    base_at = [10**9]  # queued outcomes before the stream (the receiver's first replies)
    first = receiver()

    def on_ack(_c: object, _u: object, m: mqtt.MQTTMessage) -> None:
        body = json.loads(m.payload)
        if body.get("queued"):
            queued.append(body["message_id"])
        if len(queued) >= base_at[0] + 60 and not killed:
            os.kill(first.pid, signal.SIGKILL)
            killed.append(len(queued))

    pub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"test-kpub-{tag}")
    pub.on_message = on_ack
    pub.connect("127.0.0.1", 1883)
    pub.subscribe(f"continuum/ack/K{tag}")
    pub.loop_start()
    try:
        with WorkerThread(pg_sessions, cluster.config):
            deadline = time.monotonic() + 30  # until the receiver has subscribed
            hello = 0
            while not queued and time.monotonic() < deadline:
                pub.publish(topic, mqtt_payload(f"H-{hello}", spo2=96), qos=1)
                hello += 1
                time.sleep(0.2)
            base_at[0] = len(queued)
            for i in range(TOTAL):
                pub.publish(topic, mqtt_payload(f"M-{i:04d}", spo2=96), qos=1)
            deadline = time.monotonic() + 30
            while not killed and time.monotonic() < deadline:
                time.sleep(0.05)
            first.wait()
            got = {q for q in queued if q.startswith("M-")}
            assert killed and len(got) < TOTAL, "the kill must land mid-stream"
            receiver()  # same client id: Mosquitto hands it the rest of its session
            deadline = time.monotonic() + 90
            while len(per_message(pg_sessions, "mqtt:M-%")) < TOTAL:
                assert time.monotonic() < deadline, "acknowledged messages lost"
                time.sleep(0.2)
            time.sleep(1.0)
    finally:
        pub.loop_stop()
        pub.disconnect()
    stored = per_message(pg_sessions, "mqtt:M-%")
    assert len(stored) == TOTAL and set(stored.values()) == {1}
    assert wait_drained(cluster.config) == (0, 0)
