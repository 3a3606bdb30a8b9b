"""The ingest broker's state for the Operations page and its JSON endpoint
(docs/operations.md, *Broker health*).

When the MLLP and MQTT receivers publish to NATS JetStream (``--via nats``), what a hospital's
IT desk needs to know is on the broker: how many messages wait in the stream, how many the
workers hold without having acknowledged them yet, how many were delivered again (a worker
died or could not commit), when a worker last acknowledged one, and which workers are
connected. This module asks the broker (JetStream's own ``$JS.API`` requests, read as JSON,
and a request on the workers' presence subject that each running ``continuum ingest
worker`` answers) and turns the answer into one status with what to do next:

* ``ok``: workers connected, the oldest waiting message younger than ``LAG_S``;
* ``lagging``: messages have waited longer than ``LAG_S`` (too few workers, or the database
  slow or down: the workers' logs say which);
* ``no_workers``: no worker answered: messages wait on the broker until one starts;
* ``missing``: the broker answers but the stream (or JetStream) is not there: no receiver or
  worker has started with these settings, or they name another stream;
* ``unreachable``: no connection to the broker within ``CONNECT_TIMEOUT_S``;
* ``direct``: this installation ingests directly into the database
  (``CONTINUUM_INGEST_VIA=direct``) and the broker has no stream of it: nothing to watch.

No database, no web code: the route module renders it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from continuum.ingest.nats_ingest import BrokerConfig

LAG_S = 10.0  # the oldest message waiting longer than this: lagging
CONNECT_TIMEOUT_S = 2.0
REQUEST_TIMEOUT_S = 2.0
PRESENCE_WAIT_S = 0.5  # how long the workers have to answer
STATUSES = ("ok", "lagging", "no_workers", "missing", "unreachable", "direct")
_STREAM_NOT_FOUND, _CONSUMER_NOT_FOUND = 10059, 10014


@dataclass(frozen=True)
class WorkerSeen:
    """A worker that answered on the presence subject."""

    name: str
    started_at: datetime | None
    acked: int
    refused: int
    last_ack_at: datetime | None


@dataclass
class BrokerHealth:
    status: str
    summary: str
    next_steps: list[str]
    checked_at: datetime
    url: str
    stream: str
    consumer: str
    ingest_via: str
    stream_messages: int | None = None
    stream_bytes: int | None = None
    oldest_waiting_s: float | None = None
    consumer_pending: int | None = None
    ack_pending: int | None = None
    redelivered: int | None = None
    waiting_pulls: int | None = None
    last_ack_at: datetime | None = None
    last_delivered_at: datetime | None = None
    workers: list[WorkerSeen] = field(default_factory=list)
    error: str | None = None


_FRACTION = re.compile(r"\.(\d+)")


def parse_time(text: str | None) -> datetime | None:
    """A Go timestamp (nanoseconds, ``Z``) as an aware datetime; None for Go's zero time."""
    if not text or text.startswith("0001-01-01"):
        return None
    text = _FRACTION.sub(lambda m: "." + m.group(1)[:6].ljust(6, "0"), text, count=1)
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def safe_url(url: str) -> str:
    """The broker's address without a user or password (``nats://user:pw@host``)."""
    return re.sub(r"//[^/@]*@", "//", url)


async def _api(nc: Any, subject: str) -> dict[str, Any]:
    reply = await nc.request(subject, b"", timeout=REQUEST_TIMEOUT_S)
    return dict(json.loads(reply.data))


async def _workers(nc: Any, subject: str) -> list[WorkerSeen]:
    inbox = nc.new_inbox()
    sub = await nc.subscribe(inbox)
    await nc.publish(subject, b"", reply=inbox)
    await nc.flush(timeout=REQUEST_TIMEOUT_S)
    seen: list[WorkerSeen] = []
    loop = asyncio.get_running_loop()
    deadline = loop.time() + PRESENCE_WAIT_S
    while (left := deadline - loop.time()) > 0:
        try:
            m = await sub.next_msg(timeout=left)
        except Exception:  # nats' TimeoutError: no more answers
            break
        try:
            body = json.loads(m.data)
            seen.append(
                WorkerSeen(
                    str(body.get("name", "?"))[:200],
                    parse_time(body.get("started_at")),
                    int(body.get("acked", 0)),
                    int(body.get("refused", 0)),
                    parse_time(body.get("last_ack_at")),
                )
            )
        except (ValueError, TypeError, AttributeError):
            continue  # not a worker's answer
    await sub.unsubscribe()
    return sorted(seen, key=lambda w: w.name)


