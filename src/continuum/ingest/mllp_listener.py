"""HL7 v2 over MLLP: an asyncio listener on the ``hl7.mllp`` streams (docs/contracts.md §2b).

Each connection reads frames and queues parsed messages; one writer commits them in
batches (messages that arrive while a commit runs share the next one) and only then are
the ACKs written, in order, per connection. A batch of several messages commits on a
worker thread while frames keep being read; a lone message (a lock-step sender waiting)
commits on the event loop's thread, sparing two thread switches. So AA never leaves before
its observations are committed, and a sender may pipeline. Garbage between frames is
skipped; a frame that is not HL7 gets AR; a truncated frame gets no ACK (the sender resends).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo

import hl7.mllp
from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from continuum.core.observation_service import STATEMENT_PARTS
from continuum.core.roles import Actor
from continuum.hooks import install_all_hooks
from continuum.ingest.device_message import DeviceMessage, MessageRefused
from continuum.ingest.device_service import (
    AmendmentUnmatched,
    Outcome,
    ReferenceCache,
    store_messages,
)
from continuum.ingest.hl7_message import ack, read_header, read_oru_fast

log = logging.getLogger("continuum.ingest.mllp")
START, END = b"\x0b", b"\x1c\x0d"
MAX_FRAME = 4 * 1024 * 1024
LISTENER = Actor(staff_id=None, name="MLLP listener", role="integration", client="mllp")


class BatchWriter:
    """Serialises commits: each submitted message resolves after its batch committed.

    On PostgreSQL a batch is written as ONE statement on a connection in autocommit mode
    (``pg_writes.store`` with the after-store hooks' writes in it), so the statement is its
    own transaction: one round trip and one WAL flush per batch, all or nothing. Anything
    else, and every retry, goes through an ordinary unit of work."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        actor: Actor,
        max_batch: int = 500,
        hold_amendments: bool = False,
    ):
        install_all_hooks()  # stored batches run every domain's after-store hooks
        self.sessions = sessions
        self.actor = actor
        self.max_batch = max_batch
        # Broker workers: a correction or withdrawal whose original is not stored yet comes
        # back as a held outcome (nothing stored or logged) instead of amending nothing.
        self.hold_amendments = hold_amendments
        self.cache = ReferenceCache()
        self.queue: asyncio.Queue[tuple[DeviceMessage, asyncio.Future[Outcome]]] = asyncio.Queue()
        self.executor = ThreadPoolExecutor(1, thread_name_prefix="ingest-commit")
        self.committed_batches = 0
        engine = sessions.kw["bind"]
        self.single_statement = engine.dialect.name == "postgresql"
        self._connection: Connection | None = None  # transactions (fallback, SQLite)
        self._autocommit: Connection | None = None  # single statements (PostgreSQL)

    def _live(self, connection: Connection | None, autocommit: bool = False) -> Connection:
        if connection is None or connection.invalidated or connection.closed:
            connection = self.sessions.kw["bind"].connect()
            if autocommit:
                connection = connection.execution_options(isolation_level="AUTOCOMMIT")
        return connection

    @contextmanager
    def unit_of_work(self) -> Iterator[Session]:
        """One transaction on the writer's own long-lived connection (no pool check-out,
        ping and reset per batch); a broken connection is replaced on the next batch."""
        self._connection = self._live(self._connection)
        session = Session(bind=self._connection, expire_on_commit=False, autoflush=True)
        # Surveillance is marked due here and evaluated by the listener's DueEvaluator
        # (alerts.due) moments later, so an ACK never waits for the detectors.
        session.info["defer_surveillance"] = True
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            self._reset_after_failure()
            raise
        finally:
            session.close()

    @contextmanager
    def single_statement_session(self) -> Iterator[Session]:
        """PostgreSQL: a session on the writer's autocommit connection. Its reads (the
        reference cache's, every few seconds) run on their own; ``store_messages`` writes
        the batch, due marks included, as one statement that commits by itself."""
        self._autocommit = self._live(self._autocommit, autocommit=True)
        session = Session(bind=self._autocommit, expire_on_commit=False, autoflush=False)
        session.info["defer_surveillance"] = True
        session.info[STATEMENT_PARTS] = []
        try:
            yield session
        except OperationalError:
            self._autocommit.close()  # server gone: a new connection for the next batch
            self._autocommit = None
            raise
        finally:
            session.close()

    def _reset_after_failure(self) -> None:
        """Leave the long-lived connection idle, or drop it when that fails."""
        connection = self._connection
        if connection is None:
            return
        try:
            if not connection.invalidated:
                connection.rollback()
                return
        except Exception:
            log.warning("replacing the database connection after a failed batch")
        connection.close()
        self._connection = None

    def submit(self, msg: DeviceMessage) -> asyncio.Future[Outcome]:
        future: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        self.queue.put_nowait((msg, future))
        return future

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            batch = [await self.queue.get()]
            while not self.queue.empty() and len(batch) < self.max_batch:
                batch.append(self.queue.get_nowait())
            messages = [m for m, _ in batch]
            try:
                if len(messages) == 1:
                    # A lone message has a sender waiting for it (lock-step): committed
                    # right here, it is spared two thread switches (~15 % of its time).
                    outcomes = self.commit(messages)
                else:  # frames keep being read and parsed while a larger batch commits
                    outcomes = await loop.run_in_executor(self.executor, self.commit, messages)
            except Exception as exc:  # database unreachable: no ACK, the sender resends
                log.error("commit failed, %d messages not acknowledged: %s", len(batch), exc)
                outcomes = [exc] * len(batch)  # type: ignore[list-item]
            for (_, future), outcome in zip(batch, outcomes, strict=True):
                if not future.done():
                    if isinstance(outcome, Exception):
                        future.set_exception(outcome)
                    else:
                        future.set_result(outcome)

    def commit(
        self, messages: list[DeviceMessage], fast: bool = True, hold: bool | None = None
    ) -> list[Outcome]:
        """One transaction for the batch; if it fails (e.g. a resent control id hit the
        unique constraint), each message on its own, with the duplicate look-up.
        ``hold`` (default ``hold_amendments``): a message that corrects or withdraws a value
        not stored yet is left out (``Outcome.held``) and the rest committed without it."""
        hold = self.hold_amendments if hold is None else hold
        try:
            # Corrections and withdrawals read and mark earlier values: an ordinary unit
            # of work (rare; the plain batches keep the single statement).
            if fast and self.single_statement and not any(m.amends for m in messages):
                with self.single_statement_session() as db:
                    outcomes = store_messages(db, self.actor, messages, self.cache, False)
            else:
                with self.unit_of_work() as db:
                    outcomes = store_messages(
                        db, self.actor, messages, self.cache, not fast, hold_unmatched=hold
                    )
            self.committed_batches += 1
            return outcomes
        except OperationalError:
            raise
        except AmendmentUnmatched as exc:  # rolled back: the rest again, without them
            held = set(exc.message_ids)
            rest = [m for m in messages if m.message_id not in held]
            stored = iter(self.commit(rest, fast, hold) if rest else [])
            return [
                Outcome(m.message_id, "AA", held=True) if m.message_id in held else next(stored)
                for m in messages
            ]
        except Exception as exc:
            if fast:
                return [self.commit([m], fast=False, hold=hold)[0] for m in messages]
            return [self._alone_failed(messages[0], exc)]

    def _alone_failed(self, msg: DeviceMessage, exc: Exception) -> Outcome:
        if isinstance(exc, IntegrityError):  # committed meanwhile by another process
            retry = self.commit_once(msg)
            if retry is not None:
                return retry
        log.exception("message %s could not be stored", msg.message_id, exc_info=exc)
        return Outcome(msg.message_id, "AE", errors=["could not be stored (internal error)"])

    def commit_once(self, msg: DeviceMessage) -> Outcome | None:
        try:
            with self.unit_of_work() as db:
                return store_messages(db, self.actor, [msg], self.cache)[0]
        except Exception:
            return None


