"""How one app process shares its database connections and threads between requests.

The rule: nothing blocking runs on the event loop (database queries, argon2 hashing, file
reads are in plain ``def`` routes and dependencies, which FastAPI runs in the threadpool),
and a request never waits for a pooled connection while holding a thread that another
request needs in order to give one back.

Sizing (per process, ``CONTINUUM_DB_CONNECTIONS`` = C, default 20):

* the engine's pool holds C connections plus ``BACKGROUND_CONNECTIONS`` overflow for the
  app's own threads (the surveillance evaluator, housekeeping), which take no slot;
* at most C requests hold a *database slot* at once (an asyncio semaphore awaited on the
  event loop before the request's session exists, released after its commit). A slot
  holder therefore always finds a free connection: checkout never waits, so the pool
  timeout is a safety net, not a queue. Requests beyond C wait on the loop, holding
  nothing — the loop stays free for the health check and everyone else;
* the threadpool has C + ``SPARE_THREADS`` threads: every slot holder can run at once and
  there are threads left for work without the database (health check, static files,
  calculators). Before this, 20 parallel requests exhausted the 5 + 10 pool and blocked
  the loop in ``get_actor`` for minutes.

With PostgreSQL's default ``max_connections`` (100) that is about four app processes at
the default C; raise the server's limit or lower C when running more.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request

from continuum.web.signatures import resolved

BACKGROUND_CONNECTIONS = 4
SPARE_THREADS = 20


def pool_args(database_url: str, connections: int) -> dict[str, Any]:
    """Engine keyword arguments: a fixed pool of ``connections`` plus the background ones."""
    if database_url.startswith("sqlite") and ":memory:" in database_url:
        return {}  # one shared in-memory connection: no pool to size
    return {
        "pool_size": connections,
        "max_overflow": BACKGROUND_CONNECTIONS,
        "pool_timeout": 30,
    }


def threads_for(connections: int) -> int:
    return connections + SPARE_THREADS


def configure_threadpool(connections: int) -> None:
    """Size the threadpool FastAPI runs sync routes and dependencies in (call on startup)."""
    import anyio.to_thread

    limiter = anyio.to_thread.current_default_thread_limiter()
    limiter.total_tokens = max(limiter.total_tokens, threads_for(connections))


def _slots(app: FastAPI) -> asyncio.Semaphore:
    """One semaphore per app and event loop (tests run several loops over one app)."""
    per_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] | None
    per_loop = getattr(app.state, "db_slots", None)
    if per_loop is None:
        per_loop = app.state.db_slots = weakref.WeakKeyDictionary()
    loop = asyncio.get_running_loop()
    slots = per_loop.get(loop)
    if slots is None:
        slots = per_loop[loop] = asyncio.Semaphore(app.state.settings.db_connections)
    return slots


@asynccontextmanager
async def db_slot(app: FastAPI) -> AsyncIterator[None]:
    """Hold one of the process's database slots (waits on the loop, holding nothing)."""
    slots = _slots(app)
    async with slots:
        yield


@resolved  # FastAPI reads it for nearly every route (web/signatures.py)
async def _request_slot(request: Request) -> AsyncIterator[None]:
    async with db_slot(request.app):
        yield


DbSlot = Annotated[None, Depends(_request_slot, scope="function")]