async def check(
    config: BrokerConfig, ingest_via: str = "nats", lag_s: float = LAG_S
) -> BrokerHealth:
    """Ask the broker; never raises for a broker that is down or misconfigured."""
    import nats

    now = datetime.now(UTC)
    health = BrokerHealth(
        "unreachable", "", [], now, safe_url(config.url), config.stream, config.durable, ingest_via
    )

    async def quiet(_exc: Exception) -> None:  # no reconnect noise in the app's log
        return None

    try:
        # nats-py retries a refused first connection for a while: ask TCP first
        await _reachable(config.url)
        nc = await asyncio.wait_for(
            nats.connect(
                config.url,
                connect_timeout=CONNECT_TIMEOUT_S,
                allow_reconnect=False,
                max_reconnect_attempts=1,
                reconnect_time_wait=0,
                name="continuum-health",
                error_cb=quiet,
            ),
            CONNECT_TIMEOUT_S + 1,
        )
    except Exception as exc:
        health.error = _describe(exc)
        return _judge(health, lag_s)
    try:
        await _read(nc, config, health)
    except Exception as exc:  # the connection dropped half way, a request timed out
        health.status = "unreachable"
        health.error = _describe(exc)
    finally:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(nc.close(), REQUEST_TIMEOUT_S)
    return _judge(health, lag_s)


async def _reachable(url: str) -> None:
    """Raise when the first broker address refuses a TCP connection or does not answer."""
    from urllib.parse import urlsplit

    first = urlsplit(url.split(",")[0].strip())
    host, port = first.hostname or "127.0.0.1", first.port or 4222
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), CONNECT_TIMEOUT_S)
    except TimeoutError:
        raise ConnectionError(f"{host}:{port} did not answer in {CONNECT_TIMEOUT_S:g} s") from None
    except ConnectionRefusedError:
        raise ConnectionError(
            f"{host}:{port} refused the connection (nothing listens there)"
        ) from None
    except OSError as exc:
        raise ConnectionError(f"{host}:{port}: {exc.strerror or exc}") from None
    writer.close()


async def _read(nc: Any, config: BrokerConfig, health: BrokerHealth) -> None:
    from nats.errors import NoRespondersError

    try:
        info = await _api(nc, f"$JS.API.STREAM.INFO.{config.stream}")
    except NoRespondersError:
        health.status, health.error = "missing", "JetStream is not enabled on this broker"
        return
    if "error" in info:
        code = info["error"].get("err_code")
        health.status = "missing"
        health.error = (
            f"stream {config.stream} does not exist"
            if code == _STREAM_NOT_FOUND
            else str(info["error"].get("description", info["error"]))
        )
        return
    state = info.get("state", {})
    health.stream_messages = int(state.get("messages", 0))
    health.stream_bytes = int(state.get("bytes", 0))
    oldest = parse_time(state.get("first_ts")) if health.stream_messages else None
    if oldest is not None:
        health.oldest_waiting_s = max(0.0, (health.checked_at - oldest).total_seconds())
    consumer = await _api(nc, f"$JS.API.CONSUMER.INFO.{config.stream}.{config.durable}")
    if "error" not in consumer:
        health.consumer_pending = int(consumer.get("num_pending", 0))
        health.ack_pending = int(consumer.get("num_ack_pending", 0))
        health.redelivered = int(consumer.get("num_redelivered", 0))
        health.waiting_pulls = int(consumer.get("num_waiting", 0))
        health.last_ack_at = parse_time((consumer.get("ack_floor") or {}).get("last_active"))
        health.last_delivered_at = parse_time((consumer.get("delivered") or {}).get("last_active"))
    elif consumer["error"].get("err_code") != _CONSUMER_NOT_FOUND:
        health.error = str(consumer["error"].get("description", consumer["error"]))
    health.workers = await _workers(nc, config.presence_subject)
    if health.last_ack_at is None:  # a broker without ack_floor times: the workers' own
        times = [w.last_ack_at for w in health.workers if w.last_ack_at is not None]
        health.last_ack_at = max(times) if times else None
    health.status = "read"


