"""Migrations and models agree (alembic check), and the migrations go down and up again."""

from __future__ import annotations

from alembic import command

from continuum.migrate import alembic_config, check, upgrade


def test_models_match_migrations(db_url: str) -> None:
    check(db_url)


def test_downgrade_and_upgrade_again(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'm.db'}"
    upgrade(url)
    command.downgrade(alembic_config(url), "base")
    upgrade(url)
    check(url)