@dataclass(frozen=True)
class Oversized:
    """A frame larger than MAX_FRAME: its first bytes (for the control id) and its size."""

    head: bytes
    size: int


HEAD = 65536  # bytes of an oversized frame kept to read its MSH segment


async def read_frame(reader: asyncio.StreamReader) -> bytes | Oversized | None:
    """The next framed block; None at end of stream (a truncated last frame is dropped).
    A frame larger than MAX_FRAME is read off the stream without being kept (Oversized)."""
    while True:
        try:
            block = await reader.readuntil(END)
        except asyncio.IncompleteReadError:
            return None
        except asyncio.LimitOverrunError as exc:
            head = await reader.readexactly(exc.consumed)
            start = head.rfind(START)
            if start < 0:  # no frame start in it: bytes outside any frame
                log.warning("skipped %d bytes outside any MLLP frame", len(head))
                continue
            return await _rest_of_long_frame(reader, head[start + 1 :])
        start = block.rfind(START)
        if start < 0:
            log.warning("skipped %d bytes outside any MLLP frame", len(block))
            continue
        return bytes(block[start + 1 : -2])


async def _rest_of_long_frame(
    reader: asyncio.StreamReader, first: bytes
) -> bytes | Oversized | None:
    """Read a frame that overran the stream limit up to its end block, keeping its bytes only
    while it is within MAX_FRAME (a later start block restarts the frame, as in read_frame)."""
    parts, size, head = [first], len(first), first[:HEAD]
    while True:
        try:
            chunk = await reader.readuntil(END)
            last = True
        except asyncio.IncompleteReadError:
            return None  # truncated: no ACK, the sender resends
        except asyncio.LimitOverrunError as exc:
            chunk, last = await reader.readexactly(exc.consumed), False
        body = chunk[:-2] if last else chunk
        restart = body.rfind(START)
        if restart >= 0:
            body = body[restart + 1 :]
            parts, size, head = [], 0, body[:HEAD]
        elif len(head) < HEAD:
            head += body[: HEAD - len(head)]
        size += len(body)
        if size <= MAX_FRAME:
            parts.append(bytes(body))
        else:
            parts = []
        if last:
            if size <= MAX_FRAME:
                return b"".join(parts)
            log.warning("refused a frame of %d bytes: larger than %d", size, MAX_FRAME)
            return Oversized(bytes(head), size)


