"""API shapes of the Operations pages (the ingest broker's health)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from continuum.core.schemas import Out

BrokerStatus = Literal["ok", "lagging", "no_workers", "missing", "unreachable", "direct"]


class WorkerOut(Out):
    name: str = Field(description="host:process id of a connected `continuum ingest worker`")
    started_at: datetime | None
    acked: int = Field(description="messages it stored and acknowledged since it started")
    refused: int = Field(description="messages it refused after repeated failures")
    last_ack_at: datetime | None


class BrokerHealthOut(Out):
    """The NATS JetStream ingest stream and its workers' consumer, and what to do next.
    Answered with 200 whatever the broker's state: read ``status``."""

    status: BrokerStatus = Field(
        description="ok; lagging (the oldest waiting message is older than lag_threshold_s); "
        "no_workers; missing (no stream, or no JetStream); unreachable; direct (this "
        "installation ingests directly, the broker is not used)"
    )
    summary: str
    next_steps: list[str]
    checked_at: datetime
    url: str = Field(description="CONTINUUM_NATS_URL without credentials")
    stream: str
    consumer: str
    ingest_via: Literal["direct", "nats"]
    lag_threshold_s: float
    stream_messages: int | None = Field(description="messages in the stream (not yet stored)")
    stream_bytes: int | None
    oldest_waiting_s: float | None = Field(description="age of the oldest message waiting")
    consumer_pending: int | None = Field(description="not yet delivered to a worker")
    ack_pending: int | None = Field(description="delivered, not yet acknowledged")
    redelivered: int | None = Field(description="of those, delivered more than once")
    waiting_pulls: int | None = Field(description="workers' fetch requests waiting for work")
    last_ack_at: datetime | None = Field(description="when a worker last acknowledged one")
    last_delivered_at: datetime | None
    workers: list[WorkerOut]
    error: str | None
