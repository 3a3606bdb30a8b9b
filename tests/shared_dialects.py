"""One SQL dialect and one compiled-statement cache for every engine a test process makes
with the same driver and options (installed for every test by tests/conftest.py).

SQLAlchemy compiles each statement once per engine and keeps it in that engine's cache,
under a key that holds the engine's dialect object; the ORM's per-mapper caches (INSERT and
UPDATE of a flush) key on the dialect too. A served process has one engine, so it compiles
each statement once. A test process makes a new engine for almost every test, so every test
compiled again what the tests before it had compiled: 11,462 compilations for 2,098
different statements in tests/core and tests/alerts, about a tenth of the workers' CPU.

``share(create_engine)`` wraps ``continuum.db.create_engine``: the first engine of each kind
(``kind_of``: URL driver, URL query and ``create_engine`` options) that connects lends its
dialect, initialised on that first connection, and its cache to every later engine of the
same kind. Each engine
keeps its own URL, pool and connections, so each test still reads and writes its own
database; only the compiled SQL text and the dialect's description of the server (one
PostgreSQL server, one SQLite library) are shared. An engine made before the first of its
kind has connected keeps its own dialect and cache."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.util import LRUCache

# Different statements the suite compiles per dialect: about 2,100 (SQLAlchemy's own default
# is 500 per engine, enough for one served app).
CACHE_SIZE = 10_000

Kind = tuple[str, str, str]


def kind_of(url: Any, options: dict[str, Any]) -> Kind:
    """Engines of one kind build the same dialect: same driver, same URL query, same
    ``create_engine`` options (the host and database may differ)."""
    parsed = make_url(url)
    return parsed.drivername, repr(sorted(parsed.query.items())), repr(sorted(options.items()))


def share(create_engine: Callable[..., Engine]) -> Callable[..., Engine]:
    """``create_engine`` with the dialect and compiled statements of the first engine of
    each kind that connected."""
    lenders: dict[Kind, tuple[Any, LRUCache[Any, Any]]] = {}

    def create(url: Any, **options: Any) -> Engine:
        engine = create_engine(url, **options)
        kind = kind_of(url, options)
        if engine._compiled_cache is None:  # query_cache_size=0: this engine caches nothing
            return engine
        if kind in lenders:
            dialect, cache = lenders[kind]
            engine.dialect = dialect
            engine.pool._dialect = dialect
            engine._compiled_cache = cache
            return engine

        @event.listens_for(engine, "connect")
        def lend(_dbapi_connection: Any, _record: Any) -> None:
            # Runs after SQLAlchemy's own first-connect step has initialised the dialect.
            if kind not in lenders:
                engine._compiled_cache = LRUCache(CACHE_SIZE)
                lenders[kind] = (engine.dialect, engine._compiled_cache)

        return engine

    return create
