"""`continuum backup` / `restore` / `verify-backup` on SQLite and PostgreSQL: the backup is
restored into a fresh database and every table's row count and checksum equal the manifest
made at backup time; a restore refuses a database that is not empty unless --force; a
changed table is caught; each backup and restore is audited."""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import func, select

from continuum.core.people import Patient, Staff
from continuum.core.record import AuditEntry
from continuum.db import make_engine, make_sessionmaker
from continuum.operations import backup as ops
from tests.conftest import PG_ADMIN, PG_URL, drop_later
from tests.ingest.helpers import add_run
from tests.operations.processes import CLI, app_env
from tests.seed import RUN_START


@pytest.fixture
def empty_url(db_url: str, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database on the same engine as ``db_url``."""
    if db_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'fresh' / 'restored.db'}"
        return
    name = f"ct_restore_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield PG_URL.format(name=name)
    drop_later(name)


def _count(url: str, model: type, **where: object) -> int:
    engine = make_engine(url)
    try:
        with make_sessionmaker(engine)() as db:
            stmt = select(func.count()).select_from(model)
            for key, value in where.items():
                stmt = stmt.where(getattr(model, key) == value)
            return int(db.scalar(stmt) or 0)
    finally:
        engine.dispose()


@pytest.mark.slow
def test_backup_restores_into_a_fresh_database_table_for_table(
    db_url: str, empty_url: str, tmp_path: Path
) -> None:
    sessions = make_sessionmaker(make_engine(db_url))
    add_run(sessions, "BACKUP-1", RUN_START)  # some clinical rows besides the seed
    file = tmp_path / "programme.backup"
    done = ops.backup(db_url, file)
    m = done.manifest
    assert file.is_file() and ops.manifest_path(file).is_file() and done.size > 0
    assert m.engine == ops.engine_of_url(db_url) and m.revision != "none"
    assert m.tables["staff"].rows == _count(db_url, Staff) and m.tables["run"].rows >= 1
    assert _count(db_url, AuditEntry, action="database_backup") == 1

    verified = ops.verify(file, db_url)  # restored into a scratch database, then dropped
    assert verified.ok and len(verified.checks) == len(m.tables)
    assert {c.table for c in verified.checks} == set(m.tables)

    restored = ops.restore(empty_url, file)
    assert restored.ok and restored.checks and restored.revision == m.revision
    assert _count(empty_url, Staff) == m.tables["staff"].rows
    assert _count(empty_url, AuditEntry, action="database_restore") == 1


def test_restore_refuses_a_database_in_use_unless_forced(db_url: str, tmp_path: Path) -> None:
    file = tmp_path / "before.backup"
    ops.backup(db_url, file)
    sessions = make_sessionmaker(make_engine(db_url))
    add_run(sessions, "AFTER-BACKUP", RUN_START)
    staff_now = _count(db_url, Staff)
    patients_after = _count(db_url, Patient)
    with pytest.raises(ops.RestoreRefused, match=r"not empty .* --force"):
        ops.restore(db_url, file)
    assert _count(db_url, Patient) == patients_after  # nothing touched
    done = ops.restore(db_url, file, force=True)
    assert done.ok
    assert _count(db_url, Patient) == patients_after - 1  # back to the backup
    assert _count(db_url, Staff) == staff_now


def test_a_changed_table_is_reported(db_url: str, tmp_path: Path) -> None:
    file = tmp_path / "x.backup"
    ops.backup(db_url, file)
    path = ops.manifest_path(file)
    manifest = ops.Manifest.from_json(path.read_text())
    manifest.tables["staff"] = ops.TableSum(manifest.tables["staff"].rows + 1, "0")
    path.write_text(manifest.to_json())
    result = ops.verify(file, db_url)
    assert not result.ok
    assert [c.table for c in result.checks if not c.ok] == ["staff"]


def test_clear_refusals(db_url: str, tmp_path: Path) -> None:
    other = tmp_path / "not-a-backup.txt"
    other.write_text("hello")
    with pytest.raises(ops.BackupError, match="neither a SQLite database nor a pg_dump"):
        ops.restore(db_url, other)
    with pytest.raises(ops.BackupError, match="no backup file"):
        ops.verify(tmp_path / "missing.backup", db_url)
    with pytest.raises(ops.BackupError, match="does not exist"):
        ops.backup(db_url, tmp_path / "no-such-dir" / "b.backup")
    file = tmp_path / "b.backup"
    ops.backup(db_url, file)
    ops.manifest_path(file).unlink()
    with pytest.raises(ops.BackupError, match="no manifest"):
        ops.verify(file, db_url)
    wrong = "sqlite:///" + str(tmp_path / "w.db") if "postgresql" in db_url else PG_URL
    with pytest.raises(ops.BackupError, match="restore it into a"):
        ops.restore(wrong.format(name="nothing"), file)


@pytest.mark.slow
# The commands are the same few lines on either engine (commands/operations.py calls
# operations.backup, which the tests above run on both); through a real process once, on the
# hospital engine: four start-ups of the command line are the costliest part of this file.
@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_command_line_backup_verify_and_restore(
    db_url: str, empty_url: str, tmp_path: Path
) -> None:
    file = tmp_path / "cli.backup"

    def run(url: str, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*CLI, *args], env=app_env(url, tmp_path), capture_output=True, text=True, timeout=300
        )

    made = run(db_url, "backup", str(file), "--verify")
    assert made.returncode == 0, made.stderr
    assert "backed up" in made.stdout and "staff" in made.stdout
    assert "every count and checksum the same" in made.stdout
    refused = run(db_url, "restore", str(file))
    assert refused.returncode == 2 and "--force" in refused.stderr
    into = run(empty_url, "restore", str(file))
    assert into.returncode == 0, into.stderr
    assert "every count and checksum the same" in into.stdout
    checked = run(db_url, "verify-backup", str(file))
    assert checked.returncode == 0 and "verified:" in checked.stdout


def test_a_write_during_the_backup_is_in_neither_the_copy_nor_the_manifest(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The manifest's figures and the copy come from one snapshot: a run committed by
    another connection after the snapshot began (here: just before the figures are read)
    is in neither, so the backup still verifies; it is in the live database."""
    sessions = make_sessionmaker(make_engine(db_url))
    real = ops.pg_sums if db_url.startswith("postgresql") else ops.sqlite_sums
    name = real.__name__

    def meanwhile(conn):  # type: ignore[no-untyped-def]
        conn.execute("SELECT 1 FROM staff LIMIT 1").fetchall()  # the snapshot begins
        add_run(sessions, "DURING-BACKUP", RUN_START)  # committed by another connection
        return real(conn)

    monkeypatch.setattr(ops, name, meanwhile)
    file = tmp_path / "during.backup"
    done = ops.backup(db_url, file)
    monkeypatch.setattr(ops, name, real)
    assert done.manifest.tables["patient"].rows == _count(db_url, Patient) - 1
    assert ops.verify(file, db_url).ok
