"""Backups of the whole database, restores, and their verification (`continuum backup`,
`continuum restore`, `continuum verify-backup`; schedule and retention: docs/operations.md).

* **SQLite**: SQLite's online backup API (``sqlite3.Connection.backup``) copies the database
  while the app keeps writing (WAL); the copy is one consistent snapshot.
* **PostgreSQL**: ``pg_dump -Fc`` (Debian's client tools) in the snapshot of a read-only
  REPEATABLE READ transaction (``pg_export_snapshot`` → ``pg_dump --snapshot``); the restore
  is ``pg_restore --single-transaction``.

Beside ``FILE`` a manifest (``FILE.manifest.json``) records, for every table, its row count
and a checksum, computed in the very snapshot the backup copied. Verification restores the
backup into a fresh scratch database, computes the same figures there and compares them
table by table: a backup is trusted only once it has been restored.

The checksum is the sum (mod 2^64 on SQLite; exact on PostgreSQL) of a hash of every row's
text: order-free, so it streams through a table of any size without sorting it. It is
comparable between a database and its restored copy on the same engine, not across engines.

A restore refuses a database that already holds tables unless told ``force``: it replaces
everything in it. Both a backup and a restore leave an audit row (in the database backed
up, and in the restored one).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from continuum.errors import ContinuumError

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_MAGIC = b"PGDMP"
MANIFEST_SUFFIX = ".manifest.json"
_MASK = (1 << 64) - 1
TOOL_TIMEOUT_S = 6 * 3600


class BackupError(ContinuumError):
    """A backup, restore or verification that could not be done, with the reason."""


class RestoreRefused(BackupError):
    """The target database is not empty and ``force`` was not given."""

    exit_code = 2


# --- what a database holds -------------------------------------------------------------


@dataclass(frozen=True)
class TableSum:
    rows: int
    checksum: str


@dataclass
class Manifest:
    engine: str  # "sqlite" | "postgresql"
    made_at: str
    revision: str
    tables: dict[str, TableSum] = field(default_factory=dict)

    @property
    def rows(self) -> int:
        return sum(t.rows for t in self.tables.values())

    def to_json(self) -> str:
        data = asdict(self)
        return json.dumps(data, indent=1, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Manifest:
        data = json.loads(text)
        tables = {k: TableSum(**v) for k, v in data.pop("tables").items()}
        return cls(**data, tables=tables)


def manifest_path(file: Path) -> Path:
    return file.with_name(file.name + MANIFEST_SUFFIX)


def engine_of_url(url: str) -> str:
    if url.startswith("sqlite"):
        return "sqlite"
    if url.startswith("postgresql"):
        return "postgresql"
    raise BackupError(f"backups support SQLite and PostgreSQL databases, not {url.split(':')[0]}")


def engine_of_file(file: Path) -> str:
    """Which engine wrote a backup file (its first bytes), or a clear refusal."""
    if not file.is_file():
        raise BackupError(f"no backup file at {file}")
    with file.open("rb") as f:
        head = f.read(len(SQLITE_MAGIC))
    if head.startswith(SQLITE_MAGIC):
        return "sqlite"
    if head.startswith(PG_MAGIC):
        return "postgresql"
    raise BackupError(
        f"{file} is neither a SQLite database nor a pg_dump custom-format archive "
        "(a `continuum backup` file)"
    )


def _row_hash(row: tuple[Any, ...]) -> int:
    text = repr(tuple(row)).encode("utf-8", "surrogatepass")
    return int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "big")


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def sqlite_sums(conn: sqlite3.Connection) -> dict[str, TableSum]:
    """Row count and checksum of every table, in the connection's current transaction."""
    names = [
        r[0]
        for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' "
            "AND name NOT LIKE 'sqlite_%' ORDER BY name"
        )
    ]
    out = {}
    for name in names:
        rows = total = 0
        cur = conn.execute(f"SELECT * FROM {_q(name)}")
        while batch := cur.fetchmany(5000):
            rows += len(batch)
            for row in batch:
                total = (total + _row_hash(row)) & _MASK
        out[name] = TableSum(rows, f"{total:016x}")
    return out


# Per row: the first 60 bits of md5 of the row's text, summed exactly (numeric).
_PG_SUM = (
    "SELECT count(*), coalesce(sum(('x' || left(md5(t::text), 15))::bit(60)::bigint), 0)::text "
    "FROM {table} AS t"
)


def pg_sums(conn: Any) -> dict[str, TableSum]:
    """Row count and checksum of every table of the public schema (a psycopg connection, in
    its current transaction)."""
    names = [
        r[0]
        for r in conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' "
            "AND table_type = 'BASE TABLE' ORDER BY table_name"
        )
    ]
    out = {}
    for name in names:
        rows, checksum = conn.execute(_PG_SUM.format(table=_q(name))).fetchone()
        out[name] = TableSum(int(rows), str(checksum))
    return out


