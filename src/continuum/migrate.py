"""Apply and check migrations programmatically (`continuum db upgrade`, tests, demo)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(database_url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["database_url"] = database_url
    return cfg


def upgrade(database_url: str, revision: str = "heads") -> None:
    command.upgrade(alembic_config(database_url), revision)


def check(database_url: str) -> None:
    """Raise if the models and the migrations disagree (alembic check)."""
    command.check(alembic_config(database_url))


@dataclass(frozen=True)
class UpgradeReport:
    """What `upgrade` did: the revisions applied (oldest first) and where the database is."""

    before: tuple[str, ...]
    applied: tuple[str, ...]
    heads: tuple[str, ...]

    def describe(self) -> str:
        at = ", ".join(self.heads) or "base"
        if not self.applied:
            return f"already at {at}, nothing to apply"
        n = len(self.applied)
        noun = "migration" if n == 1 else "migrations"
        return f"applied {n} {noun}: {' '.join(self.applied)}; database at {at}"


def current_heads(database_url: str) -> tuple[str, ...]:
    """The revisions the database is at (empty before the first migration)."""
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy import create_engine

    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            return tuple(sorted(MigrationContext.configure(conn).get_current_heads()))
    finally:
        engine.dispose()


def upgrade_report(database_url: str, revision: str = "heads") -> UpgradeReport:
    """Upgrade like `upgrade` and say which revisions were applied."""
    from alembic.script import ScriptDirectory

    before = current_heads(database_url)
    upgrade(database_url, revision)
    after = current_heads(database_url)
    script = ScriptDirectory.from_config(alembic_config(database_url))
    reached = {r.revision for r in script.iterate_revisions(after, "base")}
    had = {r.revision for r in script.iterate_revisions(before, "base")} if before else set()
    order = [r.revision for r in script.walk_revisions()][::-1]  # base first
    applied = tuple(rev for rev in order if rev in reached - had)
    return UpgradeReport(before, applied, after)
