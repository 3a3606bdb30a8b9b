"""tests/shared_dialects.py: engines of one kind share the first one's dialect and compiled
statements, and each still reads and writes its own database."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, insert, select

from continuum import db as db_module
from tests import shared_dialects

NOTES = Table("notes", MetaData(), Column("id", Integer, primary_key=True), Column("text", String))


def _filled(make, path: Path, text: str):  # type: ignore[no-untyped-def]
    engine = make(f"sqlite:///{path}")
    NOTES.metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(insert(NOTES).values(text=text))
    return engine


def _texts(engine) -> list[str]:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return list(conn.scalars(select(NOTES.c.text)))


def test_a_later_engine_shares_dialect_and_statements_but_reads_its_own_database(
    tmp_path: Path,
) -> None:
    make = shared_dialects.share(create_engine)
    first = _filled(make, tmp_path / "a.db", "from a")
    second = _filled(make, tmp_path / "b.db", "from b")
    assert second.dialect is first.dialect
    assert second.pool._dialect is first.dialect
    assert second._compiled_cache is first._compiled_cache
    assert first._compiled_cache is not None
    assert first._compiled_cache.capacity == shared_dialects.CACHE_SIZE
    assert _texts(first) == ["from a"]
    assert _texts(second) == ["from b"]  # same compiled SELECT, its own file
    assert len(first._compiled_cache) > 0
    cached = len(first._compiled_cache)
    third = _filled(make, tmp_path / "c.db", "from c")
    assert _texts(third) == ["from c"]
    assert len(first._compiled_cache) == cached  # nothing compiled again
    for engine in (first, second, third):
        engine.dispose()


def test_an_engine_made_before_the_first_connects_keeps_its_own(tmp_path: Path) -> None:
    make = shared_dialects.share(create_engine)
    early = make(f"sqlite:///{tmp_path / 'early.db'}")
    lender = _filled(make, tmp_path / "a.db", "from a")  # the first of its kind to connect
    assert early.dialect is not lender.dialect  # made before any dialect was initialised
    NOTES.metadata.create_all(early)
    assert _texts(early) == []
    later = _filled(make, tmp_path / "b.db", "from b")
    assert later.dialect is lender.dialect and early.dialect is not lender.dialect
    for engine in (early, lender, later):
        engine.dispose()


def test_other_options_or_drivers_get_their_own(tmp_path: Path) -> None:
    make = shared_dialects.share(create_engine)
    plain = _filled(make, tmp_path / "a.db", "a")
    logged = make(f"sqlite:///{tmp_path / 'b.db'}", echo_pool=False)
    uncached = make(f"sqlite:///{tmp_path / 'c.db'}", query_cache_size=0)
    assert logged.dialect is not plain.dialect
    assert uncached._compiled_cache is None  # query_cache_size=0 is kept
    kind_of = shared_dialects.kind_of
    pg = "postgresql+psycopg://postgres@127.0.0.1:5432/"
    assert kind_of(pg + "ct_a", {}) == kind_of(pg + "ct_b", {})  # databases differ: one kind
    assert kind_of("sqlite:///x.db", {}) != kind_of(pg + "x", {})
    assert kind_of(pg + "x?application_name=a", {}) != kind_of(pg + "x", {})
    assert kind_of(pg + "x", {"pool_size": 8}) != kind_of(pg + "x", {})
    for engine in (plain, logged, uncached):
        engine.dispose()


def test_the_suite_has_it_installed(sqlite_url: str) -> None:
    assert db_module.create_engine is not create_engine
    first = db_module.make_engine(sqlite_url)
    second = db_module.make_engine(sqlite_url)
    with first.connect() as conn:  # lends, if no engine of its kind had connected yet
        conn.exec_driver_sql("select 1")
    with second.connect() as conn:
        conn.exec_driver_sql("select 1")
    third = db_module.make_engine(sqlite_url)
    assert third.dialect is first.dialect and third._compiled_cache is first._compiled_cache
    for engine in (first, second, third):
        engine.dispose()