def _revision(rows: list[Any]) -> str:
    return ",".join(sorted(str(r[0]) for r in rows)) or "none"


# --- connections -------------------------------------------------------------------------


def sqlite_path(url: str) -> Path:
    from sqlalchemy.engine import make_url

    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up or restored")
    return Path(database)


@dataclass(frozen=True)
class PgTarget:
    host: str | None
    port: int | None
    user: str | None
    password: str | None
    dbname: str

    @classmethod
    def of(cls, url: str) -> PgTarget:
        from sqlalchemy.engine import make_url

        u = make_url(url)
        if not u.database:
            raise BackupError("the PostgreSQL URL names no database")
        return cls(u.host, u.port, u.username, u.password, u.database)

    def connect(self, autocommit: bool = False, snapshot: bool = False) -> Any:
        """A psycopg connection; ``snapshot``: its transaction is REPEATABLE READ READ ONLY
        (every statement sees the one snapshot taken by the first)."""
        import psycopg

        kwargs: dict[str, Any] = {"dbname": self.dbname, "autocommit": autocommit}
        for key, value in (("host", self.host), ("port", self.port), ("user", self.user)):
            if value is not None:
                kwargs[key] = value
        if self.password is not None:
            kwargs["password"] = self.password
        conn = psycopg.connect(**kwargs)
        if snapshot:
            conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
            conn.read_only = True
        return conn

    def args(self) -> list[str]:
        """libpq options for pg_dump/pg_restore (the password goes in the environment)."""
        out = []
        if self.host:
            out += ["-h", self.host]
        if self.port:
            out += ["-p", str(self.port)]
        if self.user:
            out += ["-U", self.user]
        return [*out, "-d", self.dbname]

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        if self.password is not None:
            env["PGPASSWORD"] = self.password
        return env


def _tool(name: str, args: list[str], target: PgTarget) -> None:
    path = shutil.which(name)
    if path is None:
        raise BackupError(
            f"{name} was not found: install PostgreSQL's client tools "
            "(Debian: apt-get install postgresql-client)"
        )
    done = subprocess.run(
        [path, *args],
        env=target.env(),
        capture_output=True,
        text=True,
        timeout=TOOL_TIMEOUT_S,
        check=False,
    )
    if done.returncode != 0:
        raise BackupError(f"{name} failed (exit {done.returncode}): {done.stderr.strip()[-800:]}")


# --- backup ------------------------------------------------------------------------------


@dataclass(frozen=True)
class BackupDone:
    file: Path
    manifest: Manifest
    size: int


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _partial(file: Path) -> Path:
    return file.with_name(f".{file.name}.{uuid.uuid4().hex[:8]}.partial")


def backup(url: str, file: Path) -> BackupDone:
    """Back up the database at ``url`` to ``file`` (replaced atomically) and write its
    manifest beside it; an audit row records it in the database."""
    file = Path(file)
    if file.is_dir():
        raise BackupError(f"{file} is a directory: name the backup file")
    if not file.parent.is_dir():
        raise BackupError(f"the directory {file.parent} does not exist")
    engine = engine_of_url(url)
    partial = _partial(file)
    try:
        if engine == "sqlite":
            manifest = _backup_sqlite(sqlite_path(url), partial)
        else:
            manifest = _backup_pg(PgTarget.of(url), partial)
        os.replace(partial, file)
    finally:
        partial.unlink(missing_ok=True)
    manifest_path(file).write_text(manifest.to_json() + "\n")
    done = BackupDone(file, manifest, file.stat().st_size)
    _audit(
        url,
        "database_backup",
        {
            "file": str(file.resolve()),
            "bytes": done.size,
            "tables": len(manifest.tables),
            "rows": manifest.rows,
            "revision": manifest.revision,
        },
    )
    return done


def _backup_sqlite(source: Path, target: Path) -> Manifest:
    if not source.is_file():
        raise BackupError(f"no SQLite database at {source}")
    src = sqlite3.connect(source, isolation_level=None, timeout=30)
    dst = sqlite3.connect(target)
    try:
        src.execute("BEGIN")  # one read snapshot for the figures and the copy
        made_at = _now()
        sums = sqlite_sums(src)
        revision = _revision(_sqlite_revision(src))
        src.backup(dst)
        src.execute("COMMIT")
    finally:
        dst.close()
        src.close()
    _wal_off(target)
    return Manifest("sqlite", made_at, revision, sums)


