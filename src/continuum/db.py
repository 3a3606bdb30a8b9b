"""Engine, sessions and the declarative base. Engines are made by the caller, not at import."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import DateTime, Engine, MetaData, create_engine, event
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on both SQLite and PostgreSQL.

    Naive datetimes are refused: every clinical time must say where it is.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime refused: give a time zone")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


def make_engine(url: str, **kwargs: Any) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False, autoflush=True)


@contextmanager
def unit_of_work(factory: sessionmaker[Session]) -> Iterator[Session]:
    """The one commit boundary: commit on success, roll back on any error."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


# PostgreSQL's SQLSTATEs for a transaction it aborted because another one, running at the
# same moment, got in the way: the work was rolled back whole and succeeds if sent again.
BUSY_SQLSTATES = {
    "40P01": "it deadlocked with another change made at the same moment",
    "40001": "another change made at the same moment conflicted with it",
    "55P03": "another change held a lock it needed",
}


def busy_reason(exc: BaseException) -> str | None:
    """Why the database refused a unit of work because of another running at the same moment
    (PostgreSQL's deadlock, serialization failure or lock not available; SQLite's "database
    is locked" once its busy timeout ran out), or None for any other error. The unit of work
    was rolled back, so sending it again is safe."""
    from sqlalchemy.exc import DBAPIError

    if not isinstance(exc, DBAPIError):
        return None
    state = getattr(exc.orig, "sqlstate", None)
    if state in BUSY_SQLSTATES:
        return BUSY_SQLSTATES[state]
    text = str(exc.orig).lower()
    if "database is locked" in text or "database table is locked" in text:
        return "another change held the database file's lock"
    return None


@contextmanager
def driver_errors(statement: str) -> Iterator[None]:
    """Work done on the raw driver connection (COPY, pipelines) raises what SQLAlchemy
    would have raised for it: IntegrityError, OperationalError, … (the driver's error is
    kept as ``.orig``), so callers handle one family of exceptions."""
    from sqlalchemy.exc import DBAPIError

    try:
        yield
    except Exception as exc:
        base = _driver_error_base(exc)
        if base is None:
            raise
        raise DBAPIError.instance(statement, None, exc, base) from exc


def _driver_error_base(exc: Exception) -> type[Exception] | None:
    try:
        import psycopg
    except ImportError:  # pragma: no cover - psycopg is a dependency
        return None
    return psycopg.Error if isinstance(exc, psycopg.Error) else None
