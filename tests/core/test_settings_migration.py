"""Migration 0016 on both databases: the values a programme set are kept, a weaning range
pair becomes two settings the service reads, and a physician lead may be stored."""

from __future__ import annotations

import json
import uuid

import pytest
from alembic import command
from sqlalchemy import text

from continuum.core import settings_service
from continuum.db import make_engine, make_sessionmaker, unit_of_work
from continuum.migrate import alembic_config, upgrade
from continuum.weaning import settings as weaning_settings


@pytest.fixture
def empty_url(request: pytest.FixtureRequest, tmp_path) -> str:  # type: ignore[no-untyped-def]
    """An empty database (no template), on SQLite and on PostgreSQL."""
    return str(request.getfixturevalue("_empty_" + request.param))


@pytest.fixture
def _empty_sqlite(tmp_path) -> str:  # type: ignore[no-untyped-def]
    return f"sqlite:///{tmp_path / 'm.db'}"


@pytest.fixture
def _empty_postgres():  # type: ignore[no-untyped-def]
    from tests.conftest import _pg_connect, drop_later, need, postgres_available

    need(postgres_available(), "PostgreSQL is not answering on 127.0.0.1:5432")
    name = f"ct_m_{uuid.uuid4().hex[:10]}"
    with _pg_connect() as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    drop_later(name)


@pytest.mark.parametrize("empty_url", ["sqlite", "postgres"], indirect=True)
def test_0016_keeps_values_splits_weaning_pairs_and_admits_physician_leads(empty_url: str) -> None:
    upgrade(empty_url, "0013")
    engine = make_engine(empty_url)
    rows = {
        "surveillance.pfhb_warning": 40,
        "initiation.ecpr_max_age_years": 75,
        "ingest.message_log_days": 30,
        "weaning.vv_vt_per_kg": [5, 7],
        "weaning.vv_peep_max": 12,
    }
    with engine.begin() as conn:
        for key, value in rows.items():
            conn.execute(
                text(
                    "INSERT INTO programme_setting (key, value, updated_at) "
                    "VALUES (:k, :v, CURRENT_TIMESTAMP)"
                ),
                {"k": key, "v": json.dumps(value)},
            )
    engine.dispose()
    upgrade(empty_url)
    engine = make_engine(empty_url)
    with unit_of_work(make_sessionmaker(engine)) as db:
        assert settings_service.overrides(db, "surveillance") == {"pfhb_warning": 40.0}
        assert settings_service.overrides(db, "initiation") == {"ecpr_max_age_years": 75.0}
        assert settings_service.overrides(db, "integration") == {"message_log_days": 30}
        assert settings_service.overrides(db, "weaning") == {
            "vv_vt_per_kg": 5.0,
            "vv_vt_per_kg_high": 7.0,
            "vv_peep_max": 12.0,
        }
        assert weaning_settings.overrides(db)["weaning.vv_vt_per_kg"] == [5.0, 7.0]
        db.execute(
            text(
                "INSERT INTO staff (name, discipline, role, active, created_at) "
                "VALUES ('Lead', 'intensive_care', 'physician_lead', :t, CURRENT_TIMESTAMP)"
            ),
            {"t": True},
        )
    with engine.begin() as conn, pytest.raises(Exception, match=r"(?i)check"):
        conn.execute(
            text(
                "INSERT INTO staff (name, discipline, role, active, created_at) "
                "VALUES ('X', 'other', 'chief', :t, CURRENT_TIMESTAMP)"
            ),
            {"t": True},
        )
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM staff"))
    engine.dispose()
    command.downgrade(alembic_config(empty_url), "0013")
    engine = make_engine(empty_url)
    with engine.connect() as conn:
        pair = conn.execute(
            text("SELECT value FROM programme_setting WHERE key = 'weaning.vv_vt_per_kg'")
        ).scalar()
    engine.dispose()
    assert (json.loads(pair) if isinstance(pair, str) else pair) == [5, 7]