def _sqlite_revision(conn: sqlite3.Connection) -> list[Any]:
    try:
        return conn.execute("SELECT version_num FROM alembic_version").fetchall()
    except sqlite3.OperationalError:
        return []


def _wal_off(path: Path) -> None:
    """A backup file stands alone: no -wal/-shm beside it."""
    conn = sqlite3.connect(path)
    try:
        conn.execute("PRAGMA journal_mode=DELETE")
    finally:
        conn.close()


def _backup_pg(source: PgTarget, target: Path) -> Manifest:
    with source.connect(snapshot=True) as conn:
        snapshot = conn.execute("SELECT pg_export_snapshot()").fetchone()[0]
        made_at = _now()
        sums = pg_sums(conn)
        revision = _revision(_pg_revision(conn))
        # the dump sees exactly the snapshot the figures were computed in
        _tool(
            "pg_dump", ["-Fc", f"--snapshot={snapshot}", "-f", str(target), *source.args()], source
        )
        conn.rollback()
    return Manifest("postgresql", made_at, revision, sums)


def _pg_revision(conn: Any) -> list[Any]:
    found = conn.execute("SELECT to_regclass('public.alembic_version')").fetchone()[0]
    return conn.execute("SELECT version_num FROM alembic_version").fetchall() if found else []


# --- restore -----------------------------------------------------------------------------


@dataclass(frozen=True)
class TableCheck:
    table: str
    rows_expected: int | None
    rows_found: int | None
    checksum_ok: bool

    @property
    def ok(self) -> bool:
        return self.checksum_ok and self.rows_expected == self.rows_found


def compare(expected: dict[str, TableSum], found: dict[str, TableSum]) -> list[TableCheck]:
    out = []
    for name in sorted(set(expected) | set(found)):
        e, f = expected.get(name), found.get(name)
        same = e is not None and f is not None and e.checksum == f.checksum
        rows_e, rows_f = (None if e is None else e.rows), (None if f is None else f.rows)
        out.append(TableCheck(name, rows_e, rows_f, same))
    return out


@dataclass(frozen=True)
class RestoreDone:
    file: Path
    engine: str
    checks: list[TableCheck]  # empty when the backup has no manifest
    revision: str

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)


def _tables_in(url: str) -> dict[str, int]:
    """Tables the target database holds now, with their row counts ({} when empty or absent)."""
    if engine_of_url(url) == "sqlite":
        path = sqlite_path(url)
        if not path.exists() or path.stat().st_size == 0:
            return {}
        conn = sqlite3.connect(path)
        try:
            return {name: s.rows for name, s in _counts_sqlite(conn).items()}
        finally:
            conn.close()
    with PgTarget.of(url).connect() as conn:
        names = [
            r[0]
            for r in conn.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = "
                "'public' AND table_type = 'BASE TABLE'"
            )
        ]
        return {n: int(conn.execute(f"SELECT count(*) FROM {_q(n)}").fetchone()[0]) for n in names}


def _counts_sqlite(conn: sqlite3.Connection) -> dict[str, TableSum]:
    names = [
        r[0]
        for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
    ]
    return {
        n: TableSum(conn.execute(f"SELECT count(*) FROM {_q(n)}").fetchone()[0], "") for n in names
    }


def restore(url: str, file: Path, force: bool = False) -> RestoreDone:
    """Restore ``file`` into the database at ``url``. A database that holds tables is
    refused unless ``force`` (everything in it is then replaced). When the backup has a
    manifest, the restored tables are compared with it."""
    file = Path(file)
    kind, engine = engine_of_file(file), engine_of_url(url)
    if kind != engine:
        raise BackupError(
            f"{file} is a {_label(kind)} backup but the database to restore into is "
            f"{_label(engine)}: restore it into a {_label(kind)} database"
        )
    present = _tables_in(url)
    if present and not force:
        rows = sum(present.values())
        raise RestoreRefused(
            f"the database to restore into is not empty ({len(present)} tables, {rows} rows): "
            "a restore replaces everything in it. Restore into an empty database, or add "
            "--force to replace this one"
        )
    if engine == "sqlite":
        _restore_sqlite(file, sqlite_path(url))
    else:
        _restore_pg(file, PgTarget.of(url), wipe=bool(present))
    manifest = read_manifest(file)
    checks = compare(manifest.tables, sums_of(url)) if manifest else []
    revision = _revision_of(url)
    _audit(
        url,
        "database_restore",
        {
            "file": str(file.resolve()),
            "made_at": manifest.made_at if manifest else None,
            "replaced_tables": len(present),
            "verified": all(c.ok for c in checks) if manifest else None,
            "revision": revision,
        },
    )
    return RestoreDone(file, engine, checks, revision)


def _label(engine: str) -> str:
    return "SQLite" if engine == "sqlite" else "PostgreSQL"