def parse_frame(frame: bytes | Oversized, peer: str, zone: tzinfo) -> DeviceMessage:
    received = datetime.now(UTC)
    if isinstance(frame, Oversized):
        control_id, app, facility = read_header(frame.head)
        reason = (
            f"frame larger than {MAX_FRAME // (1024 * 1024)} MB ({frame.size:,} bytes): "
            "not read; send the observations in smaller messages"
        )
        return DeviceMessage(
            "hl7", control_id, None, [], received, [reason], peer, "AR", app, facility
        )
    try:
        msg = read_oru_fast(frame, received_at=received, zone=zone)
    except MessageRefused as exc:
        return DeviceMessage.refused("hl7", exc, received, peer)
    msg.peer = peer
    return msg


def ack_for(outcome: Outcome, msg: DeviceMessage | None = None) -> bytes:
    """The ACK for an outcome; MSH-5/6 echo the message's sender (MSH-3/4) when given."""
    receiving = (msg.sender_application, msg.sender_facility) if msg else ("", "")
    text = ack(
        outcome.ack,
        outcome.message_id,
        errors=outcome.errors,
        warnings=outcome.warnings,
        receiving=receiving,
    )
    return text.encode("utf-8")


Pending = asyncio.Queue[tuple[DeviceMessage, asyncio.Future[Outcome]] | None]
# Broker mode (``nats_ingest.BrokerMllpSubmitter.submit``): the frame goes to the broker,
# the future resolves once the broker stored it.
Submit = Callable[[DeviceMessage, "bytes | Oversized"], asyncio.Future[Outcome]]


class MllpListener:
    def __init__(
        self,
        sessions: sessionmaker[Session] | None,
        zone: tzinfo = UTC,
        actor: Actor = LISTENER,
        on_outcome: Callable[[Outcome], None] | None = None,
        submit: Submit | None = None,
    ) -> None:
        self.writer = BatchWriter(sessions, actor) if sessions is not None else None
        self.submit = submit
        self.zone = zone
        self.on_outcome = on_outcome

    async def serve(self, host: str, port: int) -> asyncio.Server:
        if self.writer is not None and self.submit is None:
            asyncio.get_running_loop().create_task(self.writer.run())
        return await hl7.mllp.start_hl7_server(self.handle, host, port, limit=MAX_FRAME)

    def _submit(self, msg: DeviceMessage, frame: bytes | Oversized) -> asyncio.Future[Outcome]:
        if self.submit is not None:
            return self.submit(msg, frame)
        assert self.writer is not None
        return self.writer.submit(msg)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        host, port = (writer.get_extra_info("peername") or ("?", "?"))[:2]
        peer = f"{host}:{port}"
        pending: Pending = asyncio.Queue()
        sender = asyncio.create_task(self._send_acks(writer, pending))
        try:
            while (frame := await read_frame(reader)) is not None:
                msg = parse_frame(frame, peer, self.zone)
                pending.put_nowait((msg, self._submit(msg, frame)))
        except (ConnectionError, OSError) as exc:
            log.info("connection from %s ended: %s", peer, exc)
        finally:
            pending.put_nowait(None)
            await sender

    async def _send_acks(self, writer: asyncio.StreamWriter, pending: Pending) -> None:
        try:
            while (item := await pending.get()) is not None:
                msg, future = item
                outcome = await future
                writer.write(START + ack_for(outcome, msg) + END)
                await writer.drain()
                if self.on_outcome:
                    self.on_outcome(outcome)
        except Exception as exc:  # commit failed or peer gone: close without ACK
            log.warning("closing connection without ACK: %s", exc)
        finally:
            writer.close()
