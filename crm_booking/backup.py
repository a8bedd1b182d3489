"""`python -m crm_booking backup` / `restore`: one file holding the whole database.

PostgreSQL goes through pg_dump's custom format and pg_restore (the server's own tools: a
consistent snapshot while the app keeps running, sequences and constraints included). SQLite goes
through SQLite's online backup API, which copies a consistent page image while writers wait.
A restore only goes into an empty database, so it can never mix two histories.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import URL, make_url

from crm_booking.settings import DATA_DIR

BACKUP_DIR = DATA_DIR / "backups"


class BackupError(RuntimeError):
    """A backup or restore that cannot go ahead; the message says why and what to do."""


def is_sqlite(url: URL) -> bool:
    return url.get_backend_name() == "sqlite"


def _sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise BackupError("an in-memory SQLite database has nothing to back up")
    return Path(url.database)


def _libpq(url: URL) -> tuple[str, dict[str, str]]:
    """A libpq connection URI for pg_dump/pg_restore, with the password in the environment
    (PGPASSWORD) instead of the command line, where any user could read it in `ps`."""
    uri = url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    env = dict(os.environ)
    if url.password is not None:
        env["PGPASSWORD"] = str(url.password)
    return uri, env


def _tool(name: str) -> str:
    found = shutil.which(name)
    if not found:
        raise BackupError(f"{name} is not installed (Debian: apt-get install postgresql-client)")
    return found


def _sqlite_copy(source: Path, target: Path) -> None:
    with closing(sqlite3.connect(source)) as reader, closing(sqlite3.connect(target)) as writer:
        reader.backup(writer)


def default_backup_path(url: URL, now: datetime | None = None) -> Path:
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    suffix = "sqlite3" if is_sqlite(url) else "pgdump"
    return BACKUP_DIR / f"crm-booking-{stamp}.{suffix}"


def backup(database_url: str, output: Path | None = None) -> Path:
    url = make_url(database_url)
    target = Path(output) if output else default_backup_path(url)
    if target.exists():
        raise BackupError(f"{target} already exists; choose another file name")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    try:
        if is_sqlite(url):
            source_path = _sqlite_path(url)
            if not source_path.exists():
                raise BackupError(f"no database at {source_path}")
            _sqlite_copy(source_path, partial)
        else:
            uri, env = _libpq(url)
            result = subprocess.run(
                [_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges",
                 f"--file={partial}", f"--dbname={uri}"],
                env=env, capture_output=True, text=True,
            )
            if result.returncode != 0:
                raise BackupError("pg_dump failed: " + result.stderr.strip())
        partial.replace(target)  # the named file only ever holds a complete backup
    finally:
        partial.unlink(missing_ok=True)
    return target


def _tables_with_names(database_url: str) -> list[str]:
    engine = sa.create_engine(database_url)
    try:
        return sa.inspect(engine).get_table_names()
    finally:
        engine.dispose()


def restore(database_url: str, source: Path) -> None:
    url = make_url(database_url)
    source = Path(source)
    if not source.is_file():
        raise BackupError(f"no backup file at {source}")
    if is_sqlite(url):
        target_path = _sqlite_path(url)
        if target_path.exists() and _tables_with_names(database_url):
            raise BackupError(f"{target_path} already holds tables; restore into a new file "
                              "(set DATABASE_URL to it) or move this one away first")
        target_path.parent.mkdir(parents=True, exist_ok=True)
        _sqlite_copy(source, target_path)
        return
    existing = _tables_with_names(database_url)
    if existing:
        raise BackupError(f"the database already holds {len(existing)} tables; restore into an "
                          "empty database (createdb <name>, then point --database-url at it)")
    uri, env = _libpq(url)
    result = subprocess.run(
        [_tool("pg_restore"), "--no-owner", "--no-privileges", "--exit-on-error",
         "--single-transaction", f"--dbname={uri}", str(source)],
        env=env, capture_output=True, text=True,
    )
    if result.returncode != 0:
        raise BackupError("pg_restore failed (nothing was restored): " + result.stderr.strip())