def _describe(exc: BaseException) -> str:
    text = str(exc).strip()
    if type(exc) is ConnectionError and text:  # ours (_reachable): already says what
        return text
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _judge(h: BrokerHealth, lag_s: float = LAG_S) -> BrokerHealth:
    """The status, a one-line summary and the next steps."""
    url, stream = h.url, h.stream
    if h.ingest_via == "direct" and h.status in ("unreachable", "missing"):
        h.status = "direct"
        h.summary = (
            "Ingest writes to the database directly (CONTINUUM_INGEST_VIA=direct): the broker "
            "is not used by this installation."
        )
        h.next_steps = [
            "Nothing to do. With several receivers or app servers, see docs/ingest.md "
            "(Through the broker) for when to switch to --via nats."
        ]
        return h
    if h.status == "unreachable":
        h.summary = f"The broker at {url} does not answer: {h.error}."
        h.next_steps = [
            "Start NATS or check it is running: systemctl status nats-server "
            "(it must run with JetStream: -js).",
            f"Check CONTINUUM_NATS_URL on this server (now {url}) and the firewall between "
            "the receivers, the workers and the broker.",
            "Meanwhile the MLLP and MQTT receivers acknowledge nothing, so senders keep their "
            "messages and resend them: nothing is lost, nothing new is stored.",
        ]
        return h
    if h.status == "missing":
        h.summary = f"The broker answers but has no ingest stream {stream} ({h.error})."
        h.next_steps = [
            "Start a receiver or a worker with --via nats: the first one creates the stream.",
            "Check that CONTINUUM_NATS_STREAM is the same for the receivers, the workers and "
            f"this app (this app looks for {stream}).",
        ]
        return h
    # The stream keeps work-queue retention: a message leaves it once a worker acknowledges
    # it, so the stream's own count is what waits. The consumer's counts are not added up
    # instead: JetStream can count a message given back by a failing worker both as pending
    # and as awaiting its acknowledgement for a while (3 for 2 messages, seen in CI).
    waiting = (
        h.stream_messages
        if h.stream_messages is not None
        else (h.consumer_pending or 0) + (h.ack_pending or 0)
    )
    if not h.workers:
        h.status = "no_workers"
        h.summary = (
            f"No ingest worker is connected; {waiting} message(s) wait on the broker."
            if waiting
            else "No ingest worker is connected: messages that arrive will wait on the broker."
        )
        h.next_steps = [
            "Start the workers: systemctl start continuum-ingest-worker@1 (or `continuum "
            "ingest worker`); with systemd they restart by themselves after a failure.",
            "If they are running, read their log (journalctl -u 'continuum-ingest-worker@*'): "
            "a worker that cannot reach the database or the broker says so.",
        ]
        return h
    if h.oldest_waiting_s is not None and h.oldest_waiting_s > lag_s:
        h.status = "lagging"
        h.summary = (
            f"{waiting} message(s) wait; the oldest arrived {h.oldest_waiting_s:.0f} s ago "
            f"(more than {lag_s:g} s), {len(h.workers)} worker(s) connected."
        )
        h.next_steps = [
            "Read the workers' log (journalctl -u 'continuum-ingest-worker@*'): 'commit "
            "failed' means the database is slow or down; fix that first.",
            "If the database is fine, add a worker: systemctl start continuum-ingest-worker@"
            f"{len(h.workers) + 1} (they share the work).",
        ]
        if h.redelivered:
            h.next_steps.append(
                f"{h.redelivered} message(s) were delivered again (a worker died or held them "
                "past CONTINUUM_NATS_ACK_WAIT_S); each is stored once."
            )
        return h
    h.status = "ok"
    h.summary = f"{len(h.workers)} worker(s) connected; {waiting} message(s) waiting" + (
        f", the oldest {h.oldest_waiting_s:.1f} s old." if h.oldest_waiting_s else "."
    )
    h.next_steps = ["Nothing to do."]
    return h