def read_manifest(file: Path) -> Manifest | None:
    path = manifest_path(Path(file))
    if not path.is_file():
        return None
    try:
        return Manifest.from_json(path.read_text())
    except (ValueError, TypeError, KeyError) as exc:
        raise BackupError(f"the manifest {path} cannot be read: {exc}") from None


def _restore_sqlite(file: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    src = sqlite3.connect(f"file:{file}?mode=ro", uri=True)
    dst = sqlite3.connect(target, timeout=30)
    try:
        src.backup(dst)  # page by page, replacing the whole target database
    finally:
        dst.close()
        src.close()


def _restore_pg(file: Path, target: PgTarget, wipe: bool) -> None:
    if wipe:
        with target.connect(autocommit=True) as conn:
            conn.execute("DROP SCHEMA public CASCADE")
            conn.execute("CREATE SCHEMA public")
    _tool(
        "pg_restore",
        ["--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction",
         *target.args(), str(file)],
        target,
    )  # fmt: skip


def sums_of(url: str) -> dict[str, TableSum]:
    if engine_of_url(url) == "sqlite":
        conn = sqlite3.connect(sqlite_path(url), isolation_level=None)
        try:
            conn.execute("BEGIN")
            return sqlite_sums(conn)
        finally:
            conn.close()
    with PgTarget.of(url).connect(snapshot=True) as conn:
        return pg_sums(conn)


def _revision_of(url: str) -> str:
    if engine_of_url(url) == "sqlite":
        conn = sqlite3.connect(sqlite_path(url))
        try:
            return _revision(_sqlite_revision(conn))
        finally:
            conn.close()
    with PgTarget.of(url).connect() as conn:
        return _revision(_pg_revision(conn))


# --- verification ------------------------------------------------------------------------


@dataclass(frozen=True)
class Verified:
    file: Path
    manifest: Manifest
    checks: list[TableCheck]
    scratch: str  # where it was restored (dropped afterwards)

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(c.ok for c in self.checks)


def verify(file: Path, server_url: str | None = None) -> Verified:
    """Restore ``file`` into a fresh scratch database, compare each table's row count and
    checksum with the manifest written at backup time, drop the scratch database.

    PostgreSQL backups are restored on the server of ``server_url`` (the configured
    database's server) into a database of their own; SQLite ones into a temporary file."""
    file = Path(file)
    engine = engine_of_file(file)
    manifest = read_manifest(file)
    if manifest is None:
        raise BackupError(
            f"no manifest beside {file} ({manifest_path(file).name}): it records what the "
            "backup should hold; only backups made by `continuum backup` can be verified"
        )
    if manifest.engine != engine:
        raise BackupError(f"the manifest describes a {_label(manifest.engine)} backup")
    with _scratch(engine, server_url) as url:
        done = restore(url, file)  # compared before its own audit row is added
        return Verified(file, manifest, done.checks, url)


@contextmanager
def _scratch(engine: str, server_url: str | None) -> Iterator[str]:
    if engine == "sqlite":
        with tempfile.TemporaryDirectory(prefix="continuum-verify-") as tmp:
            yield f"sqlite:///{Path(tmp) / 'restored.db'}"
        return
    if not server_url or engine_of_url(server_url) != "postgresql":
        raise BackupError(
            "verifying a PostgreSQL backup needs a PostgreSQL server to restore it into: set "
            "CONTINUUM_DATABASE_URL to the programme's database (a scratch database is made "
            "beside it and dropped)"
        )
    server = PgTarget.of(server_url)
    name = f"continuum_verify_{uuid.uuid4().hex[:12]}"
    with server.connect(autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {_q(name)}")
    try:
        from sqlalchemy.engine import make_url

        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with server.connect(autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {_q(name)} WITH (FORCE)")


# --- audit -------------------------------------------------------------------------------


def _audit(url: str, action: str, detail: dict[str, Any]) -> None:
    """One audit row in the database at ``url`` (skipped when it has no audit table yet,
    e.g. a backup of a database never migrated)."""
    import importlib

    from sqlalchemy import inspect

    from continuum.core import audit
    from continuum.core.roles import SYSTEM
    from continuum.db import make_engine, make_sessionmaker, unit_of_work
    from continuum.domains import MODEL_MODULES

    for name in MODEL_MODULES:  # every table's mapper (relationships resolve by name)
        importlib.import_module(name)
    engine = make_engine(url)
    try:
        if not inspect(engine).has_table("audit_log"):
            return
        with unit_of_work(make_sessionmaker(engine)) as db:
            audit.record(db, SYSTEM, action, "database", detail=detail)
    finally:
        engine.dispose()
